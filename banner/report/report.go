package report

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"mailscan/banner"
)

// DefaultTop is how many rows the open-ended tables (vendor families,
// versions, TLS versions, countries, providers) keep when Options.Top is 0.
const DefaultTop = 10

// Options are the knobs of Build. A nil *Options applies the defaults.
type Options struct {
	// Top is how many rows the open-ended tables keep before folding the
	// rest into "other"; 0 means DefaultTop.
	Top int
	// Country is the path of a MaxMind-format country database
	// (GeoLite2-Country.mmdb or a City database); "" leaves the country
	// tables out.
	Country string
	// ASN is the path of a MaxMind-format ASN database (GeoLite2-ASN.mmdb);
	// "" leaves the provider tables out.
	ASN string
	// Providers is the path of a file of extra "pattern = Provider" rules
	// tried before the built-in ones (see NewProviders); "" for none.
	Providers string
	// Baseline is an earlier scan to compare with: a results file (plain,
	// gzip or zstd) or the JSON of an earlier report. "" for none.
	Baseline string
}

// Summary holds the report's headline counts; doc.go defines each.
// Targets = Records - Duplicates - Excluded = PseudoTargets + NoService + Services.
type Summary struct {
	Lines         int64 `json:"lines"`
	BadLines      int64 `json:"bad_lines"`
	Records       int64 `json:"records"`
	Excluded      int64 `json:"excluded"`
	Duplicates    int64 `json:"duplicates"`
	Targets       int64 `json:"targets"`
	PseudoHosts   int64 `json:"pseudo_hosts"`
	PseudoTargets int64 `json:"pseudo_targets"`
	NoService     int64 `json:"no_service"`
	Services      int64 `json:"services"`
	Hosts         int64 `json:"hosts"`
	HostsIPv6     int64 `json:"hosts_ipv6"`
}

// Report is the outcome of Build: the tables, ready to Write in any Format.
type Report struct {
	// Source names the inputs, as given to Build.
	Source string
	// Baseline names the earlier scan the report compares with; "" for
	// none.
	Baseline string
	Summary  Summary
	// Headlines are the study's sentences: hosts per protocol, cleartext
	// and TLS.
	Headlines []string
	// Tables are in print order; the first is the summary.
	Tables []*Table
	// BadLines are the first MaxBadLines bad lines; Summary.BadLines
	// counts them all.
	BadLines []BadLine
	// Notes are sentences about the report itself: which databases it
	// used, how to add the missing ones, lookups that failed.
	Notes []string
}

