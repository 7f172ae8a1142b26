package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"mailscan/banner"
)

// MaxLineBytes is the longest input line Build reads; a longer line is a bad
// line. A banner result is at most a few tens of KiB (the greeting is bounded
// by the banner stage's MaxBytes, certificates by their count).
const MaxLineBytes = 4 << 20

// MaxBadLines is how many bad lines a Report lists; all are counted.
const MaxBadLines = 20

// MaxNameRunes is the longest name (family, version, country, provider)
// taken from the input or a database; longer ones are cut and end in "…".
const MaxNameRunes = 64

// targetKey is a target: the address in 16-byte form (IPv4 as IPv4-mapped)
// and the port. It holds no pointers, so a map of millions of them costs the
// garbage collector nothing to scan.
type targetKey struct {
	ip   [16]byte
	port uint16
}

// target is what the report needs of one record, kept per target.
type target struct {
	proto   uint8  // index in protocols
	status  uint8  // index in statuses
	flags   uint16 // f* bits
	tlsVer  uint32 // id in agg.names, 0 none
	family  uint32 // id in agg.names, 0 none ("unknown")
	version uint32 // id in agg.names, 0 none
}

// target flags.
const (
	fService         uint16 = 1 << iota // success or a greeting
	fTLS                                // handshake completed
	fStartTLSKnown                      // starttls_offered is known
	fStartTLSOffered                    //
	fLoginKnown                         // cleartext_login is known
	fLogin                              //
	fCert                               // a leaf certificate was presented
	fCertExpired                        //
	fCertSelfSigned                     //
)

// protocols and statuses fix the index a target stores.
var (
	protocols = banner.Protocols()
	statuses  = banner.Statuses()
)

func protoIndex(p banner.Protocol) int {
	for i, q := range protocols {
		if p == q {
			return i
		}
	}
	return -1
}

func statusIndex(s banner.Status) int {
	for i, q := range statuses {
		if s == q {
			return i
		}
	}
	return -1
}

// BadLine is an input line Build skipped.
type BadLine struct {
	Line int64  // 1-based
	Err  string // why
}

// agg accumulates the records of one input.
type agg struct {
	name string

	lineNo                    int64 // physical lines, for locations
	lines, records, bad, dups int64
	badLines                  []BadLine

	targets map[targetKey]target
	pseudo  map[[16]byte]struct{}

	// names interns the strings targets refer to; id 0 is "".
	names []string
	ids   map[string]uint32
}

func newAgg(name string) *agg {
	return &agg{
		name:    name,
		targets: make(map[targetKey]target),
		pseudo:  make(map[[16]byte]struct{}),
		names:   []string{""},
		ids:     map[string]uint32{"": 0},
	}
}

// intern returns the id of s, cleaned by cleanName; 0 for an empty name.
// Only clean names are keys, so a dirty name costs a cleanName per use but
// no memory.
func (a *agg) intern(s string) uint32 {
	if id, ok := a.ids[s]; ok {
		return id
	}
	c := cleanName(s)
	id, ok := a.ids[c]
	if !ok {
		id = uint32(len(a.names))
		a.names = append(a.names, c)
		a.ids[c] = id
	}
	return id
}

// readAll reads r line by line. Only a read error stops it; bad lines are
// counted and skipped.
func (a *agg) readAll(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than br's buffer, assembled
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !tooLong && len(long)+len(chunk) <= MaxLineBytes {
				long = append(long, chunk...)
			} else {
				tooLong, long = true, long[:0]
			}
			continue
		}
		line := chunk
		if len(long) > 0 || tooLong {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			a.lineNo++
		}
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			a.lines++
			if tooLong || len(line) > MaxLineBytes {
				a.badLine(fmt.Sprintf("line longer than %d bytes", MaxLineBytes))
			} else {
				a.add(bytes.TrimRight(line, "\r\n"))
			}
		}
		long, tooLong = long[:0], false
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("report: read %s: %w", a.name, err)
		}
	}
}

