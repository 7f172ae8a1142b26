package report

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"net/netip"
	"unicode/utf8"

	"mailscan/banner"
)

// record is what the report needs of one result line: no more than a few
// fields of a banner.Result that may be tens of KiB long. Its byte slices
// alias the line (or, for a string with escapes, a decoded copy).
type record struct {
	ip     netip.Addr // unmapped: an IPv4-mapped address is IPv4
	port   uint16
	proto  uint8 // index in protocols
	status uint8 // index in statuses, or statusExcluded
	flags  uint16
	pseudo bool // answers_all_ports

	tlsVer  []byte // negotiated version when the handshake completed
	family  []byte // family, else product, else vendor; nil when none
	version []byte // only when family is set
}

// statusExcluded is the status index of "excluded": a target the exclusion
// policy refused, never dialled. It is no target of the tables.
var statusExcluded = uint8(len(statuses))

// excludedStatus is the status of a record the exclusion policy refused.
const excludedStatus = "excluded"

// decodeLine fills r from one non-blank line and returns "" or why the line
// is bad. It tries the hand-written scanner first and falls back to
// encoding/json for anything the scanner does not take on (escaped keys,
// keys that differ from ours only in case, repeated object keys, values of
// an unexpected type, syntax errors); the fallback also writes the error
// messages, so they are encoding/json's.
func decodeLine(line []byte, r *record) string {
	*r = record{}
	var f fields
	if !f.scan(line) {
		f = fields{}
		if err := f.slow(line); err != nil {
			return err.Error()
		}
	}
	return f.record(r)
}

// fields are the raw values read from a line, before they are judged.
type fields struct {
	ip, proto, status []byte
	hasIP             bool
	port              uint64
	greeting          []byte

	hasStartTLS, startTLSOffered bool
	tlsVersion, handshakeError   []byte
	certs                        int
	leafExpired, leafSelfSigned  bool

	vendor, product, family, version []byte

	loginKnown, login       bool
	stOfferedKnown, stOffer bool

	pseudo bool
}

// record judges the fields and fills r; it returns "" or why the line is
// bad, in the words the report has always used.
func (f *fields) record(r *record) string {
	if !f.hasIP || len(f.ip) == 0 {
		return "no ip"
	}
	ip, ok := parseIPv4(f.ip)
	if !ok {
		a, err := netip.ParseAddr(string(f.ip))
		if err != nil {
			return err.Error()
		}
		ip = a.Unmap()
	}
	if f.port == 0 {
		return "no port"
	}
	if f.port > 65535 {
		return fmt.Sprintf("json: cannot unmarshal number %d into Go struct field .port of type uint16", f.port)
	}
	pi := protoIndex(banner.Protocol(f.proto))
	if pi < 0 {
		return fmt.Sprintf("unknown protocol %q", f.proto)
	}
	si := int(statusExcluded)
	if string(f.status) != excludedStatus {
		if si = statusIndex(banner.Status(f.status)); si < 0 {
			return fmt.Sprintf("unknown status %q", f.status)
		}
	}
	*r = record{ip: ip, port: uint16(f.port), proto: uint8(pi), status: uint8(si), pseudo: f.pseudo}
	if si == 0 || len(bytes.TrimSpace(f.greeting)) > 0 {
		r.flags |= fService
	}
	if len(f.tlsVersion) > 0 && len(f.handshakeError) == 0 {
		r.flags |= fTLS
		r.tlsVer = f.tlsVersion
	}
	if f.certs > 0 {
		r.flags |= fCert | flagIf(f.leafExpired, fCertExpired) | flagIf(f.leafSelfSigned, fCertSelfSigned)
	}
	switch {
	case f.stOfferedKnown:
		r.flags |= fStartTLSKnown | flagIf(f.stOffer, fStartTLSOffered)
	case f.hasStartTLS:
		r.flags |= fStartTLSKnown | flagIf(f.startTLSOffered, fStartTLSOffered)
	}
	if f.loginKnown {
		r.flags |= fLoginKnown | flagIf(f.login, fLogin)
	}
	switch {
	case len(bytes.TrimSpace(f.family)) > 0:
		r.family = f.family
	case len(bytes.TrimSpace(f.product)) > 0:
		r.family = f.product
	case len(bytes.TrimSpace(f.vendor)) > 0:
		r.family = f.vendor
	}
	if r.family != nil && len(f.version) > 0 {
		r.version = f.version
	}
	return ""
}