// Table returns the table with the given ID, nil if the report has none.
func (r *Report) Table(id string) *Table {
	for _, t := range r.Tables {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Build reads banner results from r, one JSON object a line, and returns
// the report; name names the input. It is BuildInputs with one input that
// is read once.
func Build(r io.Reader, name string, opts *Options) (*Report, error) {
	return BuildInputs([]Input{ReaderInput(r, name)}, opts)
}

// BuildInputs reads banner results from the inputs, counted as one scan
// (the shards of a scan: a target in several counts once), and returns the
// report. Each input may be plain, gzip or zstd, told by its first bytes.
// Memory grows with the distinct hosts (16 bytes each) and names, not with
// the records. Bad lines are skipped and counted, not errors; an error is
// a read error or an *OptionError (a database, providers or baseline file
// that cannot be used, checked before any input is read).
func BuildInputs(inputs []Input, opts *Options) (*Report, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Top <= 0 {
		o.Top = DefaultTop
	}
	var (
		country, asn *geoDB
		prov         *Providers
		err          error
	)
	if o.Providers != "" || o.ASN != "" {
		if prov, err = NewProviders(o.Providers); err != nil {
			return nil, &OptionError{Option: "providers", Path: o.Providers, Err: err}
		}
	}
	if o.Country != "" {
		if country, err = openGeo("country", o.Country); err != nil {
			return nil, err
		}
		defer country.close()
	}
	if o.ASN != "" {
		if asn, err = openGeo("asn", o.ASN); err != nil {
			return nil, err
		}
		defer asn.close()
	}
	var base *snapshot
	if o.Baseline != "" {
		bo := o
		bo.Baseline = ""
		if base, err = loadBaseline(o.Baseline, &bo); err != nil {
			return nil, err
		}
	}

	a := newAgg()
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = in.Name
	}
	if err := pass(inputs, func(b *batch) {
		a.lines += b.lines
		for i := range b.bad {
			b.bad[i].Input = names[b.input]
			a.badLine(names[b.input], b.bad[i].Line, b.bad[i].Err)
		}
		for i := range b.recs {
			a.add(&b.recs[i])
		}
	}); err != nil {
		return nil, err
	}
	rep := &Report{Source: strings.Join(names, ", "), BadLines: a.badLines}
	a.takeOutLate(inputs, rep)
	a.report(rep, o.Top, country, asn, prov)
	if base != nil {
		rep.Baseline = o.Baseline
		compare(rep, base, o.Top)
	}
	return rep, nil
}

// takeOutLate handles hosts flagged answers_all_ports after some of their
// records were counted: a second pass over the inputs counts those records
// again, alone, and takes them out. Inputs that cannot be read twice keep
// them, and a note says how many.
func (a *agg) takeOutLate(inputs []Input, rep *Report) {
	if len(a.late) == 0 {
		return
	}
	for _, in := range inputs {
		if !in.Reopen {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d hosts were flagged answers_all_ports after some of their records had been counted; %s cannot be read twice, so those records stay in the per-port tables.",
				len(a.late), cleanName(in.Name)))
			return
		}
	}
	sub := newAgg()
	sub.only = a.late
	sub.slots, sub.slotOf, sub.portSlot = a.slots, a.slotOf, a.portSlot
	sub.names, sub.ids, sub.rawIDs = a.names, a.ids, a.rawIDs
	if err := pass(inputs, func(b *batch) {
		for i := range b.recs {
			sub.add(&b.recs[i])
		}
	}); err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d hosts were flagged answers_all_ports after some of their records had been counted; reading the inputs again failed (%s), so those records stay in the per-port tables.",
			len(a.late), cleanName(err.Error())))
		return
	}
	a.c.sub(&sub.c)
}

// geoRow is one country or provider of the host tables.
type geoRow struct {
	label, code          string
	hosts, services      int64
	slot                 [maxSlots]int64
	loginHosts, loginSvc int64
}

// geoRows collects rows by key, in first-seen order.
type geoRows struct {
	byKey map[string]*geoRow
	order []*geoRow
}

func (g *geoRows) get(key, label, code string) *geoRow {
	if g.byKey == nil {
		g.byKey = map[string]*geoRow{}
	}
	r := g.byKey[key]
	if r == nil {
		r = &geoRow{label: label, code: code}
		g.byKey[key] = r
		g.order = append(g.order, r)
	}
	return r
}

func (r *geoRow) addHost(h *host) {
	r.hosts++
	r.services += popcount(h.svc)
	for s := h.svc; s != 0; s &= s - 1 {
		r.slot[bitIndex(s)]++
	}
	if h.login != 0 {
		r.loginHosts++
		r.loginSvc += popcount(h.login)
	}
}

func bitIndex(x uint32) int {
	i := 0
	for x&1 == 0 {
		x >>= 1
		i++
	}
	return i
}

