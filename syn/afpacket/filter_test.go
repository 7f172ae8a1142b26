package afpacket_test

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"mailscan/syn/afpacket"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	ourA = net.IPv4(198, 18, 250, 2)
	ourU = uint32(0xC612FA02) // 198.18.250.2
)

// vm loads FilterTCPTo(addr) into x/net/bpf's interpreter, which follows the
// kernel's classic BPF semantics (an out-of-bounds load rejects the frame).
func vm(tb testing.TB, addr uint32) *bpf.VM {
	tb.Helper()
	raw, err := afpacket.FilterTCPTo(addr)
	if err != nil {
		tb.Fatal(err)
	}
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		tb.Fatalf("filter does not disassemble: %v", raw)
	}
	v, err := bpf.NewVM(ins)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestFilterTCPTo(t *testing.T) {
	other := net.IPv4(198, 18, 250, 9)
	v := vm(t, ourU)
	tests := []struct {
		spec   frameSpec
		accept bool
	}{
		{frameSpec{name: "SYN-ACK to addr", dst: ourA, flags: "SA"}, true},
		{frameSpec{name: "RST to addr", dst: ourA, flags: "R"}, true},
		{frameSpec{name: "RST-ACK to addr", dst: ourA, flags: "RA"}, true},
		{frameSpec{name: "SYN-ACK-PSH to addr", dst: ourA, flags: "SAP"}, true},
		{frameSpec{name: "SYN-ACK with IPv4 options", dst: ourA, flags: "SA", options: true}, true},
		{frameSpec{name: "first fragment (MF) SYN-ACK", dst: ourA, flags: "SA", mf: true}, true},
		{frameSpec{name: "VLAN SYN-ACK to addr", dst: ourA, flags: "SA", vlan: true}, true},
		{frameSpec{name: "VLAN RST to addr", dst: ourA, flags: "R", vlan: true}, true},
		{frameSpec{name: "VLAN SYN-ACK with IPv4 options", dst: ourA, flags: "SA", vlan: true, options: true}, true},
		{frameSpec{name: "SYN-ACK to other addr", dst: other, flags: "SA"}, false},
		{frameSpec{name: "RST to other addr", dst: other, flags: "R"}, false},
		{frameSpec{name: "SYN to addr", dst: ourA, flags: "S"}, false},
		{frameSpec{name: "ACK to addr", dst: ourA, flags: "A"}, false},
		{frameSpec{name: "FIN-ACK to addr", dst: ourA, flags: "FA"}, false},
		{frameSpec{name: "no flags", dst: ourA, flags: ""}, false},
		{frameSpec{name: "UDP to addr", dst: ourA, proto: "udp"}, false},
		{frameSpec{name: "ARP who-has addr", dst: ourA, proto: "arp"}, false},
		{frameSpec{name: "non-first fragment", dst: ourA, flags: "SA", fragOf: 3}, false},
		{frameSpec{name: "VLAN SYN-ACK to other", dst: other, flags: "SA", vlan: true}, false},
		{frameSpec{name: "VLAN SYN to addr", dst: ourA, flags: "S", vlan: true}, false},
		{frameSpec{name: "VLAN UDP to addr", dst: ourA, proto: "udp", vlan: true}, false},
		{frameSpec{name: "VLAN non-first fragment", dst: ourA, flags: "R", vlan: true, fragOf: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.spec.name, func(t *testing.T) {
			frame := buildFrame(t, macA, macB, tt.spec)
			got, err := v.Run(frame)
			if err != nil {
				t.Fatal(err)
			}
			if want := acceptLen(tt.accept); got != want {
				t.Fatalf("filter returned %d, want %d", got, want)
			}
		})
	}
}

func acceptLen(ok bool) int {
	if ok {
		return 262144
	}
	return 0
}

func TestFilterTCPToOddFrames(t *testing.T) {
	v := vm(t, ourU)
	synAck := buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "SA"})
	ip4 := func() (*layers.IPv4, *layers.TCP) {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(198, 18, 16, 5), DstIP: ourA}
		tcp := &layers.TCP{SYN: true, ACK: true}
		tcp.SetNetworkLayerForChecksum(ip)
		return ip, tcp
	}
	ip, tcp := ip4()
	qinq := serialize(t,
		&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeQinQ},
		&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeIPv4}, ip, tcp)
	ip, tcp = ip4()
	double := serialize(t,
		&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 8, Type: layers.EthernetTypeIPv4}, ip, tcp)
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	tcp6 := &layers.TCP{SYN: true, ACK: true}
	tcp6.SetNetworkLayerForChecksum(ip6)
	v6 := serialize(t, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}, ip6, tcp6)
	tests := []struct {
		name  string
		frame []byte
	}{
		{"empty", nil},
		{"13 bytes", synAck[:13]},
		{"Ethernet header only", synAck[:14]},
		{"cut inside IPv4 destination", synAck[:33]},
		{"cut before TCP flags", synAck[:14+20+13]},
		{"802.1ad QinQ", qinq},
		{"two 802.1Q tags", double},
		{"IPv6 TCP", v6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Run(tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if got != 0 {
				t.Fatalf("filter returned %d, want 0", got)
			}
		})
	}
	// One byte more than "cut before TCP flags" holds the flags: accepted.
	if got, _ := v.Run(synAck[:14+20+14]); got != acceptLen(true) {
		t.Errorf("SYN-ACK cut right after the TCP flags: filter returned %d, want %d", got, acceptLen(true))
	}
}

