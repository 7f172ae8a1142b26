package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// builtinProviders maps AS organisation names, as GeoLite2-ASN spells them,
// to the provider a reader knows. Patterns are Go regular expressions
// matched case-insensitively anywhere in the name; the first match wins.
// Word boundaries keep short names from matching inside others ("Amazonas
// Energia" is not Amazon, "Stratos" is not Strato).
var builtinProviders = []struct{ pattern, provider string }{
	{`\bovh|kimsufi|\bsoyoustart`, "OVHcloud"},            // OVH SAS, OVH Hosting, Inc.
	{`digitalocean`, "DigitalOcean"},                      // DIGITALOCEAN-ASN
	{`\bgoogle`, "Google"},                                // GOOGLE, GOOGLE-CLOUD-PLATFORM
	{`\bamazon\b|\baws\b`, "Amazon"},                      // AMAZON-02, AMAZON-AES, Amazon.com, Inc.
	{`scaleway|^online s\.?a\.?s\b`, "Scaleway"},          // SCALEWAY S.A.S., Online S.a.s.
	{`quadranet`, "QuadraNet"},                            // QUADRANET ENTERPRISES LLC
	{`microsoft`, "Microsoft"},                            // MICROSOFT-CORP-MSN-AS-BLOCK
	{`rackspace`, "Rackspace"},                            // Rackspace Hosting
	{`alibaba|aliyun`, "Alibaba"},                         // Hangzhou Alibaba Advertising Co.,Ltd.
	{`\boracle\b`, "Oracle"},                              // ORACLE-BMC-31898
	{`hetzner`, "Hetzner"},                                // Hetzner Online GmbH
	{`linode|akamai`, "Linode/Akamai"},                    // Linode, LLC; Akamai Connected Cloud
	{`contabo`, "Contabo"},                                // Contabo GmbH
	{`ionos|\b1&1\b|1and1`, "IONOS"},                      // IONOS SE, 1&1 IONOS SE
	{`go-?daddy`, "GoDaddy"},                              // GO-DADDY-COM-LLC
	{`choopa|vultr`, "Vultr"},                             // AS-CHOOPA, VULTR
	{`tencent`, "Tencent"},                                // Tencent Building, Kejizhongyi Avenue
	{`cloudflare`, "Cloudflare"},                          // CLOUDFLARENET
	{`hostinger`, "Hostinger"},                            // Hostinger International Limited
	{`leaseweb`, "Leaseweb"},                              // LEASEWEB-NL-AMS-01
	{`softlayer|\bibm\b`, "IBM Cloud"},                    // SOFTLAYER, IBM-CLOUD
	{`unified layer|bluehost|newfold`, "Newfold Digital"}, // UNIFIEDLAYER-AS-1 is "Unified Layer"
	{`liquid ?web`, "Liquid Web"},                         // LIQUIDWEB
	{`\bstrato\b`, "Strato"},                              // Strato AG
	{`\baruba s\.?p\.?a`, "Aruba"},                        // Aruba S.p.A.
	{`yandex`, "Yandex"},                                  // YANDEX LLC
	{`namecheap`, "Namecheap"},                            // NAMECHEAP-NET
	{`a2 ?hosting`, "A2 Hosting"},                         // A2HOSTING
	{`dreamhost`, "DreamHost"},                            // DREAMHOST-AS
	{`proofpoint`, "Proofpoint"},                          // PROOFPOINT-ASN-US-WEST
	{`mimecast`, "Mimecast"},                              // Mimecast Services Limited
	{`barracuda`, "Barracuda"},                            // BARRACUDA-NETWORKS
	{`\byahoo\b|oath holdings`, "Yahoo"},                  // YAHOO-GQ1
	{`\bzoho\b`, "Zoho"},                                  // ZOHO
	{`huawei`, "Huawei Cloud"},                            // HUAWEI CLOUDS
	{`\bm247\b`, "M247"},                                  // M247 Europe SRL
	{`hostwinds`, "Hostwinds"},                            // HOSTWINDS
	{`colocrossing`, "ColoCrossing"},                      // AS-COLOCROSSING
	{`netcup`, "netcup"},                                  // netcup GmbH
	{`upcloud`, "UpCloud"},                                // UpCloud Ltd
	{`psychz`, "Psychz"},                                  // PSYCHZ
	{`\bkamatera\b`, "Kamatera"},                          // KAMATERA
	{`selectel`, "Selectel"},                              // Selectel
	{`timeweb`, "Timeweb"},                                // TimeWeb Ltd.
	{`\bllc vk\b|vkontakte|\bmail\.ru\b`, "VK"},           // LLC VK
	{`\bwebsupport\b`, "WebSupport"},                      // WebSupport s.r.o.
	{`\bfastly\b`, "Fastly"},                              // FASTLY
	{`one\.com`, "one.com"},                               // One.com A/S
	{`\bhostpapa\b`, "HostPapa"},                          // HOSTPAPA
	{`\bsiteground\b`, "SiteGround"},                      // SiteGround
	{`\bin2net\b|\binfomaniak\b`, "Infomaniak"},           // Infomaniak Network SA
	{`\bworld4you\b`, "World4You"},                        // World4You Internet Services GmbH
	{`\bhostpoint\b`, "Hostpoint"},                        // Hostpoint AG
	{`\bgandi\b`, "Gandi"},                                // Gandi SAS
	{`\bserverius\b`, "Serverius"},                        // Serverius Holding B.V.
	{`\btransip\b`, "TransIP"},                            // TransIP B.V.
	{`\bhostgator\b`, "Newfold Digital"},                  // HostGator
	{`\binmotion\b`, "InMotion Hosting"},                  // INMOTION
	{`\bsakura internet\b`, "Sakura Internet"},            // SAKURA Internet Inc.
	{`\bgmo internet\b`, "GMO Internet"},                  // GMO Internet,Inc
	{`\bkagoya\b`, "KAGOYA"},                              // KAGOYA JAPAN Inc.
	{`\bxserver\b`, "Xserver"},                            // Xserver Inc.
	{`\bbaidu\b`, "Baidu"},                                // Beijing Baidu Netcom
	{`\bchinanet\b|china telecom`, "China Telecom"},       // CHINANET-BACKBONE
	{`china unicom|\bcncgroup\b`, "China Unicom"},         // CHINA UNICOM China169 Backbone
	{`deutsche telekom`, "Deutsche Telekom"},              // Deutsche Telekom AG
	{`\bcomcast\b`, "Comcast"},                            // COMCAST-7922
	{`\bcharter communications\b`, "Charter"},             // Charter Communications Inc
}

