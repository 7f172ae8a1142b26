package xsk

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeKernel stands in for the kernel's side of a sender's rings, in
// ordinary memory: it consumes TX descriptors and completes their frames.
type fakeKernel struct {
	txProd, txCons uint32
	cqProd, cqCons uint32
	descs          []unix.XDPDesc
	addrs          []uint64
}

// newFakeSender returns a sender on fake rings whose indexes start at start,
// with no socket: the test must not make it kick.
func newFakeSender(frames, frameSize int, start uint32) (*Sender, *fakeKernel) {
	k := &fakeKernel{
		txProd: start, txCons: start, cqProd: start, cqCons: start,
		descs: make([]unix.XDPDesc, frames),
		addrs: make([]uint64, frames),
	}
	s := &Sender{s: sender{
		fd:        -1,
		frameSize: frameSize,
		frames:    frames,
		maxLen:    1500 + ethHeaderLen,
		batch:     uint32(frames) + 1, // never flushes by itself
		umem:      make([]byte, frames*frameSize),
		tx:        newProdRing(&k.txProd, &k.txCons, uint32(frames)),
		txDescs:   k.descs,
		cq:        newConsRing(&k.cqProd, &k.cqCons, uint32(frames)),
		cqAddrs:   k.addrs,
		free:      make([]uint64, frames),
	}}
	for i := range s.s.free {
		s.s.free[i] = uint64((frames - 1 - i) * frameSize)
	}
	return s, k
}

// publish does what kick does before its first system call.
func (s *Sender) publish() {
	s.s.tx.submit()
	s.s.pending = 0
}

// consume takes up to n published descriptors and returns them; complete
// completes the frames of descriptors.
func (k *fakeKernel) consume(n int) []unix.XDPDesc {
	var out []unix.XDPDesc
	mask := uint32(len(k.descs) - 1)
	for ; n > 0 && k.txCons != k.txProd; n-- {
		out = append(out, k.descs[k.txCons&mask])
		k.txCons++
	}
	return out
}

func (k *fakeKernel) complete(ds []unix.XDPDesc) {
	mask := uint32(len(k.addrs) - 1)
	for _, d := range ds {
		if k.cqProd-k.cqCons == uint32(len(k.addrs)) {
			panic("completion ring overflow")
		}
		k.addrs[k.cqProd&mask] = d.Addr
		k.cqProd++
	}
}

// TestSenderBookkeeping runs random rounds of Next/Commit against a fake
// kernel that consumes and completes in random amounts, with ring indexes
// that wrap: every descriptor the kernel sees must carry the frame written
// for it, each frame must be in one place only, and no frame may be lost.
func TestSenderBookkeeping(t *testing.T) {
	for _, tc := range []struct {
		frames int
		start  uint32
	}{{8, 0}, {8, 1<<32 - 5}, {64, 1<<32 - 100}, {1, 1<<32 - 1}} {
		t.Run(fmt.Sprintf("frames=%d/start=%#x", tc.frames, tc.start), func(t *testing.T) {
			const frameSize = 2048
			s, k := newFakeSender(tc.frames, frameSize, tc.start)
			rng := rand.New(rand.NewPCG(1, uint64(tc.frames)))
			var seq, seen uint32
			var inKernel []unix.XDPDesc // consumed, not completed
			for round := 0; round < 500; round++ {
				// Write as many frames as are free or completed.
				n := rng.IntN(tc.frames + 1)
				if room := len(s.s.free) + int(k.cqProd-k.cqCons); n > room {
					n = room
				}
				for range n {
					b, err := s.Next()
					if err != nil {
						t.Fatal(err)
					}
					if len(b) != frameSize || cap(b) != frameSize {
						t.Fatalf("Next returned len %d cap %d, want %d", len(b), cap(b), frameSize)
					}
					binary.BigEndian.PutUint32(b, seq)
					s.Commit(ethHeaderLen + int(seq%100))
					seq++
				}
				s.publish()
				for _, d := range k.consume(rng.IntN(tc.frames + 1)) {
					if d.Addr%frameSize != 0 || d.Addr >= uint64(len(s.s.umem)) || d.Options != 0 {
						t.Fatalf("descriptor %+v: bad address or options", d)
					}
					got := binary.BigEndian.Uint32(s.s.umem[d.Addr:])
					if got != seen || d.Len != uint32(ethHeaderLen+int(seen%100)) {
						t.Fatalf("descriptor %+v carries frame %d, want frame %d of length %d", d, got, seen, ethHeaderLen+int(seen%100))
					}
					seen++
					inKernel = append(inKernel, d)
				}
				c := rng.IntN(len(inKernel) + 1)
				k.complete(inKernel[:c])
				inKernel = append(inKernel[:0], inKernel[c:]...)

				// Every frame is in exactly one place.
				owner := map[uint64]string{}
				claim := func(addr uint64, where string) {
					if o, dup := owner[addr]; dup {
						t.Fatalf("round %d: frame %#x both %s and %s", round, addr, o, where)
					}
					owner[addr] = where
				}
				for _, a := range s.s.free {
					claim(a, "free")
				}
				for i := k.txCons; i != k.txProd; i++ {
					claim(k.descs[i&uint32(tc.frames-1)].Addr, "in the TX ring")
				}
				for _, d := range inKernel {
					claim(d.Addr, "in the kernel")
				}
				for i := k.cqCons; i != k.cqProd; i++ {
					claim(k.addrs[i&uint32(tc.frames-1)], "in the completion ring")
				}
				if len(owner) != tc.frames {
					t.Fatalf("round %d: %d frames accounted for, want %d", round, len(owner), tc.frames)
				}
			}
			if seen < 100 {
				t.Fatalf("only %d frames went through", seen)
			}
		})
	}
}

func TestSenderCommitRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		vlan bool
		ok   bool
	}{
		{"runt", ethHeaderLen - 1, false, false},
		{"header only", ethHeaderLen, false, true},
		{"probe", 58, false, true},
		{"mtu", 1514, false, true},
		{"mtu+1", 1515, false, false},
		{"mtu+vlan", 1518, true, true},
		{"mtu+vlan+1", 1519, true, false},
		{"past the frame", 2049, true, false},
		{"negative", -1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, k := newFakeSender(4, 2048, 0)
			b, err := s.Next()
			if err != nil {
				t.Fatal(err)
			}
			if tc.vlan {
				b[etherTypeOffset], b[etherTypeOffset+1] = 0x81, 0x00
			}
			s.Commit(tc.n)
			if got := s.s.stats.Rejected == 0; got != tc.ok {
				t.Fatalf("Commit(%d): accepted = %v, want %v", tc.n, got, tc.ok)
			}
			if s.s.reserved == tc.ok {
				t.Fatalf("Commit(%d): frame still reserved = %v", tc.n, s.s.reserved)
			}
			if !tc.ok {
				// The refused frame is handed out again.
				if b2, _ := s.Next(); &b2[0] != &b[0] {
					t.Fatalf("Next after a refused Commit returned another frame")
				}
				return
			}
			s.publish()
			if ds := k.consume(4); len(ds) != 1 || ds[0].Len != uint32(tc.n) {
				t.Fatalf("kernel saw %+v, want one descriptor of length %d", ds, tc.n)
			}
		})
	}
}

func TestSenderCommitWithoutNext(t *testing.T) {
	s, _ := newFakeSender(4, 2048, 0)
	defer func() {
		if recover() == nil {
			t.Errorf("Commit without Next did not panic")
		}
	}()
	s.Commit(60)
}

func TestSenderZeroAllocs(t *testing.T) {
	s, k := newFakeSender(64, 2048, 1<<32-10)
	var ds []unix.XDPDesc
	allocs := testing.AllocsPerRun(1000, func() {
		b, err := s.Next()
		if err != nil {
			panic(err)
		}
		s.Commit(copy(b, "0123456789abcdef0123456789abcdef"))
		if s.s.pending == 32 {
			s.publish()
			ds = k.consume(32)
			k.complete(ds)
		}
	})
	if allocs != 0 {
		t.Errorf("Next+Commit with reclaims: %v allocs per frame, want 0", allocs)
	}
}