// parseIPv4 parses a dotted quad as netip.ParseAddr does (no leading
// zeros, four parts); ok is false for anything else, which the caller then
// hands to netip.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var a [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || part > 3 || (digits > 1 && b[i-digits] == '0') {
				return netip.Addr{}, false
			}
			a[part] = byte(n)
			part, n, digits = part+1, 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' {
			return netip.Addr{}, false
		}
		n = n*10 + int(c-'0')
		digits++
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(a), true
}

// slowFields is the shape encoding/json decodes a line into on the slow
// path: only the fields the report reads, so that unknown and extended
// fields (a richer fingerprint, new findings) never make a line bad.
type slowFields struct {
	IP       *string `json:"ip"`
	Port     uint16  `json:"port"`
	Protocol string  `json:"protocol"`
	Status   string  `json:"status"`
	Greeting string  `json:"greeting"`
	StartTLS *struct {
		Offered bool `json:"offered"`
	} `json:"starttls"`
	TLS *struct {
		Version        string `json:"version"`
		HandshakeError string `json:"handshake_error"`
		Certificates   []struct {
			SelfSigned bool `json:"self_signed"`
			Expired    bool `json:"expired"`
		} `json:"certificates"`
	} `json:"tls"`
	Fingerprint *struct {
		Vendor  string `json:"vendor"`
		Product string `json:"product"`
		Family  string `json:"family"`
		Version string `json:"version"`
	} `json:"fingerprint"`
	Findings *struct {
		CleartextLogin  *slowFinding `json:"cleartext_login"`
		StartTLSOffered *slowFinding `json:"starttls_offered"`
	} `json:"findings"`
	AnswersAllPorts bool `json:"answers_all_ports"`
}

type slowFinding struct {
	Value bool `json:"value"`
}

// slow decodes line with encoding/json.
func (f *fields) slow(line []byte) error {
	var v slowFields
	if err := json.Unmarshal(line, &v); err != nil {
		return err
	}
	if v.IP != nil {
		f.hasIP, f.ip = true, []byte(*v.IP)
	}
	f.port = uint64(v.Port)
	f.proto, f.status, f.greeting = []byte(v.Protocol), []byte(v.Status), []byte(v.Greeting)
	if v.StartTLS != nil {
		f.hasStartTLS, f.startTLSOffered = true, v.StartTLS.Offered
	}
	if t := v.TLS; t != nil {
		f.tlsVersion, f.handshakeError = []byte(t.Version), []byte(t.HandshakeError)
		f.certs = len(t.Certificates)
		if f.certs > 0 {
			f.leafExpired, f.leafSelfSigned = t.Certificates[0].Expired, t.Certificates[0].SelfSigned
		}
	}
	if p := v.Fingerprint; p != nil {
		f.vendor, f.product, f.family, f.version = []byte(p.Vendor), []byte(p.Product), []byte(p.Family), []byte(p.Version)
	}
	if g := v.Findings; g != nil {
		if g.CleartextLogin != nil {
			f.loginKnown, f.login = true, g.CleartextLogin.Value
		}
		if g.StartTLSOffered != nil {
			f.stOfferedKnown, f.stOffer = true, g.StartTLSOffered.Value
		}
	}
	f.pseudo = v.AnswersAllPorts
	return nil
}

// scanner walks the bytes of one JSON line. Every method returns false on
// anything it does not take on; the caller then falls back to
// encoding/json. It never indexes out of range.
type scanner struct {
	b   []byte
	i   int
	esc bool // the last string skipped had an escape
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *scanner) ws() {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return s.b[s.i] // compact JSON: no space to skip
	}
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// str reads a string and returns its contents; escaped strings are
// decoded into a new slice. The opening quote is at s.i.
func (s *scanner) str() ([]byte, bool) {
	if s.peek() != '"' {
		return nil, false
	}
	start := s.i + 1
	j := start
	esc := false
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			return nil, false
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for p := j - 1; p >= start && s.b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			break
		}
		esc = true
		j++
	}
	raw := s.b[start:j]
	s.i = j + 1
	if !esc && bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	var out string
	if err := json.Unmarshal(s.b[start-1:j+1], &out); err != nil {
		return nil, false
	}
	return []byte(out), true
}

