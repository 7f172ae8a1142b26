package fingerprint

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
)

// Protocol sets of the built-in table.
const (
	onIMAP = 1 << protoIMAP
	onPOP3 = 1 << protoPOP3
	onSMTP = 1 << protoSMTP
)

// builtinRule is one row of the built-in table: the rule language. A rule
// names the protocols it applies to, the field it reads (the greeting unless
// it says otherwise), a pattern, further conditions on other fields, and
// what it yields: vendor, product, family, the capture group holding the
// version, an OS, a refinement hook. Greeting patterns are written against
// the normalised text (see the package documentation): "Dovecot ready.", not
// "* OK Dovecot ready.".
type builtinRule struct {
	name                    string
	protos                  uint8
	pattern                 string
	vendor, product, family string
	version                 int      // capture group of the version, 0 for none
	post                    postFunc // optional refinement, see postFunc
	field                   Field    // 0: FieldGreeting
	also                    []when   // further conditions, all required
	os                      string
}

// when is a further condition of a built-in rule: some line of field
// matches pattern.
type when struct {
	field   Field
	pattern string
}

// Vendor and product names follow Recog's identifiers where Recog has them
// (identifiers/vendor.txt): "Double Precision" for Courier, "Carnegie Mellon
// University" for Cyrus, "Alt-N" for MDaemon, "Youngzsoft" for CCProxy. Family
// is the stable name the report counts by.
//
// Order matters: the first matching rule wins, so specific rules precede
// general ones (Exchange Online before on-premises Exchange, IIS before the
// Exchange SMTP rule).
var builtinRules = []builtinRule{
	// Microsoft Exchange and Exchange Online, IMAP and POP3. Exchange 2013 and
	// later append the base64 of the serving host's name in UTF-16LE; in
	// Microsoft 365 that host is in outlook.com or exchangelabs.com.
	{"exchange-online", onIMAP | onPOP3, `^The Microsoft Exchange (?:IMAP4|POP3) service is ready\. \[([A-Za-z0-9+/]+={0,2})\]`,
		"Microsoft", "Exchange Online", "Microsoft 365", 0, postExchangeOnline, 0, nil, ""},
	{"exchange-hostname", onIMAP | onPOP3, `^The Microsoft Exchange (?:IMAP4|POP3) service is ready\. \[([A-Za-z0-9+/]+={0,2})\]`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 0, postExchangeHost, 0, nil, ""},
	{"exchange", onIMAP | onPOP3, `^The? Microsoft Exchange (?:IMAP4|POP3) service is ready`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 0, nil, 0, nil, ""},
	{"exchange-2007", onIMAP | onPOP3, `^Microsoft Exchange Server 2007 (?:IMAP4|POP3) service ready`,
		"Microsoft", "Exchange 2007 Server", "Microsoft Exchange", 0, nil, 0, nil, ""},
	// Localised Exchange 2003 greetings keep the product name and the build.
	{"exchange-2003", onIMAP | onPOP3, `^Microsoft Exchange Server 2003 (?:IMAP4rev1|POP3) .*?\b(6\.5\.\d+\.\d+)\b`,
		"Microsoft", "Exchange 2003 Server", "Microsoft Exchange", 1, nil, 0, nil, ""},
	{"exchange-2000", onIMAP | onPOP3, `^Microsoft Exchange 2000 (?:IMAP4rev1|POP3) server version (6\.0\.\d+\.\d+)`,
		"Microsoft", "Exchange 2000 Server", "Microsoft Exchange", 1, nil, 0, nil, ""},
	{"exchange-5.5", onIMAP | onPOP3, `^Microsoft Exchange (?:IMAP4rev1|POP3) server version (5\.5\.\d+\.\d+)`,
		"Microsoft", "Exchange Server 5.5", "Microsoft Exchange", 1, nil, 0, nil, ""},

	{"gmail", onIMAP | onPOP3, `^G(?:imap|pop) ready for requests from `,
		"Google", "Gmail", "Google", 0, nil, 0, nil, ""},

	// Dovecot's login_greeting default, with Debian's and Ubuntu's
	// distribution tag and the Director's "DA"; POP3 may add an APOP stamp.
	{"dovecot", onIMAP | onPOP3, `^[Dd]ovecot(?: \([^()]*\))?(?: DA)? ready\.?(?: <[^<>]*>)?$`,
		"Dovecot", "Dovecot", "Dovecot", 0, nil, 0, nil, ""},

	{"courier-imap", onIMAP, `^Courier-IMAP ready\.`,
		"Double Precision", "Courier IMAP", "Courier", 0, nil, 0, nil, ""},
	// Courier's pop3d greets with this fixed text.
	{"courier-pop3", onPOP3, `^Hello there\.$`,
		"Double Precision", "Courier POP", "Courier", 0, nil, 0, nil, ""},

	{"cyrus-imap", onIMAP, `^\S+ Cyrus IMAP4?(?: \S+)? v?(\d+(?:\.\d+)+)\S* server ready`,
		"Carnegie Mellon University", "Cyrus IMAP", "Cyrus", 1, nil, 0, nil, ""},
	{"cyrus-pop3", onPOP3, `^\S+ Cyrus POP3 v?(\d+(?:\.\d+)+)\S* server ready`,
		"Carnegie Mellon University", "Cyrus POP", "Cyrus", 1, nil, 0, nil, ""},

	{"qpopper", onPOP3, `(?i)^Qpop(?:per)? \(version (\d+(?:\.\d+)+)?[^)]*\) at `,
		"Qualcomm", "Qpopper", "Qpopper", 1, nil, 0, nil, ""},

	// Domino: unbranded IMAP greetings, branded POP3 and SMTP ones; the
	// brand (HCL, IBM, Lotus) sets vendor and product.
	{"domino-imap", onIMAP, `^Domino IMAP4 Server (?:Release|Build) (\S+(?: HF\d+)?) +ready`,
		"HCL", "Domino", "HCL Domino", 1, nil, 0, nil, ""},
	{"domino-pop3", onPOP3, `^(HCL|IBM|Lotus) Notes POP3 server version (?:Release (\S+(?: HF\d+)?)|\S+) ready on `,
		"", "", "HCL Domino", 2, postDominoBrand, 0, nil, ""},
	{"domino-smtp", onSMTP, `ESMTP Service \((HCL|IBM|Lotus) Domino (?:Release|Build) ([^()]+)\) ready`,
		"", "", "HCL Domino", 2, postDominoBrand, 0, nil, ""},

	{"zimbra", onIMAP | onPOP3, `^\S+ Zimbra (?:(\d+(?:\.\d+)+)\S* )?(?:IMAP4rev1|POP3) server ready`,
		"Zimbra", "Zimbra", "Zimbra", 1, nil, 0, nil, ""},

	{"kerio", onIMAP | onPOP3, `^Kerio (Connect|MailServer) (\d+(?:\.\d+)*)(?: patch \d+)? (?:IMAP4rev1|POP3) server ready`,
		"Kerio", "", "Kerio Connect", 2, postKerioProduct, 0, nil, ""},
	{"kerio-smtp", onSMTP, `^\S+ Kerio (Connect|MailServer) (\d+(?:\.\d+)*)(?: patch \d+)? ESMTP ready`,
		"Kerio", "", "Kerio Connect", 2, postKerioProduct, 0, nil, ""},

	{"mdaemon", onIMAP | onPOP3, `^\S+ (?:IMAP4rev1|POP3?) MDaemon (\d+(?:\.\d+)+) ready`,
		"Alt-N", "MDaemon", "MDaemon", 1, nil, 0, nil, ""},
	{"mdaemon-smtp", onSMTP, `^\S+ +ESMTP MDaemon (\d+(?:\.\d+)+)`,
		"Alt-N", "MDaemon", "MDaemon", 1, nil, 0, nil, ""},

	// hMailServer's default IMAP welcome message (sic). Its POP3 ("+OK
	// POP3") and SMTP ("220 host ESMTP") defaults name nothing.
	{"hmailserver", onIMAP, `^IMAPrev1$`,
		"hMailServer", "hMailServer", "hMailServer", 0, nil, 0, nil, ""},

	{"ccproxy", onPOP3 | onSMTP, `^CCProxy (\d+(?:\.\d+)*) (?:POP3|SMTP) Service Ready`,
		"Youngzsoft", "CCProxy", "CCProxy", 1, nil, 0, nil, ""},

	// SMTP.
	{"gmail-smtp", onSMTP, `^\S+ ESMTP \S+ - gsmtp$`,
		"Google", "Gmail", "Google", 0, nil, 0, nil, ""},
	{"exchange-online-smtp", onSMTP, `(?i)^\S+\.(?:outlook\.com|exchangelabs\.com) Microsoft ESMTP MAIL Service ready at `,
		"Microsoft", "Exchange Online", "Microsoft 365", 0, nil, 0, nil, ""},
	// The IIS SMTP service states its version; Exchange 2007 and later do not.
	{"iis-smtp", onSMTP, `^\S+ +Microsoft ESMTP MAIL Service, Version: (\d+(?:\.\d+)+) ready at `,
		"Microsoft", "IIS SMTP Service", "Microsoft IIS", 1, nil, 0, nil, ""},
	{"exchange-smtp", onSMTP, `(?i)^\S+ Microsoft ESMTP MAIL Service ready at `,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 0, nil, 0, nil, ""},
	{"exchange-ims-smtp", onSMTP, `^\S+ +(?:ESMTP Server \()?Microsoft Exchange Internet Mail Service (\d+(?:\.\d+)+)\)? ready`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 1, nil, 0, nil, ""},
	{"opensmtpd", onSMTP, `^\S+ ESMTP OpenSMTPD$`,
		"OpenBSD", "OpenSMTPD", "OpenSMTPD", 0, nil, 0, nil, ""},
	{"exim", onSMTP, `(?i)(?:^|\s)ESMTP Exim(?: (\d+\.\d+(?:[._]\d+)*))?(?:\s|$)`,
		"Exim", "Exim", "Exim", 1, nil, 0, nil, ""},
	{"postfix", onSMTP, `^(?:\S+ +)?E?SMTP(?: .*)? Postfix(?: \(.*\))?$`,
		"Postfix", "Postfix", "Postfix", 0, nil, 0, nil, ""},
	{"sendmail", onSMTP, `(?i)^\S+ +(?:E?SMTP )?(?:\S+ )*?Sendmail(?:[ ;]|$)(\d+\.\d+(?:\.\d+)*)?`,
		"Sendmail", "Sendmail", "Sendmail", 1, nil, 0, nil, ""},
	// qmail-smtpd's default greeting is "host ESMTP" and names nothing;
	// this only catches installations that say so.
	{"qmail", onSMTP, `(?i)(?:^|[\s(])(?:net)?qmail(?:[\s)!.,;]|$)`,
		"D J Bernstein", "qmail", "qmail", 0, nil, 0, nil, ""},
}

