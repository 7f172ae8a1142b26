package hitlist

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonObject reads one JSON object into r.buf and parses it. An object is
// one line (JSON lines, masscan's -oJ) or, when its first line is a lone
// "{", several (pretty-printed). It is bounded by MaxRecordBytes. A line
// that leaves its object open, a line break inside a string, or a line
// starting with "{" directly inside an object mark a truncated object: it
// is reported and reading goes on at the next line, so a damaged line costs
// only itself.
func (r *Reader) jsonObject() error {
	start := r.line + 1
	r.recLine = start
	r.buf = r.buf[:0]
	depth, inString, escaped, tooLong := 0, false, false, false
	firstLine, loneBrace := true, true
	bad := func(msg string) error {
		return &LineError{File: r.name, Line: start, Value: cut(string(r.buf), 80), Err: errors.New(msg)}
	}
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			if err != io.EOF {
				return r.readErr(err)
			}
			return bad("unterminated JSON object")
		}
		if c == '\n' {
			r.line++
			if inString {
				return bad("line break inside a JSON string (a truncated line?)")
			}
			if firstLine && !loneBrace {
				return bad("unterminated JSON object (a truncated line?)")
			}
			firstLine = false
			// Indentation, then: a "{" right inside the object cannot be
			// JSON; it starts the next record.
			for {
				b, err := r.br.Peek(1)
				if err != nil || (b[0] != ' ' && b[0] != '\t' && b[0] != '\r') {
					break
				}
				r.br.ReadByte()
			}
			if b, err := r.br.Peek(1); err == nil && b[0] == '{' && depth == 1 {
				return bad("unterminated JSON object")
			}
			continue
		}
		if firstLine && len(r.buf) > 0 && c != ' ' && c != '\t' && c != '\r' {
			loneBrace = false
		}
		if !tooLong {
			if len(r.buf) >= MaxRecordBytes {
				tooLong = true
			} else {
				r.buf = append(r.buf, c)
			}
		}
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if tooLong {
		return bad(fmt.Sprintf("JSON object longer than %d bytes", MaxRecordBytes))
	}
	if isMasscanTrailer(r.buf) {
		return nil
	}
	if err := r.parseJSON(r.buf); err != nil {
		if errors.Is(err, ErrPortUnknown) {
			return fmt.Errorf("hitlist: %s:%d: %w", r.name, start, err)
		}
		return &LineError{File: r.name, Line: start, Value: cut(string(r.buf), 80), Err: err}
	}
	return nil
}

// isMasscanTrailer reports whether b is the line "{finished: 1}" with which
// masscan before 1.3 ended its -oJ output: not JSON (the key is unquoted),
// and no hit, so it is neither read nor reported as a bad line.
func isMasscanTrailer(b []byte) bool {
	const want = "{finished:1}"
	i := 0
	for _, c := range b {
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case i < len(want) && c == want[i]:
			i++
		default:
			return false
		}
	}
	return i == len(want)
}

// jsonRecord holds the fields of every JSON hit format read: mailscan's
// (ip, port, status), zmap's (saddr, sport, classification, success,
// repeat), masscan's -oD (ip, port, proto, rec_type, data.status) and -oJ
// (ip, ports[].port, .proto, .status).
type jsonRecord struct {
	IP              string     `json:"ip"`
	Saddr           string     `json:"saddr"`
	Port            *jsonPort  `json:"port"`
	Sport           *jsonPort  `json:"sport"`
	Proto           string     `json:"proto"`
	Status          string     `json:"status"`
	Classification  string     `json:"classification"`
	Success         *jsonBool  `json:"success"`
	RecType         string     `json:"rec_type"`
	Data            *jsonData  `json:"data"`
	Ports           []jsonData `json:"ports"`
	TTL             uint8      `json:"ttl"`
	Window          uint16     `json:"window"`
	Time            string     `json:"time"`
	Timestamp       jsonString `json:"timestamp"`
	AnswersAllPorts bool       `json:"answers_all_ports"`
}

type jsonData struct {
	Port   *jsonPort `json:"port"`
	Proto  string    `json:"proto"`
	Status string    `json:"status"`
	TTL    uint8     `json:"ttl"`
}

// jsonPort is a port number, 1-65535.
type jsonPort uint16

func (p *jsonPort) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseUint(string(b), 10, 16)
	if err != nil || n == 0 {
		return fmt.Errorf("bad port %s", b)
	}
	*p = jsonPort(n)
	return nil
}

// jsonBool is zmap's success: 1 or 0 in zmap 2.1, true or false elsewhere.
type jsonBool bool

func (v *jsonBool) UnmarshalJSON(b []byte) error {
	ok, err := parseBool(string(b))
	*v = jsonBool(ok)
	return err
}

// jsonString takes a string or a number (masscan writes its timestamp as a
// string of digits).
type jsonString string

func (s *jsonString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		err := json.Unmarshal(b, &v)
		*s = jsonString(v)
		return err
	}
	*s = jsonString(b)
	return nil
}

func (r *Reader) parseJSON(b []byte) error {
	var j jsonRecord
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("bad JSON: %w", err)
	}
	ip, zmap := j.IP, false
	if ip == "" {
		ip, zmap = j.Saddr, true
	}
	if ip == "" {
		return errors.New(`no "ip" or "saddr" field`)
	}
	addr, err := parseAddr(ip)
	if err != nil {
		return err
	}
	h := Hit{TTL: j.TTL, Window: j.Window, AnswersAllPorts: j.AnswersAllPorts}
	if j.Time != "" {
		h.Time = parseTime(j.Time)
	} else if sec, err := strconv.ParseInt(string(j.Timestamp), 10, 64); err == nil {
		h.Time = unixTime(sec)
	}

	switch {
	case j.Ports != nil: // masscan -oJ
		r.saw("masscan-json")
		for _, p := range j.Ports {
			if p.Port == nil {
				return errors.New(`masscan "ports" entry without "port"`)
			}
			st := stateOther // an entry without status is a banner
			if p.Status != "" {
				if st, err = parseState(p.Status); err != nil {
					return err
				}
			}
			if p.Proto != "" && p.Proto != "tcp" {
				st = stateOther
			}
			h.TTL = p.TTL
			r.add(addr, uint16(*p.Port), st, h)
		}
		return nil
	case j.RecType != "": // masscan -oD
		r.saw("masscan-ndjson")
		if j.Port == nil {
			return errors.New(`masscan record without "port"`)
		}
		st := stateOther // banner records and the like
		if j.RecType == "status" {
			if j.Data == nil || j.Data.Status == "" {
				return errors.New(`masscan status record without "data":{"status"}`)
			}
			if st, err = parseState(j.Data.Status); err != nil {
				return err
			}
			h.TTL = j.Data.TTL
		}
		if j.Proto != "" && j.Proto != "tcp" {
			st = stateOther
		}
		r.add(addr, uint16(*j.Port), st, h)
		return nil
	}

	if zmap {
		r.saw("zmap-json")
	} else {
		r.saw("mailscan-jsonl")
	}
	st := stateOpen
	if s := j.Status; s != "" {
		if st, err = parseState(s); err != nil {
			return err
		}
	} else if s := j.Classification; s != "" {
		if st, err = parseState(s); err != nil {
			return err
		}
	}
	if j.Success != nil && !*j.Success && st == stateOpen {
		st = stateOther
	}
	switch {
	case j.Port != nil:
		r.add(addr, uint16(*j.Port), st, h)
	case j.Sport != nil:
		r.add(addr, uint16(*j.Sport), st, h)
	default:
		return r.addDefaultPorts(addr, st, h, true)
	}
	return nil
}
