package hitlist

import (
	"fmt"
	"net/netip"
	"time"
)

// Status is what a SYN probe found at a target.
type Status uint8

const (
	_ Status = iota
	// Open means the target answered with a SYN-ACK.
	Open
	// Closed means the target answered with a RST.
	Closed
)

// String returns "open" or "closed" as written in hit lists.
func (s Status) String() string {
	switch s {
	case Open:
		return "open"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	switch s {
	case "open", "syn-ack", "synack":
		return Open, nil
	case "closed", "rst":
		return Closed, nil
	}
	return 0, fmt.Errorf("hitlist: unknown status %q (want open or closed)", s)
}

// Hit is one target that answered. Fields other than Addr, Port and Status
// are zero when the source did not record them.
type Hit struct {
	Addr   netip.Addr
	Port   uint16
	Status Status
	// TTL and Window are the IP time-to-live and TCP window of the reply.
	TTL    uint8
	Window uint16
	// Time is when the reply arrived.
	Time time.Time
	// AnswersAllPorts marks a host that also answered on a random control
	// port: a middlebox or tarpit rather than a real service.
	AnswersAllPorts bool
}

// Format is a hit-list output format: mailscan's own three, and the input
// formats of other tools.
type Format uint8

const (
	_ Format = iota
	// CSV is comma-separated values with a header line:
	// ip,port,status,ttl,window,time.
	CSV
	// JSONL is one JSON object per line.
	JSONL
	// List is one "ip:port" per line ("[ip]:port" for IPv6).
	List
	// ZGrab2 is ZGrab2's CSV input, "ip,domain,tag,port", written as
	// "ip,,tag,port" with the tag naming the port's mail protocol (PortTag),
	// so that `zgrab2 multiple` with the sections of WriteZGrab2INI runs the
	// right module on each line. Closed hits are not written.
	ZGrab2
	// Masscan is masscan's -oL list: "open tcp 143 192.0.2.1 1700000000"
	// after a "#masscan" line.
	Masscan
	// Nmap is one file of addresses per port, PREFIX.PORT.txt, because
	// nmap's -iL takes hosts, not host:port pairs: each file is scanned
	// with its own -p. It is written by PortFiles, not by a Writer.
	Nmap
)

// ParseFormat parses the names used by the -O flag: csv, jsonl (or json),
// list, zgrab2, masscan, nmap.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "csv":
		return CSV, nil
	case "jsonl", "json":
		return JSONL, nil
	case "list":
		return List, nil
	case "zgrab2":
		return ZGrab2, nil
	case "masscan":
		return Masscan, nil
	case "nmap":
		return Nmap, nil
	}
	return 0, fmt.Errorf("hitlist: unknown output format %q (want csv, jsonl, list, zgrab2, masscan or nmap)", s)
}

// String returns the name ParseFormat accepts.
func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case JSONL:
		return "jsonl"
	case List:
		return "list"
	case ZGrab2:
		return "zgrab2"
	case Masscan:
		return "masscan"
	case Nmap:
		return "nmap"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// PerPort reports whether the format is a set of files, one per port
// (PortFiles), rather than one stream (Writer).
func (f Format) PerPort() bool { return f == Nmap }

// TimeLayout is the layout of the time field: RFC 3339 in UTC with
// milliseconds, sortable as text.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"
