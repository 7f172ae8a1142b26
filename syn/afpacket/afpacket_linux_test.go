package afpacket_test

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"mailscan/syn/afpacket"
)

func labAddrBUint32() uint32 { return binary.BigEndian.Uint32(net.ParseIP(labAddrB).To4()) }

// frameID returns the IPv4 identification of an untagged IPv4 frame.
func frameID(b []byte) (uint16, bool) {
	if len(b) < 34 || binary.BigEndian.Uint16(b[12:]) != 0x0800 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[18:]), true
}

// collector counts frames by IPv4 identification.
type collector struct {
	ids   map[uint16]int
	other int
	total int
}

func (c *collector) frame(b []byte) {
	c.total++
	if id, ok := frameID(b); ok {
		c.ids[id]++
		return
	}
	c.other++
}

// collect polls r until want frames have arrived, then once more briefly to
// catch any surplus; it gives up after 2 s without a new frame.
func collect(t *testing.T, r *afpacket.Receiver, want int) *collector {
	t.Helper()
	c := &collector{ids: map[uint16]int{}}
	fn := c.frame
	idle := time.Now()
	for c.total < want && time.Since(idle) < 2*time.Second {
		n, err := r.Poll(100*time.Millisecond, fn)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			idle = time.Now()
		}
	}
	if _, err := r.Poll(3*afpacket.DefaultTimeout, fn); err != nil {
		t.Fatal(err)
	}
	return c
}

func newReceiver(t *testing.T, l *lab, cfg *afpacket.ReceiverConfig) *afpacket.Receiver {
	t.Helper()
	var r *afpacket.Receiver
	l.MustIn(t, l.B, func() (err error) {
		r, err = afpacket.NewReceiver(l.IdxB, cfg)
		return err
	})
	t.Cleanup(func() { r.Close() })
	return r
}

func newSender(t testing.TB, l *lab, cfg *afpacket.SenderConfig) *afpacket.Sender {
	t.Helper()
	var s *afpacket.Sender
	l.MustIn(t, l.A, func() (err error) {
		s, err = afpacket.NewSender(l.IdxA, cfg)
		return err
	})
	return s
}

func sendFrame(tb testing.TB, s *afpacket.Sender, frame []byte) {
	tb.Helper()
	b, err := s.Next()
	if err != nil {
		tb.Fatal(err)
	}
	s.Commit(copy(b, frame))
}

func TestIntegrationSenderDelivers(t *testing.T) {
	l := newLab(t)
	dst := net.ParseIP(labAddrB)
	filter, err := afpacket.FilterTCPTo(labAddrBUint32())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cfg      afpacket.SenderConfig
		wantMode string
		n        int
	}{
		{"ring", afpacket.SenderConfig{Mode: afpacket.ModeRing, RingFrames: 256, Batch: 32}, "tx-ring", 3000},
		{"ring-batch1", afpacket.SenderConfig{Mode: afpacket.ModeRing, RingFrames: 64, Batch: 1}, "tx-ring", 500},
		{"ring-qdisc", afpacket.SenderConfig{Mode: afpacket.ModeRing, RingFrames: 256, UseQdisc: true}, "tx-ring", 1000},
		{"auto on a veth", afpacket.SenderConfig{}, "sendmmsg", 2000},
		{"sendmmsg", afpacket.SenderConfig{Mode: afpacket.ModeSendmmsg, Batch: 64}, "sendmmsg", 3000},
		{"sendmmsg-qdisc", afpacket.SenderConfig{Mode: afpacket.ModeSendmmsg, UseQdisc: true}, "sendmmsg", 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReceiver(t, l, &afpacket.ReceiverConfig{Filter: filter})
			s := newSender(t, l, &tt.cfg)
			if got := s.Mode(); got != tt.wantMode {
				t.Errorf("Mode() = %q, want %q", got, tt.wantMode)
			}
			frames := make([][]byte, tt.n)
			for i := range frames {
				frames[i] = buildFrame(t, l.MacA, l.MacB, frameSpec{id: uint16(i), dst: dst, flags: "SA"})
			}
			for _, f := range frames {
				sendFrame(t, s, f)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			st := s.Stats()
			if st.Sent != uint64(tt.n) || st.Rejected != 0 {
				t.Errorf("Stats() = %+v, want Sent=%d Rejected=0", st, tt.n)
			}
			batch := tt.cfg.Batch
			if batch == 0 {
				batch = afpacket.DefaultBatch
			}
			if minFlushes := uint64((tt.n + batch - 1) / batch); st.Flushes < minFlushes {
				t.Errorf("Flushes = %d, want at least %d", st.Flushes, minFlushes)
			}
			c := collect(t, r, tt.n)
			if c.total != tt.n || c.other != 0 || len(c.ids) != tt.n {
				t.Fatalf("peer received %d frames (%d distinct ids, %d other), want exactly %d", c.total, len(c.ids), c.other, tt.n)
			}
			for id, k := range c.ids {
				if int(id) >= tt.n || k != 1 {
					t.Fatalf("frame id %d received %d times", id, k)
				}
			}
			rs, err := r.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if rs.Packets != uint64(tt.n) || rs.Drops != 0 {
				t.Errorf("receiver Stats() = %+v, want Packets=%d Drops=0", rs, tt.n)
			}
		})
	}
}

