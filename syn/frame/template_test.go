package frame_test

import (
	"fmt"
	"math/rand"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/frame"
)

// gopacketOptions is each layout in gopacket's terms, written independently
// of the package's encoder.
func gopacketOptions(o frame.TCPOptions) []layers.TCPOption {
	mss := layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}
	nop := layers.TCPOption{OptionType: layers.TCPOptionKindNop, OptionLength: 1}
	sok := layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2}
	ws := func(shift byte) layers.TCPOption {
		return layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{shift}}
	}
	switch o {
	case frame.OptionsMSS:
		return []layers.TCPOption{mss}
	case frame.OptionsLinux:
		ts := layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0, 1, 0, 0, 0, 0}}
		return []layers.TCPOption{mss, sok, ts, nop, ws(7)}
	case frame.OptionsWindows:
		return []layers.TCPOption{mss, nop, ws(8), nop, nop, sok}
	}
	return nil
}

var allLayouts = []frame.TCPOptions{frame.OptionsNone, frame.OptionsMSS, frame.OptionsLinux, frame.OptionsWindows}

func TestNewTemplateErrors(t *testing.T) {
	good := func() *frame.TemplateConfig {
		return &frame.TemplateConfig{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr, Options: frame.OptionsLinux}
	}
	tests := []struct {
		name    string
		mutate  func(*frame.TemplateConfig) *frame.TemplateConfig
		wantErr string
	}{
		{"nil config", func(*frame.TemplateConfig) *frame.TemplateConfig { return nil }, "frame: nil TemplateConfig"},
		{"short source MAC", func(c *frame.TemplateConfig) *frame.TemplateConfig { c.SrcMAC = scanMAC[:5]; return c },
			`frame: source MAC "02:00:5e:10:00" is 5 bytes, want 6`},
		{"missing destination MAC", func(c *frame.TemplateConfig) *frame.TemplateConfig { c.DstMAC = nil; return c },
			`frame: destination MAC "" is 0 bytes, want 6`},
		{"EUI-64 destination", func(c *frame.TemplateConfig) *frame.TemplateConfig {
			c.DstMAC = net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8}
			return c
		}, `frame: destination MAC "01:02:03:04:05:06:07:08" is 8 bytes, want 6`},
		{"zero source address", func(c *frame.TemplateConfig) *frame.TemplateConfig { c.SrcAddr = 0; return c },
			"frame: source address 0.0.0.0 cannot receive replies"},
		{"zero options", func(c *frame.TemplateConfig) *frame.TemplateConfig { c.Options = 0; return c },
			"frame: invalid TCP options layout TCPOptions(0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := frame.NewTemplate(tt.mutate(good()))
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("NewTemplate = %v, %v; want error %q", tmpl, err, tt.wantErr)
			}
		})
	}
	if _, err := frame.NewTemplate(good()); err != nil {
		t.Fatalf("NewTemplate(good) = %v", err)
	}
}