// report turns the aggregate into tables.
func (a *agg) report(rep *Report, top int, country, asn *geoDB, prov *Providers) {
	s := &rep.Summary
	s.Lines, s.BadLines, s.Records, s.Duplicates, s.Excluded = a.lines, a.bad, a.records, a.dups, a.excluded

	// Column order of the port tables: protocol order, then port.
	order := make([]int, len(a.slots))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		return cmp.Or(cmp.Compare(a.slots[x].proto, a.slots[y].proto), cmp.Compare(a.slots[x].port, a.slots[y].port))
	})

	// Application families (imap, pop3, smtp): slots on cleartext and on
	// implicit-TLS ports.
	var clearMask, tlsMask [len(appFamilies)]uint32
	for i, sl := range a.slots {
		p := protocols[sl.proto]
		f := appFamily(p)
		if f < 0 {
			continue
		}
		if p.ImplicitTLS() {
			tlsMask[f] |= 1 << i
		} else {
			clearMask[f] |= 1 << i
		}
	}
	var clearHosts, tlsHosts, anyHosts [len(appFamilies)]int64
	var slotHosts [maxSlots]int64

	var countries, providers geoRows
	a.hosts.each(func(ip netip.Addr, h *host) {
		n := popcount(h.seen &^ pseudoBit)
		s.Targets += n
		if h.seen&pseudoBit != 0 {
			s.PseudoHosts++
			s.PseudoTargets += n
			return
		}
		s.Services += popcount(h.svc)
		if h.svc == 0 {
			return
		}
		s.Hosts++
		if !ip.Is4() {
			s.HostsIPv6++
		}
		for b := h.svc; b != 0; b &= b - 1 {
			slotHosts[bitIndex(b)]++
		}
		for f := range appFamilies {
			c, t := h.svc&clearMask[f] != 0, h.svc&tlsMask[f] != 0
			if c {
				clearHosts[f]++
			}
			if t {
				tlsHosts[f]++
			}
			if c || t {
				anyHosts[f]++
			}
		}
		if country != nil {
			code, name := country.country(ip)
			key := code
			if key == "" {
				key = "\x00" + name
			}
			countries.get(key, orUnknown(cmp.Or(name, code)), code).addHost(h)
		}
		if asn != nil {
			n, org := asn.asn(ip)
			p := orUnknown(prov.Provider(n, org))
			providers.get(p, p, "").addHost(h)
		}
	})
	s.NoService = s.Targets - s.PseudoTargets - s.Services

	rep.Headlines = headlines(a, clearMask, tlsMask, clearHosts, tlsHosts)
	rep.Tables = append(rep.Tables,
		summaryTable(s),
		headlineTable(a, clearMask, tlsMask, clearHosts, tlsHosts, anyHosts, s.Hosts),
		statusTable(&a.c, s.NoService+s.Services),
		portsTable(a, order, slotHosts, s.Hosts),
		tlsTable(&a.c),
		startTLSTable(&a.c),
		loginTable(&a.c),
		a.tlsVersionsTable(top),
		certTable(a.c.certs),
		coverageTable(&a.c, s.Services, a.familyCount()),
		a.familiesTable(order, s.Services, top),
		a.versionsTable(top),
	)
	if country != nil {
		rep.Tables = append(rep.Tables, geoPortsTable(a, order, countries.order, "countries", top))
		rep.Notes = append(rep.Notes, country.describe("Countries")+".")
		if country.errs > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d country lookups failed and count as unknown (first: %s).",
				country.errs, cleanName(country.firstErr.Error())))
		}
	}
	if asn != nil {
		rep.Tables = append(rep.Tables, geoPortsTable(a, order, providers.order, "providers", top))
		rep.Notes = append(rep.Notes, asn.describe("Providers")+"; AS organisations mapped to providers by name.")
		if asn.errs > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d ASN lookups failed and count as unknown (first: %s).",
				asn.errs, cleanName(asn.firstErr.Error())))
		}
	}
	if country != nil {
		rep.Tables = append(rep.Tables, geoLoginTable(countries.order, "login_countries", top))
	}
	if asn != nil {
		rep.Tables = append(rep.Tables, geoLoginTable(providers.order, "login_providers", top))
	}
	switch {
	case country == nil && asn == nil:
		rep.Notes = append(rep.Notes, "Countries and providers are left out: no country database (GeoLite2-Country) and no ASN database (GeoLite2-ASN) were given.")
	case country == nil:
		rep.Notes = append(rep.Notes, "Countries are left out: no country database (GeoLite2-Country) was given.")
	case asn == nil:
		rep.Notes = append(rep.Notes, "Providers are left out: no ASN database (GeoLite2-ASN) was given.")
	}
	if a.overflow > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d records on ports beyond the first %d distinct (port, protocol) pairs are left out of every table.", a.overflow, maxSlots))
	}
	if len(a.badLines) > 0 {
		rep.Tables = append(rep.Tables, skippedTable(a.badLines))
	}
}