func TestIntegrationSenderRejects(t *testing.T) {
	l := newLab(t)
	frame := buildFrame(t, l.MacA, l.MacB, frameSpec{id: 1, dst: net.ParseIP(labAddrB), flags: "SA"})
	for _, mode := range []afpacket.Mode{afpacket.ModeRing, afpacket.ModeSendmmsg} {
		t.Run(mode.String(), func(t *testing.T) {
			rx0 := l.Counter(t, l.B, "vb", "rx_packets")
			s := newSender(t, l, &afpacket.SenderConfig{Mode: mode, FrameSize: 2000})
			tests := []struct {
				name   string
				vlan   bool // frame carries an 802.1Q tag
				n      int
				reject bool
			}{
				{"shorter than an Ethernet header", false, 13, true},
				{"longer than MTU+14 untagged", false, 1515, true},
				{"longer than MTU+18 tagged", true, 1519, true},
				{"longer than the slot", true, 2001, true},
				{"negative", false, -1, true},
				{"MTU+14 untagged", false, 1514, false},
				{"MTU+18 tagged", true, 1518, false},
				{"Ethernet header only", false, 14, false},
			}
			rejected, sent := 0, 0
			for _, tt := range tests {
				b, err := s.Next()
				if err != nil {
					t.Fatal(err)
				}
				copy(b, frame)
				if tt.vlan {
					b[12], b[13] = 0x81, 0x00
				}
				s.Commit(tt.n)
				if tt.reject {
					rejected++
					b2, err := s.Next()
					if err != nil {
						t.Fatal(err)
					}
					if &b[0] != &b2[0] {
						t.Fatalf("%s: Next after a rejected Commit returned another slot", tt.name)
					}
				} else {
					sent++
				}
				if st := s.Stats(); st.Rejected != uint64(rejected) {
					t.Fatalf("%s: Rejected = %d, want %d", tt.name, st.Rejected, rejected)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Sent != uint64(sent) {
				t.Fatalf("Stats() = %+v, want Sent=%d", st, sent)
			}
			// The kernel took every frame Commit let through.
			if rx := l.Counter(t, l.B, "vb", "rx_packets") - rx0; rx != uint64(sent) {
				t.Fatalf("peer received %d frames, want %d", rx, sent)
			}
		})
	}
}

func TestIntegrationSenderAutoFallback(t *testing.T) {
	l := newLab(t)
	enomem := opErr("setsockopt", unix.ENOMEM)
	tests := []struct {
		name     string
		mode     afpacket.Mode
		fail     error
		wantMode string
		wantErr  error
	}{
		{"auto on hardware uses the ring", afpacket.ModeAuto, nil, "tx-ring", nil},
		{"auto on hardware falls back to sendmmsg", afpacket.ModeAuto, enomem, "sendmmsg", nil},
		{"ring reports the failure", afpacket.ModeRing, enomem, "", unix.ENOMEM},
		{"auto does not retry a missing privilege", afpacket.ModeAuto, opErr("setsockopt", unix.EPERM), "", os.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer afpacket.SetRingFailure(tt.fail)()
			defer afpacket.SetPhysical()()
			var (
				s   *afpacket.Sender
				err error
			)
			l.MustIn(t, l.A, func() error {
				s, err = afpacket.NewSender(l.IdxA, &afpacket.SenderConfig{Mode: tt.mode})
				return nil
			})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("NewSender = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Mode() != tt.wantMode {
				t.Fatalf("Mode() = %q, want %q", s.Mode(), tt.wantMode)
			}
			sendFrame(t, s, buildFrame(t, l.MacA, l.MacB, frameSpec{id: 1, dst: net.ParseIP(labAddrB), flags: "SA"}))
			if err := s.Flush(); err != nil || s.Stats().Sent != 1 {
				t.Fatalf("Flush = %v, Stats = %+v; want one frame sent", err, s.Stats())
			}
		})
	}
}

func opErr(op string, errno unix.Errno) error {
	return &net.OpError{Op: op, Net: "packet", Err: os.NewSyscallError(op, errno)}
}

func TestIntegrationSenderMisuse(t *testing.T) {
	l := newLab(t)
	for _, mode := range []afpacket.Mode{afpacket.ModeRing, afpacket.ModeSendmmsg} {
		t.Run(mode.String()+"/Commit without Next panics", func(t *testing.T) {
			s := newSender(t, l, &afpacket.SenderConfig{Mode: mode})
			defer s.Close()
			defer func() {
				if recover() == nil {
					t.Fatal("Commit without Next did not panic")
				}
			}()
			s.Commit(60)
		})
		t.Run(mode.String()+"/use after Close", func(t *testing.T) {
			s := newSender(t, l, &afpacket.SenderConfig{Mode: mode})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Next(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Next after Close = %v, want net.ErrClosed", err)
			}
			if err := s.Flush(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Flush after Close = %v, want net.ErrClosed", err)
			}
			if err := s.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Close = %v, want net.ErrClosed", err)
			}
		})
	}
}

