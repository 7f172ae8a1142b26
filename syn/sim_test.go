package syn

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/blocklist"
	"mailscan/syn/hitlist"
)

// simNet is a simulated network for the scanner: it reads the probes the
// senders write, answers them the way the lab's target namespace does
// (SYN-ACK for open (address, port) pairs, RST for other ports of up hosts,
// nothing otherwise), optionally loses packets, and hands the replies to the
// receiver. It needs no privilege and tests the whole scanner but the socket
// calls.
type simNet struct {
	src     uint32
	open    map[string]bool // "ip:port", "[ip6]:port"
	up      map[netip.Addr]bool
	all     map[netip.Addr]bool // hosts that answer SYN-ACK on every port
	loss    float64             // per direction
	rng     *rand.Rand
	rngMu   sync.Mutex
	mu      sync.Mutex
	probes  map[string]int // every probe seen, by "ip:port"
	replies [][]byte
	errs    []string
	ready   chan struct{}
	// inject, when set, is called for every probe and may return extra
	// frames (forged replies) to deliver.
	inject func(p probe) [][]byte
	// onFlush, when set, is called after every batch a sender flushes.
	onFlush func()
	// produced counts replies made, consumed those the receiver handled.
	produced, consumed atomic.Int64
}

type probe struct {
	daddr, saddr uint32
	dport, sport uint16
	seq          uint32
	id           uint16
	// v6 marks an IPv6 probe: its addresses are daddr6 and saddr6, id is 0
	// and flow its flow label.
	v6             bool
	daddr6, saddr6 netip.Addr
	flow           uint32
	hop            uint8
}

// dst returns the probe's destination.
func (p probe) dst() netip.Addr {
	if p.v6 {
		return p.daddr6
	}
	return blocklist.AddrFromUint32(p.daddr)
}

var (
	simSrcMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	simGwMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	simGwMAC6 = net.HardwareAddr{0x02, 0, 0, 0, 0, 6} // another router for IPv6
	simSrc    = netip.MustParseAddr("198.18.0.2")
	simSrc6   = netip.MustParseAddr("2001:db8::2")
)

func newSimNet(open []string, loss float64, seed uint64) *simNet {
	n := &simNet{
		src:    0xC6120002,
		open:   map[string]bool{},
		up:     map[netip.Addr]bool{},
		all:    map[netip.Addr]bool{},
		loss:   loss,
		rng:    rand.New(rand.NewPCG(seed, 1)),
		probes: map[string]int{},
		ready:  make(chan struct{}, 1),
	}
	for _, s := range open {
		ap := netip.MustParseAddrPort(s)
		n.open[ap.String()] = true
		n.up[ap.Addr()] = true
	}
	return n
}

func (n *simNet) route() Route {
	return Route{Interface: "sim0", Source: simSrc, Source6: simSrc6, SrcMAC: simSrcMAC, GatewayMAC: simGwMAC, GatewayMAC6: simGwMAC6}
}

func (n *simNet) sender(int) (frameSender, error) { return &simSender{net: n}, nil }

func (n *simNet) receiver(local4, local6 netip.Addr) (frameReceiver, error) {
	if local4.IsValid() && local4 != simSrc || local6.IsValid() && local6 != simSrc6 || !local4.IsValid() && !local6.IsValid() {
		return nil, fmt.Errorf("receiver for %v and %v, want %v and %v", local4, local6, simSrc, simSrc6)
	}
	return &simReceiver{net: n}, nil
}

func (n *simNet) lost() bool {
	if n.loss == 0 {
		return false
	}
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return n.rng.Float64() < n.loss
}

// fail records a defect the simulated network saw; tests check errs at the end.
func (n *simNet) fail(format string, args ...any) {
	n.mu.Lock()
	n.errs = append(n.errs, fmt.Sprintf(format, args...))
	n.mu.Unlock()
}

// deliver handles one frame a sender wrote.
func (n *simNet) deliver(b []byte) {
	pkt := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
	ip6, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if eth == nil || (ip == nil) == (ip6 == nil) || tcp == nil || !tcp.SYN || tcp.ACK {
		n.fail("sender wrote something that is not a SYN: %v", pkt)
		return
	}
	gw := simGwMAC
	if ip6 != nil {
		gw = simGwMAC6
	}
	if eth.SrcMAC.String() != simSrcMAC.String() || eth.DstMAC.String() != gw.String() {
		n.fail("probe MACs %v -> %v", eth.SrcMAC, eth.DstMAC)
	}
	p := probe{dport: uint16(tcp.DstPort), sport: uint16(tcp.SrcPort), seq: tcp.Seq}
	if ip != nil {
		p.daddr, p.saddr, p.id = binary.BigEndian.Uint32(ip.DstIP.To4()), binary.BigEndian.Uint32(ip.SrcIP.To4()), ip.Id
	} else {
		p.v6, p.flow, p.hop = true, ip6.FlowLabel, ip6.HopLimit
		p.daddr6, _ = netip.AddrFromSlice(ip6.DstIP)
		p.saddr6, _ = netip.AddrFromSlice(ip6.SrcIP)
		if p.saddr6 != simSrc6 {
			n.fail("IPv6 probe from %v", p.saddr6)
		}
	}
	key := netip.AddrPortFrom(p.dst(), p.dport).String()
	var out [][]byte
	if n.inject != nil {
		out = n.inject(p)
	}
	n.mu.Lock()
	n.probes[key]++
	n.mu.Unlock()
	if !n.lost() {
		switch {
		case n.open[key], n.all[p.dst()]:
			out = append(out, reply(p, p.seq+1, true))
		case n.up[p.dst()]:
			out = append(out, reply(p, p.seq+1, false))
		}
	}
	n.mu.Lock()
	for _, r := range out {
		if !n.lost() {
			n.replies = append(n.replies, r)
			n.produced.Add(1)
		}
	}
	n.mu.Unlock()
	select {
	case n.ready <- struct{}{}:
	default:
	}
}