// appFamilies are the application protocols, each with a cleartext and an
// implicit-TLS form.
var appFamilies = [...]string{"imap", "pop3", "smtp"}

func appFamily(p banner.Protocol) int {
	return slices.Index(appFamilies[:], p.Family())
}

// appTitle is how the study writes the protocols.
var appTitle = [len(appFamilies)][2]string{{"IMAP", "IMAPS"}, {"POP3", "POP3S"}, {"SMTP", "SMTPS"}}

// slotNames lists the ports of the slots in mask: "TCP/143".
func slotNames(a *agg, mask uint32) string {
	var ports []string
	for b := mask; b != 0; b &= b - 1 {
		ports = append(ports, "TCP/"+strconv.Itoa(int(a.slots[bitIndex(b)].port)))
	}
	slices.Sort(ports)
	return strings.Join(ports, ", ")
}

func headlines(a *agg, clearMask, tlsMask [len(appFamilies)]uint32, clearHosts, tlsHosts [len(appFamilies)]int64) []string {
	var out []string
	for f := range appFamilies {
		if clearMask[f] == 0 && tlsMask[f] == 0 {
			continue
		}
		var parts []string
		run := func(n int64) string {
			if n == 1 {
				return "1 runs"
			}
			return commas(n) + " run"
		}
		if clearMask[f] != 0 {
			hosts := commas(clearHosts[f]) + " hosts run"
			if clearHosts[f] == 1 {
				hosts = "1 host runs"
			}
			parts = append(parts, fmt.Sprintf("%s cleartext %s on %s", hosts, appTitle[f][0], slotNames(a, clearMask[f])))
		}
		if tlsMask[f] != 0 {
			what := run(tlsHosts[f])
			if len(parts) == 0 {
				what = strings.Replace(what, " run", " hosts run", 1)
				if tlsHosts[f] == 1 {
					what = "1 host runs"
				}
			}
			parts = append(parts, fmt.Sprintf("%s %s on %s", what, appTitle[f][1], slotNames(a, tlsMask[f])))
		}
		out = append(out, strings.Join(parts, " and ")+".")
	}
	return out
}

func text(s string) Cell   { return Cell{S: s} }
func count(n int64) Cell   { return Cell{N: n} }
func intCell(n int64) Cell { return Cell{S: itoa(n), N: n} }
func pct(n, d int64) Cell  { return Cell{N: n, D: d} }
func itoa(n int64) string  { return strconv.FormatInt(n, 10) }
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

var (
	colProtocol = Column{Key: "protocol", Title: "protocol", Kind: Text}
	colServices = Column{Key: "services", Title: "services", Kind: Count}
	colHosts    = Column{Key: "hosts", Title: "hosts", Kind: Count}
)

// summaryRows are the summary's items: the key names the row in every
// format (and matches it with a baseline).
func summaryRows(s *Summary) []struct {
	key, title string
	n          int64
} {
	return []struct {
		key, title string
		n          int64
	}{
		{"lines", "lines read", s.Lines},
		{"bad_lines", "bad lines skipped", s.BadLines},
		{"records", "records", s.Records},
		{"excluded", "excluded by the exclusion policy (never dialled)", s.Excluded},
		{"duplicates", "duplicate records (same ip and port)", s.Duplicates},
		{"targets", "targets (distinct ip and port)", s.Targets},
		{"pseudo_hosts", "pseudo-service hosts (answers_all_ports)", s.PseudoHosts},
		{"pseudo_targets", "targets on pseudo-service hosts, not counted below", s.PseudoTargets},
		{"no_service", "targets without a service (failed, no greeting)", s.NoService},
		{"services", "services (success or a greeting)", s.Services},
		{"hosts", "hosts (distinct ips with a service)", s.Hosts},
		{"hosts_ipv6", "of which IPv6 hosts", s.HostsIPv6},
	}
}

