package report

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// OptionError is an error in Options: a database or a providers file that
// cannot be read. The input was not read.
type OptionError struct {
	Option string // "country", "asn" or "providers"
	Path   string
	Err    error
}

// Error names the option's file and what went wrong with it.
func (e *OptionError) Error() string {
	if e.Option == "providers" {
		return e.Err.Error() // NewProviders names the file, line and value
	}
	what := map[string]string{"country": "country database", "asn": "ASN database", "providers": "providers file", "baseline": "baseline"}[e.Option]
	if what == "" {
		what = e.Option
	}
	return fmt.Sprintf("report: %s %s: %v", what, e.Path, e.Err)
}

// Unwrap returns the underlying error, such as an *fs.PathError.
func (e *OptionError) Unwrap() error { return e.Err }

// countryRecord is the part of a GeoLite2-Country (or -City) record the
// report reads. registered_country stands in when country is absent
// (GeoLite2 leaves it out for some anycast and satellite networks).
type countryRecord struct {
	Country           countryFields `maxminddb:"country"`
	RegisteredCountry countryFields `maxminddb:"registered_country"`
}

type countryFields struct {
	ISOCode string `maxminddb:"iso_code"`
	Names   struct {
		EN string `maxminddb:"en"`
	} `maxminddb:"names"`
}

// asnRecord is a GeoLite2-ASN record.
type asnRecord struct {
	Number uint32 `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

// geoDB is one opened database and the errors its lookups met.
type geoDB struct {
	path     string
	db       *maxminddb.Reader
	errs     int64
	firstErr error

	// Decoded records by their offset in the database: many networks
	// share one record, and decoding is the costly part of a lookup.
	countries map[uintptr][2]string
	asns      map[uintptr]asnRecord
}

func openGeo(option, path string) (*geoDB, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, &OptionError{Option: option, Path: path, Err: err}
	}
	return &geoDB{path: path, db: db, countries: map[uintptr][2]string{}, asns: map[uintptr]asnRecord{}}, nil
}

func (g *geoDB) close() {
	if g != nil {
		g.db.Close()
	}
}

// describe names the database for the report's notes.
func (g *geoDB) describe(what string) string {
	m := g.db.Metadata
	return fmt.Sprintf("%s from %s (%s, built %s)", what, baseName(g.path),
		cleanName(m.DatabaseType), m.BuildTime().UTC().Format("2006-01-02"))
}

func (g *geoDB) noteErr(err error) {
	g.errs++
	if g.firstErr == nil {
		g.firstErr = err
	}
}

// country returns the ISO code and English name of ip's country; both ""
// when the database does not know it or the lookup failed.
func (g *geoDB) country(ip netip.Addr) (code, name string) {
	res := g.db.Lookup(ip)
	if err := res.Err(); err != nil {
		g.noteErr(err)
		return "", ""
	}
	if !res.Found() {
		return "", ""
	}
	if v, ok := g.countries[res.Offset()]; ok {
		return v[0], v[1]
	}
	var rec countryRecord
	if err := res.Decode(&rec); err != nil {
		g.noteErr(err)
		return "", ""
	}
	c := rec.Country
	if c.ISOCode == "" && c.Names.EN == "" {
		c = rec.RegisteredCountry
	}
	v := [2]string{cleanName(c.ISOCode), cleanName(c.Names.EN)}
	g.countries[res.Offset()] = v
	return v[0], v[1]
}

// asn returns ip's autonomous system; zero values when unknown.
func (g *geoDB) asn(ip netip.Addr) (uint32, string) {
	res := g.db.Lookup(ip)
	if err := res.Err(); err != nil {
		g.noteErr(err)
		return 0, ""
	}
	if !res.Found() {
		return 0, ""
	}
	if v, ok := g.asns[res.Offset()]; ok {
		return v.Number, v.Org
	}
	var rec asnRecord
	if err := res.Decode(&rec); err != nil {
		g.noteErr(err)
		return 0, ""
	}
	g.asns[res.Offset()] = rec
	return rec.Number, rec.Org
}

// baseName is the last element of a slash-separated path: notes name the
// file, not the directory it sits in on the user's machine.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