// reply builds the answer to probe p: a Linux-like SYN-ACK or a RST-ACK,
// over the probe's family.
func reply(p probe, ack uint32, open bool) []byte {
	eth := &layers.Ethernet{SrcMAC: simGwMAC, DstMAC: simSrcMAC, EthernetType: layers.EthernetTypeIPv4}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(p.dport), DstPort: layers.TCPPort(p.sport), Ack: ack, ACK: true, Window: 64240}
	if open {
		tcp.SYN, tcp.Seq = true, 12345
		tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}
	} else {
		tcp.RST, tcp.Window = true, 0
	}
	var ip gopacket.SerializableLayer
	if p.v6 {
		eth.SrcMAC, eth.EthernetType = simGwMAC6, layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 61, NextHeader: layers.IPProtocolTCP, SrcIP: p.daddr6.AsSlice(), DstIP: p.saddr6.AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	} else {
		ip4 := &layers.IPv4{Version: 4, TTL: 61, Id: 7, Protocol: layers.IPProtocolTCP,
			SrcIP: blocklist.AddrFromUint32(p.daddr).AsSlice(), DstIP: blocklist.AddrFromUint32(p.saddr).AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

type simSender struct {
	net     *simNet
	slots   [][]byte
	pending [][]byte
	closed  bool
}

func (s *simSender) Next() ([]byte, error) {
	b := make([]byte, 128)
	s.slots = append(s.slots, b)
	return b, nil
}

func (s *simSender) Commit(n int) {
	last := s.slots[len(s.slots)-1]
	s.pending = append(s.pending, last[:n])
}

func (s *simSender) Flush() error {
	for _, b := range s.pending {
		s.net.deliver(b)
	}
	s.pending, s.slots = s.pending[:0], s.slots[:0]
	if s.net.onFlush != nil {
		s.net.onFlush()
	}
	return nil
}

func (s *simSender) Close() error { s.closed = true; return s.Flush() }
func (s *simSender) Mode() string { return "sim" }

type simReceiver struct{ net *simNet }

func (r *simReceiver) Poll(timeout time.Duration, fn func([]byte)) (int, error) {
	n := r.net
	n.mu.Lock()
	batch := n.replies
	n.replies = nil
	n.mu.Unlock()
	if len(batch) == 0 {
		select {
		case <-n.ready:
		case <-time.After(timeout):
		}
		return 0, nil
	}
	for _, b := range batch {
		fn(b)
		n.consumed.Add(1)
	}
	return len(batch), nil
}

func (r *simReceiver) Drops() (uint64, error) { return 0, nil }
func (r *simReceiver) Close() error           { return nil }

// collect is an Output that keeps every hit.
type collect struct {
	mu   sync.Mutex
	hits []hitlist.Hit
}

func (c *collect) Write(h *hitlist.Hit) error {
	c.mu.Lock()
	c.hits = append(c.hits, *h)
	c.mu.Unlock()
	return nil
}
func (c *collect) Flush() error { return nil }

func (c *collect) keys(status hitlist.Status) []string {
	var out []string
	for _, h := range c.hits {
		if h.Status == status {
			out = append(out, netip.AddrPortFrom(h.Addr, h.Port).String())
		}
	}
	sort.Strings(out)
	return out
}

// labTruth returns a ground truth like the lab's: random open pairs in
// 198.18.16.0/22 on the four ports, from seed.
func labTruth(seed uint64, hosts int) []string {
	rng := rand.New(rand.NewPCG(seed, 2))
	ports := []uint16{110, 143, 993, 995}
	seen := map[string]bool{}
	var out []string
	for len(seen) < hosts {
		a := blocklist.AddrFromUint32(0xC6121000 + uint32(rng.IntN(1024)))
		if seen[a.String()] {
			continue
		}
		seen[a.String()] = true
		mask := 1 + rng.IntN(15)
		for i, p := range ports {
			if mask&(1<<i) != 0 {
				out = append(out, netip.AddrPortFrom(a, p).String())
			}
		}
	}
	sort.Strings(out)
	return out
}

func mustSet(t testing.TB, entries ...string) *blocklist.Set {
	t.Helper()
	var rs []blocklist.Range
	for _, e := range entries {
		r, err := blocklist.ParseEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return blocklist.NewSet(rs...)
}

func runSim(t *testing.T, n *simNet, cfg Config) (*collect, *Summary) {
	t.Helper()
	out := &collect{}
	cfg.Output = out
	cfg.link = n
	if cfg.Cooldown == 0 {
		cfg.Cooldown = 50 * time.Millisecond
	}
	s, err := New(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range n.errs {
		t.Error(e)
	}
	return out, sum
}

var labPorts = []uint16{110, 143, 993, 995}

func filterOut(keys []string, deny *blocklist.Set) []string {
	var out []string
	for _, k := range keys {
		if !deny.ContainsAddr(netip.MustParseAddrPort(k).Addr()) {
			out = append(out, k)
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