func summaryTable(s *Summary) *Table {
	t := &Table{ID: "summary", Title: "Summary",
		Note:    "A target is a distinct (ip, port); a service is a target that answered with success or a greeting; a host is an ip with a service. Hosts flagged answers_all_ports and records the exclusion policy refused are counted apart and left out of every other table.",
		Columns: []Column{{Key: "item", Title: "item", Kind: Text}, {Key: "count", Title: "count", Kind: Count}}}
	for _, it := range summaryRows(s) {
		t.Rows = append(t.Rows, []Cell{text(it.title), count(it.n)})
	}
	return t
}

func headlineTable(a *agg, clearMask, tlsMask [len(appFamilies)]uint32, clearHosts, tlsHosts, anyHosts [len(appFamilies)]int64, hosts int64) *Table {
	var rows []row
	var ports []string
	for f := range appFamilies {
		if clearMask[f] == 0 && tlsMask[f] == 0 {
			continue
		}
		name := appTitle[f][0]
		rows = append(rows, row{cells: []Cell{text(name), count(clearHosts[f]), count(tlsHosts[f]), count(anyHosts[f]), pct(anyHosts[f], hosts)},
			count: int64(f), name: name})
		if clearMask[f] != 0 {
			ports = append(ports, appTitle[f][0]+" "+slotNames(a, clearMask[f]))
		}
		if tlsMask[f] != 0 {
			ports = append(ports, appTitle[f][1]+" "+slotNames(a, tlsMask[f]))
		}
	}
	slices.SortStableFunc(rows, func(x, y row) int { return cmp.Compare(x.count, y.count) })
	t := &Table{ID: "headline", Title: "Hosts per protocol, cleartext and TLS",
		Note: "Distinct ips with a service on the protocol's cleartext ports and on its implicit-TLS ports (" + strings.Join(ports, "; ") +
			"); a host on both counts in each; share of all hosts.",
		Columns: []Column{{Key: "protocol", Title: "protocol", Kind: Text}, {Key: "cleartext", Title: "cleartext", Kind: Count},
			{Key: "tls", Title: "implicit TLS", Kind: Count}, {Key: "hosts", Title: "hosts", Kind: Count},
			{Key: "share", Title: "% hosts", Kind: Percent}}}
	for _, r := range rows {
		t.Rows = append(t.Rows, r.cells)
	}
	return t
}

func statusTable(c *counts, all int64) *Table {
	var rows []row
	for i := range statuses {
		st := c.status[i]
		if st.targets == 0 {
			continue
		}
		name := string(statuses[i])
		rows = append(rows, row{cells: []Cell{text(name), count(st.targets), count(st.services), pct(st.targets, all)}, count: st.targets, name: name})
	}
	return newTable("status", "Targets by status",
		"Targets of real hosts by the status of their record; services are those with success or a greeting; share of all targets.",
		[]Column{{Key: "status", Title: "status", Kind: Text}, {Key: "targets", Title: "targets", Kind: Count}, colServices,
			{Key: "share", Title: "% targets", Kind: Percent, whole: true}},
		rows, 0, true)
}

// slotKey and slotTitle name a port column: "imap_143", "imap 143".
func slotKey(s slot) string   { return string(protocols[s.proto]) + "_" + strconv.Itoa(int(s.port)) }
func slotTitle(s slot) string { return string(protocols[s.proto]) + " " + strconv.Itoa(int(s.port)) }

func portsTable(a *agg, order []int, slotHosts [maxSlots]int64, hosts int64) *Table {
	var rows []row
	for _, i := range order {
		k := a.slots[i]
		n := slotHosts[i]
		if n == 0 {
			continue
		}
		p := string(protocols[k.proto])
		rows = append(rows, row{cells: []Cell{text(p), intCell(int64(k.port)), count(n), pct(n, hosts)},
			count: n, name: fmt.Sprintf("%05d %s", k.port, p)})
	}
	t := newTable("ports", "Services per port",
		"Distinct ips with a service on each port and protocol; share of all hosts (a host with several ports counts in each, so shares add to more than 100%).",
		[]Column{colProtocol, {Key: "port", Title: "port", Kind: Int}, colServices,
			{Key: "share_of_hosts", Title: "% hosts", Kind: Percent, whole: true, noTotal: true}},
		rows, 0, true)
	t.Chart = 2
	return t
}