// refAccept is the filter's contract in plain Go, the oracle for the
// randomized comparison below.
func refAccept(b []byte, addr uint32) bool {
	if len(b) < 14 {
		return false
	}
	l3 := 14
	switch binary.BigEndian.Uint16(b[12:]) {
	case 0x0800:
	case 0x8100:
		if len(b) < 18 || binary.BigEndian.Uint16(b[16:]) != 0x0800 {
			return false
		}
		l3 = 18
	default:
		return false
	}
	if len(b) < l3+20 || binary.BigEndian.Uint32(b[l3+16:]) != addr || b[l3+9] != 6 ||
		binary.BigEndian.Uint16(b[l3+6:])&0x1fff != 0 {
		return false
	}
	f := l3 + int(b[l3]&0x0f)*4 + 13
	if f >= len(b) {
		return false
	}
	return b[f]&0x04 != 0 || b[f]&0x12 == 0x12
}

// TestFilterTCPToMatchesReference mutates real frames at random and checks
// the BPF program against refAccept on every one of them.
func TestFilterTCPToMatchesReference(t *testing.T) {
	v := vm(t, ourU)
	seeds := [][]byte{
		buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "SA"}),
		buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "R", vlan: true}),
		buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "SA", options: true}),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for i := range 200000 {
		f := append([]byte(nil), seeds[i%len(seeds)]...)
		for range 1 + rng.IntN(3) {
			// Mutate the bytes the filter reads, most of the time.
			pos := rng.IntN(len(f))
			if rng.IntN(4) > 0 {
				pos = []int{12, 13, 16, 17, 14, 18, 20, 23, 24, 27, 30, 33, 34, 47, 51}[rng.IntN(15)] % len(f)
			}
			f[pos] = byte(rng.Uint32())
		}
		if rng.IntN(8) == 0 {
			f = f[:rng.IntN(len(f)+1)]
		}
		got, err := v.Run(f)
		if err != nil {
			t.Fatal(err)
		}
		want := refAccept(f, ourU)
		if (got != 0) != want {
			t.Fatalf("frame % x: filter returned %d, reference says accept=%v", f, got, want)
		}
		if want {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatal("no mutated frame was accepted: the comparison is vacuous")
	}
}