func TestIntegrationFilter(t *testing.T) {
	l := newLab(t)
	to, other := net.ParseIP(labAddrB), net.ParseIP("198.18.250.9")
	filter, err := afpacket.FilterTCPTo(labAddrBUint32())
	if err != nil {
		t.Fatal(err)
	}
	// The kernel removes an 802.1Q tag (skb_vlan_untag) before packet sockets
	// and their filters see a frame, so the tagged SYN-ACK arrives untagged,
	// and is accepted because it is a SYN-ACK to addr.
	specs := []struct {
		frameSpec
		accept bool
	}{
		{frameSpec{name: "SYN-ACK to addr", id: 1, dst: to, flags: "SA"}, true},
		{frameSpec{name: "RST to addr", id: 2, dst: to, flags: "R"}, true},
		{frameSpec{name: "RST-ACK to addr", id: 3, dst: to, flags: "RA"}, true},
		{frameSpec{name: "VLAN SYN-ACK to addr", id: 4, dst: to, flags: "SA", vlan: true}, true},
		{frameSpec{name: "SYN-ACK to other addr", id: 5, dst: other, flags: "SA"}, false},
		{frameSpec{name: "UDP to addr", id: 6, dst: to, proto: "udp"}, false},
		{frameSpec{name: "ARP who-has addr", id: 7, dst: to, proto: "arp"}, false},
		{frameSpec{name: "SYN to addr", id: 8, dst: to, flags: "S"}, false},
		{frameSpec{name: "ACK to addr", id: 9, dst: to, flags: "A"}, false},
		{frameSpec{name: "VLAN SYN-ACK to other", id: 10, dst: other, flags: "SA", vlan: true}, false},
		{frameSpec{name: "non-first fragment to addr", id: 11, dst: to, flags: "SA", fragOf: 3}, false},
	}
	r := newReceiver(t, l, &afpacket.ReceiverConfig{Filter: filter})
	s := newSender(t, l, &afpacket.SenderConfig{Mode: afpacket.ModeRing})
	want := 0
	for _, sp := range specs {
		sendFrame(t, s, buildFrame(t, l.MacA, l.MacB, sp.frameSpec))
		if sp.accept {
			want++
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c := collect(t, r, want)
	if c.other != 0 {
		t.Errorf("%d accepted frames are not untagged IPv4", c.other)
	}
	for _, sp := range specs {
		got := c.ids[sp.id]
		if wantN := map[bool]int{true: 1, false: 0}[sp.accept]; got != wantN {
			t.Errorf("%s: received %d times, want %d", sp.name, got, wantN)
		}
	}
}

func TestIntegrationReceiverDrops(t *testing.T) {
	l := newLab(t)
	filter, err := afpacket.FilterTCPTo(labAddrBUint32())
	if err != nil {
		t.Fatal(err)
	}
	// Two one-page blocks hold a few dozen frames; nobody polls during the
	// burst, so the rest must be dropped and counted.
	r := newReceiver(t, l, &afpacket.ReceiverConfig{
		Filter: filter, BlockSize: os.Getpagesize(), NumBlocks: 2, Timeout: time.Second,
	})
	const n = 500
	s := newSender(t, l, &afpacket.SenderConfig{RingFrames: 128})
	for i := range n {
		sendFrame(t, s, buildFrame(t, l.MacA, l.MacB, frameSpec{id: uint16(i), dst: net.ParseIP(labAddrB), flags: "SA"}))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	delivered := 0
	count := func([]byte) { delivered++ }
	for {
		// Timeout 1 s: the last block retires after at most that long.
		k, err := r.Poll(1500*time.Millisecond, count)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
	}
	if st.Packets != n {
		t.Errorf("Stats().Packets = %d, want %d (every frame that passed the filter)", st.Packets, n)
	}
	if st.Drops == 0 || st.Drops >= n {
		t.Errorf("Stats().Drops = %d, want within (0, %d)", st.Drops, n)
	}
	if uint64(delivered) != n-st.Drops {
		t.Errorf("delivered %d frames, want Packets-Drops = %d", delivered, n-st.Drops)
	}
	if st.FreezeCount == 0 {
		t.Errorf("Stats().FreezeCount = 0, want > 0 after the ring filled")
	}
	// The kernel resets its counters on each read; Stats keeps totals.
	st2, err := r.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st2 != st {
		t.Errorf("second Stats() = %+v, want the same totals %+v", st2, st)
	}
}

func TestIntegrationReceiverIgnoresOutgoing(t *testing.T) {
	l := newLab(t)
	// A Receiver without filter on the sending side must not see its own
	// host's frames, even when they pass through the qdisc layer (the path
	// on which packet taps see outgoing frames).
	var r *afpacket.Receiver
	l.MustIn(t, l.A, func() (err error) {
		r, err = afpacket.NewReceiver(l.IdxA, nil)
		return err
	})
	defer r.Close()
	s := newSender(t, l, &afpacket.SenderConfig{UseQdisc: true, Mode: afpacket.ModeSendmmsg})
	for i := range 100 {
		sendFrame(t, s, buildFrame(t, l.MacA, l.MacB, frameSpec{id: uint16(i), dst: net.ParseIP(labAddrB), flags: "SA"}))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c := &collector{ids: map[uint16]int{}}
	if _, err := r.Poll(3*afpacket.DefaultTimeout, c.frame); err != nil {
		t.Fatal(err)
	}
	for id := range c.ids {
		if id < 100 {
			t.Fatalf("receiver saw outgoing frame id %d", id)
		}
	}
}

func TestIntegrationReceiverCloseWakesPoll(t *testing.T) {
	l := newLab(t)
	var r *afpacket.Receiver
	l.MustIn(t, l.B, func() (err error) {
		r, err = afpacket.NewReceiver(l.IdxB, &afpacket.ReceiverConfig{Filter: mustFilter(t, 0xC612FFFF)})
		return err
	})
	errc := make(chan error, 1)
	go func() {
		_, err := r.Poll(-1, func([]byte) {})
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let Poll block; the outcome does not depend on it
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Poll after Close = %v, want net.ErrClosed", err)
	}
	if err := r.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close = %v, want net.ErrClosed", err)
	}
	if _, err := r.Poll(0, func([]byte) {}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Poll on closed Receiver = %v, want net.ErrClosed", err)
	}
}

func mustFilter(tb testing.TB, addr uint32) []bpf.RawInstruction {
	tb.Helper()
	f, err := afpacket.FilterTCPTo(addr)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestIntegrationNoDevice(t *testing.T) {
	l := newLab(t)
	l.MustIn(t, l.A, func() error {
		for _, mode := range []afpacket.Mode{afpacket.ModeAuto, afpacket.ModeRing, afpacket.ModeSendmmsg} {
			if _, err := afpacket.NewSender(9999, &afpacket.SenderConfig{Mode: mode}); !errors.Is(err, unix.ENODEV) {
				t.Errorf("NewSender(%v) on a missing interface = %v, want ENODEV", mode, err)
			}
		}
		if _, err := afpacket.NewReceiver(9999, nil); !errors.Is(err, unix.ENODEV) {
			t.Errorf("NewReceiver on a missing interface = %v, want ENODEV", err)
		}
		return nil
	})
}

// TestIntegrationPermissionDenied runs this test binary again, inside the
// lab's namespace A, as an unprivileged user: opening a socket must fail with
// an error that satisfies errors.Is(err, os.ErrPermission), so the CLI can
// say "needs root or CAP_NET_RAW".
func TestIntegrationPermissionDenied(t *testing.T) {
	if os.Getenv("AFPACKET_UNPRIVILEGED_CHILD") == "1" {
		ifi, err := net.InterfaceByName("va")
		if err != nil {
			t.Fatal(err)
		}
		_, serr := afpacket.NewSender(ifi.Index, nil)
		_, rerr := afpacket.NewReceiver(ifi.Index, nil)
		if !errors.Is(serr, os.ErrPermission) || !errors.Is(rerr, os.ErrPermission) {
			t.Fatalf("unprivileged: NewSender = %v, NewReceiver = %v; want os.ErrPermission", serr, rerr)
		}
		var oe *net.OpError
		if !errors.As(serr, &oe) || oe.Net != "packet" || oe.Op != "socket" {
			t.Fatalf("NewSender error %#v is not a *net.OpError{Op: socket, Net: packet}", serr)
		}
		return
	}
	newLab(t).Unprivileged(t, "TestIntegrationPermissionDenied", "AFPACKET_UNPRIVILEGED_CHILD")
}

func TestIntegrationZeroAllocs(t *testing.T) {
	l := newLab(t)
	frame := buildFrame(t, l.MacA, l.MacB, frameSpec{id: 1, dst: net.ParseIP(labAddrB), flags: "SA"})
	for _, mode := range []afpacket.Mode{afpacket.ModeRing, afpacket.ModeSendmmsg} {
		t.Run("send/"+mode.String(), func(t *testing.T) {
			s := newSender(t, l, &afpacket.SenderConfig{Mode: mode, Batch: 16})
			defer s.Close()
			allocs := testing.AllocsPerRun(2000, func() {
				b, err := s.Next()
				if err != nil {
					panic(err)
				}
				s.Commit(copy(b, frame))
			})
			if allocs != 0 {
				t.Errorf("Next+Commit: %v allocs per frame, want 0", allocs)
			}
			allocs = testing.AllocsPerRun(100, func() {
				b, _ := s.Next()
				s.Commit(copy(b, frame))
				if err := s.Flush(); err != nil {
					panic(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Flush: %v allocs per call, want 0", allocs)
			}
		})
	}
	t.Run("poll", func(t *testing.T) {
		r := newReceiver(t, l, &afpacket.ReceiverConfig{Filter: mustFilter(t, labAddrBUint32())})
		s := newSender(t, l, nil)
		defer s.Close()
		var c counter
		fn := c.frame
		allocs := testing.AllocsPerRun(20, func() {
			for range 50 {
				b, _ := s.Next()
				s.Commit(copy(b, frame))
			}
			if err := s.Flush(); err != nil {
				panic(err)
			}
			if _, err := r.Poll(time.Second, fn); err != nil {
				panic(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Poll: %v allocs per call, want 0", allocs)
		}
		if c.n == 0 {
			t.Errorf("Poll delivered no frame")
		}
	})
}

type counter struct{ n int }

func (c *counter) frame([]byte) { c.n++ }

// benchSend measures a Sender writing SYN-ACK-sized frames into a veth
// whose peer, in the other namespace, has nothing listening.
func benchSend(b *testing.B, cfg afpacket.SenderConfig) {
	l := newLab(b)
	frame := buildFrame(b, l.MacA, l.MacB, frameSpec{id: 1, dst: net.ParseIP("198.18.16.9"), flags: "S"})
	frame = append(frame, make([]byte, 78-len(frame))...) // a probe with options is 78 bytes
	s := newSender(b, l, &cfg)
	rx0 := l.Counter(b, l.B, "vb", "rx_packets")
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		copy(buf, frame)
		binary.BigEndian.PutUint16(buf[18:], uint16(i)) // IP id, as a real probe varies
		s.Commit(len(frame))
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pps")
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if st := s.Stats(); st.Sent != uint64(b.N) {
		b.Fatalf("Sent = %d, want %d", st.Sent, b.N)
	}
	// Every frame must have reached the peer: a rate of frames lost on the
	// way would be no rate at all.
	if rx := l.Counter(b, l.B, "vb", "rx_packets") - rx0; rx != uint64(b.N) {
		b.Fatalf("peer rx_packets grew by %d, want %d", rx, b.N)
	}
}

func BenchmarkIntegrationSend(b *testing.B) {
	for _, mode := range []afpacket.Mode{afpacket.ModeRing, afpacket.ModeSendmmsg} {
		for _, batch := range []int{32, 64, 256} {
			b.Run(mode.String()+"/batch="+strconv.Itoa(batch), func(b *testing.B) {
				benchSend(b, afpacket.SenderConfig{Mode: mode, Batch: batch})
			})
		}
	}
}

// BenchmarkIntegrationReceive measures a Receiver taking SYN-ACKs that a
// Sender in the other namespace writes as fast as it can. Frames the ring
// had no room for count as drops, reported beside the rate.
func BenchmarkIntegrationReceive(b *testing.B) {
	l := newLab(b)
	frame := buildFrame(b, l.MacA, l.MacB, frameSpec{id: 1, dst: net.ParseIP(labAddrB), flags: "SA"})
	var r *afpacket.Receiver
	l.MustIn(b, l.B, func() (err error) {
		r, err = afpacket.NewReceiver(l.IdxB, &afpacket.ReceiverConfig{Filter: mustFilter(b, labAddrBUint32())})
		return err
	})
	defer r.Close()
	s := newSender(b, l, nil)
	errc := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		runtime.LockOSThread()
		for range b.N {
			buf, err := s.Next()
			if err != nil {
				errc <- err
				return
			}
			s.Commit(copy(buf, frame))
		}
		errc <- s.Close()
	}()
	var c counter
	fn := c.frame
	var st afpacket.ReceiverStats
	for idle := 0; idle < 20 && uint64(c.n)+st.Drops < uint64(b.N); {
		n, err := r.Poll(100*time.Millisecond, fn)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			idle++
		}
		if st, err = r.Stats(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	if uint64(c.n)+st.Drops != uint64(b.N) {
		b.Fatalf("received %d + dropped %d frames, want %d", c.n, st.Drops, b.N)
	}
	b.ReportMetric(float64(c.n)/b.Elapsed().Seconds(), "pps")
	b.ReportMetric(float64(st.Drops), "drops")
}