// protoRows makes one row per protocol with services, sorted by services.
func protoRows(c *counts, keep func(banner.Protocol) bool, cells func(*protoCounts) []Cell) []row {
	var rows []row
	for i, p := range protocols {
		pc := &c.per[i]
		if pc.services == 0 || !keep(p) {
			continue
		}
		rows = append(rows, row{cells: append([]Cell{text(string(p))}, cells(pc)...), count: pc.services, name: string(p)})
	}
	return rows
}

func tlsTable(c *counts) *Table {
	rows := protoRows(c, func(banner.Protocol) bool { return true }, func(c *protoCounts) []Cell {
		return []Cell{count(c.services), count(c.tls), count(c.cleartext), count(c.noTLSFacts), pct(c.tls, c.services)}
	})
	return newTable("tls", "Cleartext and TLS per protocol",
		"Services per protocol: tls completed a handshake (implicit or after STARTTLS); cleartext stayed in cleartext (a cleartext port without a completed STARTTLS); no TLS facts are implicit-TLS services whose result has no completed handshake.",
		[]Column{colProtocol, colServices, {Key: "tls", Title: "tls", Kind: Count}, {Key: "cleartext", Title: "cleartext", Kind: Count},
			{Key: "no_tls_facts", Title: "no TLS facts", Kind: Count}, {Key: "share_tls", Title: "% tls", Kind: Percent}},
		rows, 0, true)
}

func startTLSTable(c *counts) *Table {
	rows := protoRows(c, func(p banner.Protocol) bool { return !p.ImplicitTLS() }, func(c *protoCounts) []Cell {
		return []Cell{count(c.services), count(c.stOffered), count(c.stNot), count(c.stUnknown), pct(c.stOffered, c.services)}
	})
	return newTable("starttls", "STARTTLS offered",
		"Services on cleartext ports by whether their cleartext capabilities announce STARTTLS (POP3: STLS); unknown when the capabilities were never read.",
		[]Column{colProtocol, colServices, {Key: "offered", Title: "offered", Kind: Count}, {Key: "not_offered", Title: "not offered", Kind: Count},
			{Key: "unknown", Title: "unknown", Kind: Count}, {Key: "share_offered", Title: "% offered", Kind: Percent}},
		rows, 0, true)
}

func loginTable(c *counts) *Table {
	rows := protoRows(c, func(banner.Protocol) bool { return true }, func(c *protoCounts) []Cell {
		return []Cell{count(c.services), count(c.loginYes), count(c.loginNo), count(c.loginUnknown), pct(c.loginYes, c.services)}
	})
	return newTable("cleartext_login", "Cleartext login exposure",
		"Services by the cleartext_login finding: exposed lets a client send a password before TLS; implicit-TLS services are not exposed; unknown has no finding.",
		[]Column{colProtocol, colServices, {Key: "exposed", Title: "exposed", Kind: Count}, {Key: "not_exposed", Title: "not exposed", Kind: Count},
			{Key: "unknown", Title: "unknown", Kind: Count}, {Key: "share_exposed", Title: "% exposed", Kind: Percent}},
		rows, 0, true)
}

// byName merges counts whose ids carry the same clean name (two spellings
// that clean to one) and drops zero counts.
func byName(a *agg, m map[uint32]int64) map[string]int64 {
	out := map[string]int64{}
	for id, n := range m {
		if n != 0 {
			out[a.names[id]] += n
		}
	}
	return out
}

func (a *agg) tlsVersionsTable(top int) *Table {
	var all int64
	for _, n := range a.c.tlsv {
		all += n
	}
	var rows []row
	for v, n := range byName(a, a.c.tlsv) {
		v = orUnknown(v)
		rows = append(rows, row{cells: []Cell{text(v), count(n), pct(n, all)}, count: n, name: v})
	}
	t := newTable("tls_versions", "TLS versions",
		"Services with a completed TLS handshake by negotiated version; share of those services.",
		[]Column{{Key: "version", Title: "version", Kind: Text}, colServices, {Key: "share", Title: "% tls", Kind: Percent, whole: true}},
		rows, top, true)
	t.Chart = 1
	return t
}

