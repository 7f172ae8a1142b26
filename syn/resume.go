package syn

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"mailscan/syn/cyclic"
)

// ResumeState is what --resume files hold: enough to continue a scan exactly
// where it stopped. The resumed run and the interrupted one together probe
// every target exactly once, because each sender's part of the cycle is a
// fixed run of positions and a position is recorded only after the frames of
// the targets before it were handed to the kernel.
type ResumeState struct {
	Seed      uint64    `json:"seed"`
	Shard     uint64    `json:"shard"`
	Shards    uint64    `json:"shards"`
	Cycle     CycleInfo `json:"cycle"`
	Positions []uint64  `json:"positions"`
	// ConfigHash fingerprints what must not change between the runs: the
	// targets, exclusions and ports (see ConfigHash).
	ConfigHash string `json:"config_hash"`
	Complete   bool   `json:"complete"`
}

// ConfigHash returns the hash of the parts of a scan a resumed run must share
// with the original: the allowed ranges of both families, the ports, the
// shard and seed.
func ConfigHash(c *Config) string {
	h := sha256.New()
	for _, r := range c.Allowed.Ranges() {
		fmt.Fprintf(h, "%d-%d,", r.First, r.Last)
	}
	// IPv6 targets only when there are some: an IPv4 scan keeps the hash
	// it had before IPv6 existed, and with it its resume files. A list of a
	// million addresses is a million ranges: streamed, not one string.
	if !c.Allowed6.Empty() {
		h.Write([]byte("|v6:"))
		var buf []byte
		for _, r := range c.Allowed6.Ranges() {
			buf = r.First.AppendTo(buf[:0])
			buf = append(buf, '-')
			buf = r.Last.AppendTo(buf)
			h.Write(append(buf, ','))
		}
	}
	h.Write([]byte{'|'})
	for _, p := range c.Ports {
		h.Write(strconv.AppendUint(nil, uint64(p), 10))
		h.Write([]byte{','})
	}
	shards := max(c.Shards, 1)
	fmt.Fprintf(h, "|%d|%d/%d", c.Seed, c.Shard, shards)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// ErrResume is wrapped by every error that refuses a resume state: it does
// not fit the scan it is given to.
var ErrResume = errors.New("syn: the resume file does not fit this scan")

// check reports whether r can resume the scan c describes.
func (r *ResumeState) check(hash string, n uint64, cy *cyclic.Cycle) error {
	if r.ConfigHash != hash {
		return fmt.Errorf("%w: it is for another scan: targets, exclusions, ports, seed or shard differ", ErrResume)
	}
	if r.Cycle != (CycleInfo{N: n, P: cy.P, G: cy.G, Start: cy.Start}) {
		return fmt.Errorf("%w: its permutation differs from this scan's (another mailscan version?)", ErrResume)
	}
	if len(r.Positions) == 0 || len(r.Positions) > MaxSenders {
		return fmt.Errorf("%w: it records %d sender positions: want 1 to %d", ErrResume, len(r.Positions), MaxSenders)
	}
	return nil
}

// ResumeState returns the scan's resume state with the senders' positions
// of now: safe to call while the scan runs and after it ends.
func (s *Scanner) ResumeState() *ResumeState { return s.ResumeStateAt(s.Positions()) }

// ResumeStateAt returns the scan's resume state with the given positions
// (one per sender), such as positions the scan had a while ago.
func (s *Scanner) ResumeStateAt(positions []uint64) *ResumeState {
	c := &s.cfg
	r := &ResumeState{
		Seed: c.Seed, Shard: c.Shard, Shards: c.Shards,
		Cycle:      CycleInfo{N: s.cycle.N, P: s.cycle.P, G: s.cycle.G, Start: s.cycle.Start},
		ConfigHash: s.configHash,
		Positions:  append([]uint64(nil), positions...),
		Complete:   len(positions) == len(s.iters),
	}
	for i, pos := range r.Positions {
		if i >= len(s.iters) || pos < s.iters[i].Len() {
			r.Complete = false
		}
	}
	return r
}
