package hitlist

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// parseLine reads one text line (trimmed, not empty, not a comment).
func (r *Reader) parseLine(s string) error {
	switch {
	case s == r.header:
		return nil // a repeated header: outputs of several shards concatenated
	case strings.HasPrefix(s, "Host: "):
		r.saw("nmap-grepable")
		return r.parseGrepable(s)
	case strings.HasPrefix(s, "Timestamp: "):
		r.saw("masscan-grepable")
		return r.parseGrepable(s)
	case strings.HasPrefix(s, "open ") || strings.HasPrefix(s, "closed ") || strings.HasPrefix(s, "banner "):
		r.saw("masscan-list")
		return r.parseMasscanList(s)
	case strings.Contains(s, ","):
		return r.parseCSV(s)
	}
	if r.oneColumn {
		if _, err := netip.ParseAddr(s); err == nil {
			return r.parseCSVColumns([]string{s})
		}
	}
	if strings.EqualFold(s, "saddr") || strings.EqualFold(s, "ip") {
		// A header of one column: zmap's CSV with its default field
		// ("saddr"), or a list of addresses under "ip". The lines after it
		// are that column's records, read as the header says (zmap's take
		// the default ports only where there is one).
		r.cols, r.header, r.oneColumn = map[string]int{"ip": 0}, s, true
		r.zmapCols = strings.EqualFold(s, "saddr")
		return nil
	}
	return r.parseAddrPort(s)
}

// parseMasscanList reads masscan's -oL lines:
//
//	open tcp 143 192.0.2.1 1700000000
//	banner tcp 143 192.0.2.1 1700000000 imap * OK ...
func (r *Reader) parseMasscanList(s string) error {
	f := strings.Fields(s)
	if len(f) < 4 {
		return errors.New("masscan list line needs status, protocol, port, address")
	}
	port, err := parsePort(f[2])
	if err != nil {
		return err
	}
	addr, err := parseAddr(f[3])
	if err != nil {
		return err
	}
	var st state
	switch {
	case f[0] == "banner":
		st = stateOther // a banner of a port whose status has a line of its own
	case f[1] != "tcp":
		st = stateOther
	default:
		if st, err = parseState(f[0]); err != nil {
			return err
		}
	}
	var h Hit
	if len(f) >= 5 {
		if sec, err := strconv.ParseInt(f[4], 10, 64); err == nil {
			h.Time = unixTime(sec)
		}
	}
	r.add(addr, port, st, h)
	return nil
}

// parseGrepable reads the lines of nmap's and masscan's -oG that list
// ports; others ("Status: Up") carry none:
//
//	Host: 192.0.2.1 ()	Ports: 110/open/tcp//pop3///, 143/closed/tcp//imap///	Ignored State: filtered (5)
//	Timestamp: 1700000000	Host: 192.0.2.1 ()	Ports: 143/open/tcp//imap//
func (r *Reader) parseGrepable(s string) error {
	var host, ports string
	for _, field := range strings.Split(s, "\t") {
		k, v, ok := strings.Cut(field, ": ")
		if !ok {
			continue
		}
		switch k {
		case "Host":
			host, _, _ = strings.Cut(v, " ")
		case "Ports":
			ports = v
		}
	}
	if host == "" {
		return errors.New(`grepable line without "Host: "`)
	}
	addr, err := parseAddr(host)
	if err != nil {
		return err
	}
	if ports == "" {
		return nil
	}
	// Each entry is port/state/protocol/owner/service/rpc/version/ and
	// entries are joined by ", "; the version field may itself hold ", ",
	// so entries are cut where a ", " follows a '/'.
	var bad error
	for ports != "" {
		entry, rest, _ := strings.Cut(ports, "/, ")
		ports = rest
		f := strings.SplitN(entry, "/", 4)
		if len(f) < 3 {
			bad = fmt.Errorf("bad port entry %q", entry)
			continue
		}
		port, err := parsePort(strings.TrimSpace(f[0]))
		if err != nil {
			bad = err
			continue
		}
		st, err := parseState(f[1])
		if err != nil {
			bad = err
			continue
		}
		if f[2] != "tcp" {
			st = stateOther
		}
		r.add(addr, port, st, Hit{})
	}
	return bad
}

// csvNames maps the column names of mailscan's and zmap's CSV headers to the
// fields they fill. zmap 2.1 writes "timestamp-str", later versions
// "timestamp_str": names are compared with '-' read as '_'.
var csvNames = map[string]string{
	"ip": "ip", "saddr": "ip",
	"port": "port", "sport": "port",
	"status": "status", "classification": "status",
	"success": "success",
	"ttl":     "ttl", "window": "window",
	"time": "time", "timestamp_str": "time",
	"answers_all_ports": "answers_all_ports",
}

