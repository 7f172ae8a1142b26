package report

import (
	"bytes"
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
	// (GeoLite2-Country.mmdb or a City database); "" leaves the countries
	// table out.
	Country string
	// ASN is the path of a MaxMind-format ASN database (GeoLite2-ASN.mmdb);
	// "" leaves the providers table out.
	ASN string
	// Providers is the path of a file of extra "pattern = Provider" rules
	// tried before the built-in ones (see NewProviders); "" for none.
	Providers string
}

// Summary holds the report's headline counts; doc.go defines each.
// Targets = Records - Duplicates = PseudoTargets + NoService + Services.
type Summary struct {
	Lines         int64 `json:"lines"`
	BadLines      int64 `json:"bad_lines"`
	Records       int64 `json:"records"`
	Duplicates    int64 `json:"duplicates"`
	Targets       int64 `json:"targets"`
	PseudoHosts   int64 `json:"pseudo_hosts"`
	PseudoTargets int64 `json:"pseudo_targets"`
	NoService     int64 `json:"no_service"`
	Services      int64 `json:"services"`
	Hosts         int64 `json:"hosts"`
}

// Report is the outcome of Build: the tables, ready to Write in any Format.
type Report struct {
	// Source is the name of the input, as given to Build.
	Source  string
	Summary Summary
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
// the report. name names the input in the report and in the location of
// bad lines ("results.jsonl:7"). Build streams: its memory grows with the
// distinct targets and names, not with the records. Bad lines are skipped
// and counted, not errors; an error is a read error of r or an *OptionError
// (a database or providers file that cannot be opened, checked before r is
// read).
func Build(r io.Reader, name string, opts *Options) (*Report, error) {
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
	a := newAgg(name)
	if err := a.readAll(r); err != nil {
		return nil, err
	}
	return a.report(o.Top, country, asn, prov), nil
}

// protoCounts are the per-protocol tallies of services.
type protoCounts struct {
	services, tls, cleartext, noTLSFacts int64
	stOffered, stNot, stUnknown          int64
	loginYes, loginNo, loginUnknown      int64
}

type portKey struct {
	port  uint16
	proto uint8
}

// appFamilies are the columns of the vendor families table.
var appFamilies = [...]string{"imap", "pop3", "smtp"}

func appFamily(p banner.Protocol) int {
	return slices.Index(appFamilies[:], p.Family())
}

// report turns the aggregate into tables.
func (a *agg) report(top int, country, asn *geoDB, prov *Providers) *Report {
	rep := &Report{Source: a.name, BadLines: a.badLines}
	s := &rep.Summary
	s.Lines, s.BadLines, s.Records, s.Duplicates = a.lines, a.bad, a.records, a.dups
	s.Targets = int64(len(a.targets))
	s.PseudoHosts = int64(len(a.pseudo))

	var (
		st    = make([]struct{ targets, services int64 }, len(statuses))
		per   = make([]protoCounts, len(protocols))
		ports = map[portKey]int64{}
		tlsv  = map[uint32]int64{}
		certs [4]int64 // neither, expired only, self-signed only, both
		fams  = map[uint32]*[1 + len(appFamilies)]int64{}
		vers  = map[[2]uint32]int64{}
		hosts = map[[16]byte]struct{}{}
	)
	for k, t := range a.targets {
		if _, ok := a.pseudo[k.ip]; ok {
			s.PseudoTargets++
			continue
		}
		st[t.status].targets++
		if t.flags&fService == 0 {
			s.NoService++
			continue
		}
		st[t.status].services++
		s.Services++
		hosts[k.ip] = struct{}{}
		ports[portKey{k.port, t.proto}]++
		p := protocols[t.proto]
		pc := &per[t.proto]
		pc.services++
		switch {
		case t.flags&fTLS != 0:
			pc.tls++
			tlsv[t.tlsVer]++
		case p.ImplicitTLS():
			pc.noTLSFacts++
		default:
			pc.cleartext++
		}
		switch {
		case t.flags&fStartTLSKnown == 0:
			pc.stUnknown++
		case t.flags&fStartTLSOffered != 0:
			pc.stOffered++
		default:
			pc.stNot++
		}
		switch {
		case t.flags&fLoginKnown == 0:
			pc.loginUnknown++
		case t.flags&fLogin != 0:
			pc.loginYes++
		default:
			pc.loginNo++
		}
		if t.flags&fCert != 0 {
			i := 0
			if t.flags&fCertExpired != 0 {
				i |= 1
			}
			if t.flags&fCertSelfSigned != 0 {
				i |= 2
			}
			certs[i]++
		}
		f := fams[t.family]
		if f == nil {
			f = new([1 + len(appFamilies)]int64)
			fams[t.family] = f
		}
		f[0]++
		if i := appFamily(p); i >= 0 {
			f[1+i]++
		}
		if t.family != 0 && t.version != 0 {
			vers[[2]uint32{t.family, t.version}]++
		}
	}
	s.Hosts = int64(len(hosts))

	rep.Tables = append(rep.Tables,
		summaryTable(s),
		statusTable(st, s.NoService+s.Services),
		portsTable(ports, s.Hosts),
		tlsTable(per),
		startTLSTable(per),
		loginTable(per),
		a.tlsVersionsTable(tlsv, top),
		certTable(certs),
		a.familiesTable(fams, s.Services, top),
		a.versionsTable(vers, top),
	)

	// Geo lookups run once per host, in address order so that notes about
	// failed lookups are the same on every run.
	if country != nil || asn != nil {
		ips := make([][16]byte, 0, len(hosts))
		for ip := range hosts {
			ips = append(ips, ip)
		}
		slices.SortFunc(ips, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) })
		if country != nil {
			rep.Tables = append(rep.Tables, countriesTable(country, ips, top))
			rep.Notes = append(rep.Notes, country.describe("Countries")+".")
			if country.errs > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%d country lookups failed and count as unknown (first: %s).",
					country.errs, cleanName(country.firstErr.Error())))
			}
		}
		if asn != nil {
			rep.Tables = append(rep.Tables, providersTable(asn, prov, ips, top))
			rep.Notes = append(rep.Notes, asn.describe("Providers")+"; AS organisations mapped to providers by name.")
			if asn.errs > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%d ASN lookups failed and count as unknown (first: %s).",
					asn.errs, cleanName(asn.firstErr.Error())))
			}
		}
	}
	switch {
	case country == nil && asn == nil:
		rep.Notes = append(rep.Notes, "Countries and providers are left out: add --country GeoLite2-Country.mmdb and --asn GeoLite2-ASN.mmdb (MaxMind DB files) to count hosts by country and by provider.")
	case country == nil:
		rep.Notes = append(rep.Notes, "Countries are left out: add --country GeoLite2-Country.mmdb (a MaxMind DB file) to count hosts by country.")
	case asn == nil:
		rep.Notes = append(rep.Notes, "Providers are left out: add --asn GeoLite2-ASN.mmdb (a MaxMind DB file) to count hosts by provider.")
	}
	if len(a.badLines) > 0 {
		rep.Tables = append(rep.Tables, a.skippedTable())
	}
	return rep
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

func summaryTable(s *Summary) *Table {
	items := []struct {
		title string
		n     int64
	}{
		{"lines read", s.Lines},
		{"bad lines skipped", s.BadLines},
		{"records", s.Records},
		{"duplicate records (same ip and port)", s.Duplicates},
		{"targets (distinct ip and port)", s.Targets},
		{"pseudo-service hosts (answers_all_ports)", s.PseudoHosts},
		{"targets on pseudo-service hosts, not counted below", s.PseudoTargets},
		{"targets without a service (failed, no greeting)", s.NoService},
		{"services (success or a greeting)", s.Services},
		{"hosts (distinct ips with a service)", s.Hosts},
	}
	t := &Table{ID: "summary", Title: "Summary",
		Note:    "A target is a distinct (ip, port); a service is a target that answered with success or a greeting; a host is an ip with a service. Hosts flagged answers_all_ports are counted apart and left out of every other table.",
		Columns: []Column{{Key: "item", Title: "item", Kind: Text}, {Key: "count", Title: "count", Kind: Count}}}
	for _, it := range items {
		t.Rows = append(t.Rows, []Cell{text(it.title), count(it.n)})
	}
	return t
}

func statusTable(st []struct{ targets, services int64 }, all int64) *Table {
	var rows []row
	for i, c := range st {
		if c.targets == 0 {
			continue
		}
		name := string(statuses[i])
		rows = append(rows, row{cells: []Cell{text(name), count(c.targets), count(c.services), pct(c.targets, all)}, count: c.targets, name: name})
	}
	return newTable("status", "Targets by status",
		"Targets of real hosts by the status of their record; services are those with success or a greeting; share of all targets.",
		[]Column{{Key: "status", Title: "status", Kind: Text}, {Key: "targets", Title: "targets", Kind: Count}, colServices,
			{Key: "share", Title: "% targets", Kind: Percent, whole: true}},
		rows, 0, true)
}