// skipStr skips a string without decoding it. It looks for the closing
// quote or a backslash eight bytes at a time (SWAR): the strings of a
// result are mostly 10 to 100 bytes, too short for bytes.IndexByte's
// setup to pay.
func (s *scanner) skipStr() bool {
	s.esc = false
	j := s.i + 1
	for j+8 <= len(s.b) {
		x := binary.LittleEndian.Uint64(s.b[j:])
		if m := hasByte(x, '"') | hasByte(x, '\\'); m != 0 {
			j += bits.TrailingZeros64(m) / 8
			if s.b[j] == '"' {
				s.i = j + 1
				return true
			}
			return s.skipStrSlow()
		}
		j += 8
	}
	for ; j < len(s.b); j++ {
		switch s.b[j] {
		case '"':
			s.i = j + 1
			return true
		case '\\':
			return s.skipStrSlow()
		}
	}
	return false
}

// hasByte has the high bit set in each byte of x that equals c; above the
// first such byte there may be false positives, so only the lowest set bit
// may be trusted.
func hasByte(x uint64, c byte) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	y := x ^ (lo * uint64(c))
	return (y - lo) &^ y & hi
}

// skipStrSlow skips a string with escapes, one byte at a time.
func (s *scanner) skipStrSlow() bool {
	s.esc = true
	for j := s.i + 1; j < len(s.b); j++ {
		switch s.b[j] {
		case '"':
			s.i = j + 1
			return true
		case '\\':
			j++
		}
	}
	return false
}

