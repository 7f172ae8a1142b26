package blocklist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"unicode"
)

const (
	// MaxLineLength is the longest line Parse accepts, in bytes, not
	// counting the line ending. A real entry with a comment is a few dozen
	// bytes; the bound keeps a binary or runaway file from exhausting memory.
	MaxLineLength = 1 << 20

	// MaxLineErrors is how many bad lines Parse describes one by one; the
	// rest are counted in one final "and N more" error.
	MaxLineErrors = 20

	// maxValueLen bounds LineError.Value so that a garbage line does not
	// turn into a megabyte of error message.
	maxValueLen = 64
)

var (
	// ErrIPv6 is the reason given for an IPv6 entry: mailscan scans IPv4.
	ErrIPv6 = errors.New("IPv6 is not supported (IPv4 only)")

	// ErrLineTooLong is the reason given for a line longer than
	// MaxLineLength.
	ErrLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLineLength)
)

// LineError describes one bad line of a blocklist file.
type LineError struct {
	File  string // file name as given to Parse
	Line  int    // 1-based line number
	Value string // the offending entry, cut to 64 bytes and marked "..." if longer
	Err   error  // why the entry was rejected
}

// Error returns `blocklist: FILE:LINE: "VALUE": reason`.
func (e *LineError) Error() string {
	return fmt.Sprintf("blocklist: %s:%d: %q: %v", e.File, e.Line, e.Value, e.Err)
}

// Unwrap returns the reason, so that errors.Is(err, ErrIPv6) works.
func (e *LineError) Unwrap() error { return e.Err }

// ParseEntry parses one blocklist entry: an IPv4 address ("192.0.2.1"), a
// CIDR prefix ("192.0.2.0/24"), or an inclusive range ("192.0.2.1-192.0.2.9",
// masscan's notation). Host bits set in a prefix are masked off, as ZMap
// does, so "192.0.2.77/24" is 192.0.2.0/24. IPv6 entries fail with an error
// wrapping ErrIPv6. The entry must not contain spaces or a comment.
func ParseEntry(s string) (Range, error) {
	r, err := parseEntry(s)
	if err != nil {
		return Range{}, fmt.Errorf("blocklist: %q: %w", truncate(s), err)
	}
	return r, nil
}

// parseEntry is ParseEntry with a bare reason as its error, for LineError
// to decorate.
func parseEntry(s string) (Range, error) {
	switch {
	case s == "":
		return Range{}, errors.New("empty entry")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return Range{}, errors.New("more than one word: one entry per line, comments start with #")
	}
	if addr, bits, ok := strings.Cut(s, "/"); ok {
		first, err := parseAddr(addr, s)
		if err != nil {
			return Range{}, err
		}
		n, ok := parseBits(bits)
		if !ok {
			return Range{}, fmt.Errorf("invalid prefix length %q (want 0 to 32)", bits)
		}
		return rangeFromPrefix(netip.PrefixFrom(AddrFromUint32(first), n)), nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		first, err := parseAddr(lo, s)
		if err != nil {
			return Range{}, err
		}
		last, err := parseAddr(hi, s)
		if err != nil {
			return Range{}, err
		}
		if first > last {
			return Range{}, errors.New("range is reversed: first address is above last")
		}
		return Range{first, last}, nil
	}
	a, err := parseAddr(s, s)
	return Range{a, a}, err
}

// parseAddr parses one dotted-quad IPv4 address, the part of entry.
func parseAddr(part, entry string) (uint32, error) {
	a, err := netip.ParseAddr(part)
	if err == nil {
		if v, ok := Uint32FromAddr(a); ok && a.Is4() {
			return v, nil
		}
		return 0, ErrIPv6
	}
	if strings.Contains(part, ":") {
		// An IPv6 address with a zone or a typo is still not IPv4: say
		// the thing that matters.
		return 0, ErrIPv6
	}
	// netip says precisely what is wrong ("IPv4 field has value >255")
	// after quoting the input, which the caller has quoted already.
	_, detail, ok := strings.Cut(err.Error(), "): ")
	if !ok {
		detail = err.Error()
	}
	if part != entry {
		return 0, fmt.Errorf("invalid IPv4 address %q: %s", truncate(part), detail)
	}
	return 0, fmt.Errorf("invalid IPv4 address: %s", detail)
}

// parseBits parses a prefix length: 0 to 32, decimal, no sign, no leading
// zero (ZMap's strtol takes "+8" and "08"; both are more likely typos).
func parseBits(s string) (int, bool) {
	if len(s) == 0 || len(s) > 2 || (len(s) == 2 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 32
}

// truncate cuts s to maxValueLen bytes for an error message.
func truncate(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	return s[:maxValueLen] + "..."
}

// Parse reads a blocklist or allowlist in ZMap's format from r: one entry
// (see ParseEntry) per line, "#" starting a comment anywhere on a line,
// blank lines and surrounding whitespace ignored. name is the file name
// used in error messages.
//
// Parse reads all of r and reports every bad line, not only the first: the
// error joins (errors.Join) one *LineError per bad line, up to
// MaxLineErrors, then one error counting the rest. On any error the set is
// nil. An input without entries gives an empty set and no error.
func Parse(r io.Reader, name string) (*Set, error) {
	br := bufio.NewReader(r)
	var (
		ranges  []Range
		errs    []error
		bad     int
		lineNo  int
		lineBuf []byte
	)
	for {
		line, tooLong, err := readLine(br, lineBuf[:0])
		lineBuf = line
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("blocklist: reading %s: %w", name, err)
		}
		if len(line) == 0 && !tooLong && err == io.EOF {
			break
		}
		lineNo++
		var value string
		var reason error
		if tooLong {
			value, reason = truncate(string(line)), ErrLineTooLong
		} else {
			if i := bytes.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			if line = bytes.TrimSpace(line); len(line) > 0 {
				var rg Range
				rg, reason = parseEntry(string(line))
				if reason == nil {
					ranges = append(ranges, rg)
				} else {
					value = truncate(string(line))
				}
			}
		}
		if reason != nil {
			bad++
			if len(errs) < MaxLineErrors {
				errs = append(errs, &LineError{File: name, Line: lineNo, Value: value, Err: reason})
			}
		}
		if err == io.EOF {
			break
		}
	}
	if more := bad - len(errs); more > 0 {
		plural := "s"
		if more == 1 {
			plural = ""
		}
		errs = append(errs, fmt.Errorf("blocklist: %s: and %d more bad line%s", name, more, plural))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return NewSet(ranges...), nil
}

// readLine appends the next line of br, without its line ending, to buf.
// A line longer than MaxLineLength is consumed to its end but only its
// first MaxLineLength bytes are kept, and tooLong is set. err is io.EOF
// when the input ends, possibly after a final line without a newline.
func readLine(br *bufio.Reader, buf []byte) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if room := MaxLineLength + 1 - len(buf); room > 0 {
			// Keep one byte more than the limit: the '\n' of a line of
			// exactly MaxLineLength bytes, or the proof that it is longer.
			buf = append(buf, frag[:min(len(frag), room)]...)
		} else {
			tooLong = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		if len(buf) > MaxLineLength {
			tooLong = true
			buf = buf[:MaxLineLength]
		}
		return buf, tooLong, err
	}
}

// ParseFile reads the blocklist file at path; see Parse.
func ParseFile(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}
