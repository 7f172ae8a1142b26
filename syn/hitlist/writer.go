package hitlist

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// Writer writes hits in one Format. It is not safe for concurrent use; the
// scanner gives it to a single output goroutine.
type Writer struct {
	w        *bufio.Writer
	format   Format
	allPorts bool
	noHeader bool
	domain   string // the ZGrab2 format's domain column
	buf      []byte
}

// WriterOption changes how a Writer formats hits.
type WriterOption func(*Writer)

// WithAnswersAllPorts adds the answers_all_ports column (CSV) or field
// (JSONL), which only pipelines that probe a control port can fill.
func WithAnswersAllPorts() WriterOption { return func(w *Writer) { w.allPorts = true } }

// WithoutHeader leaves out the CSV header: for appending to a hit list that
// has one (a resumed scan).
func WithoutHeader() WriterOption { return func(w *Writer) { w.noHeader = true } }

// WithZGrab2Domain fills the domain column of the ZGrab2 format with name.
// ZGrab2's smtp module sends it in EHLO (with the column empty it sends a
// bare "EHLO", which Postfix answers "501 Syntax: EHLO hostname", and no
// STARTTLS follows); ZGrab2 also uses it as the TLS server name unless
// --no-sni is set, as WriteZGrab2INI sets it.
func WithZGrab2Domain(name string) WriterOption { return func(w *Writer) { w.domain = name } }

// validDomain accepts a DNS name: letters, digits, '-' and '.', at most 253
// bytes, so that it cannot break a CSV line or an SMTP command.
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// NewWriter returns a Writer on w. For CSV it writes the header line at once
// (masscan's "#masscan" line for Masscan), so that even an empty scan leaves
// a well-formed file. Nmap is not a stream format: see PortFiles.
func NewWriter(w io.Writer, f Format, opts ...WriterOption) (*Writer, error) {
	hw := &Writer{w: bufio.NewWriterSize(w, 64<<10), format: f, buf: make([]byte, 0, 256)}
	for _, o := range opts {
		o(hw)
	}
	if hw.domain != "" && (f != ZGrab2 || !validDomain(hw.domain)) {
		return nil, fmt.Errorf("hitlist: domain %q: want a DNS name, with the zgrab2 format", hw.domain)
	}
	var hdr string
	switch f {
	case CSV:
		hdr = "ip,port,status,ttl,window,time"
		if hw.allPorts {
			hdr += ",answers_all_ports"
		}
	case Masscan:
		hdr = "#masscan"
	case JSONL, List, ZGrab2:
	default:
		return nil, fmt.Errorf("hitlist: %v is not a stream format", f)
	}
	if hdr != "" && !hw.noHeader {
		if _, err := hw.w.WriteString(hdr + "\n"); err != nil {
			return nil, err
		}
	}
	return hw, nil
}

// Write formats h into the writer's buffer. It allocates nothing.
func (w *Writer) Write(h *Hit) error {
	b := w.buf[:0]
	switch w.format {
	case CSV:
		b = h.Addr.AppendTo(b)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(h.Port), 10)
		b = append(b, ',')
		b = append(b, h.Status.String()...)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(h.TTL), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(h.Window), 10)
		b = append(b, ',')
		b = h.Time.UTC().AppendFormat(b, TimeLayout)
		if w.allPorts {
			b = append(b, ',')
			b = strconv.AppendBool(b, h.AnswersAllPorts)
		}
	case JSONL:
		b = append(b, `{"ip":"`...)
		b = h.Addr.AppendTo(b)
		b = append(b, `","port":`...)
		b = strconv.AppendUint(b, uint64(h.Port), 10)
		b = append(b, `,"status":"`...)
		b = append(b, h.Status.String()...)
		b = append(b, `","ttl":`...)
		b = strconv.AppendUint(b, uint64(h.TTL), 10)
		b = append(b, `,"window":`...)
		b = strconv.AppendUint(b, uint64(h.Window), 10)
		b = append(b, `,"time":"`...)
		b = h.Time.UTC().AppendFormat(b, TimeLayout)
		b = append(b, '"')
		if w.allPorts {
			b = append(b, `,"answers_all_ports":`...)
			b = strconv.AppendBool(b, h.AnswersAllPorts)
		}
		b = append(b, '}')
	case ZGrab2:
		// ip, domain, tag, port. The domain is empty unless given
		// (WithZGrab2Domain). A port with no mail protocol gets an empty
		// tag, which no section of the ini triggers on: the hit is kept in
		// the file, not grabbed.
		if h.Status != Open {
			return nil // zgrab2 has no status column: a closed port would be grabbed
		}
		b = h.Addr.AppendTo(b)
		b = append(b, ',')
		b = append(b, w.domain...)
		b = append(b, ',')
		b = append(b, PortTag(h.Port)...)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(h.Port), 10)
	case Masscan:
		b = append(b, h.Status.String()...)
		b = append(b, " tcp "...)
		b = strconv.AppendUint(b, uint64(h.Port), 10)
		b = append(b, ' ')
		b = h.Addr.AppendTo(b)
		b = append(b, ' ')
		var sec int64
		if !h.Time.IsZero() {
			sec = h.Time.Unix()
		}
		b = strconv.AppendInt(b, sec, 10)
	default: // List
		b = netip.AddrPortFrom(h.Addr, h.Port).AppendTo(b)
	}
	b = append(b, '\n')
	w.buf = b
	_, err := w.w.Write(b)
	return err
}

// Buffered reports how many bytes wait in the buffer; the scanner flushes
// when its queue of hits runs dry, so a reader downstream sees hits promptly.
func (w *Writer) Buffered() int { return w.w.Buffered() }

// Flush writes any buffered hits to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }
