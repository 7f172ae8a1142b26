package report

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// testEpoch is the build time of the test databases (2024-05-01), fixed so
// that the notes and the goldens do not change from run to run.
const testEpoch = 1714521600

// countryNet and asnNet are one network of a test database.
type countryNet struct {
	cidr, code, name string
	registered       bool // set registered_country only
}

type asnNet struct {
	cidr string
	asn  uint32
	org  string
}

// fixtureCountries and fixtureASNs cover testdata/results.jsonl: hosts .1-.3
// DE / Hetzner, .4-.7 US / OVH and DigitalOcean, .8-.11 FR / an unmapped
// organisation, .12 only a registered country (NL) / Amazon, .13 in
// neither. The pseudo-service host 198.18.2.1 has a country and an AS of
// its own, which must never show.
var (
	fixtureCountries = []countryNet{
		{cidr: "198.18.1.0/30", code: "DE", name: "Germany"},
		{cidr: "198.18.1.4/30", code: "US", name: "United States"},
		{cidr: "198.18.1.8/30", code: "FR", name: "France"},
		{cidr: "198.18.1.12/32", code: "NL", name: "Netherlands", registered: true},
		{cidr: "198.18.2.0/24", code: "CN", name: "China"},
	}
	fixtureASNs = []asnNet{
		{"198.18.1.0/30", 24940, "Hetzner Online GmbH"},
		{"198.18.1.4/31", 16276, "OVH SAS"},
		{"198.18.1.6/31", 14061, "DIGITALOCEAN-ASN"},
		{"198.18.1.8/30", 64500, "Example Hosting Ltd"},
		{"198.18.1.12/32", 16509, "AMAZON-02"},
		{"198.18.2.0/24", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK"},
	}
)

func newTree(t testing.TB, dbType string) *mmdbwriter.Tree {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		BuildEpoch:              testEpoch,
		IncludeReservedNetworks: true, // 198.18.0.0/15 is reserved (RFC 2544)
		RecordSize:              24,
		Languages:               []string{"en"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func insert(t testing.TB, tree *mmdbwriter.Tree, cidr string, v mmdbtype.DataType) {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Insert(n, v); err != nil {
		t.Fatalf("insert %s: %v", cidr, err)
	}
}

func writeTree(t testing.TB, tree *mmdbwriter.Tree, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeCountryDB writes a GeoLite2-Country-shaped database into dir.
func writeCountryDB(t testing.TB, dir string, nets []countryNet) string {
	t.Helper()
	tree := newTree(t, "GeoLite2-Country")
	for _, c := range nets {
		rec := mmdbtype.Map{"iso_code": mmdbtype.String(c.code), "names": mmdbtype.Map{"en": mmdbtype.String(c.name)}}
		key := mmdbtype.String("country")
		if c.registered {
			key = "registered_country"
		}
		insert(t, tree, c.cidr, mmdbtype.Map{key: rec})
	}
	return writeTree(t, tree, filepath.Join(dir, "GeoLite2-Country.mmdb"))
}

// writeASNDB writes a GeoLite2-ASN-shaped database into dir.
func writeASNDB(t testing.TB, dir string, nets []asnNet) string {
	t.Helper()
	tree := newTree(t, "GeoLite2-ASN")
	for _, a := range nets {
		insert(t, tree, a.cidr, mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(a.asn),
			"autonomous_system_organization": mmdbtype.String(a.org),
		})
	}
	return writeTree(t, tree, filepath.Join(dir, "GeoLite2-ASN.mmdb"))
}

// fixtureOptions returns Options with the fixture's databases, written to
// a fresh temporary directory.
func fixtureOptions(t testing.TB) *Options {
	t.Helper()
	dir := t.TempDir()
	return &Options{Country: writeCountryDB(t, dir, fixtureCountries), ASN: writeASNDB(t, dir, fixtureASNs)}
}

// buildFile builds the report of a testdata file, named by its base name
// so that goldens do not depend on the checkout's path.
func buildFile(t testing.TB, name string, opts *Options) *Report {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Build(f, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawRows renders a table as raw strings (CSV/JSON form), total last with
// a "=" marker so that expectations say which row is the total.
func rawRows(t *Table) [][]string {
	var out [][]string
	add := func(cells []Cell, total bool) {
		var r []string
		if total {
			r = append(r, "=")
		}
		for i, c := range t.Columns {
			r = append(r, raw(c, cells[i]))
		}
		out = append(out, r)
	}
	for _, cells := range t.Rows {
		add(cells, false)
	}
	if t.Total != nil {
		add(t.Total, true)
	}
	return out
}

// stringRecord is a record {key: value} with a string where a map is due.
func stringRecord(key, value string) mmdbtype.Map {
	return mmdbtype.Map{mmdbtype.String(key): mmdbtype.String(value)}
}
