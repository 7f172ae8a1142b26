package state

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"mailscan/syn"
)

func sampleState() *State {
	return &State{
		Version: Version, Command: "run", Proto: "2143=imap",
		Scan:    syn.ResumeState{Seed: 7, Shards: 1, Cycle: syn.CycleInfo{N: 10, P: 11, G: 2, Start: 3}, Positions: []uint64{4, 5}, ConfigHash: "abc"},
		Outputs: []Mark{{Role: RoleHits, Path: "hits.csv", Offset: 40}, {Role: RoleResults, Path: "-", Offset: -1}},
		Held:    []Hit{{IP: netip.MustParseAddr("198.18.16.1"), Port: 143}},
		Pending: []Hit{{IP: netip.MustParseAddr("198.18.16.2"), Port: 993, AnswersAllPorts: true}},
	}
}

// TestShortWriteKeepsOldState: a write that fails half way, as on a full
// disk, leaves the old state whole and readable, and no temporary file.
func TestShortWriteKeepsOldState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scan.state")
	old := sampleState()
	if err := old.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	next := sampleState()
	next.Scan.Positions = []uint64{9, 9}
	b, _ := json.Marshal(next)
	err := writeAtomic(path, b, func(f *os.File, data []byte) error {
		f.Write(data[:len(data)/2])
		return syscall.ENOSPC
	})
	if err == nil {
		t.Fatal("the failing write reported no error")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatalf("the old state changed:\n%s", after)
	}
	if got, err := ReadFile(path); err != nil || got.Scan.Positions[0] != 4 {
		t.Fatalf("old state after a failed write: %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// And a good write replaces it whole.
	if err := next.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadFile(path); err != nil || got.Scan.Positions[0] != 9 {
		t.Fatalf("after a good write: %+v, %v", got, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := json.Marshal(sampleState())
	edit := func(f func(s *State)) string {
		s := sampleState()
		f(s)
		b, _ := json.Marshal(s)
		return string(b)
	}
	for _, tt := range []struct{ name, doc, want string }{
		{"empty", "", "empty file"},
		{"blank", " \n", "empty file"},
		{"garbage", "\x00\x01", "not a resume file"},
		{"old format", `{"seed":1,"positions":[0]}`, "older mailscan"},
		{"newer version", strings.Replace(string(good), `"version":2`, `"version":3`, 1), "version 3"},
		{"unknown field", strings.Replace(string(good), `"command"`, `"extra":1,"command"`, 1), "unknown field"},
		{"command", edit(func(s *State) { s.Command = "banner" }), `command "banner"`},
		{"no positions", edit(func(s *State) { s.Scan.Positions = nil }), "0 sender positions"},
		{"too many positions", edit(func(s *State) { s.Scan.Positions = make([]uint64, 20000) }), "20000 sender positions"},
		{"shard", edit(func(s *State) { s.Scan.Shard = 3 }), "shard 3 of 1"},
		{"role", edit(func(s *State) { s.Outputs[0].Role = "x" }), `role "x"`},
		{"two roles", edit(func(s *State) { s.Outputs[1].Role = RoleHits }), "two hits outputs"},
		{"mark", edit(func(s *State) { s.Outputs[0].Offset = -5 }), "mark -5"},
		{"port 0", edit(func(s *State) { s.Pending[0].Port = 0 }), "not an address and port"},
		{"no address", edit(func(s *State) { s.Held[0].IP = netip.Addr{} }), "not an address and port"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.doc), "x.state")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "x.state") {
				t.Errorf("Decode = %v, want an error naming the file with %q", err, tt.want)
			}
		})
	}
	if _, err := Decode(bytes.NewReader(good), "good"); err != nil {
		t.Errorf("a good state: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := json.Marshal(sampleState())
	f.Add(good)
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":2,"command":"syn","scan":{"shards":1,"positions":[0]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		// What decodes re-encodes and decodes to the same state.
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Decode(bytes.NewReader(b), "again")
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v\n%s", err, b)
		}
		b2, _ := json.Marshal(s2)
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the state:\n%s\n%s", b, b2)
		}
	})
}

func TestRepairTailAndReadBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hits.csv")
	os.WriteFile(path, []byte("ip,port\n198.18.16.1,143\n198.18.16.2,993\n198.18.16.3,1"), 0o644)
	// ReadBack from the mark after the first hit: the header, the second
	// hit, not the torn last line.
	rc, err := ReadBack(path, int64(len("ip,port\n198.18.16.1,143\n")), true)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(rc)
	rc.Close()
	if got.String() != "ip,port\n198.18.16.2,993\n" {
		t.Errorf("ReadBack = %q", got.String())
	}
	if _, err := ReadBack(path, 1000, false); err == nil {
		t.Error("ReadBack past the complete lines: no error")
	}
	o, err := AppendOutput(path, RoleHits, 10)
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("198.18.16.4,110\n"))
	o.Close()
	b, _ := os.ReadFile(path)
	if string(b) != "ip,port\n198.18.16.1,143\n198.18.16.2,993\n198.18.16.4,110\n" || o.Offset() != int64(len(b)) {
		t.Errorf("after AppendOutput: %q, offset %d", b, o.Offset())
	}
	if _, err := AppendOutput(path, RoleHits, 1<<20); err == nil {
		t.Error("AppendOutput of a file shorter than its mark: no error")
	}
	if rc, err := ReadBack(filepath.Join(dir, "none"), 0, false); err != nil {
		t.Errorf("a missing output with mark 0: %v", err)
	} else {
		rc.Close()
	}
	if _, err := ReadBack(filepath.Join(dir, "none"), 5, false); err == nil {
		t.Error("a missing output with mark 5: no error")
	}
}
