package state

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"mailscan/syn"
	"mailscan/syn/hitlist"
)

// fakeSource is a scan whose positions the test moves.
type fakeSource struct {
	mu   sync.Mutex
	pos  []uint64
	held []hitlist.Hit
}

func (f *fakeSource) Positions() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pos)
}
func (f *fakeSource) Checkpoint(fn func([]hitlist.Hit)) { fn(f.held) }

// Frontier: a batch of 3 positions.
func (f *fakeSource) Frontier(p []uint64) []uint64 {
	out := slices.Clone(p)
	for i := range out {
		out[i] += 3
	}
	return out
}
func (f *fakeSource) ResumeStateAt(p []uint64) *syn.ResumeState {
	return &syn.ResumeState{Shards: 1, Positions: slices.Clone(p)}
}

// TestCheckpointerLag: a state takes the newest sample at least Lag old,
// with that sample's offsets; a settled state takes the positions of now.
func TestCheckpointerLag(t *testing.T) {
	dir := t.TempDir()
	out, err := CreateOutput(filepath.Join(dir, "hits"), RoleHits)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	src := &fakeSource{pos: []uint64{0, 0}}
	now := time.Unix(1000, 0)
	c := NewCheckpointer(CheckpointConfig{
		Path: filepath.Join(dir, "s.state"), Base: State{Command: "syn", Outputs: []Mark{{Role: RoleHits, Path: "hits"}, {Role: RoleResults, Path: "-"}}},
		Files: []*Output{out, nil}, Initial: []int64{0, -1}, Source: src, Lag: 3 * time.Second,
		Now: func() time.Time { return now },
	})
	read := func() *State {
		t.Helper()
		s, err := ReadFile(filepath.Join(dir, "s.state"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// One sample a second: positions 10·i, the output growing 100 bytes.
	for i := 1; i <= 10; i++ {
		now = now.Add(time.Second)
		out.Write(make([]byte, 100))
		src.pos = []uint64{uint64(10 * i), uint64(10*i + 1)}
		c.Sample()
	}
	if err := c.Write(false); err != nil {
		t.Fatal(err)
	}
	s := read()
	// The newest sample at least 3 s old is the 7th: frontiers 73, 74,
	// offset 700.
	if !slices.Equal(s.Scan.Positions, []uint64{73, 74}) || s.Outputs[0].Offset != 700 || s.Outputs[1].Offset != -1 {
		t.Errorf("lagged state: positions %v, marks %+v", s.Scan.Positions, s.Outputs)
	}
	if err := c.Write(true); err != nil {
		t.Fatal(err)
	}
	if s := read(); !slices.Equal(s.Scan.Positions, []uint64{100, 101}) || s.Outputs[0].Offset != 1000 {
		t.Errorf("settled state: positions %v, marks %+v", s.Scan.Positions, s.Outputs)
	}
	// Before any sample is Lag old, the initial one stands.
	c2 := NewCheckpointer(CheckpointConfig{
		Path: filepath.Join(dir, "s.state"), Base: State{Command: "syn", Outputs: []Mark{{Role: RoleHits, Path: "hits"}}},
		Files: []*Output{out}, Initial: []int64{55}, Source: &fakeSource{pos: []uint64{5}}, Lag: 3 * time.Second,
		Now: func() time.Time { return now },
	})
	c2.Sample()
	if err := c2.Write(false); err != nil {
		t.Fatal(err)
	}
	if s := read(); !slices.Equal(s.Scan.Positions, []uint64{5}) || s.Outputs[0].Offset != 55 {
		t.Errorf("early state: positions %v, marks %+v", s.Scan.Positions, s.Outputs)
	}
	// A sample whose frontier the sender has not recorded passing (it may be
	// held up mid-batch) is not used: the initial one still stands.
	for range 4 {
		now = now.Add(time.Second)
		c2.Sample()
	}
	if err := c2.Write(false); err != nil {
		t.Fatal(err)
	}
	if s := read(); !slices.Equal(s.Scan.Positions, []uint64{5}) || s.Outputs[0].Offset != 55 {
		t.Errorf("state of a held-up sender: positions %v, marks %+v", s.Scan.Positions, s.Outputs)
	}
}