// TestTemplateWriteMatchesGopacket builds thousands of probes for every
// layout and checks that gopacket decodes each to exactly the expected
// fields and that each is byte-identical to gopacket's serialization of
// those fields, checksums included.
func TestTemplateWriteMatchesGopacket(t *testing.T) {
	rng := rand.New(rand.NewSource(2544))
	for _, layout := range allLayouts {
		for _, hdr := range []struct {
			ttl, wantTTL       uint8
			window, wantWindow uint16
		}{
			{0, 64, 0, 65535},
			{255, 255, 1024, 1024},
			{uint8(1 + rng.Intn(255)), 0, uint16(1 + rng.Intn(65535)), 0},
		} {
			if hdr.wantTTL == 0 {
				hdr.wantTTL, hdr.wantWindow = hdr.ttl, hdr.window
			}
			cfg := &frame.TemplateConfig{
				SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: 0xc6120000 | rng.Uint32()&0x1ffff,
				TTL: hdr.ttl, Window: hdr.window, Options: layout,
			}
			t.Run(fmt.Sprintf("%v/ttl=%d/window=%d", layout, hdr.ttl, hdr.window), func(t *testing.T) {
				tmpl, err := frame.NewTemplate(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if want := 14 + 20 + 20 + layout.Len(); tmpl.Len() != want {
					t.Fatalf("Len() = %d, want %d", tmpl.Len(), want)
				}
				buf := make([]byte, 128)
				for i := range 2000 {
					daddr := rng.Uint32()
					dport, sport := uint16(rng.Uint32()), uint16(rng.Uint32())
					seq, ipid := rng.Uint32(), uint16(rng.Uint32())
					switch i {
					case 0: // all-zero variable fields
						daddr, dport, sport, seq, ipid = 0, 0, 0, 0, 0
					case 1: // all-ones variable fields
						daddr, dport, sport, seq, ipid = ^uint32(0), 0xffff, 0xffff, ^uint32(0), 0xffff
					}
					for j := range buf {
						buf[j] = 0xa5 // stale bytes of a previous frame
					}
					n := tmpl.Write(buf, daddr, dport, sport, seq, ipid)
					if n != tmpl.Len() {
						t.Fatalf("Write = %d, want %d", n, tmpl.Len())
					}
					if buf[n] != 0xa5 {
						t.Fatalf("Write wrote beyond its length")
					}
					got := buf[:n]

					pkt := gopacket.NewPacket(got, layers.LayerTypeEthernet, gopacket.Default)
					if el := pkt.ErrorLayer(); el != nil {
						t.Fatalf("gopacket cannot decode % x: %v", got, el.Error())
					}
					eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
					ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
					tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
					if eth == nil || ip == nil || tcp == nil {
						t.Fatalf("gopacket found layers %v in % x", pkt.Layers(), got)
					}
					checkProbe(t, eth, ip, tcp, cfg, hdr.wantTTL, hdr.wantWindow, daddr, dport, sport, seq, ipid)

					// The oracle: gopacket serializing the same fields.
					want := serialize(t,
						&layers.Ethernet{SrcMAC: scanMAC, DstMAC: gatewayMAC, EthernetType: layers.EthernetTypeIPv4},
						&layers.IPv4{Version: 4, TTL: hdr.wantTTL, Id: ipid, Flags: layers.IPv4DontFragment,
							Protocol: layers.IPProtocolTCP, SrcIP: ip4(cfg.SrcAddr), DstIP: ip4(daddr)},
						&layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: seq,
							SYN: true, Window: hdr.wantWindow, Options: gopacketOptions(layout)},
					)
					// gopacket pads to the 60-byte Ethernet minimum; Write does not.
					if len(want) < n || string(want[:n]) != string(got) || nonZero(want[n:]) {
						t.Fatalf("probe %d differs from gopacket's:\n got % x\nwant % x", i, got, want)
					}
				}
			})
		}
	}
}

// nonZero reports whether b holds anything but zeros.
func nonZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return true
		}
	}
	return false
}

