package frame_test

import (
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/frame"
)

// TestHeaderSettersMatchGopacket fills headers with the setters and checks
// every field as gopacket decodes it, then reads it back with the getters.
func TestHeaderSettersMatchGopacket(t *testing.T) {
	b := make([]byte, frame.EthernetMinimumSize+frame.IPv4MinimumSize+4+frame.TCPMinimumSize+8)

	eth := frame.Ethernet(b)
	eth.SetDestinationAddress(gatewayMAC)
	eth.SetSourceAddress(scanMAC)
	eth.SetType(frame.EtherTypeIPv4)

	ip := frame.IPv4(b[frame.EthernetMinimumSize:])
	ip.SetVersionAndHeaderLength(24)
	ip.SetTOS(0xb8)
	ip.SetTotalLength(24 + 28)
	ip.SetID(0xbeef)
	ip.SetFlagsFragmentOffset(frame.IPv4FlagDontFragment, 0)
	ip.SetTTL(57)
	ip.SetProtocol(frame.IPProtocolTCP)
	ip.SetSourceAddress(targetAddr)
	ip.SetDestinationAddress(scanAddr)
	copy(ip.Options(), []byte{1, 1, 1, 0})
	ip.SetChecksum(ip.CalculateChecksum())

	tcp := frame.TCP(ip.Payload())
	tcp.SetSourcePort(993)
	tcp.SetDestinationPort(40000)
	tcp.SetSequenceNumber(0xfedcba98)
	tcp.SetAckNumber(0x01234567)
	tcp.SetHeaderLength(28)
	tcp.SetFlags(frame.TCPFlagSYN | frame.TCPFlagACK | frame.TCPFlagECE)
	tcp.SetWindowSize(29200)
	tcp.SetUrgentPointer(7)
	copy(tcp.Options(), []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7})
	tcp.SetChecksum(tcp.CalculateChecksum(targetAddr, scanAddr))

	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	ge := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	gi := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	gt := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)

	checks := []struct {
		name      string
		got, want any
	}{
		{"eth dst", ge.DstMAC.String(), gatewayMAC.String()},
		{"eth src", ge.SrcMAC.String(), scanMAC.String()},
		{"eth type", ge.EthernetType, layers.EthernetTypeIPv4},
		{"ip version", gi.Version, uint8(4)},
		{"ip IHL", gi.IHL, uint8(6)},
		{"ip TOS", gi.TOS, uint8(0xb8)},
		{"ip length", gi.Length, uint16(52)},
		{"ip id", gi.Id, uint16(0xbeef)},
		{"ip flags", gi.Flags, layers.IPv4DontFragment},
		{"ip frag", gi.FragOffset, uint16(0)},
		{"ip TTL", gi.TTL, uint8(57)},
		{"ip protocol", gi.Protocol, layers.IPProtocolTCP},
		{"ip src", gi.SrcIP.String(), "198.18.16.5"},
		{"ip dst", gi.DstIP.String(), "198.18.0.1"},
		{"ip options", len(gi.Options), 4},
		{"tcp sport", gt.SrcPort, layers.TCPPort(993)},
		{"tcp dport", gt.DstPort, layers.TCPPort(40000)},
		{"tcp seq", gt.Seq, uint32(0xfedcba98)},
		{"tcp ack", gt.Ack, uint32(0x01234567)},
		{"tcp data offset", gt.DataOffset, uint8(7)},
		{"tcp flags", [8]bool{gt.FIN, gt.SYN, gt.RST, gt.PSH, gt.ACK, gt.URG, gt.ECE, gt.CWR}, [8]bool{1: true, 4: true, 6: true}},
		{"tcp window", gt.Window, uint16(29200)},
		{"tcp urgent", gt.Urgent, uint16(7)},
		{"tcp options", len(gt.Options), 3},

		{"Ethernet.DestinationAddress", eth.DestinationAddress(), [6]byte(gatewayMAC)},
		{"Ethernet.SourceAddress", eth.SourceAddress(), [6]byte(scanMAC)},
		{"Ethernet.Type", eth.Type(), uint16(frame.EtherTypeIPv4)},
		{"IPv4.IsValid", ip.IsValid(), true},
		{"IPv4.Version", ip.Version(), uint8(4)},
		{"IPv4.HeaderLength", ip.HeaderLength(), 24},
		{"IPv4.TOS", ip.TOS(), uint8(0xb8)},
		{"IPv4.TotalLength", ip.TotalLength(), uint16(52)},
		{"IPv4.ID", ip.ID(), uint16(0xbeef)},
		{"IPv4.Flags", ip.Flags(), uint8(frame.IPv4FlagDontFragment)},
		{"IPv4.FragmentOffset", ip.FragmentOffset(), uint16(0)},
		{"IPv4.TTL", ip.TTL(), uint8(57)},
		{"IPv4.Protocol", ip.Protocol(), uint8(frame.IPProtocolTCP)},
		{"IPv4.Checksum", ip.Checksum(), gi.Checksum},
		{"IPv4.SourceAddress", ip.SourceAddress(), uint32(targetAddr)},
		{"IPv4.DestinationAddress", ip.DestinationAddress(), uint32(scanAddr)},
		{"IPv4.Options", string(ip.Options()), "\x01\x01\x01\x00"},
		{"IPv4.Options cap", cap(ip.Options()), 4},
		{"TCP.IsValid", tcp.IsValid(), true},
		{"TCP.SourcePort", tcp.SourcePort(), uint16(993)},
		{"TCP.DestinationPort", tcp.DestinationPort(), uint16(40000)},
		{"TCP.SequenceNumber", tcp.SequenceNumber(), uint32(0xfedcba98)},
		{"TCP.AckNumber", tcp.AckNumber(), uint32(0x01234567)},
		{"TCP.HeaderLength", tcp.HeaderLength(), 28},
		{"TCP.Flags", tcp.Flags().String(), "SAE"},
		{"TCP.WindowSize", tcp.WindowSize(), uint16(29200)},
		{"TCP.Checksum", tcp.Checksum(), gt.Checksum},
		{"TCP.UrgentPointer", tcp.UrgentPointer(), uint16(7)},
		{"TCP.Options", string(tcp.Options()), "\x02\x04\x05\xb4\x01\x03\x03\x07"},
		{"TCP.Options cap", cap(tcp.Options()), 8},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// Re-serializing what gopacket decoded must give the same bytes,
	// checksums included.
	again := serialize(t, ge, gi, gt)
	if string(again[:len(b)]) != string(b) {
		t.Errorf("gopacket re-serialization differs:\n got % x\nwant % x", again[:len(b)], b)
	}
}

