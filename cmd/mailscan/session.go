package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"mailscan/syn"
)

// stateFile is a file rewritten in place (the resume file, the metadata):
// opened before the process drops its privileges, so that it can still be
// written after, wherever it lives. Each write puts one JSON document at the
// start of the file and cuts the file there; readers take the first JSON
// value, so even a crash between the write and the cut leaves a readable
// file.
type stateFile struct {
	f *os.File
}

func openStateFile(path string) (*stateFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, usageError{err}
	}
	return &stateFile{f: f}, nil
}

func (s *stateFile) write(v any) error {
	if s == nil {
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := s.f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("%s: %w", s.f.Name(), err)
	}
	if err := s.f.Truncate(int64(len(b))); err != nil {
		return fmt.Errorf("%s: %w", s.f.Name(), err)
	}
	return s.f.Sync()
}

func (s *stateFile) close() {
	if s != nil {
		s.f.Close()
	}
}

// scanSession is a SYN scan run by a command: the scanner with its resume
// file and metadata file, both opened up front.
type scanSession struct {
	e      *env
	f      *synFlags
	p      *scanPlan
	s      *syn.Scanner
	resume *stateFile
	meta   *stateFile
}

// newScanSession builds the scanner (route discovery included) and opens the
// state files. With --dry-run it prints the plan and returns nil.
func newScanSession(e *env, f *synFlags, p *scanPlan) (*scanSession, error) {
	s, err := syn.New(&p.cfg)
	if err != nil {
		return nil, classify(err)
	}
	r := s.Route()
	e.log.Info("route", "interface", r.Interface, "source", r.Source, "gateway", r.Gateway, "gateway_mac", r.GatewayMAC.String(),
		"seed", p.cfg.Seed, "shard", fmt.Sprintf("%d/%d", p.cfg.Shard, max(p.cfg.Shards, 1)), "rate", p.cfg.Rate)
	if f.dryRun {
		rate := "as fast as possible"
		if p.cfg.Rate > 0 {
			rate = fmt.Sprintf("at %.0f packets/s", p.cfg.Rate)
		}
		fmt.Fprintf(e.stdout, "dry run: shard %d/%d of %d targets (%d addresses × %d ports), %d SYN(s) per target %s, from %v on %s via %v (%v); nothing sent\n",
			p.cfg.Shard, max(p.cfg.Shards, 1), s.Targets(), p.excluded.Allowed, len(p.cfg.Ports), max(p.cfg.Probes, 1), rate, r.Source, r.Interface, r.Gateway, r.GatewayMAC)
		return nil, nil
	}
	ss := &scanSession{e: e, f: f, p: p, s: s}
	if f.resume != "" {
		if ss.resume, err = openStateFile(f.resume); err != nil {
			return nil, err
		}
	}
	if f.metadata != "" {
		if ss.meta, err = openStateFile(f.metadata); err != nil {
			ss.close()
			return nil, err
		}
	}
	return ss, nil
}

func (ss *scanSession) close() {
	ss.resume.close()
	ss.meta.close()
}

// run runs the opened scanner, rewriting the resume file with state() each
// minute and at the end, and writes the metadata.
func (ss *scanSession) run(ctx context.Context, state func() any) (*syn.Summary, error) {
	e := ss.e
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if ss.resume == nil {
			return
		}
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := ss.resume.write(state()); err != nil {
					e.log.Error("resume file", "err", err)
				}
			}
		}
	}()
	sum, runErr := ss.s.Run(ctx)
	close(stop)
	<-done
	if sum == nil {
		// The sockets could not be opened: nothing was sent.
		return nil, classify(runErr)
	}
	if err := ss.resume.write(state()); err != nil && runErr == nil {
		runErr = err
	}
	e.log.Info("syn done", "probed", sum.Probed, "sent", sum.Sent, "open", sum.Open, "closed", sum.Closed,
		"duplicates", sum.Duplicates, "invalid", sum.Invalid, "kernel_drops", sum.KernelDrops, "interrupted", sum.Interrupted,
		"send_mode", sum.SendMode, "send_rate", fmt.Sprintf("%.0f", sum.SendRate))
	if sum.Blocked > 0 {
		e.log.Error("the last-moment blocklist check stopped probes: the target set held blocklisted addresses (a bug; nothing was sent to them)", "blocked", sum.Blocked)
	}
	if err := ss.meta.write(metadataFor(ss.p, sum)); err != nil && runErr == nil {
		runErr = err
	}
	return sum, classify(runErr)
}
