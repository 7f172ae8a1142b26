package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"mailscan/syn/state"
)

// Run statuses, as the metadata records them.
const (
	statusRunning     = "running"
	statusComplete    = "complete"
	statusInterrupted = "interrupted" // SIGINT or SIGTERM
	statusStopped     = "stopped"     // --max-runtime or --max-results
	statusFailed      = "failed"
)

// runHeader opens every metadata file: what ran, which build, when, and how
// it ended.
type runHeader struct {
	Command string    `json:"command"`
	Version string    `json:"version"`
	Args    []string  `json:"args"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	// Status is running while the command runs, then complete,
	// interrupted, stopped or failed.
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
}

func newHeader(command string) runHeader {
	return runHeader{Command: command, Version: version(), Args: os.Args, Start: time.Now().UTC(), Status: statusRunning}
}

// end stamps the header with the end time and the outcome of err.
func (h *runHeader) end(err error) {
	h.End = time.Now().UTC()
	h.ExitCode = exitCode(err)
	switch h.ExitCode {
	case 0:
		h.Status = statusComplete
	case exitStopped:
		h.Status = stopReason(err)
	default:
		h.Status = statusFailed
	}
}

// version names this build: the module version and the VCS revision that
// debug.ReadBuildInfo reports.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, modified, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		case "vcs.time":
			at = s.Value
		}
	}
	parts := []string{v}
	if rev != "" {
		parts = append(parts, "rev "+rev[:min(12, len(rev))]+modified)
	}
	if at != "" {
		parts = append(parts, at)
	}
	parts = append(parts, bi.GoVersion)
	return strings.Join(parts, ", ")
}

// metaFile is a --metadata file: written whole and atomically, at the start
// (status running) and at the end, so that it is never empty nor the
// previous run's.
type metaFile struct{ path string }

func (m metaFile) write(v any) error {
	if m.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if err := state.WriteFileAtomic(m.path, append(b, '\n')); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return nil
}