func certTable(certs [4]int64) *Table {
	all := certs[0] + certs[1] + certs[2] + certs[3]
	names := [4]string{"neither", "expired, not self-signed", "self-signed, not expired", "expired and self-signed"}
	rows := make([]row, 4)
	for i, n := range certs {
		rows[i] = row{cells: []Cell{text(names[i]), count(n), pct(n, all)}, count: n, name: names[i]}
	}
	return newTable("certificates", "Expired and self-signed certificates",
		"Services that presented a certificate, by their leaf certificate; share of those services.",
		[]Column{{Key: "leaf", Title: "leaf certificate", Kind: Text}, colServices, {Key: "share", Title: "% with certificate", Kind: Percent, whole: true}},
		rows, 0, true)
}

// familyCount is the number of distinct vendor families with services.
func (a *agg) familyCount() int64 {
	seen := map[string]bool{}
	for id, f := range a.c.fams {
		if id != 0 && f.n != 0 {
			seen[a.names[id]] = true
		}
	}
	return int64(len(seen))
}

func coverageTable(c *counts, services, families int64) *Table {
	t := &Table{ID: "coverage", Title: "Fingerprint coverage",
		Note: "How many services a fingerprint rule named (a vendor family), how many of those with a version, and how many families; share of all services.",
		Columns: []Column{{Key: "item", Title: "item", Kind: Text}, {Key: "count", Title: "count", Kind: Count},
			{Key: "share", Title: "% services", Kind: Percent}}}
	t.Rows = [][]Cell{
		{text("services"), count(services), pct(services, services)},
		{text("with a fingerprint (vendor family)"), count(c.fingerprints), pct(c.fingerprints, services)},
		{text("with a version"), count(c.versioned), pct(c.versioned, services)},
		{text("vendor families"), count(families), {}},
	}
	return t
}

func (a *agg) familiesTable(order []int, services int64, top int) *Table {
	type fam struct {
		n    int64
		slot [maxSlots]int64
	}
	merged := map[string]*fam{}
	for id, f := range a.c.fams {
		if f.n == 0 {
			continue
		}
		name := orUnknown(a.names[id])
		m := merged[name]
		if m == nil {
			m = new(fam)
			merged[name] = m
		}
		m.n += f.n
		for i := range f.slot {
			m.slot[i] += f.slot[i]
		}
	}
	var rows []row
	for name, f := range merged {
		cells := []Cell{text(name), count(f.n)}
		for _, i := range order {
			cells = append(cells, count(f.slot[i]))
		}
		cells = append(cells, pct(f.n, services))
		rows = append(rows, row{cells: cells, count: f.n, name: name})
	}
	cols := []Column{{Key: "family", Title: "vendor family", Kind: Text}, colServices}
	for _, i := range order {
		cols = append(cols, Column{Key: slotKey(a.slots[i]), Title: slotTitle(a.slots[i]), Kind: Count})
	}
	cols = append(cols, Column{Key: "share", Title: "% services", Kind: Percent, whole: true})
	c := &a.c
	t := newTable("families", "Vendor families by port",
		fmt.Sprintf("Services by the software family their greeting names, one column per port; unknown when no fingerprint matched; share of all services. Coverage: %s of %s services (%s) have a fingerprint, in %d families.",
			commas(c.fingerprints), commas(services), pctText(c.fingerprints, services), a.familyCount()),
		cols, rows, top, true)
	t.Chart = 1
	return t
}

// pctText is n of d as "75.0%", "-" when d is 0.
func pctText(n, d int64) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(d), 'f', 1, 64) + "%"
}

func (a *agg) versionsTable(top int) *Table {
	merged := map[[2]string]int64{}
	var all int64
	for k, n := range a.c.vers {
		if n == 0 {
			continue
		}
		merged[[2]string{a.names[k[0]], a.names[k[1]]}] += n
		all += n
	}
	var rows []row
	for k, n := range merged {
		rows = append(rows, row{cells: []Cell{text(k[0]), text(k[1]), count(n), pct(n, all)}, count: n, name: k[0] + "\x00" + k[1]})
	}
	return newTable("versions", "Top versions by family",
		"Services whose fingerprint names a version, by family and version; share of those services.",
		[]Column{{Key: "family", Title: "vendor family", Kind: Text}, {Key: "version", Title: "version", Kind: Text}, colServices,
			{Key: "share", Title: "% with version", Kind: Percent, whole: true}},
		rows, top, true)
}