// providerRule is one compiled mapping: an organisation pattern or an AS
// number, and the provider it names.
type providerRule struct {
	re       *regexp.Regexp // nil for an AS number rule
	asn      uint32
	provider string
}

// Providers maps AS organisations to provider names: the rules of a user
// file first, then the built-in table. The zero value is not usable; build
// one with NewProviders. A Providers is not safe for concurrent use (it
// caches answers).
type Providers struct {
	rules []providerRule
	cache map[string]string
}

// NewProviders returns the built-in mapping, preceded by the rules read
// from the file at path when path is not "". The file has one rule a line:
// "pattern = Provider", where pattern is a Go regular expression matched
// case-insensitively anywhere in the AS organisation name (so a plain word
// is a substring match) or an AS number such as "AS16509"; "#" starts a
// comment line; blank lines are skipped. A bad line is an error naming
// file:line and the line.
func NewProviders(path string) (*Providers, error) {
	p := &Providers{cache: make(map[string]string)}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("report: providers: %w", err)
		}
		defer f.Close()
		rules, err := parseProviders(f, path)
		if err != nil {
			return nil, err
		}
		p.rules = rules
	}
	for _, b := range builtinProviders {
		p.rules = append(p.rules, providerRule{re: regexp.MustCompile(`(?i)` + b.pattern), provider: b.provider})
	}
	return p, nil
}

// asnPattern is a rule keyed by AS number.
var asnPattern = regexp.MustCompile(`(?i)^AS([0-9]{1,10})$`)

// parseProviders reads the rules of a providers file; name is used in
// errors.
func parseProviders(r io.Reader, name string) ([]providerRule, error) {
	var rules []providerRule
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// The provider is after the last "=", so a pattern may hold "=".
		i := strings.LastIndexByte(line, '=')
		if i < 0 {
			return nil, fmt.Errorf("report: %s:%d: %q: want \"pattern = Provider\"", name, n, raw)
		}
		pat, prov := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		if pat == "" || prov == "" {
			return nil, fmt.Errorf("report: %s:%d: %q: want \"pattern = Provider\", both non-empty", name, n, raw)
		}
		rule := providerRule{provider: cleanName(prov)}
		if m := asnPattern.FindStringSubmatch(pat); m != nil {
			v, err := strconv.ParseUint(m[1], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("report: %s:%d: %q: AS number out of range", name, n, raw)
			}
			rule.asn = uint32(v)
		} else {
			re, err := regexp.Compile(`(?i)` + pat)
			if err != nil {
				return nil, fmt.Errorf("report: %s:%d: %q: %w", name, n, raw, err)
			}
			rule.re = re
		}
		rules = append(rules, rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("report: %s:%d: %w", name, n+1, err)
	}
	return rules, nil
}

// Provider returns the provider of AS number asn with organisation org:
// the first rule that matches, else org itself, else "AS<asn>"; "" when
// both are empty (the address is not in the database).
func (p *Providers) Provider(asn uint32, org string) string {
	key := strconv.FormatUint(uint64(asn), 10) + " " + org
	if v, ok := p.cache[key]; ok {
		return v
	}
	v := p.lookup(asn, org)
	p.cache[key] = v
	return v
}

func (p *Providers) lookup(asn uint32, org string) string {
	for _, r := range p.rules {
		if r.re == nil {
			if asn != 0 && r.asn == asn {
				return r.provider
			}
			continue
		}
		if org != "" && r.re.MatchString(org) {
			return r.provider
		}
	}
	switch {
	case strings.TrimSpace(org) != "":
		return cleanName(org)
	case asn != 0:
		return "AS" + strconv.FormatUint(uint64(asn), 10)
	}
	return ""
}
