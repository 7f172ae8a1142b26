package report

import (
	"bytes"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"mailscan/banner"
)

// MaxLineBytes is the longest input line Build reads; a longer line is a bad
// line. A banner result is at most a few tens of KiB (the greeting is bounded
// by the banner stage's MaxBytes, certificates by their count).
const MaxLineBytes = 4 << 20

// MaxBadLines is how many bad lines a Report lists; all are counted.
const MaxBadLines = 20

// MaxNameRunes is the longest name (family, version, country, provider)
// taken from the input or a database; longer ones are cut and end in "…".
const MaxNameRunes = 64

// maxNames bounds the distinct names (families, versions, TLS versions) a
// report keeps; past it, new names count as "(more names)". Real scans have
// a few thousand; the bound keeps hostile input from growing memory.
const maxNames = 1 << 20

// target flags.
const (
	fService         uint16 = 1 << iota // success or a greeting
	fTLS                                // handshake completed
	fStartTLSKnown                      // starttls_offered is known
	fStartTLSOffered                    //
	fLoginKnown                         // cleartext_login is known
	fLogin                              //
	fCert                               // a leaf certificate was presented
	fCertExpired                        //
	fCertSelfSigned                     //
)

// protocols and statuses fix the index a record stores. "excluded" is no
// status of the tables, even once banner lists it.
var (
	protocols = banner.Protocols()
	statuses  = withoutExcluded(banner.Statuses())
)

func withoutExcluded(s []banner.Status) []banner.Status {
	out := s[:0]
	for _, v := range s {
		if v != excludedStatus {
			out = append(out, v)
		}
	}
	return out
}

func protoIndex(p banner.Protocol) int {
	for i, q := range protocols {
		if p == q {
			return i
		}
	}
	return -1
}

func statusIndex(s banner.Status) int {
	for i, q := range statuses {
		if s == q {
			return i
		}
	}
	return -1
}

// BadLine is an input line Build skipped.
type BadLine struct {
	Input string // the input's name
	Line  int64  // 1-based
	Err   string // why
}

// String returns b as "name:line: why".
func (b BadLine) String() string { return b.Input + ":" + itoa(b.Line) + ": " + b.Err }

// slot is a (port, protocol) pair: a column of the port tables.
type slot struct {
	port  uint16
	proto uint8
}

// protoCounts are the per-protocol tallies of services.
type protoCounts struct {
	services, tls, cleartext, noTLSFacts int64
	stOffered, stNot, stUnknown          int64
	loginYes, loginNo, loginUnknown      int64
}

// famCount is one vendor family: its services, by slot.
type famCount struct {
	n    int64
	slot [maxSlots]int64
}

// counts are the per-target tallies, kept apart from the summary so that
// the contribution of some hosts can be taken out again (see agg.late).
type counts struct {
	status       [16]struct{ targets, services int64 }
	per          [16]protoCounts
	tlsv         map[uint32]int64
	certs        [4]int64 // neither, expired only, self-signed only, both
	fams         map[uint32]*famCount
	vers         map[[2]uint32]int64
	fingerprints int64 // services with a family
	versioned    int64 // services with a family and a version
}

func newCounts() counts {
	return counts{tlsv: map[uint32]int64{}, fams: map[uint32]*famCount{}, vers: map[[2]uint32]int64{}}
}

// sub takes o's tallies out of c.
func (c *counts) sub(o *counts) {
	for i := range c.status {
		c.status[i].targets -= o.status[i].targets
		c.status[i].services -= o.status[i].services
	}
	for i := range c.per {
		p, q := &c.per[i], &o.per[i]
		p.services -= q.services
		p.tls -= q.tls
		p.cleartext -= q.cleartext
		p.noTLSFacts -= q.noTLSFacts
		p.stOffered -= q.stOffered
		p.stNot -= q.stNot
		p.stUnknown -= q.stUnknown
		p.loginYes -= q.loginYes
		p.loginNo -= q.loginNo
		p.loginUnknown -= q.loginUnknown
	}
	for k, n := range o.tlsv {
		c.tlsv[k] -= n
	}
	for i := range c.certs {
		c.certs[i] -= o.certs[i]
	}
	for k, f := range o.fams {
		g := c.fams[k]
		if g == nil {
			continue
		}
		g.n -= f.n
		for i := range g.slot {
			g.slot[i] -= f.slot[i]
		}
	}
	for k, n := range o.vers {
		c.vers[k] -= n
	}
	c.fingerprints -= o.fingerprints
	c.versioned -= o.versioned
}

