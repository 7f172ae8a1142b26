package hitlist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// MaxLineBytes bounds one input line; a longer line is reported and skipped.
const MaxLineBytes = 64 << 10

// MaxRecordBytes bounds one record that is not a line: a JSON object, an
// XML token (a tag with its attributes, or text), a masscan binary record.
const MaxRecordBytes = 64 << 10

// maxXMLDepth bounds the nesting of XML elements; nmap's deepest is 5.
const maxXMLDepth = 32

// LineError is a line of a hit list that could not be read. The Reader has
// already skipped it; the caller reports it and reads on.
type LineError struct {
	File  string
	Line  int
	Value string // the offending text, cut to 80 bytes
	Err   error
}

// Error names the file, line and value: hitlist: hits.csv:12: "1.2.3:143": ...
func (e *LineError) Error() string {
	return fmt.Sprintf("hitlist: %s:%d: %q: %v", e.File, e.Line, e.Value, e.Err)
}

// Unwrap returns the underlying error.
func (e *LineError) Unwrap() error { return e.Err }

// ErrPortUnknown is wrapped by the error that ends a Reader when a scanner's
// record names an address but no port (zmap's default output: saddr only)
// and the caller gave several default ports: the file does not say which
// of them the address answered on, and guessing "all" would connect to
// ports that never answered.
var ErrPortUnknown = errors.New("record has no port field and several default ports are given")

// ErrNoPort is the reason for a line that names an address but no port
// when no default port is configured (ReaderConfig.Ports).
var ErrNoPort = errors.New("no port on the line and no default port given")

// ReaderConfig tells a Reader what it cannot learn from the input.
type ReaderConfig struct {
	// Ports apply to records that carry an address but no port: plain
	// address lines (one hit per port), zgrab2 lines with an empty port and
	// a tag that names no mail protocol, and scanner records without a port
	// field (zmap's saddr-only output), which take only a single port: see
	// ErrPortUnknown.
	Ports []uint16
	// IncludeClosed makes the Reader return closed hits (a RST: masscan's
	// "closed", zmap's "rst", nmap's "closed") as Status Closed instead of
	// skipping and counting them. Filtered ports are never returned.
	IncludeClosed bool
}

// Stats counts what a Reader has read so far.
type Stats struct {
	// Lines is the number of text lines read (for XML and JSON too); for
	// a masscan binary file it stays 0.
	Lines int64 `json:"lines"`
	// Records is the number of records that describe a port: text rows,
	// JSON objects, XML <port> elements, ports of a grepable line, binary
	// status records.
	Records int64 `json:"records"`
	// Hits is the number of hits returned.
	Hits int64 `json:"hits"`
	// BadLines is the number of *LineError returned.
	BadLines int64 `json:"bad_lines"`
	// NotOpen counts records skipped because they are not an open port:
	// closed (unless IncludeClosed), filtered, zmap's success=0, masscan's
	// banner records, protocols other than TCP.
	NotOpen int64 `json:"not_open"`
	// Duplicates counts (address, port) pairs skipped because they were
	// returned before: repeated lines, zmap's repeat=1 rows, concatenated
	// outputs of overlapping scans.
	Duplicates int64 `json:"duplicates"`
}

// Reader reads hits from the outputs of mailscan, zmap, masscan, nmap and
// zgrab2, as the package doc lists them. The format is told from the
// content, record by record, so concatenated outputs of several tools or
// shards are fine; XML and masscan's binary format are recognised where a
// record starts. Each (address, port) pair is returned once.
type Reader struct {
	br      *bufio.Reader
	name    string
	ports   []uint16
	closed  bool
	line    int // lines consumed so far; a record starting now is on line+1
	recLine int // the line the last hit or error came from

	// CSV state: the columns of the last header line.
	cols      map[string]int
	header    string
	zmapCols  bool
	oneColumn bool // the header has one column: its records have no comma

	xml *xmlState // non-nil inside an XML document
	bin *binState // non-nil inside a masscan binary file

	pending []Hit // hits of the current record not yet returned, from next on
	next    int
	err     error // io.EOF or the error that ended the input, returned once pending is empty

	seen    pairSet
	stats   Stats
	formats []string
	buf     []byte // the current JSON object
}

// NewReader returns a Reader of r; name is used in error messages. A nil cfg
// means no default ports.
func NewReader(r io.Reader, name string, cfg *ReaderConfig) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, MaxLineBytes), name: name}
	if cfg != nil {
		rd.ports = cfg.Ports
		rd.closed = cfg.IncludeClosed
	}
	return rd
}

// Line returns the number of the line the last hit or error came from (for
// a masscan binary file, the number of the record).
func (r *Reader) Line() int { return r.recLine }

// Stats returns the counts so far.
func (r *Reader) Stats() Stats {
	s := r.stats
	s.Lines = int64(r.line)
	return s
}

// Formats names the formats seen so far, in order of first appearance:
// mailscan-csv, mailscan-jsonl, list, addresses, zgrab2-csv, zmap-csv,
// zmap-json, masscan-list, masscan-json, masscan-ndjson, masscan-xml,
// masscan-grepable, masscan-binary, nmap-xml, nmap-grepable.
func (r *Reader) Formats() []string { return r.formats }

func (r *Reader) saw(format string) {
	if n := len(r.formats); n > 0 && r.formats[n-1] == format {
		return
	}
	for _, f := range r.formats {
		if f == format {
			return
		}
	}
	r.formats = append(r.formats, format)
}

// Next returns the next hit. At the end of input it returns io.EOF; for a bad
// line it returns a *LineError and the caller may call Next again. Any other
// error ends the input (a read error, XML that cannot be read on, a corrupt
// binary record, ErrPortUnknown): the hits before it have been returned.
func (r *Reader) Next() (Hit, error) {
	for {
		if r.next < len(r.pending) {
			r.next++
			r.stats.Hits++
			return r.pending[r.next-1], nil
		}
		r.pending, r.next = r.pending[:0], 0
		if r.err != nil {
			return Hit{}, r.err
		}
		err := r.step()
		if err == nil {
			continue
		}
		var le *LineError
		if errors.As(err, &le) {
			r.stats.BadLines++
			r.recLine = le.Line
			return Hit{}, err
		}
		r.err = err
	}
}

// step reads one record and appends its hits to r.pending.
func (r *Reader) step() error {
	if r.bin != nil {
		return r.binaryRecord()
	}
	if r.xml != nil {
		return r.xmlStep()
	}
	c, err := r.skipSpace()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return r.jsonObject()
	case ']', ',':
		r.br.ReadByte() // between the objects of a JSON array (masscan -oJ)
		return nil
	case '[':
		if r.jsonArrayStart() {
			r.br.ReadByte()
			return nil
		}
	case '<':
		return r.startXML()
	case 'm':
		if b, _ := r.br.Peek(len(binMagic)); string(b) == binMagic {
			r.bin = &binState{}
			r.saw("masscan-binary")
			return nil
		}
	}
	return r.textLine()
}

// skipSpace consumes white space, blank lines and byte order marks, and
// returns the next byte, unread.
func (r *Reader) skipSpace() (byte, error) {
	for {
		b, err := r.br.Peek(1)
		if err != nil {
			return 0, r.readErr(err)
		}
		switch c := b[0]; c {
		case '\n':
			r.line++
			r.br.Discard(1)
		case ' ', '\t', '\r', '\f', '\v':
			r.br.Discard(1)
		case 0xEF: // a UTF-8 byte order mark, as some editors write
			if bom, _ := r.br.Peek(3); string(bom) != "\xEF\xBB\xBF" {
				return c, nil
			}
			r.br.Discard(3)
		default:
			return c, nil
		}
	}
}

// readErr passes io.EOF through and names the file in any other error.
func (r *Reader) readErr(err error) error {
	if err == io.EOF {
		return err
	}
	return fmt.Errorf("hitlist: %s: %w", r.name, err)
}

// jsonArrayStart tells a '[' that opens a JSON array from one that opens a
// bracketed IPv6 address ("[2001:db8::1]:143"): in an array, the next
// non-space byte is '{', '[' or ']'.
func (r *Reader) jsonArrayStart() bool {
	for n := 2; n <= 256; n *= 2 {
		b, err := r.br.Peek(n)
		for _, c := range b[1:] {
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			case '{', '[', ']':
				return true
			}
			return false
		}
		if err != nil {
			return true // "[" and white space to the end
		}
	}
	return false
}

// textLine reads one line and parses it.
func (r *Reader) textLine() error {
	raw, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull {
			_, err = r.br.ReadSlice('\n')
		}
		r.line++
		return &LineError{File: r.name, Line: r.line, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
	}
	if err != nil && err != io.EOF {
		return r.readErr(err)
	}
	r.line++
	r.recLine = r.line
	text := string(bytes.TrimSpace(raw))
	if text == "" || text[0] == '#' {
		return nil
	}
	if err := r.parseLine(text); err != nil {
		if errors.Is(err, ErrPortUnknown) {
			return fmt.Errorf("hitlist: %s:%d: %w", r.name, r.line, err)
		}
		return &LineError{File: r.name, Line: r.line, Value: cut(text, 80), Err: err}
	}
	return nil
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// state is what a record says of its port.
type state uint8

const (
	stateOpen state = iota + 1
	stateClosed
	stateOther // filtered, unfiltered, open|filtered, ...: never returned
)

// parseState reads the port states of mailscan, zmap (classification),
// masscan and nmap.
func parseState(s string) (state, error) {
	switch s {
	case "open", "syn-ack", "synack":
		return stateOpen, nil
	case "closed", "rst":
		return stateClosed, nil
	case "filtered", "unfiltered", "open|filtered", "closed|filtered", "unknown":
		return stateOther, nil
	}
	return 0, fmt.Errorf("unknown port state %q", s)
}

// add appends the hit of one record that describes a port, counting it: a
// port that is not open is skipped (unless it is closed and IncludeClosed
// is set), and a pair returned before is skipped.
func (r *Reader) add(a netip.Addr, port uint16, st state, h Hit) {
	r.stats.Records++
	switch {
	case st == stateOpen:
		h.Status = Open
	case st == stateClosed && r.closed:
		h.Status = Closed
	default:
		r.stats.NotOpen++
		return
	}
	if !r.seen.add(a, port) {
		r.stats.Duplicates++
		return
	}
	h.Addr, h.Port = a, port
	r.pending = append(r.pending, h)
}

// addDefaultPorts adds one hit per default port for a record that names no
// port. scanner is true for records of a scanner's output (zmap without a
// port field), which name one port's answers: several default ports would
// multiply every address by every port.
func (r *Reader) addDefaultPorts(a netip.Addr, st state, h Hit, scanner bool) error {
	switch {
	case len(r.ports) == 0:
		return ErrNoPort
	case scanner && len(r.ports) > 1:
		return fmt.Errorf("%w: zmap writes the addresses that answered on the one port it scanned, and without a port field "+
			"the file does not say which of the %d ports that was; have zmap write it (-f saddr,sport) or read each port's file with its own port",
			ErrPortUnknown, len(r.ports))
	}
	for _, p := range r.ports {
		r.add(a, p, st, h)
	}
	return nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad IP address %q", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %q has a zone", s)
	}
	return a.Unmap(), nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(n), nil
}