// FuzzFilterTCPTo checks the BPF program against refAccept on arbitrary
// frames and addresses.
func FuzzFilterTCPTo(f *testing.F) {
	for _, s := range []frameSpec{
		{dst: ourA, flags: "SA"}, {dst: ourA, flags: "R", vlan: true},
		{dst: ourA, flags: "SA", options: true}, {dst: ourA, proto: "udp"}, {dst: ourA, proto: "arp"},
	} {
		f.Add(buildFrame(f, macA, macB, s), ourU)
	}
	f.Fuzz(func(t *testing.T, frame []byte, addr uint32) {
		got, err := vm(t, addr).Run(frame)
		if err != nil {
			t.Fatal(err)
		}
		if want := refAccept(frame, addr); (got != 0) != want {
			t.Fatalf("filter returned %d, reference says accept=%v", got, want)
		}
	})
}

func TestFilterTCPToDecodesWithGopacket(t *testing.T) {
	// Sanity check of the oracle frames themselves: gopacket reads back
	// what it wrote, so a test passing by accident of a malformed frame
	// would show here.
	frame := buildFrame(t, macA, macB, frameSpec{dst: ourA, flags: "SA", vlan: true})
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok || !tcp.SYN || !tcp.ACK || p.Layer(layers.LayerTypeDot1Q) == nil {
		t.Fatalf("oracle frame does not decode as VLAN SYN-ACK: %v", p)
	}
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want afpacket.Mode
		ok   bool
	}{
		{"auto", afpacket.ModeAuto, true},
		{"", afpacket.ModeAuto, true},
		{"tx-ring", afpacket.ModeRing, true},
		{"ring", afpacket.ModeRing, true},
		{"sendmmsg", afpacket.ModeSendmmsg, true},
		{"mmap", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := afpacket.ParseMode(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseMode(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if tt.ok && tt.in != "" && tt.in != "ring" && got.String() != tt.in {
				t.Fatalf("%v.String() = %q, want %q", got, got.String(), tt.in)
			}
		})
	}
	if got := afpacket.Mode(9).String(); got != "Mode(9)" {
		t.Errorf("Mode(9).String() = %q", got)
	}
}

func TestConfigValidation(t *testing.T) {
	senders := []struct {
		name string
		cfg  afpacket.SenderConfig
	}{
		{"FrameSize below Ethernet header", afpacket.SenderConfig{FrameSize: 13}},
		{"FrameSize too large", afpacket.SenderConfig{FrameSize: 70000}},
		{"negative RingFrames", afpacket.SenderConfig{RingFrames: -1}},
		{"Batch above RingFrames", afpacket.SenderConfig{RingFrames: 8, Batch: 9}},
		{"negative SendBuffer", afpacket.SenderConfig{SendBuffer: -1}},
		{"unknown Mode", afpacket.SenderConfig{Mode: 7}},
	}
	for _, tt := range senders {
		t.Run("sender/"+tt.name, func(t *testing.T) {
			_, err := afpacket.NewSender(1, &tt.cfg)
			checkConfigError(t, err)
		})
	}
	receivers := []struct {
		name string
		cfg  afpacket.ReceiverConfig
	}{
		{"negative BlockSize", afpacket.ReceiverConfig{BlockSize: -4096}},
		{"too many blocks", afpacket.ReceiverConfig{NumBlocks: 1 << 17}},
		{"FrameSize below header", afpacket.ReceiverConfig{FrameSize: 10}},
		{"BlockSize not a page multiple", afpacket.ReceiverConfig{BlockSize: 1000, FrameSize: 100}},
		{"Timeout below 1ms", afpacket.ReceiverConfig{Timeout: 1}},
		{"Filter too long", afpacket.ReceiverConfig{Filter: make([]bpf.RawInstruction, 4097)}},
	}
	for _, tt := range receivers {
		t.Run("receiver/"+tt.name, func(t *testing.T) {
			_, err := afpacket.NewReceiver(1, &tt.cfg)
			checkConfigError(t, err)
		})
	}
}

// checkConfigError asserts that err rejects the configuration itself, before
// any socket is opened.
func checkConfigError(t *testing.T, err error) {
	t.Helper()
	var oe *net.OpError
	if err == nil || errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "afpacket: ") {
		t.Fatalf("got %v, want a configuration error prefixed \"afpacket: \"", err)
	}
}
