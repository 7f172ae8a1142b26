package fingerprint

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// maxInputLine bounds one input line of MatchLines.
const maxInputLine = 64 << 10

// lineResult is one output object of MatchLines: the input banner, the
// protocol it was read as, and the fingerprint fields (none if no rule
// matched).
type lineResult struct {
	Banner string `json:"banner"`
	Proto  string `json:"proto,omitempty"`
	Fingerprint
}

// MatchLines reads one greeting per line from r (the full greeting line, e.g.
// "* OK ... ready.") and writes one JSON object per line to w: the banner, the
// protocol and the Fingerprint fields, which are absent when no rule matched.
// proto is "imap", "pop3", "smtp" or an alias CanonicalProto knows; "" guesses
// each line's protocol from its prefix (DetectProto). In an SMTP line the two
// characters `\n` separate the lines of a multi-line greeting. Blank lines are
// skipped. It is the engine of "mailscan fingerprint".
func (m *Matcher) MatchLines(w io.Writer, r io.Reader, proto string) error {
	if proto != "" {
		if _, ok := CanonicalProto(proto); !ok {
			return fmt.Errorf("fingerprint: unknown protocol %q (want imap, pop3 or smtp)", proto)
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxInputLine)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		p := proto
		if p == "" {
			p = DetectProto(line)
		}
		p, _ = CanonicalProto(p)
		greeting := line
		if p == "smtp" {
			greeting = strings.ReplaceAll(line, `\n`, "\n")
		}
		fp, _ := m.Match(p, greeting)
		if err := enc.Encode(lineResult{Banner: line, Proto: p, Fingerprint: fp}); err != nil {
			return fmt.Errorf("fingerprint: write: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("fingerprint: input line %d: %w", n+1, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("fingerprint: write: %w", err)
	}
	return nil
}
