package hitlist

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// nmap's and masscan's -oX share one layout (masscan imitates nmap's):
//
//	<nmaprun scanner="nmap|masscan" ...>
//	  <host ...>
//	    <status state="up"/>
//	    <address addr="192.0.2.1" addrtype="ipv4"/>
//	    <ports>
//	      <extraports state="filtered" count="5"/>
//	      <port protocol="tcp" portid="143"><state state="open" reason="syn-ack" reason_ttl="63"/>...</port>
//	    </ports>
//	  </host>
//	</nmaprun>
//
// masscan writes one <host> per port. The document is read token by token:
// memory is bounded by MaxRecordBytes per token, maxXMLDepth levels and the
// ports of one host (at most one per port number and protocol).

// maxHostPorts bounds the <port> elements of one <host>.
const maxHostPorts = 3 * 65536

type xmlState struct {
	dec    *xml.Decoder
	in     *xmlBytes
	depth  int
	format string
	root   bool // inside nmap's or masscan's <nmaprun>

	inHost   bool
	hostLine int
	addr     netip.Addr
	addrErr  error
	ports    []xmlPort
	inPort   bool
	cur      xmlPort
}

type xmlPort struct {
	proto, portid, state string
	line                 int
}

// xmlBytes feeds the decoder byte by byte from the Reader's buffer (the
// decoder then reads nothing past the end of the document), counts lines,
// and fails a token longer than MaxRecordBytes.
type xmlBytes struct {
	r *Reader
	n int // bytes since the last token
}

var errTokenTooLong = fmt.Errorf("an XML token longer than %d bytes", MaxRecordBytes)

func (x *xmlBytes) ReadByte() (byte, error) {
	if x.n >= MaxRecordBytes {
		return 0, errTokenTooLong
	}
	c, err := x.r.br.ReadByte()
	if err != nil {
		return 0, err
	}
	x.n++
	if c == '\n' {
		x.r.line++
	}
	return c, nil
}

func (x *xmlBytes) Read(p []byte) (int, error) {
	for i := range p {
		c, err := x.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}

func (r *Reader) startXML() error {
	in := &xmlBytes{r: r}
	r.xml = &xmlState{dec: xml.NewDecoder(in), in: in}
	return r.xmlStep()
}

// xmlStep reads tokens up to the end of the next <host> (whose hits it
// adds) or of the document.
func (r *Reader) xmlStep() error {
	x := r.xml
	for {
		x.in.n = 0
		tok, err := x.dec.Token()
		if err != nil {
			if x.inHost {
				r.xmlHost() // the ports read in full are not lost
			}
			r.xml = nil
			if err == io.EOF && x.depth == 0 {
				return nil // a prolog and nothing else
			}
			if !x.root {
				return r.notXML(err)
			}
			if err == io.EOF {
				err = errors.New("the XML document ends before its root element closes (an interrupted scan?)")
			}
			return fmt.Errorf("hitlist: %s:%d: XML: %w; the rest of the input is not read", r.name, r.line+1, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			x.depth++
			if x.depth > maxXMLDepth {
				r.xml = nil
				return fmt.Errorf("hitlist: %s:%d: XML nested deeper than %d elements", r.name, r.line+1, maxXMLDepth)
			}
			r.xmlStart(t)
			if r.xml == nil {
				return r.notXML(fmt.Errorf("<%s> is neither nmap's nor masscan's <nmaprun>", t.Name.Local))
			}
		case xml.EndElement:
			x.depth--
			switch {
			case x.depth == 0:
				r.xml = nil
				return nil
			case t.Name.Local == "port" && x.inPort:
				x.inPort = false
				if len(x.ports) < maxHostPorts {
					x.ports = append(x.ports, x.cur)
				}
			case t.Name.Local == "host" && x.inHost:
				x.inHost = false
				return r.xmlHost()
			}
		}
	}
}

func (r *Reader) xmlStart(t xml.StartElement) {
	x := r.xml
	if x.depth == 1 {
		if t.Name.Local != "nmaprun" {
			r.xml = nil
			return
		}
		x.root, x.format = true, "nmap-xml"
		if attr(t, "scanner") == "masscan" {
			x.format = "masscan-xml"
		}
		r.saw(x.format)
		return
	}
	switch t.Name.Local {
	case "host":
		x.inHost, x.hostLine = true, r.line+1
		x.addr, x.addrErr, x.ports = netip.Addr{}, nil, x.ports[:0]
	case "address":
		if !x.inHost || x.addr.IsValid() {
			return
		}
		switch attr(t, "addrtype") {
		case "ipv4", "ipv6":
			a, err := parseAddr(attr(t, "addr"))
			if err != nil {
				x.addrErr = err
				return
			}
			x.addr = a
		}
	case "port":
		if x.inHost {
			x.inPort = true
			x.cur = xmlPort{proto: attr(t, "protocol"), portid: attr(t, "portid"), line: r.line + 1}
		}
	case "state":
		if x.inPort {
			x.cur.state = attr(t, "state")
		}
	}
}

// notXML reports a '<' that starts no nmap or masscan document (a stray
// line of a text list, another XML) as a bad line and reads on after it.
func (r *Reader) notXML(err error) error {
	line := r.line + 1
	for {
		_, rerr := r.br.ReadSlice('\n')
		if rerr != bufio.ErrBufferFull {
			if rerr == nil {
				r.line++
			}
			break
		}
	}
	return &LineError{File: r.name, Line: line, Value: "<...", Err: fmt.Errorf("not nmap or masscan XML: %w", err)}
}

// xmlHost adds the hits of the <host> just read.
func (r *Reader) xmlHost() error {
	x := r.xml
	if x == nil {
		return nil
	}
	if len(x.ports) == 0 {
		return nil
	}
	if !x.addr.IsValid() {
		err := x.addrErr
		if err == nil {
			err = errors.New("<host> without an IPv4 or IPv6 <address>")
		}
		return &LineError{File: r.name, Line: x.hostLine, Value: "<host>", Err: err}
	}
	var bad *LineError
	for _, p := range x.ports {
		port, err := parsePort(p.portid)
		if err != nil {
			bad = &LineError{File: r.name, Line: p.line, Value: "<port portid=" + p.portid + ">", Err: err}
			continue
		}
		st, err := parseState(p.state)
		if err != nil {
			bad = &LineError{File: r.name, Line: p.line, Value: "<state state=" + p.state + ">", Err: err}
			continue
		}
		if p.proto != "tcp" {
			st = stateOther
		}
		r.recLine = p.line
		r.add(x.addr, port, st, Hit{})
	}
	if bad != nil {
		return bad
	}
	return nil
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