// compileBuiltins compiles the table, naming each rule "builtin:<name>".
func compileBuiltins(table []builtinRule) ([]*rule, error) {
	rules := make([]*rule, 0, len(table))
	seen := make(map[string]bool, len(table))
	for _, b := range table {
		if seen[b.name] {
			return nil, fmt.Errorf("fingerprint: built-in rule %q defined twice", b.name)
		}
		seen[b.name] = true
		re, err := regexp.Compile(b.pattern)
		if err != nil {
			return nil, fmt.Errorf("fingerprint: built-in rule %q: %w", b.name, err)
		}
		if b.version > re.NumSubexp() {
			return nil, fmt.Errorf("fingerprint: built-in rule %q: version group %d > %d groups", b.name, b.version, re.NumSubexp())
		}
		lit, fold := requiredLiteral(b.pattern)
		field := b.field
		if field == 0 {
			field = FieldGreeting
		}
		r := &rule{
			name: "builtin:" + b.name, protos: b.protos, field: field, re: re, lit: lit, litFold: fold,
			vendor: b.vendor, product: b.product, family: b.family, os: b.os, version: b.version, post: b.post,
		}
		for _, w := range b.also {
			cre, err := regexp.Compile(w.pattern)
			if err != nil {
				return nil, fmt.Errorf("fingerprint: built-in rule %q: %s condition: %w", b.name, w.field, err)
			}
			clit, cfold := requiredLiteral(w.pattern)
			r.also = append(r.also, &cond{field: w.field, re: cre, lit: clit, litFold: cfold})
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// postExchangeOnline accepts the match only if the host named in group 1 is
// a Microsoft 365 host.
func postExchangeOnline(fp *Fingerprint, line string, m []int) bool {
	host, ok := exchangeHost(group(line, m, 1))
	if !ok || !isMicrosoft365Host(host) {
		return false
	}
	fp.Params = map[string]string{"host.name": host}
	return true
}

// postExchangeHost records the host named in group 1 when it decodes.
func postExchangeHost(fp *Fingerprint, line string, m []int) bool {
	if host, ok := exchangeHost(group(line, m, 1)); ok {
		fp.Params = map[string]string{"host.name": host}
	}
	return true
}

// exchangeHost decodes the server name Exchange 2013 and later put in square
// brackets: base64 of the name in UTF-16LE. It accepts only hostname
// characters, so that an unrelated bracketed token is not taken for a name.
func exchangeHost(b64 string) (string, bool) {
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "="))
	if err != nil || len(raw) == 0 || len(raw)%2 != 0 || len(raw) > 2*255 {
		return "", false
	}
	u := make([]uint16, len(raw)/2)
	for i := range u {
		u[i] = uint16(raw[2*i]) | uint16(raw[2*i+1])<<8
	}
	host := string(utf16.Decode(u))
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c == '.' || c == '-' || isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return "", false
		}
	}
	return host, true
}

// isMicrosoft365Host reports whether host is in a Microsoft 365 datacenter
// domain (e.g. AMSPR04CA0021.eurprd04.prod.outlook.com).
func isMicrosoft365Host(host string) bool {
	h := strings.ToLower(host)
	return strings.HasSuffix(h, ".outlook.com") || strings.HasSuffix(h, ".exchangelabs.com")
}

// postDominoBrand names vendor and product after the brand in group 1; IBM
// bought Lotus, HCL has made Domino since 2019.
func postDominoBrand(fp *Fingerprint, line string, m []int) bool {
	switch group(line, m, 1) {
	case "HCL":
		fp.Vendor, fp.Product = "HCL", "HCL Domino"
	case "IBM":
		fp.Vendor, fp.Product = "IBM", "IBM Domino"
	default:
		fp.Vendor, fp.Product = "IBM", "Lotus Domino"
	}
	return true
}

// postKerioProduct names the product: Kerio MailServer was renamed Kerio
// Connect in version 7.
func postKerioProduct(fp *Fingerprint, line string, m []int) bool {
	fp.Product = "Kerio " + group(line, m, 1)
	return true
}