func (a *agg) badLine(why string) {
	a.bad++
	if len(a.badLines) < MaxBadLines {
		a.badLines = append(a.badLines, BadLine{Line: a.lineNo, Err: cleanName(why)})
	}
}

// add takes one non-blank line.
func (a *agg) add(line []byte) {
	var res banner.Result
	if err := json.Unmarshal(line, &res); err != nil {
		a.badLine(err.Error())
		return
	}
	pi, si := protoIndex(res.Protocol), statusIndex(res.Status)
	switch {
	case !res.IP.IsValid():
		a.badLine("no ip")
		return
	case res.Port == 0:
		a.badLine("no port")
		return
	case pi < 0:
		a.badLine(fmt.Sprintf("unknown protocol %q", res.Protocol))
		return
	case si < 0:
		a.badLine(fmt.Sprintf("unknown status %q", res.Status))
		return
	}
	a.records++
	k := targetKey{ip: res.IP.Unmap().As16(), port: res.Port}
	t := a.summarize(&res, pi, si)
	if old, ok := a.targets[k]; ok {
		a.dups++
		if old.flags&fService == 0 && t.flags&fService != 0 {
			a.targets[k] = t
		}
	} else {
		a.targets[k] = t
	}
	if res.AnswersAllPorts {
		a.pseudo[k.ip] = struct{}{}
	}
}

// summarize keeps what the tables need of r.
func (a *agg) summarize(r *banner.Result, pi, si int) target {
	t := target{proto: uint8(pi), status: uint8(si)}
	if r.Status == banner.StatusSuccess || strings.TrimSpace(r.Greeting) != "" {
		t.flags |= fService
	}
	if tl := r.TLS; tl != nil {
		if tl.Version != "" && tl.HandshakeError == "" {
			t.flags |= fTLS
			t.tlsVer = a.intern(tl.Version)
		}
		if len(tl.Certificates) > 0 {
			leaf := &tl.Certificates[0]
			t.flags |= fCert
			if leaf.Expired {
				t.flags |= fCertExpired
			}
			if leaf.SelfSigned {
				t.flags |= fCertSelfSigned
			}
		}
	}
	var f banner.Findings
	if r.Findings != nil {
		f = *r.Findings
	}
	switch {
	case f.StartTLSOffered != nil:
		t.flags |= fStartTLSKnown | flagIf(f.StartTLSOffered.Value, fStartTLSOffered)
	case r.StartTLS != nil:
		t.flags |= fStartTLSKnown | flagIf(r.StartTLS.Offered, fStartTLSOffered)
	}
	if f.CleartextLogin != nil {
		t.flags |= fLoginKnown | flagIf(f.CleartextLogin.Value, fLogin)
	}
	if fp := r.Fingerprint; fp != nil {
		switch {
		case strings.TrimSpace(fp.Family) != "":
			t.family = a.intern(fp.Family)
		case strings.TrimSpace(fp.Product) != "":
			t.family = a.intern(fp.Product)
		case strings.TrimSpace(fp.Vendor) != "":
			t.family = a.intern(fp.Vendor)
		}
		if t.family != 0 {
			t.version = a.intern(fp.Version)
		}
	}
	return t
}

func flagIf(b bool, f uint16) uint16 {
	if b {
		return f
	}
	return 0
}

// cleanName makes s safe to print anywhere: control characters, invalid
// UTF-8 and bidirectional formatting characters (which can reorder what a
// terminal or browser shows) become U+FFFD, runs of white space one space,
// and the result is cut to MaxNameRunes.
func cleanName(s string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.TrimSpace(s) {
		if n == MaxNameRunes {
			b.WriteString("…")
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r),
			unicode.Is(unicode.Cf, r):
			r = utf8.RuneError
		}
		if space && n > 0 {
			b.WriteByte(' ')
			n++
			if n == MaxNameRunes {
				b.WriteString("…")
				break
			}
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}
