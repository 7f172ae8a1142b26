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
	br := bufio.NewReaderSize(r, 4096)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var long []int // numbers of the lines skipped for their length
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br, maxInputLine)
		if err != nil && err != io.EOF {
			bw.Flush()
			return fmt.Errorf("fingerprint: input line %d: %w", n, err)
		}
		if err == io.EOF && raw == "" && !tooLong {
			break
		}
		if tooLong {
			long = append(long, n)
		} else if line := strings.TrimRight(raw, "\r"); strings.TrimSpace(line) != "" {
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
		if err == io.EOF {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("fingerprint: write: %w", err)
	}
	if len(long) > 0 {
		return &LineTooLongError{Lines: long, Max: maxInputLine}
	}
	return nil
}

// LineTooLongError reports input lines MatchLines skipped because they are
// longer than Max bytes; every other line was matched and written.
type LineTooLongError struct {
	Lines []int
	Max   int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("fingerprint: input line %d longer than %d bytes, skipped (%d such line(s); the others were written)", e.Lines[0], e.Max, len(e.Lines))
}

// readLine returns the next line without its LF. A line longer than max is
// consumed and dropped: tooLong is then true and the text empty. At the end
// of the input err is io.EOF, with the last unterminated line, if any.
func readLine(br *bufio.Reader, max int) (line string, tooLong bool, err error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(frag) > max+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, frag...)
			}
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			if tooLong {
				return "", true, nil
			}
			return string(buf[:len(buf)-1]), false, nil
		default:
			if tooLong {
				return "", true, err
			}
			return string(buf), false, err
		}
	}
}
