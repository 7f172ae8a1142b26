package hitlist

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
)

// PortFiles writes the Nmap format: for each port, a file PREFIX.PORT.txt
// with one address per line, the list nmap's -iL reads. nmap takes hosts,
// not host:port pairs, and scans every host it reads on every -p port, so
// one file per port is what makes nmap probe exactly the hits:
//
//	for f in PREFIX.*.txt; do p=${f%.txt}; nmap -sS -Pn -n -p ${p##*.} -iL $f; done
//
// A file is created on the first hit of its port. Closed hits are not
// written. It is not safe for concurrent use.
type PortFiles struct {
	prefix   string
	appendTo bool
	open     map[uint16]*portFile
	made     map[uint16]bool // files created by this writer (reopened to append)
	buf      []byte
}

type portFile struct {
	f *os.File
	w *bufio.Writer
}

// maxOpenPortFiles bounds the files held open at once; past it all are
// flushed and closed, and reopened to append when their port comes again.
const maxOpenPortFiles = 64

// NewPortFiles returns a PortFiles writing PREFIX.PORT.txt. With appendTo
// (a resumed scan) existing files are appended to; else they are truncated
// when first written.
func NewPortFiles(prefix string, appendTo bool) (*PortFiles, error) {
	if prefix == "" || prefix == "-" {
		return nil, errors.New("hitlist: the nmap format writes one file per port: give a file name prefix, not standard output")
	}
	return &PortFiles{prefix: prefix, appendTo: appendTo, open: map[uint16]*portFile{}, made: map[uint16]bool{}, buf: make([]byte, 0, 64)}, nil
}

// Path returns the file of port.
func (p *PortFiles) Path(port uint16) string {
	return p.prefix + "." + strconv.Itoa(int(port)) + ".txt"
}

// Ports returns the ports written so far, in ascending order.
func (p *PortFiles) Ports() []uint16 {
	ports := make([]uint16, 0, len(p.made))
	for port := range p.made {
		ports = append(ports, port)
	}
	slices.Sort(ports)
	return ports
}

// Write appends h's address to its port's file.
func (p *PortFiles) Write(h *Hit) error {
	if h.Status != Open {
		return nil
	}
	pf := p.open[h.Port]
	if pf == nil {
		if len(p.open) >= maxOpenPortFiles {
			if err := p.Close(); err != nil {
				return err
			}
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if p.appendTo || p.made[h.Port] {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(p.Path(h.Port), flags, 0o644)
		if err != nil {
			return fmt.Errorf("hitlist: %w", err)
		}
		pf = &portFile{f: f, w: bufio.NewWriter(f)}
		p.open[h.Port], p.made[h.Port] = pf, true
	}
	b := h.Addr.AppendTo(p.buf[:0])
	b = append(b, '\n')
	p.buf = b
	_, err := pf.w.Write(b)
	return err
}

// Flush writes what is buffered to the files.
func (p *PortFiles) Flush() error {
	var first error
	for _, pf := range p.open {
		if err := pf.w.Flush(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close flushes and closes the open files. Writing after Close reopens them
// to append.
func (p *PortFiles) Close() error {
	first := p.Flush()
	for port, pf := range p.open {
		if err := pf.f.Close(); err != nil && first == nil {
			first = err
		}
		delete(p.open, port)
	}
	return first
}