// agg accumulates the records of all inputs, in input order.
type agg struct {
	lines, records, bad, dups, excluded int64
	badLines                            []BadLine

	slots    []slot
	slotOf   map[slot]uint8
	portSlot [65536]uint8 // slot+1 of the first protocol seen on a port, for speed
	overflow int64        // records whose slot did not fit

	hosts  hostTable
	status nonServiceTable
	c      counts

	// late are hosts flagged answers_all_ports after some of their
	// targets were counted; their counts are taken out afterwards.
	late map[netip.Addr]struct{}
	// only, when set, limits the aggregate to these hosts (the second
	// pass over late hosts).
	only map[netip.Addr]struct{}

	// names interns the strings targets refer to; id 0 is "". rawIDs maps
	// a name as read to the id of its cleaned form.
	names  []string
	ids    map[string]uint32
	rawIDs map[string]uint32
	// recent caches intern's answers by a cheap hash of the bytes: most
	// records repeat a few family, version and TLS names, and a compare
	// costs less than a map lookup.
	recent [256]struct {
		raw []byte
		id  uint32
	}
}

func newAgg() *agg {
	return &agg{
		slotOf: map[slot]uint8{},
		c:      newCounts(),
		late:   map[netip.Addr]struct{}{},
		names:  []string{""},
		ids:    map[string]uint32{"": 0},
		rawIDs: map[string]uint32{"": 0},
	}
}

// intern returns the id of the cleaned name b; 0 for an empty name.
func (a *agg) intern(b []byte) uint32 {
	h := uint32(len(b))
	if len(b) > 0 {
		h = h*31 + uint32(b[0])
		h = h*31 + uint32(b[len(b)-1])
		h = h*31 + uint32(b[len(b)/2])
	}
	e := &a.recent[(h*0x9e3779b1)>>24]
	if e.raw != nil && bytes.Equal(e.raw, b) {
		return e.id
	}
	id := a.internMap(b)
	e.raw, e.id = append(e.raw[:0], b...), id
	return id
}

func (a *agg) internMap(b []byte) uint32 {
	if id, ok := a.rawIDs[string(b)]; ok {
		return id
	}
	c := cleanName(string(b))
	id, ok := a.ids[c]
	if !ok {
		if len(a.names) >= maxNames {
			c = "(more names)"
			if id, ok = a.ids[c]; ok {
				return id
			}
		}
		id = uint32(len(a.names))
		a.names = append(a.names, c)
		a.ids[c] = id
	}
	if len(a.rawIDs) < maxNames {
		a.rawIDs[string(b)] = id
	}
	return id
}

func (a *agg) badLine(input string, line int64, why string) {
	a.bad++
	if len(a.badLines) < MaxBadLines {
		a.badLines = append(a.badLines, BadLine{Input: input, Line: line, Err: cleanName(why)})
	}
}

// slotFor returns the slot of a port and protocol, adding it if new; ok is
// false when maxSlots are taken.
func (a *agg) slotFor(port uint16, proto uint8) (uint8, bool) {
	if s := a.portSlot[port]; s != 0 && a.slots[s-1].proto == proto {
		return s - 1, true
	}
	k := slot{port, proto}
	if s, ok := a.slotOf[k]; ok {
		return s, true
	}
	if len(a.slots) == maxSlots {
		return 0, false
	}
	s := uint8(len(a.slots))
	a.slots = append(a.slots, k)
	a.slotOf[k] = s
	if a.portSlot[port] == 0 {
		a.portSlot[port] = s + 1
	}
	return s, true
}