// geoPortsTable is the country × port or provider × port table.
func geoPortsTable(a *agg, order []int, geo []*geoRow, id string, top int) *Table {
	var rows []row
	for _, g := range geo {
		cells := []Cell{text(g.label)}
		if id == "countries" {
			cells = append(cells, text(g.code))
		}
		cells = append(cells, count(g.hosts))
		for _, i := range order {
			cells = append(cells, count(g.slot[i]))
		}
		cells = append(cells, count(g.services))
		rows = append(rows, row{cells: cells, count: g.services, name: g.label + "\x00" + g.code})
	}
	var cols []Column
	var title, note string
	if id == "countries" {
		cols = []Column{{Key: "country", Title: "country", Kind: Text}, {Key: "code", Title: "code", Kind: Text}}
		title = "Top countries by port"
		note = "Distinct ips with a service on each port, by the country of their address (the registered country where the database has no other); hosts counts each ip once; rows by services."
	} else {
		cols = []Column{{Key: "provider", Title: "provider", Kind: Text}}
		title = "Top providers by port"
		note = "Distinct ips with a service on each port, by provider (the AS organisation of their address mapped to a provider name, else the organisation itself); hosts counts each ip once; rows by services."
	}
	cols = append(cols, colHosts)
	for _, i := range order {
		cols = append(cols, Column{Key: slotKey(a.slots[i]), Title: slotTitle(a.slots[i]), Kind: Count})
	}
	cols = append(cols, colServices)
	t := newTable(id, title, note, cols, rows, top, true)
	t.Grouped = true
	return t
}

// geoLoginTable is cleartext-login exposure by country or provider.
func geoLoginTable(geo []*geoRow, id string, top int) *Table {
	var rows []row
	country := id == "login_countries"
	for _, g := range geo {
		cells := []Cell{text(g.label)}
		if country {
			cells = append(cells, text(g.code))
		}
		cells = append(cells, count(g.hosts), count(g.loginHosts), count(g.loginSvc), pct(g.loginHosts, g.hosts))
		rows = append(rows, row{cells: cells, count: g.loginHosts, name: g.label + "\x00" + g.code})
	}
	var cols []Column
	title, what := "Cleartext login exposure by country", "country"
	if country {
		cols = []Column{{Key: "country", Title: "country", Kind: Text}, {Key: "code", Title: "code", Kind: Text}}
	} else {
		title, what = "Cleartext login exposure by provider", "provider"
		cols = []Column{{Key: "provider", Title: "provider", Kind: Text}}
	}
	cols = append(cols, colHosts, Column{Key: "exposed_hosts", Title: "exposed hosts", Kind: Count},
		Column{Key: "exposed_services", Title: "exposed services", Kind: Count},
		Column{Key: "share_exposed", Title: "% hosts exposed", Kind: Percent})
	return newTable(id, title,
		"Hosts with at least one service whose cleartext_login finding says a client may send a password before TLS, and those services, by "+what+"; share of the "+what+"'s hosts; rows by exposed hosts.",
		cols, rows, top, true)
}

func skippedTable(bad []BadLine) *Table {
	t := &Table{ID: "skipped", Title: "Skipped lines",
		Note:    fmt.Sprintf("The first %d bad lines, each skipped; the summary counts them all.", MaxBadLines),
		Columns: []Column{{Key: "line", Title: "line", Kind: Text}, {Key: "error", Title: "error", Kind: Text}}}
	for _, b := range bad {
		t.Rows = append(t.Rows, []Cell{text(cleanName(b.Input) + ":" + itoa(b.Line)), text(b.Err)})
	}
	return t
}

// commas writes n with a comma every three digits.
func commas(n int64) string {
	s := itoa(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