func (r *Reader) parseCSV(s string) error {
	var fields []string
	if strings.Contains(s, `"`) {
		// Quoted fields (a zgrab2 domain, say): encoding/csv reads them.
		cr := csv.NewReader(strings.NewReader(s))
		cr.FieldsPerRecord = -1
		var err error
		if fields, err = cr.Read(); err != nil {
			return fmt.Errorf("bad CSV: %v", err)
		}
	} else {
		fields = strings.Split(s, ",")
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	if _, err := netip.ParseAddr(fields[0]); err != nil {
		if cols, ok := parseHeader(fields); ok {
			r.cols, r.header, r.oneColumn = cols, s, false
			r.zmapCols = strings.EqualFold(fields[cols["ip"]], "saddr")
			return nil
		}
	}
	if r.cols != nil {
		return r.parseCSVColumns(fields)
	}
	return r.parseZGrab2(fields)
}

// parseZGrab2 reads a CSV line without a header: ZGrab2's input form
// "ip,domain,tag,port" (trailing fields may be left out), or "ip,port".
func (r *Reader) parseZGrab2(fields []string) error {
	if len(fields) > 4 {
		return fmt.Errorf("%d fields: want ip,domain,tag,port or a header line", len(fields))
	}
	if fields[0] == "" {
		return errors.New("no address: a domain alone is not a hit")
	}
	if strings.Contains(fields[0], "/") {
		return fmt.Errorf("%q is a network, not a hit: give addresses", fields[0])
	}
	addr, err := parseAddr(fields[0])
	if err != nil {
		return err
	}
	var portField, tag string
	switch len(fields) {
	case 2:
		// "ip,port", or zgrab2's "ip,domain"
		if _, err := strconv.Atoi(fields[1]); err == nil {
			portField = fields[1]
			r.saw("list")
		} else {
			r.saw("zgrab2-csv")
		}
	case 3:
		tag = fields[2]
		r.saw("zgrab2-csv")
	case 4:
		tag, portField = fields[2], fields[3]
		r.saw("zgrab2-csv")
	}
	if portField == "" {
		// zgrab2 uses the port of the module the tag triggers; for the
		// mail protocols that is the conventional port.
		if p, ok := TagPort(tag); ok {
			r.add(addr, p, stateOpen, Hit{})
			return nil
		}
		return r.addDefaultPorts(addr, stateOpen, Hit{}, false)
	}
	port, err := parsePort(portField)
	if err != nil {
		return err
	}
	r.add(addr, port, stateOpen, Hit{})
	return nil
}

func parseHeader(fields []string) (map[string]int, bool) {
	cols := make(map[string]int)
	for i, f := range fields {
		name := strings.ReplaceAll(strings.ToLower(f), "-", "_")
		if name, ok := csvNames[name]; ok {
			if _, dup := cols[name]; !dup {
				cols[name] = i
			}
		}
	}
	_, ok := cols["ip"]
	return cols, ok
}

func (r *Reader) parseCSVColumns(fields []string) error {
	if r.zmapCols {
		r.saw("zmap-csv")
	} else {
		r.saw("mailscan-csv")
	}
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
	st := stateOpen
	if v := get("status"); v != "" {
		if st, err = parseState(v); err != nil {
			return err
		}
	}
	if v := get("success"); v != "" {
		ok, err := parseBool(v)
		if err != nil {
			return fmt.Errorf("bad success %q", v)
		}
		if !ok && st == stateOpen {
			st = stateOther
		}
	}
	var h Hit
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
		h.Time = parseTime(v)
	}
	if v := get("answers_all_ports"); v != "" {
		if h.AnswersAllPorts, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("bad answers_all_ports %q", v)
		}
	}
	if _, ok := r.cols["port"]; !ok {
		return r.addDefaultPorts(addr, st, h, true)
	}
	p := get("port")
	port, err := parsePort(p)
	if err != nil {
		return err
	}
	r.add(addr, port, st, h)
	return nil
}

// maxUnix is 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
const maxUnix = 253402300799

// unixTime is a scanner's Unix timestamp as a time; one outside 1970 to
// 9999 is no time a scan took place, and one the hit-list formats could
// not write back, so it is left zero.
func unixTime(sec int64) time.Time {
	if sec < 0 || sec > maxUnix {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// parseTime reads mailscan's RFC 3339 times and zmap's ISO 8601 ones
// ("2026-12-04T16:05:13.677+0000"); other layouts leave the time zero.
func parseTime(v string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999-0700", v); err == nil {
		return t
	}
	return time.Time{}
}

// parseBool reads zmap's success and repeat fields: 0 and 1, or true and
// false.
func parseBool(v string) (bool, error) {
	switch v {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", v)
}

// parseAddrPort reads "ip:port", "[ipv6]:port" or a plain address (to which
// the default ports apply).
func (r *Reader) parseAddrPort(s string) error {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Addr().Zone() != "" {
			return fmt.Errorf("address %q has a zone", s)
		}
		if ap.Port() == 0 {
			return errors.New("port 0")
		}
		r.saw("list")
		r.add(ap.Addr().Unmap(), ap.Port(), stateOpen, Hit{})
		return nil
	}
	addr, err := parseAddr(s)
	if err != nil {
		return err
	}
	r.saw("addresses")
	return r.addDefaultPorts(addr, stateOpen, Hit{}, false)
}
