package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuiltinProviders maps organisation names as GeoLite2-ASN spells them.
func TestBuiltinProviders(t *testing.T) {
	p, err := NewProviders("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		asn  uint32
		org  string
		want string
	}{
		{16276, "OVH SAS", "OVHcloud"},
		{35540, "OVH Hosting, Inc.", "OVHcloud"},
		{14061, "DIGITALOCEAN-ASN", "DigitalOcean"},
		{15169, "GOOGLE", "Google"},
		{396982, "GOOGLE-CLOUD-PLATFORM", "Google"},
		{16509, "AMAZON-02", "Amazon"},
		{14618, "AMAZON-AES", "Amazon"},
		{12876, "SCALEWAY S.A.S.", "Scaleway"},
		{12876, "Online S.a.s.", "Scaleway"},
		{8100, "QUADRANET ENTERPRISES LLC", "QuadraNet"},
		{8075, "MICROSOFT-CORP-MSN-AS-BLOCK", "Microsoft"},
		{27357, "RACKSPACE", "Rackspace"},
		{37963, "Hangzhou Alibaba Advertising Co.,Ltd.", "Alibaba"},
		{45102, "Alibaba US Technology Co., Ltd.", "Alibaba"},
		{31898, "ORACLE-BMC-31898", "Oracle"},
		{24940, "Hetzner Online GmbH", "Hetzner"},
		{63949, "Linode, LLC", "Linode/Akamai"},
		{63949, "Akamai Connected Cloud", "Linode/Akamai"},
		{20940, "Akamai International B.V.", "Linode/Akamai"},
		{51167, "Contabo GmbH", "Contabo"},
		{8560, "IONOS SE", "IONOS"},
		{26496, "GO-DADDY-COM-LLC", "GoDaddy"},
		{20473, "AS-CHOOPA", "Vultr"},
		{13335, "CLOUDFLARENET", "Cloudflare"},
		{36351, "SOFTLAYER", "IBM Cloud"},
		{46606, "UNIFIEDLAYER-AS-1", "UNIFIEDLAYER-AS-1"}, // no space: not "Unified Layer"
		{46606, "Unified Layer", "Newfold Digital"},
		{6724, "Strato AG", "Strato"},
		// Near misses stay themselves.
		{28573, "Amazonas Energia", "Amazonas Energia"},
		{1234, "Stratos Global", "Stratos Global"},
		{3320, "Deutsche Telekom AG", "Deutsche Telekom"},
		{64500, "Example Hosting Ltd", "Example Hosting Ltd"},
		{64501, "", "AS64501"},
		{0, "", ""},
		{64502, "  dirty\x1b[0m  org ", "dirty\ufffd[0m org"},
	}
	for _, tt := range tests {
		if got := p.Provider(tt.asn, tt.org); got != tt.want {
			t.Errorf("Provider(%d, %q) = %q, want %q", tt.asn, tt.org, got, tt.want)
		}
		// A second call answers from the cache, the same.
		if got := p.Provider(tt.asn, tt.org); got != tt.want {
			t.Errorf("cached Provider(%d, %q) = %q, want %q", tt.asn, tt.org, got, tt.want)
		}
	}
}

func TestProvidersFile(t *testing.T) {
	tests := []struct {
		name, file string
		wantErr    string // "" for none
		org        string
		asn        uint32
		want       string
	}{
		{"pattern before built-in", "# comment\nhetzner = Hetzner Cloud\n", "", "Hetzner Online GmbH", 24940, "Hetzner Cloud"},
		{"regexp", `^example (hosting|mail)\b = ExampleCloud`, "", "Example Mail Ltd", 64500, "ExampleCloud"},
		{"case-insensitive", "EXAMPLE = Ex", "", "example ltd", 1, "Ex"},
		{"asn rule", "AS64500 = Numbered", "", "whatever", 64500, "Numbered"},
		{"asn rule other number", "AS64500 = Numbered", "", "whatever", 64501, "whatever"},
		{"equals in pattern", "a=b = AB", "", "x a=b y", 1, "AB"},
		{"no equals", "ok = OK\n\njust words\n", `:3: "just words": want "pattern = Provider"`, "", 0, ""},
		{"empty provider", "foo =  \n", `:1: "foo =  ": want "pattern = Provider", both non-empty`, "", 0, ""},
		{"empty pattern", " = Foo\n", `:1: " = Foo"`, "", 0, ""},
		{"bad regexp", "# x\nfoo( = Foo\n", `:2: "foo( = Foo": error parsing regexp`, "", 0, ""},
		{"asn out of range", "AS9999999999 = Big\n", `:1: "AS9999999999 = Big": AS number out of range`, "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "providers.txt")
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := NewProviders(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), path+tt.wantErr) {
					t.Fatalf("NewProviders = %v, want an error with %q", err, path+tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Provider(tt.asn, tt.org); got != tt.want {
				t.Errorf("Provider(%d, %q) = %q, want %q", tt.asn, tt.org, got, tt.want)
			}
		})
	}
	if _, err := NewProviders(filepath.Join(t.TempDir(), "missing.txt")); err == nil {
		t.Error("missing providers file: no error")
	}
}
