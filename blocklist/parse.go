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
	// ErrIPv6 is the reason Parse and ParseEntry give for an IPv6 entry:
	// target lists are IPv4. Blocklists take IPv6 entries (ParseList).
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

// ParseEntry6 parses one IPv6 blocklist entry: an address ("2001:db8::1"),
// a prefix ("2001:db8::/32", host bits masked off) or an inclusive range
// ("2001:db8::1-2001:db8::9"). Zones and IPv4 addresses are errors.
func ParseEntry6(s string) (Range6, error) {
	r, err := parseEntry6(s)
	if err != nil {
		return Range6{}, fmt.Errorf("blocklist: %q: %w", truncate(s), err)
	}
	return r, nil
}

func parseEntry6(s string) (Range6, error) {
	if s == "" {
		return Range6{}, errors.New("empty entry")
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return Range6{}, errors.New("more than one word: one entry per line, comments start with #")
	}
	if _, _, ok := strings.Cut(s, "/"); ok {
		p, err := netip.ParsePrefix(s)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
			return Range6{}, fmt.Errorf("invalid IPv6 prefix")
		}
		return RangeFromPrefix6(p), nil
	}
	if lo, hi, ok := strings.Cut(s, "-"); ok {
		first, err1 := parseAddr6(lo)
		last, err2 := parseAddr6(hi)
		if err := errors.Join(err1, err2); err != nil {
			return Range6{}, err
		}
		if last.Less(first) {
			return Range6{}, errors.New("range is reversed: first address is above last")
		}
		return Range6{first, last}, nil
	}
	a, err := parseAddr6(s)
	return Range6{a, a}, err
}

func parseAddr6(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		return netip.Addr{}, fmt.Errorf("invalid IPv6 address %q", truncate(s))
	case !a.Is6() || a.Is4In6():
		return netip.Addr{}, fmt.Errorf("%q is not an IPv6 address (write IPv4 entries as a.b.c.d)", truncate(s))
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("%q has a zone: zones have no place in a blocklist", truncate(s))
	}
	return a, nil
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

// Parse reads an IPv4 blocklist or allowlist in ZMap's format from r: one
// entry (see ParseEntry) per line, "#" starting a comment anywhere on a
// line, blank lines and surrounding whitespace ignored. name is the file
// name used in error messages. An IPv6 entry is a bad line (ErrIPv6): use
// ParseList where IPv6 entries belong.
//
// Parse reads all of r and reports every bad line, not only the first: the
// error joins (errors.Join) one *LineError per bad line, up to
// MaxLineErrors, then one error counting the rest. On any error the set is
// nil. An input without entries gives an empty set and no error.
func Parse(r io.Reader, name string) (*Set, error) {
	l, err := parse(r, name, false)
	if err != nil {
		return nil, err
	}
	return l.V4, nil
}

// List is one blocklist file, by address family.
type List struct {
	// Name is the file name as given to ParseList.
	Name string
	// V4 and V6 hold the file's IPv4 and IPv6 entries; neither is nil.
	V4 *Set
	V6 *Set6
	// V6Entries counts the file's IPv6 lines.
	V6Entries int
}

// ParseList reads a blocklist in ZMap's format, as Parse does, but takes
// IPv6 entries too (ParseEntry6), one family or the other per line: a
// blocklist keeps excluding the hosts it names whatever family a scan
// targets.
func ParseList(r io.Reader, name string) (*List, error) { return parse(r, name, true) }

// ParseListFile reads the blocklist file at path; see ParseList.
func ParseListFile(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("blocklist: %w", err)
	}
	defer f.Close()
	return ParseList(f, path)
}

func parse(r io.Reader, name string, allow6 bool) (*List, error) {
	br := bufio.NewReader(r)
	var (
		ranges  []Range
		ranges6 []Range6
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
				entry := string(line)
				var rg Range
				rg, reason = parseEntry(entry)
				switch {
				case reason == nil:
					ranges = append(ranges, rg)
				case allow6 && errors.Is(reason, ErrIPv6):
					var r6 Range6
					if r6, reason = parseEntry6(entry); reason == nil {
						ranges6 = append(ranges6, r6)
					}
				}
				if reason != nil {
					value = truncate(entry)
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
	return &List{Name: name, V4: NewSet(ranges...), V6: NewSet6(ranges6...), V6Entries: len(ranges6)}, nil
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