// lit consumes the literal word if it is next.
func (s *scanner) lit(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// boolean reads true or false; null leaves v as it is, as encoding/json
// does.
func (s *scanner) boolean(v *bool) bool {
	switch s.peek() {
	case 't':
		*v = true
		return s.lit("true")
	case 'f':
		*v = false
		return s.lit("false")
	case 'n':
		return s.lit("null")
	}
	return false
}

// strVal reads a string; null leaves v as it is.
func (s *scanner) strVal(v *[]byte) bool {
	if s.peek() == 'n' {
		return s.lit("null")
	}
	b, ok := s.str()
	if ok {
		*v = b
	}
	return ok
}

// skip skips any value, checking the nesting, the keys and the literals
// but not the contents of strings and numbers.
func (s *scanner) skip() bool {
	var objects uint64 // bit d: level d is an object
	depth := 0
value:
	for {
		switch c := s.peek(); c {
		case '"':
			if !s.skipStr() {
				return false
			}
		case '{', '[':
			if depth == 64 {
				return false // deeper than any result: encoding/json decides
			}
			s.i++
			if c == '{' {
				objects |= 1 << depth
			} else {
				objects &^= 1 << depth
			}
			depth++
			n := s.peek()
			if (c == '{' && n == '}') || (c == '[' && n == ']') {
				s.i++
				depth--
				break
			}
			if c == '{' && !s.key() {
				return false
			}
			continue value
		case 't':
			if !s.lit("true") {
				return false
			}
		case 'f':
			if !s.lit("false") {
				return false
			}
		case 'n':
			if !s.lit("null") {
				return false
			}
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			s.i++
			for s.i < len(s.b) {
				if c := s.b[s.i]; (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
					s.i++
					continue
				}
				break
			}
		default:
			return false
		}
		// After a value: a comma brings the next member or element, a
		// closing bracket ends a level.
		for depth > 0 {
			obj := objects>>(depth-1)&1 == 1
			switch s.peek() {
			case ',':
				s.i++
				if obj && !s.key() {
					return false
				}
				continue value
			case '}':
				if !obj {
					return false
				}
			case ']':
				if obj {
					return false
				}
			default:
				return false
			}
			s.i++
			depth--
		}
		return true
	}
}

// key consumes an object key and its colon.
func (s *scanner) key() bool {
	if s.peek() != '"' || !s.skipStr() || s.peek() != ':' {
		return false
	}
	s.i++
	return true
}

// object iterates over the members of an object: it calls member with
// each key, positioned at the value, which member must consume. A null
// instead of the object calls nothing.
func (s *scanner) object(member func(key []byte) bool) bool {
	switch s.peek() {
	case 'n':
		return s.lit("null")
	case '{':
	default:
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		start := s.i + 1
		if !s.skipStr() {
			return false
		}
		key := s.b[start : s.i-1]
		if s.esc {
			return false // an escaped key could name one of ours
		}
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// foldsTo reports whether key equals one of names ignoring case but not
// exactly: encoding/json would take it for that name, so the fast path
// gives up.
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(n) == len(key) && string(key) != n && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	if isASCII(key) {
		return false // an ASCII key folds only to a name of its length
	}
	// Folding also maps a few non-ASCII letters (K, ſ) to ASCII ones.
	for _, n := range names {
		if bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// once marks a key seen; a second object-valued key is left to
// encoding/json, which merges the two.
func once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// topKeys are the members scan reads; any other key that folds to one of
// them sends the line to encoding/json.
var topKeys = []string{"ip", "port", "protocol", "status", "greeting", "starttls", "tls", "fingerprint", "findings", "answers_all_ports"}

// scan reads the fields from line; false means "use encoding/json".
func (f *fields) scan(line []byte) bool {
	s := scanner{b: line}
	var seen uint32
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "ip":
			if s.peek() == 'n' {
				return s.lit("null")
			}
			b, ok := s.str()
			f.ip, f.hasIP = b, ok
			return ok
		case "port":
			return s.port(&f.port)
		case "protocol":
			return s.strVal(&f.proto)
		case "status":
			return s.strVal(&f.status)
		case "greeting":
			return s.strVal(&f.greeting)
		case "answers_all_ports":
			return s.boolean(&f.pseudo)
		case "starttls":
			if !once(&seen, 1) {
				return false
			}
			f.hasStartTLS = s.peek() == '{'
			return s.object(func(k []byte) bool {
				if string(k) == "offered" {
					return s.boolean(&f.startTLSOffered)
				}
				if foldsTo(k, "offered") {
					return false
				}
				return s.skip()
			})
		case "tls":
			return once(&seen, 2) && s.tls(f)
		case "fingerprint":
			return once(&seen, 4) && s.object(func(k []byte) bool {
				switch string(k) {
				case "vendor":
					return s.strVal(&f.vendor)
				case "product":
					return s.strVal(&f.product)
				case "family":
					return s.strVal(&f.family)
				case "version":
					return s.strVal(&f.version)
				}
				if foldsTo(k, "vendor", "product", "family", "version") {
					return false
				}
				return s.skip()
			})
		case "findings":
			var fseen uint32
			return once(&seen, 8) && s.object(func(k []byte) bool {
				switch string(k) {
				case "cleartext_login":
					return once(&fseen, 1) && s.finding(&f.loginKnown, &f.login)
				case "starttls_offered":
					return once(&fseen, 2) && s.finding(&f.stOfferedKnown, &f.stOffer)
				}
				if foldsTo(k, "cleartext_login", "starttls_offered") {
					return false
				}
				return s.skip()
			})
		}
		if foldsTo(key, topKeys...) {
			return false
		}
		return s.skip()
	})
	if !ok {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// port reads the port: digits only, as encoding/json takes them into a
// uint16 (null leaves it; a value over 65535 is kept, and judged later).
func (s *scanner) port(v *uint64) bool {
	if s.peek() == 'n' {
		return s.lit("null")
	}
	start := s.i
	var n uint64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		n = n*10 + uint64(s.b[s.i]-'0')
		s.i++
		if s.i-start > 5 {
			return false
		}
	}
	d := s.i - start
	if d == 0 || (d > 1 && s.b[start] == '0') || n > 65535 {
		return false
	}
	if s.i < len(s.b) {
		if c := s.b[s.i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	*v = n
	return true
}

// finding reads {"value": bool, ...}; null leaves it unknown.
func (s *scanner) finding(known, v *bool) bool {
	if s.peek() == 'n' {
		return s.lit("null")
	}
	*known = true
	return s.object(func(k []byte) bool {
		if string(k) == "value" {
			return s.boolean(v)
		}
		if foldsTo(k, "value") {
			return false
		}
		return s.skip()
	})
}

// tls reads the tls object: version, handshake_error, and the leaf of
// certificates.
func (s *scanner) tls(f *fields) bool {
	var seen uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "version":
			return s.strVal(&f.tlsVersion)
		case "handshake_error":
			return s.strVal(&f.handshakeError)
		case "certificates":
			if !once(&seen, 1) {
				return false
			}
			switch s.peek() {
			case 'n':
				return s.lit("null")
			case '[':
			default:
				return false
			}
			s.i++
			if s.peek() == ']' {
				s.i++
				return true
			}
			for {
				var exp, self bool
				if !s.object(func(k []byte) bool {
					switch string(k) {
					case "expired":
						return s.boolean(&exp)
					case "self_signed":
						return s.boolean(&self)
					}
					if foldsTo(k, "expired", "self_signed") {
						return false
					}
					return s.skip()
				}) {
					return false
				}
				if f.certs == 0 {
					f.leafExpired, f.leafSelfSigned = exp, self
				}
				f.certs++
				switch s.peek() {
				case ',':
					s.i++
				case ']':
					s.i++
					return true
				default:
					return false
				}
			}
		}
		if foldsTo(k, "version", "handshake_error", "certificates") {
			return false
		}
		return s.skip()
	})
}