func checkProbe(t *testing.T, eth *layers.Ethernet, ip *layers.IPv4, tcp *layers.TCP, cfg *frame.TemplateConfig,
	ttl uint8, window uint16, daddr uint32, dport, sport uint16, seq uint32, ipid uint16) {
	t.Helper()
	optionKinds := func(opts []layers.TCPOption) (k []layers.TCPOptionKind) {
		for _, o := range opts {
			k = append(k, o.OptionType)
		}
		return k
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"eth src", eth.SrcMAC.String(), cfg.SrcMAC.String()},
		{"eth dst", eth.DstMAC.String(), cfg.DstMAC.String()},
		{"eth type", eth.EthernetType, layers.EthernetTypeIPv4},
		{"ip version", ip.Version, uint8(4)},
		{"ip IHL", ip.IHL, uint8(5)},
		{"ip TOS", ip.TOS, uint8(0)},
		{"ip length", int(ip.Length), 40 + cfg.Options.Len()},
		{"ip id", ip.Id, ipid},
		{"ip flags", ip.Flags, layers.IPv4DontFragment},
		{"ip frag", ip.FragOffset, uint16(0)},
		{"ip TTL", ip.TTL, ttl},
		{"ip protocol", ip.Protocol, layers.IPProtocolTCP},
		{"ip src", ipToUint32(ip.SrcIP), cfg.SrcAddr},
		{"ip dst", ipToUint32(ip.DstIP), daddr},
		{"ip checksum", ip.Checksum, frame.IPv4(ip.Contents).CalculateChecksum()},
		{"tcp sport", tcp.SrcPort, layers.TCPPort(sport)},
		{"tcp dport", tcp.DstPort, layers.TCPPort(dport)},
		{"tcp seq", tcp.Seq, seq},
		{"tcp ack", tcp.Ack, uint32(0)},
		{"tcp data offset", int(tcp.DataOffset), 5 + cfg.Options.Len()/4},
		{"tcp flags", [9]bool{tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR, tcp.NS}, [9]bool{1: true}},
		{"tcp window", tcp.Window, window},
		{"tcp urgent", tcp.Urgent, uint16(0)},
		{"tcp checksum", tcp.Checksum, frame.TCP(tcp.Contents).CalculateChecksum(cfg.SrcAddr, daddr)},
		{"tcp options", len(optionKinds(tcp.Options)), len(optionKinds(gopacketOptions(cfg.Options)))},
		{"tcp payload", len(tcp.Payload), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for i, k := range optionKinds(gopacketOptions(cfg.Options)) {
		if i < len(tcp.Options) && tcp.Options[i].OptionType != k {
			t.Errorf("tcp option %d = %v, want %v", i, tcp.Options[i].OptionType, k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func TestTemplateWriteShortBuffer(t *testing.T) {
	tmpl, err := frame.NewTemplate(&frame.TemplateConfig{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr, Options: frame.OptionsWindows})
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 1, 53, 54, tmpl.Len() - 1} {
		buf := make([]byte, size)
		if n := tmpl.Write(buf, targetAddr, 993, 40000, 1, 2); n != 0 || nonZero(buf) {
			t.Errorf("Write into %d bytes = %d, wrote % x; want 0 and nothing", size, n, buf)
		}
	}
	// A buffer longer than the frame gets exactly Len bytes.
	buf := make([]byte, 2048)
	if n := tmpl.Write(buf, targetAddr, 993, 40000, 1, 2); n != tmpl.Len() || nonZero(buf[n:]) {
		t.Errorf("Write into 2048 bytes = %d, want %d and nothing beyond", n, tmpl.Len())
	}
}

func TestTemplateWriteAllocs(t *testing.T) {
	for _, layout := range allLayouts {
		tmpl, err := frame.NewTemplate(&frame.TemplateConfig{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr, Options: layout})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, tmpl.Len())
		var daddr uint32 = targetAddr
		if n := testing.AllocsPerRun(1000, func() {
			daddr++
			tmpl.Write(buf, daddr, 993, 40000, daddr*2654435761, uint16(daddr))
		}); n != 0 {
			t.Errorf("%v: Write allocates %v times per probe", layout, n)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, layout := range allLayouts {
		b.Run(layout.String(), func(b *testing.B) {
			tmpl, err := frame.NewTemplate(&frame.TemplateConfig{SrcMAC: scanMAC, DstMAC: gatewayMAC, SrcAddr: scanAddr, Options: layout})
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, tmpl.Len())
			b.SetBytes(int64(tmpl.Len()))
			b.ReportAllocs()
			var i uint32
			for b.Loop() {
				i++
				tmpl.Write(buf, 0xc6121000+i&0xfff, 993, 32768+uint16(i), i*2654435761, uint16(i))
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
