package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"mailscan/syn"
	"mailscan/syn/hitlist"
)

// Version is the version of the State format this package writes and reads.
const Version = 2

// MaxFileBytes bounds the size of a state file that Read accepts: pending
// hits are bounded by a pipeline's backlog, held hits by the hits of a few
// seconds; a larger file is not one of ours.
const MaxFileBytes = 256 << 20

// Roles of the outputs a State marks.
const (
	RoleHits    = "hits"    // the hit list
	RoleResults = "results" // the banner results
)

// State is a resume file: everything a run of `mailscan syn` or `mailscan
// run` needs to continue where an earlier run stopped.
type State struct {
	Version int `json:"version"`
	// Command is the command that wrote the state: "syn" or "run".
	Command string `json:"command"`
	// Written is when the state was written.
	Written time.Time `json:"written"`
	// Scan is the SYN scan's place in its permutation. Its positions lag
	// the scan by the cooldown (see the package doc).
	Scan syn.ResumeState `json:"scan"`
	// Proto is run's --proto as given; a resumed run must give the same.
	Proto string `json:"proto,omitempty"`
	// Outputs are the output files with their marks.
	Outputs []Mark `json:"outputs,omitempty"`
	// Held are hits found and not yet written to the hit list.
	Held []Hit `json:"held,omitempty"`
	// Pending are hits written to the hit list and not yet grabbed (run).
	Pending []Hit `json:"pending,omitempty"`
}

// Mark is an output file and its size at the moment of the State's
// positions: what follows the mark may hold hits or results of the targets
// the resumed run probes again.
type Mark struct {
	Role string `json:"role"`
	Path string `json:"path"`
	// Offset is the mark in bytes; -1 when the output is not a file
	// (stdout), which a resumed run cannot read back.
	Offset int64 `json:"offset"`
}

// Hit is a hit as a State keeps it.
type Hit struct {
	IP              netip.Addr `json:"ip"`
	Port            uint16     `json:"port"`
	AnswersAllPorts bool       `json:"answers_all_ports,omitempty"`
}

// AddrPort returns the hit's address and port.
func (h Hit) AddrPort() netip.AddrPort { return netip.AddrPortFrom(h.IP, h.Port) }

// FromHitlist converts a hit list entry.
func FromHitlist(h hitlist.Hit) Hit {
	return Hit{IP: h.Addr, Port: h.Port, AnswersAllPorts: h.AnswersAllPorts}
}

// Hitlist converts the hit back to a hit list entry (status open).
func (h Hit) Hitlist() hitlist.Hit {
	return hitlist.Hit{Addr: h.IP, Port: h.Port, Status: hitlist.Open, AnswersAllPorts: h.AnswersAllPorts}
}

// Mark returns the mark of the output with role, if the state has one.
func (s *State) Mark(role string) (Mark, bool) {
	for _, m := range s.Outputs {
		if m.Role == role {
			return m, true
		}
	}
	return Mark{}, false
}

// Decode reads a State from r, checking everything that does not depend on
// the scan it is resumed into (syn.New checks the rest: config hash, cycle,
// each position against its sender's part). name is used in errors.
func Decode(r io.Reader, name string) (*State, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("state: %s: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("state: %s: larger than %d MiB: not a resume file", name, MaxFileBytes>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("state: %s: empty file (a mailscan before 2026-12 could leave one after a crash: delete it and start again)", name)
	}
	var probe struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("state: %s: not a resume file: %w", name, err)
	}
	if probe.Version == nil {
		return nil, fmt.Errorf("state: %s: a resume file of an older mailscan (no version): finish it with that version, or start again", name)
	}
	if *probe.Version != Version {
		return nil, fmt.Errorf("state: %s: resume file version %d, this mailscan reads version %d", name, *probe.Version, Version)
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("state: %s: %w", name, err)
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("state: %s: %w", name, err)
	}
	return &s, nil
}

func (s *State) check() error {
	switch s.Command {
	case "syn", "run":
	default:
		return fmt.Errorf("command %q: want syn or run", s.Command)
	}
	if n := len(s.Scan.Positions); n == 0 || n > syn.MaxSenders {
		return fmt.Errorf("%d sender positions: want 1 to %d", n, syn.MaxSenders)
	}
	if s.Scan.Shards == 0 || s.Scan.Shard >= s.Scan.Shards {
		return fmt.Errorf("shard %d of %d", s.Scan.Shard, s.Scan.Shards)
	}
	seen := map[string]bool{}
	for _, m := range s.Outputs {
		if m.Role != RoleHits && m.Role != RoleResults {
			return fmt.Errorf("output role %q: want hits or results", m.Role)
		}
		if seen[m.Role] {
			return fmt.Errorf("two %s outputs", m.Role)
		}
		seen[m.Role] = true
		if m.Offset < -1 {
			return fmt.Errorf("%s output mark %d", m.Role, m.Offset)
		}
	}
	for _, list := range [][]Hit{s.Held, s.Pending} {
		for _, h := range list {
			if !h.IP.IsValid() || h.IP.Zone() != "" || h.Port == 0 {
				return fmt.Errorf("hit %q: not an address and port", h.AddrPort())
			}
		}
	}
	return nil
}

// ReadFile reads and checks the state file at path (see Decode).
func ReadFile(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer f.Close()
	return Decode(f, path)
}

// WriteFile writes s to path atomically; see WriteFileAtomic.
func (s *State) WriteFile(path string) error {
	s.Version = Version
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic replaces the file at path with data so that, whatever
// fails and whenever the process dies, path holds either its old content or
// the new, whole: data goes to a temporary file in the same directory,
// which is fsynced and renamed over path, and the directory is fsynced. The
// directory must be writable.
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, data, func(f *os.File, b []byte) error {
		_, err := f.Write(b)
		return err
	})
}

// writeAtomic is WriteFileAtomic with the write of the data replaceable,
// so that tests can make it fail half way as a full disk does.
func writeAtomic(path string, data []byte, write func(*os.File, []byte) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp, data); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