func portsTable(ports map[portKey]int64, hosts int64) *Table {
	var rows []row
	for k, n := range ports {
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
func protoRows(per []protoCounts, keep func(banner.Protocol) bool, cells func(*protoCounts) []Cell) []row {
	var rows []row
	for i := range per {
		p := protocols[i]
		if per[i].services == 0 || !keep(p) {
			continue
		}
		rows = append(rows, row{cells: append([]Cell{text(string(p))}, cells(&per[i])...), count: per[i].services, name: string(p)})
	}
	return rows
}

func tlsTable(per []protoCounts) *Table {
	rows := protoRows(per, func(banner.Protocol) bool { return true }, func(c *protoCounts) []Cell {
		return []Cell{count(c.services), count(c.tls), count(c.cleartext), count(c.noTLSFacts), pct(c.tls, c.services)}
	})
	return newTable("tls", "Cleartext and TLS per protocol",
		"Services per protocol: tls completed a handshake (implicit or after STARTTLS); cleartext stayed in cleartext (a cleartext port without a completed STARTTLS); no TLS facts are implicit-TLS services whose result has no completed handshake.",
		[]Column{colProtocol, colServices, {Key: "tls", Title: "tls", Kind: Count}, {Key: "cleartext", Title: "cleartext", Kind: Count},
			{Key: "no_tls_facts", Title: "no TLS facts", Kind: Count}, {Key: "share_tls", Title: "% tls", Kind: Percent}},
		rows, 0, true)
}

func startTLSTable(per []protoCounts) *Table {
	rows := protoRows(per, func(p banner.Protocol) bool { return !p.ImplicitTLS() }, func(c *protoCounts) []Cell {
		return []Cell{count(c.services), count(c.stOffered), count(c.stNot), count(c.stUnknown), pct(c.stOffered, c.services)}
	})
	return newTable("starttls", "STARTTLS offered",
		"Services on cleartext ports by whether their cleartext capabilities announce STARTTLS (POP3: STLS); unknown when the capabilities were never read.",
		[]Column{colProtocol, colServices, {Key: "offered", Title: "offered", Kind: Count}, {Key: "not_offered", Title: "not offered", Kind: Count},
			{Key: "unknown", Title: "unknown", Kind: Count}, {Key: "share_offered", Title: "% offered", Kind: Percent}},
		rows, 0, true)
}

func loginTable(per []protoCounts) *Table {
	rows := protoRows(per, func(banner.Protocol) bool { return true }, func(c *protoCounts) []Cell {
		return []Cell{count(c.services), count(c.loginYes), count(c.loginNo), count(c.loginUnknown), pct(c.loginYes, c.services)}
	})
	return newTable("cleartext_login", "Cleartext login exposure",
		"Services by the cleartext_login finding: exposed lets a client send a password before TLS; implicit-TLS services are not exposed; unknown has no finding.",
		[]Column{colProtocol, colServices, {Key: "exposed", Title: "exposed", Kind: Count}, {Key: "not_exposed", Title: "not exposed", Kind: Count},
			{Key: "unknown", Title: "unknown", Kind: Count}, {Key: "share_exposed", Title: "% exposed", Kind: Percent}},
		rows, 0, true)
}

func (a *agg) tlsVersionsTable(tlsv map[uint32]int64, top int) *Table {
	var all int64
	for _, n := range tlsv {
		all += n
	}
	var rows []row
	for id, n := range tlsv {
		v := orUnknown(a.names[id])
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

func (a *agg) familiesTable(fams map[uint32]*[1 + len(appFamilies)]int64, services int64, top int) *Table {
	var rows []row
	for id, f := range fams {
		name := orUnknown(a.names[id])
		cells := []Cell{text(name), count(f[0])}
		for _, n := range f[1:] {
			cells = append(cells, count(n))
		}
		cells = append(cells, pct(f[0], services))
		rows = append(rows, row{cells: cells, count: f[0], name: name})
	}
	cols := []Column{{Key: "family", Title: "vendor family", Kind: Text}, colServices}
	for _, af := range appFamilies {
		cols = append(cols, Column{Key: af, Title: af, Kind: Count})
	}
	cols = append(cols, Column{Key: "share", Title: "% services", Kind: Percent, whole: true})
	t := newTable("families", "Vendor families",
		"Services by the software family their greeting names, split into imap, pop3 and smtp (implicit TLS and submission included); unknown when no fingerprint matched; share of all services.",
		cols, rows, top, true)
	t.Chart = 1
	return t
}

func (a *agg) versionsTable(vers map[[2]uint32]int64, top int) *Table {
	var all int64
	for _, n := range vers {
		all += n
	}
	var rows []row
	for k, n := range vers {
		f, v := a.names[k[0]], a.names[k[1]]
		rows = append(rows, row{cells: []Cell{text(f), text(v), count(n), pct(n, all)}, count: n, name: f + "\x00" + v})
	}
	return newTable("versions", "Top versions",
		"Services whose fingerprint names a version, by family and version; share of those services.",
		[]Column{{Key: "family", Title: "vendor family", Kind: Text}, {Key: "version", Title: "version", Kind: Text}, colServices,
			{Key: "share", Title: "% with version", Kind: Percent, whole: true}},
		rows, top, true)
}

func countriesTable(g *geoDB, ips [][16]byte, top int) *Table {
	// One row per country code: a database may spell a name differently
	// for different networks, and the first name seen in address order
	// wins. A record with a name and no code is keyed by its name.
	type entry struct {
		label, code string
		n           int64
	}
	byKey := map[string]*entry{}
	var order []*entry
	for _, ip := range ips {
		code, name := g.country(netip.AddrFrom16(ip).Unmap())
		key := code
		if key == "" {
			key = "\x00" + name
		}
		e := byKey[key]
		if e == nil {
			e = &entry{label: orUnknown(cmp.Or(name, code)), code: code}
			byKey[key] = e
			order = append(order, e)
		}
		e.n++
	}
	all := int64(len(ips))
	var rows []row
	for _, e := range order {
		rows = append(rows, row{cells: []Cell{text(e.label), text(e.code), count(e.n), pct(e.n, all)}, count: e.n, name: e.label + "\x00" + e.code})
	}
	t := newTable("countries", "Top countries",
		"Hosts by the country of their address (the registered country where the database has no other); share of all hosts.",
		[]Column{{Key: "country", Title: "country", Kind: Text}, {Key: "code", Title: "code", Kind: Text}, colHosts,
			{Key: "share", Title: "% hosts", Kind: Percent, whole: true}},
		rows, top, true)
	t.Chart = 2
	return t
}

func providersTable(g *geoDB, prov *Providers, ips [][16]byte, top int) *Table {
	counts := map[string]int64{}
	for _, ip := range ips {
		n, org := g.asn(netip.AddrFrom16(ip).Unmap())
		counts[orUnknown(prov.Provider(n, org))]++
	}
	all := int64(len(ips))
	var rows []row
	for p, n := range counts {
		rows = append(rows, row{cells: []Cell{text(p), count(n), pct(n, all)}, count: n, name: p})
	}
	t := newTable("providers", "Top providers",
		"Hosts by provider: the AS organisation of their address mapped to a provider name, else the organisation itself; share of all hosts.",
		[]Column{{Key: "provider", Title: "provider", Kind: Text}, colHosts, {Key: "share", Title: "% hosts", Kind: Percent, whole: true}},
		rows, top, true)
	t.Chart = 1
	return t
}

func (a *agg) skippedTable() *Table {
	t := &Table{ID: "skipped", Title: "Skipped lines",
		Note:    fmt.Sprintf("The first %d bad lines, each skipped; the summary counts them all.", MaxBadLines),
		Columns: []Column{{Key: "line", Title: "line", Kind: Text}, {Key: "error", Title: "error", Kind: Text}}}
	for _, b := range a.badLines {
		t.Rows = append(t.Rows, []Cell{text(cleanName(a.name) + ":" + itoa(b.Line)), text(b.Err)})
	}
	return t
}

// String returns b as "line N: why".
func (b BadLine) String() string { return "line " + itoa(b.Line) + ": " + b.Err }

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
