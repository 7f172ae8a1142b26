package syn

import "time"

// SimNet exposes the simulated network to the external tests of the
// package (those that need packages importing syn, such as syn/state).
type SimNet = simNet

// NewSimNet returns a simulated network where the "ip:port" pairs of open
// answer SYN-ACK and other ports of their hosts RST.
func NewSimNet(open []string, seed uint64) *SimNet { return newSimNet(open, 0, seed) }

// UseSim makes cfg's scanner send and receive on n.
func UseSim(cfg *Config, n *SimNet) { cfg.link = n }

// Probes returns how many probes each "ip:port" got.
func (n *simNet) Probes() map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string]int, len(n.probes))
	for k, v := range n.probes {
		out[k] = v
	}
	return out
}

// OnFlush sets a function called after every batch a sender flushes.
func (n *simNet) OnFlush(f func()) { n.onFlush = f }

// LabTruth is labTruth for external tests.
var LabTruth = labTruth

// PositionOf returns the sender and position of the target addr:port in
// s's permutation (a brute-force walk: tests only).
func (s *Scanner) PositionOf(addr uint32, port uint16) (sender int, pos uint64) {
	idx, ok := s.space.IndexOf(addr, port)
	if !ok {
		return -1, 0
	}
	for i := range s.iters {
		it, _ := s.cycle.Iter(s.cfg.Shard, s.cfg.Shards, uint64(i), uint64(len(s.iters)))
		for {
			x, ok := it.Next()
			if !ok {
				break
			}
			if x == idx {
				return i, it.Pos() - 1
			}
		}
	}
	return -1, 0
}

// Settle waits until the receiver has handled every reply made so far: the
// simulated network answers at once, so a test whose clock runs faster than
// the receiver uses this to keep "every reply older than the lag is in".
func (n *simNet) Settle() {
	for n.consumed.Load() < n.produced.Load() {
		time.Sleep(50 * time.Microsecond)
	}
}

// LabTruth6 is labTruth6 for external tests.
var LabTruth6 = labTruth6