// add takes one record. A target's first record stands, unless it is not
// a service and a later one is: a retry that reached the server wins.
func (a *agg) add(r *record) {
	if a.only != nil {
		if _, ok := a.only[r.ip]; !ok {
			return
		}
	}
	a.records++
	if r.status == statusExcluded {
		a.excluded++
		return
	}
	s, ok := a.slotFor(r.port, r.proto)
	if !ok {
		a.overflow++
		return
	}
	bit := uint32(1) << s
	h := a.hosts.get(r.ip)
	wasPseudo := h.seen&pseudoBit != 0
	counted := h.seen != 0 && !wasPseudo // some targets already counted
	if h.seen&bit != 0 {
		a.dups++
		if r.flags&fService != 0 && h.svc&bit == 0 && !wasPseudo && !r.pseudo {
			// The earlier record was no service: it leaves the status
			// counts and this one is counted instead.
			if st, ok := a.status.take(r.ip, s); ok {
				a.c.status[st].targets--
			}
			h.svc |= bit
			a.count(r, h, bit)
		}
	} else {
		h.seen |= bit
		if !wasPseudo && !r.pseudo {
			if r.flags&fService != 0 {
				h.svc |= bit
				a.count(r, h, bit)
			} else {
				a.c.status[r.status].targets++
				a.status.put(r.ip, s, r.status)
			}
		}
	}
	if r.pseudo && !wasPseudo {
		h.seen |= pseudoBit
		if counted {
			a.late[r.ip] = struct{}{}
		}
	}
}

// count adds a service to the per-target tallies.
func (a *agg) count(r *record, h *host, bit uint32) {
	c := &a.c
	st := &c.status[r.status]
	st.targets++
	st.services++
	p := protocols[r.proto]
	pc := &c.per[r.proto]
	pc.services++
	switch {
	case r.flags&fTLS != 0:
		pc.tls++
		c.tlsv[a.intern(r.tlsVer)]++
	case p.ImplicitTLS():
		pc.noTLSFacts++
	default:
		pc.cleartext++
	}
	switch {
	case r.flags&fStartTLSKnown == 0:
		pc.stUnknown++
	case r.flags&fStartTLSOffered != 0:
		pc.stOffered++
	default:
		pc.stNot++
	}
	switch {
	case r.flags&fLoginKnown == 0:
		pc.loginUnknown++
	case r.flags&fLogin != 0:
		pc.loginYes++
		h.login |= bit
	default:
		pc.loginNo++
	}
	if r.flags&fCert != 0 {
		i := 0
		if r.flags&fCertExpired != 0 {
			i |= 1
		}
		if r.flags&fCertSelfSigned != 0 {
			i |= 2
		}
		c.certs[i]++
	}
	var fam, ver uint32
	if r.family != nil {
		fam = a.intern(r.family)
	}
	f := c.fams[fam]
	if f == nil {
		f = new(famCount)
		c.fams[fam] = f
	}
	f.n++
	f.slot[bitIndex(bit)]++
	if fam != 0 {
		c.fingerprints++
		if r.version != nil {
			ver = a.intern(r.version)
		}
		if ver != 0 {
			c.versioned++
			c.vers[[2]uint32{fam, ver}]++
		}
	}
}

func flagIf(b bool, f uint16) uint16 {
	if b {
		return f
	}
	return 0
}

// cleanName makes s safe to print anywhere: control characters, invalid
// UTF-8 and bidirectional formatting characters (which can reorder what a
// terminal or browser shows) become U+FFFD, runs of white space one space,
// and the result is cut to MaxNameRunes.
func cleanName(s string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.TrimSpace(s) {
		if n == MaxNameRunes {
			b.WriteString("…")
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r),
			unicode.Is(unicode.Cf, r):
			r = utf8.RuneError
		}
		if space && n > 0 {
			b.WriteByte(' ')
			n++
			if n == MaxNameRunes {
				b.WriteString("…")
				break
			}
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}