func TestIPv4FragmentFields(t *testing.T) {
	tests := []struct {
		name   string
		flags  uint8
		offset uint16
		wire   [2]byte
	}{
		{"none", 0, 0, [2]byte{0x00, 0x00}},
		{"DF", frame.IPv4FlagDontFragment, 0, [2]byte{0x40, 0x00}},
		{"MF", frame.IPv4FlagMoreFragments, 0, [2]byte{0x20, 0x00}},
		{"MF offset 1480", frame.IPv4FlagMoreFragments, 1480, [2]byte{0x20, 0xb9}},
		{"last fragment at max offset", 0, 0x1fff * 8, [2]byte{0x1f, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := make(frame.IPv4, frame.IPv4MinimumSize)
			ip.SetFlagsFragmentOffset(tt.flags, tt.offset)
			if got := [2]byte(ip[frame.IPv4FlagsFragOffset:]); got != tt.wire {
				t.Errorf("wire = % x, want % x", got, tt.wire)
			}
			if ip.Flags() != tt.flags || ip.FragmentOffset() != tt.offset {
				t.Errorf("Flags, FragmentOffset = %d, %d, want %d, %d", ip.Flags(), ip.FragmentOffset(), tt.flags, tt.offset)
			}
		})
	}
}

func TestIPv4IsValid(t *testing.T) {
	hdr := func(vihl byte, total uint16, n int) frame.IPv4 {
		b := make(frame.IPv4, n)
		if n > 0 {
			b[0] = vihl
		}
		if n >= 4 {
			b.SetTotalLength(total)
		}
		return b
	}
	tests := []struct {
		name string
		b    frame.IPv4
		want bool
	}{
		{"minimal", hdr(0x45, 20, 20), true},
		{"with payload", hdr(0x45, 40, 40), true},
		{"padding after total length", hdr(0x45, 40, 46), true},
		{"max options", hdr(0x4f, 60, 60), true},
		{"empty", hdr(0, 0, 0), false},
		{"19 bytes", hdr(0x45, 19, 19), false},
		{"version 6", hdr(0x65, 20, 20), false},
		{"IHL 4", hdr(0x44, 20, 20), false},
		{"IHL 0", hdr(0x40, 20, 20), false},
		{"IHL beyond total length", hdr(0x46, 20, 40), false},
		{"total length zero", hdr(0x45, 0, 40), false},
		{"total length beyond slice", hdr(0x45, 41, 40), false},
		{"IHL beyond slice", hdr(0x4f, 60, 59), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.IsValid(); got != tt.want {
				t.Errorf("IsValid() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTCPIsValid(t *testing.T) {
	hdr := func(doff byte, n int) frame.TCP {
		b := make(frame.TCP, n)
		if n > frame.TCPDataOffset {
			b[frame.TCPDataOffset] = doff << 4
		}
		return b
	}
	tests := []struct {
		name string
		b    frame.TCP
		want bool
	}{
		{"minimal", hdr(5, 20), true},
		{"options", hdr(8, 32), true},
		{"payload", hdr(5, 100), true},
		{"max header", hdr(15, 60), true},
		{"empty", hdr(0, 0), false},
		{"19 bytes", hdr(5, 19), false},
		{"data offset 4", hdr(4, 20), false},
		{"data offset 0", hdr(0, 40), false},
		{"data offset beyond segment", hdr(6, 23), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.IsValid(); got != tt.want {
				t.Errorf("IsValid() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTCPFlags(t *testing.T) {
	tests := []struct {
		f    frame.TCPFlags
		want string
	}{
		{0, "none"},
		{frame.TCPFlagSYN, "S"},
		{frame.TCPFlagSYN | frame.TCPFlagACK, "SA"},
		{frame.TCPFlagRST, "R"},
		{frame.TCPFlagRST | frame.TCPFlagACK, "RA"},
		{frame.TCPFlagFIN | frame.TCPFlagPSH | frame.TCPFlagACK, "FPA"},
		{frame.TCPFlagSYN | frame.TCPFlagECE | frame.TCPFlagCWR, "SEC"},
		{0xff, "FSRPAUEC"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.f.String(); got != tt.want {
				t.Errorf("TCPFlags(%#02x).String() = %q, want %q", uint8(tt.f), got, tt.want)
			}
		})
	}
	sa := frame.TCPFlagSYN | frame.TCPFlagACK
	if !sa.Contains(frame.TCPFlagSYN) || !sa.Contains(sa) || sa.Contains(frame.TCPFlagRST|frame.TCPFlagACK) {
		t.Errorf("Contains is wrong for %v", sa)
	}
	if !sa.Intersects(frame.TCPFlagRST|frame.TCPFlagACK) || sa.Intersects(frame.TCPFlagRST|frame.TCPFlagFIN) {
		t.Errorf("Intersects is wrong for %v", sa)
	}
	if n := testing.AllocsPerRun(100, func() { _ = sa.String() }); n != 0 {
		t.Errorf("TCPFlags.String allocates %v times", n)
	}
}
