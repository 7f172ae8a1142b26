package xsk_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mailscan/syn/afpacket"
	"mailscan/syn/internal/vethlab"
	"mailscan/syn/xsk"
)

// newSender opens a Sender on va's queue 0. The kernel frees a closed
// socket's hold on its queue from a workqueue, so right after another
// Sender's Close the queue may still be busy for a moment: retry EBUSY.
func newSender(tb testing.TB, l *lab, cfg *xsk.Config) *xsk.Sender {
	tb.Helper()
	var s *xsk.Sender
	l.MustIn(tb, l.A, func() (err error) {
		for start := time.Now(); ; time.Sleep(time.Millisecond) {
			s, err = xsk.NewSender(l.IdxA, 0, cfg)
			if !errors.Is(err, unix.EBUSY) || time.Since(start) > 2*time.Second {
				return err
			}
		}
	})
	return s
}

// sendProbes sends n probes to 198.19.0.0 upward and closes s.
func sendProbes(tb testing.TB, s *xsk.Sender, tmpl []byte, n int) {
	tb.Helper()
	for i := range n {
		b, err := s.Next()
		if err != nil {
			tb.Fatal(err)
		}
		s.Commit(writeProbe(b, tmpl, uint16(i)))
		if i%1000 == 999 {
			if err := s.Flush(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// TestIntegrationExactCount sends N frames and counts exactly N at the peer,
// across ring sizes that make the indexes wrap and the completion ring be
// drained many times over.
func TestIntegrationExactCount(t *testing.T) {
	l := newLab(t)
	t.Logf("ethtool -l va:\n%s", l.queues)
	tmpl := probe(t, l.MacA, l.MacB)
	for _, tc := range []struct {
		name string
		cfg  *xsk.Config
		n    int
	}{
		{"defaults/1", nil, 1},
		{"defaults/63", nil, 63},
		{"defaults/64", nil, 64},
		{"defaults/65", nil, 65},
		{"defaults/20000", nil, 20000},
		{"frames=64/batch=64/5000", &xsk.Config{Frames: 64}, 5000},
		{"frames=32/batch=7/1000", &xsk.Config{Frames: 32, Batch: 7}, 1000},
		{"frames=4096/batch=256/20000", &xsk.Config{Frames: 4096, Batch: 256}, 20000},
		{"frames=8/batch=8/4096-frame size", &xsk.Config{Frames: 8, Batch: 8, FrameSize: 4096}, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rx0 := l.rx(t)
			s := newSender(t, l, tc.cfg)
			sendProbes(t, s, tmpl, tc.n)
			if got := l.rx(t) - rx0; got != uint64(tc.n) {
				t.Errorf("peer rx_packets grew by %d, want %d", got, tc.n)
			}
			st := s.Stats()
			if st.Sent != uint64(tc.n) || st.Rejected != 0 || st.Dropped != 0 {
				t.Errorf("Stats = %+v, want Sent %d, none rejected or dropped", st, tc.n)
			}
		})
	}
}

// TestIntegrationFramesIntact captures on vb (packet taps see frames before
// the ingress hook drops them) and compares every frame byte for byte.
func TestIntegrationFramesIntact(t *testing.T) {
	l := newLab(t)
	tmpl := probe(t, l.MacA, l.MacB)
	var r *afpacket.Receiver
	l.MustIn(t, l.B, func() (err error) {
		r, err = afpacket.NewReceiver(l.IdxB, nil)
		return err
	})
	defer r.Close()
	const n = 300
	s := newSender(t, l, &xsk.Config{Frames: 16, Batch: 5})
	sendProbes(t, s, tmpl, n)
	var got [][]byte
	for i := 0; i < 50 && len(got) < n; i++ {
		if _, err := r.Poll(100*afpacket.DefaultTimeout, func(f []byte) { got = append(got, bytes.Clone(f)) }); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != n {
		t.Fatalf("captured %d frames, want %d", len(got), n)
	}
	want := make([]byte, probeLen)
	for i, f := range got {
		writeProbe(want, tmpl, uint16(i))
		if !bytes.Equal(f, want) {
			t.Fatalf("frame %d:\n got %x\nwant %x", i, f, want)
		}
	}
	// The incremental checksums agree with a full serialization.
	ref := probe(t, l.MacA, l.MacB)
	writeProbe(want, tmpl, 0xfeff)
	copy(ref[30:34], net.IPv4(198, 19, 0xfe, 0xff).To4())
	if full := reserialize(t, ref); !bytes.Equal(want, full) {
		t.Errorf("incremental checksums:\n got %x\nwant %x", want, full)
	}
}

// benchSend measures a sender writing 58-byte SYNs to varying destinations
// into the lab's veth, on one locked OS thread, and checks that every frame
// reached the peer.
func benchSend(b *testing.B, open func(*lab) frameSender) frameSender {
	l := newLab(b)
	tmpl := probe(b, l.MacA, l.MacB)
	s := open(l)
	rx0 := l.rx(b)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		buf, err := s.Next()
		if err != nil {
			b.Fatal(err)
		}
		s.Commit(writeProbe(buf, tmpl, uint16(i)))
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pps")
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if rx := l.rx(b) - rx0; rx != uint64(b.N) {
		b.Fatalf("peer rx_packets grew by %d, want %d", rx, b.N)
	}
	return s
}

// frameSender is the method set mailscan's scanner uses (syn.frameSender).
type frameSender interface {
	Next() ([]byte, error)
	Commit(n int)
	Flush() error
	Close() error
	Mode() string
}

var (
	_ frameSender = (*xsk.Sender)(nil)
	_ frameSender = (*afpacket.Sender)(nil)
)

func BenchmarkIntegrationSendXSK(b *testing.B) {
	benchSend(b, func(l *lab) frameSender { return newSender(b, l, nil) })
}

// BenchmarkIntegrationSendXSKConfig measures the effect of the UMEM size and
// of the batch (which is also the kick budget) on the AF_XDP path.
func BenchmarkIntegrationSendXSKConfig(b *testing.B) {
	for _, frames := range []int{256, 1024, 4096} {
		for _, batch := range []int{32, 64, 256} {
			b.Run(fmt.Sprintf("frames=%d/batch=%d", frames, batch), func(b *testing.B) {
				s := benchSend(b, func(l *lab) frameSender {
					return newSender(b, l, &xsk.Config{Frames: frames, Batch: batch})
				}).(*xsk.Sender)
				st := s.Stats()
				b.ReportMetric(float64(st.Kicks)/float64(st.Flushes), "kicks/flush")
			})
		}
	}
}

func BenchmarkIntegrationSendMmsg(b *testing.B) {
	benchSend(b, func(l *lab) frameSender {
		var s *afpacket.Sender
		l.MustIn(b, l.A, func() (err error) {
			s, err = afpacket.NewSender(l.IdxA, &afpacket.SenderConfig{Mode: afpacket.ModeSendmmsg})
			return err
		})
		return s
	})
}

// TestIntegrationDropped sends with the peer down: the device refuses every
// frame (the kick fails with EBUSY), and the Sender must count them as sent
// and dropped, take every frame back, and not stall.
func TestIntegrationDropped(t *testing.T) {
	l := newLab(t)
	tmpl := probe(t, l.MacA, l.MacB)
	vethlab.Run(t, "ip", "-n", l.B, "link", "set", "vb", "down")
	const n = 300
	s := newSender(t, l, &xsk.Config{Frames: 64})
	sendProbes(t, s, tmpl, n)
	if st := s.Stats(); st.Sent != n || st.Dropped != n {
		t.Errorf("Stats = %+v, want %d sent and dropped", st, n)
	}
}

func TestIntegrationRejected(t *testing.T) {
	l := newLab(t)
	tmpl := probe(t, l.MacA, l.MacB)
	rx0 := l.rx(t)
	s := newSender(t, l, nil)
	// 1514 is va's MTU + header; one byte more needs an 802.1Q tag.
	lengths := []int{13, probeLen, 1515, probeLen, 2049, 1514, 0, probeLen}
	for _, n := range lengths {
		b, err := s.Next()
		if err != nil {
			t.Fatal(err)
		}
		copy(b, tmpl)
		s.Commit(n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Sent != 4 || st.Rejected != 4 {
		t.Errorf("Stats = %+v, want 4 sent, 4 rejected", st)
	}
	if got := l.rx(t) - rx0; got != 4 {
		t.Errorf("peer rx_packets grew by %d, want 4", got)
	}
}

func TestIntegrationMisuse(t *testing.T) {
	l := newLab(t)
	s := newSender(t, l, nil)
	if got := s.Mode(); got != "af_xdp" {
		t.Errorf("Mode() = %q, want af_xdp", got)
	}
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
}

// TestIntegrationRefused checks the errors a caller falls back on: a queue
// the device does not have, a queue another socket holds, and no device.
func TestIntegrationRefused(t *testing.T) {
	l := newLab(t)
	held := newSender(t, l, nil)
	defer held.Close()
	for _, tc := range []struct {
		name        string
		ifindex     int
		queue       int
		errno       unix.Errno
		unsupported bool
		op          string
	}{
		{"queue taken", l.IdxA, 0, unix.EBUSY, true, "bind"},
		{"no such queue", l.IdxA, 7, unix.EINVAL, true, "bind"},
		{"no such device", 9999, 0, unix.ENODEV, false, "ioctl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.MustIn(t, l.A, func() error {
				s, err := xsk.NewSender(tc.ifindex, tc.queue, nil)
				if err == nil {
					s.Close()
					return fmt.Errorf("NewSender(%d, %d) succeeded", tc.ifindex, tc.queue)
				}
				var oe *net.OpError
				var se *os.SyscallError
				switch {
				case !errors.Is(err, tc.errno):
					t.Errorf("error %v does not match %v", err, tc.errno)
				case errors.Is(err, xsk.ErrUnsupported) != tc.unsupported:
					t.Errorf("errors.Is(%v, ErrUnsupported) = %v, want %v", err, !tc.unsupported, tc.unsupported)
				case !errors.As(err, &oe) || oe.Net != "xdp" || oe.Op != tc.op:
					t.Errorf("error %#v is not a *net.OpError{Op: %s, Net: xdp}", err, tc.op)
				case !errors.As(err, &se):
					t.Errorf("error %v wraps no *os.SyscallError", err)
				}
				t.Logf("%v", err)
				return nil
			})
		})
	}
}

// TestIntegrationPermissionDenied runs this test binary again, inside the
// lab's namespace A, as an unprivileged user: NewSender must fail with an
// error that satisfies errors.Is(err, os.ErrPermission).
func TestIntegrationPermissionDenied(t *testing.T) {
	if os.Getenv("XSK_UNPRIVILEGED_CHILD") == "1" {
		ifi, err := net.InterfaceByName("va")
		if err != nil {
			t.Fatal(err)
		}
		_, err = xsk.NewSender(ifi.Index, 0, nil)
		var oe *net.OpError
		if !errors.Is(err, os.ErrPermission) || !errors.As(err, &oe) || oe.Net != "xdp" || oe.Op != "socket" {
			t.Fatalf("unprivileged NewSender = %#v, want a *net.OpError{Op: socket, Net: xdp} matching os.ErrPermission", err)
		}
		return
	}
	newLab(t).Unprivileged(t, "TestIntegrationPermissionDenied", "XSK_UNPRIVILEGED_CHILD")
}

func TestIntegrationZeroAllocs(t *testing.T) {
	l := newLab(t)
	tmpl := probe(t, l.MacA, l.MacB)
	s := newSender(t, l, &xsk.Config{Frames: 256, Batch: 16})
	defer s.Close()
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		b, err := s.Next()
		if err != nil {
			panic(err)
		}
		s.Commit(writeProbe(b, tmpl, uint16(i)))
		i++
	})
	if allocs != 0 {
		t.Errorf("Next+Commit: %v allocs per frame, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		b, _ := s.Next()
		s.Commit(writeProbe(b, tmpl, 1))
		if err := s.Flush(); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Flush: %v allocs per call, want 0", allocs)
	}
}

// TestIntegrationReceiverCoexists checks that an AF_XDP socket on va's queue
// does not take frames away from an AF_PACKET receiver on va, as the
// scanner's receiver listens on the interface its senders send on.
func TestIntegrationReceiverCoexists(t *testing.T) {
	l := newLab(t)
	s := newSender(t, l, nil)
	defer s.Close()
	var r *afpacket.Receiver
	l.MustIn(t, l.A, func() (err error) {
		r, err = afpacket.NewReceiver(l.IdxA, nil)
		return err
	})
	defer r.Close()
	var ps *afpacket.Sender
	l.MustIn(t, l.B, func() (err error) {
		ps, err = afpacket.NewSender(l.IdxB, nil)
		return err
	})
	reply := probe(t, l.MacB, l.MacA)
	const n = 100
	for range n {
		b, err := ps.Next()
		if err != nil {
			t.Fatal(err)
		}
		ps.Commit(copy(b, reply))
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	got := 0
	for i := 0; i < 50 && got < n; i++ {
		if _, err := r.Poll(100*afpacket.DefaultTimeout, func(f []byte) {
			if bytes.Equal(f, reply) {
				got++
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if got != n {
		t.Errorf("receiver on va saw %d of %d frames", got, n)
	}
}
