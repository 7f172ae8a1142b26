package hitlist

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// MaxLineBytes bounds one input line; a longer line is reported and skipped.
const MaxLineBytes = 64 << 10

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

// ReaderConfig tells a Reader what it cannot learn from the input.
type ReaderConfig struct {
	// Ports apply to lines that carry an address but no port (plain "ip"
	// lines, zgrab2 lines with an empty port field): one hit per port.
	Ports []uint16
}

// Reader reads hits in any of the formats the package doc lists, detected
// line by line, so concatenated outputs of several tools or shards are fine.
type Reader struct {
	br      *bufio.Reader
	name    string
	line    int
	ports   []uint16
	cols    map[string]int // CSV columns, from a header line
	header  string
	pending []Hit // hits of the current line not yet returned, from next on
	next    int
	err     error // the underlying reader's error, returned once pending is empty
}

// NewReader returns a Reader of r; name is used in error messages. A nil cfg
// means no default ports.
func NewReader(r io.Reader, name string, cfg *ReaderConfig) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, MaxLineBytes), name: name}
	if cfg != nil {
		rd.ports = cfg.Ports
	}
	return rd
}

// Line returns the number of the line the last hit or error came from.
func (r *Reader) Line() int { return r.line }

// Next returns the next hit. At the end of input it returns io.EOF; for a bad
// line it returns a *LineError and the caller may call Next again. Any other
// error is the underlying reader's and ends the input.
func (r *Reader) Next() (Hit, error) {
	for {
		if r.next < len(r.pending) {
			r.next++
			return r.pending[r.next-1], nil
		}
		r.pending, r.next = r.pending[:0], 0
		if r.err != nil {
			return Hit{}, r.err
		}
		raw, err := r.readLine()
		if err != nil {
			r.err = err
			if err != io.EOF {
				r.err = fmt.Errorf("hitlist: %s: %w", r.name, err)
			}
			if len(raw) == 0 {
				continue
			}
		}
		r.line++
		if raw == nil {
			return Hit{}, &LineError{File: r.name, Line: r.line, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
		}
		text := strings.TrimSpace(string(raw))
		if text == "" || text[0] == '#' {
			continue
		}
		if err := r.parseLine(text); err != nil {
			return Hit{}, &LineError{File: r.name, Line: r.line, Value: cut(text, 80), Err: err}
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLineBytes is consumed up to its end and returned as nil, so one damaged
// line costs only itself.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull {
			_, err = r.br.ReadSlice('\n')
		}
		if err == io.EOF {
			err = nil // the over-long last line is reported; EOF comes next call
		}
		return nil, err
	}
	return line, err
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// parseLine appends the line's hits to r.pending.
func (r *Reader) parseLine(s string) error {
	switch {
	case s[0] == '{':
		return r.parseJSON(s)
	case s == r.header:
		return nil // a repeated header: outputs of several shards concatenated
	case strings.HasPrefix(s, "open ") || strings.HasPrefix(s, "closed "):
		return r.parseMasscan(s)
	case strings.Contains(s, ","):
		return r.parseCSV(s)
	}
	return r.parseAddrPort(s)
}

// jsonHit accepts mailscan's own field names and zmap's.
type jsonHit struct {
	IP              string  `json:"ip"`
	Saddr           string  `json:"saddr"`
	Port            *uint16 `json:"port"`
	Sport           *uint16 `json:"sport"`
	Status          string  `json:"status"`
	Classification  string  `json:"classification"`
	TTL             uint8   `json:"ttl"`
	Window          uint16  `json:"window"`
	Time            string  `json:"time"`
	AnswersAllPorts bool    `json:"answers_all_ports"`
}

func (r *Reader) parseJSON(s string) error {
	var j jsonHit
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	ip := firstNonEmpty(j.IP, j.Saddr)
	if ip == "" {
		return errors.New(`no "ip" field`)
	}
	addr, err := parseAddr(ip)
	if err != nil {
		return err
	}
	h := Hit{Addr: addr, Status: Open, TTL: j.TTL, Window: j.Window, AnswersAllPorts: j.AnswersAllPorts}
	if st := firstNonEmpty(j.Status, j.Classification); st != "" {
		if h.Status, err = ParseStatus(st); err != nil {
			return err
		}
	}
	if j.Time != "" {
		if h.Time, err = time.Parse(time.RFC3339Nano, j.Time); err != nil {
			return fmt.Errorf("bad time %q", j.Time)
		}
	}
	switch {
	case j.Port != nil:
		h.Port = *j.Port
	case j.Sport != nil:
		h.Port = *j.Sport
	default:
		return r.withDefaultPorts(h)
	}
	if h.Port == 0 {
		return errors.New("port 0")
	}
	r.pending = append(r.pending, h)
	return nil
}

// parseMasscan reads masscan's -oL lines: "open tcp 143 192.0.2.1 1700000000".
func (r *Reader) parseMasscan(s string) error {
	f := strings.Fields(s)
	if len(f) < 4 {
		return errors.New("masscan list line needs status, proto, port, ip")
	}
	if f[1] != "tcp" {
		return fmt.Errorf("protocol %q is not tcp", f[1])
	}
	st, err := ParseStatus(f[0])
	if err != nil {
		return err
	}
	port, err := parsePort(f[2])
	if err != nil {
		return err
	}
	addr, err := parseAddr(f[3])
	if err != nil {
		return err
	}
	h := Hit{Addr: addr, Port: port, Status: st}
	if len(f) >= 5 {
		if sec, err := strconv.ParseInt(f[4], 10, 64); err == nil {
			h.Time = time.Unix(sec, 0).UTC()
		}
	}
	r.pending = append(r.pending, h)
	return nil
}

// headerNames maps the column names of mailscan's and zmap's CSV headers to
// the fields they fill.
var headerNames = map[string]string{
	"ip": "ip", "saddr": "ip",
	"port": "port", "sport": "port",
	"status": "status", "classification": "status",
	"ttl": "ttl", "window": "window",
	"time": "time", "timestamp_str": "time",
	"answers_all_ports": "answers_all_ports",
}

func (r *Reader) parseCSV(s string) error {
	fields := strings.Split(s, ",")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	if _, err := netip.ParseAddr(fields[0]); err != nil {
		if cols, ok := parseHeader(fields); ok {
			r.cols, r.header = cols, s
			return nil
		}
	}
	if r.cols != nil {
		return r.parseCSVColumns(fields)
	}
	// No header: zgrab2's input form "ip,domain,tag,port" or "ip,port".
	addr, err := parseAddr(fields[0])
	if err != nil {
		return err
	}
	h := Hit{Addr: addr, Status: Open}
	var portField string
	switch len(fields) {
	case 2:
		portField = fields[1]
	case 3:
		// ip,domain,tag: no port
	default:
		portField = fields[3]
	}
	if portField == "" {
		return r.withDefaultPorts(h)
	}
	if h.Port, err = parsePort(portField); err != nil {
		return err
	}
	r.pending = append(r.pending, h)
	return nil
}

func parseHeader(fields []string) (map[string]int, bool) {
	cols := make(map[string]int)
	for i, f := range fields {
		if name, ok := headerNames[strings.ToLower(f)]; ok {
			if _, dup := cols[name]; !dup {
				cols[name] = i
			}
		}
	}
	_, ok := cols["ip"]
	return cols, ok
}

func (r *Reader) parseCSVColumns(fields []string) error {
	get := func(name string) string {
		if i, ok := r.cols[name]; ok && i < len(fields) {
			return fields[i]
		}
		return ""
	}
	addr, err := parseAddr(get("ip"))
	if err != nil {
		return err
	}
	h := Hit{Addr: addr, Status: Open}
	if st := get("status"); st != "" {
		if h.Status, err = ParseStatus(st); err != nil {
			return err
		}
	}
	if v := get("ttl"); v != "" {
		n, err := strconv.ParseUint(v, 10, 8)
		if err != nil {
			return fmt.Errorf("bad ttl %q", v)
		}
		h.TTL = uint8(n)
	}
	if v := get("window"); v != "" {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return fmt.Errorf("bad window %q", v)
		}
		h.Window = uint16(n)
	}
	if v := get("time"); v != "" {
		// zmap's timestamp_str has no fixed layout we rely on; only our own
		// RFC 3339 times are kept.
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			h.Time = t
		}
	}
	if v := get("answers_all_ports"); v != "" {
		if h.AnswersAllPorts, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("bad answers_all_ports %q", v)
		}
	}
	p := get("port")
	if p == "" {
		return r.withDefaultPorts(h)
	}
	if h.Port, err = parsePort(p); err != nil {
		return err
	}
	r.pending = append(r.pending, h)
	return nil
}

// parseAddrPort reads "ip:port" or a plain "ip".
func (r *Reader) parseAddrPort(s string) error {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if !ap.Addr().Is4() {
			return errors.New("not an IPv4 address")
		}
		if ap.Port() == 0 {
			return errors.New("port 0")
		}
		r.pending = append(r.pending, Hit{Addr: ap.Addr(), Port: ap.Port(), Status: Open})
		return nil
	}
	addr, err := parseAddr(s)
	if err != nil {
		return err
	}
	return r.withDefaultPorts(Hit{Addr: addr, Status: Open})
}

func (r *Reader) withDefaultPorts(h Hit) error {
	if len(r.ports) == 0 {
		return errors.New("no port on the line and no default port given (use -p)")
	}
	for _, p := range r.ports {
		h.Port = p
		r.pending = append(r.pending, h)
	}
	return nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad IPv4 address %q", s)
	}
	a = a.Unmap()
	if !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	return a, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return uint16(n), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
