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
	// Rules over the other facts of the dialogue come first: where they
	// match they are the software's own words (an ID reply, a CAPA
	// IMPLEMENTATION line, a keyword only one implementation sends), and
	// often carry the fuller version. Each was written from the transcript
	// of a real server in testdata/transcripts.jsonl (the lab's Debian 12
	// packages, scripts/lab/mailservers.sh), named in its comment.
	//
	// Cyrus IMAP 3.6.1: * ID ("name" "Cyrus IMAPD" "version" "3.6.1-Debian-..." ... "os" "Linux" ...)
	{"cyrus-id", onIMAP, `^\* ID \(.*"name" "Cyrus IMAPD"`,
		"Carnegie Mellon University", "Cyrus IMAP", "Cyrus", 0, postID, FieldID, nil, ""},
	// Dovecot 2.3.19: * ID ("name" "Dovecot")
	{"dovecot-id", onIMAP, `^\* ID \(.*"name" "Dovecot"`,
		"Dovecot", "Dovecot", "Dovecot", 0, postID, FieldID, nil, ""},
	// GNU Mailutils 3.15 imap4d lists ID but refuses it before login: "a002 BAD ID Wrong state".
	{"mailutils-id", onIMAP, `^\S+ BAD ID Wrong state$`,
		"GNU", "Mailutils", "GNU Mailutils", 0, nil, FieldID, nil, ""},
	// GNU Mailutils 3.15 imap4d: "* BYE Session terminating." after an "* OK IMAP4rev1" greeting.
	{"mailutils-imap-bye", onIMAP, `^\* BYE Session terminating\.$`,
		"GNU", "Mailutils", "GNU Mailutils", 0, nil, FieldGoodbye, []when{{FieldGreeting, `^IMAP4rev1$`}}, ""},
	// Courier-IMAP 5.0.13: "* BYE Courier-IMAP server shutting down".
	{"courier-imap-bye", onIMAP, `^\* BYE Courier-IMAP server shutting down$`,
		"Double Precision", "Courier IMAP", "Courier", 0, nil, FieldGoodbye, nil, ""},
	// Cyrus POP3 3.6.1: CAPA "IMPLEMENTATION Cyrus POP3 3.6.1-Debian-3.6.1-4+deb12u5".
	{"cyrus-pop3-capa", onPOP3, `^IMPLEMENTATION Cyrus POP3 v?(\S+)`,
		"Carnegie Mellon University", "Cyrus POP", "Cyrus", 1, nil, FieldCapabilities, nil, ""},
	// Courier POP3 1.0.16: CAPA "IMPLEMENTATION Courier Mail Server".
	{"courier-pop3-capa", onPOP3, `^IMPLEMENTATION Courier Mail Server$`,
		"Double Precision", "Courier POP", "Courier", 0, nil, FieldCapabilities, nil, ""},
	// GNU Mailutils 3.15 pop3d: CAPA "EXPIRENEVER" (sic, RFC 2449 spells "EXPIRE NEVER").
	{"mailutils-pop3-capa", onPOP3, `^EXPIRENEVER$`,
		"GNU", "Mailutils", "GNU Mailutils", 0, nil, FieldCapabilities, nil, ""},
	// Courier MTA 1.0.16 esmtpd: "220 vm ESMTP" names nothing; EHLO lists "XVERP=Courier".
	{"courier-esmtp", onSMTP, `^XVERP=Courier$`,
		"Double Precision", "Courier MTA", "Courier", 0, nil, FieldCapabilities, nil, ""},
	// Exim 4.96: the PIPECONNECT keyword (X_PIPE_CONNECT before 4.94) is Exim's alone.
	{"exim-pipeconnect", onSMTP, `^(?:X_)?PIPE_?CONNECT$`,
		"Exim", "Exim", "Exim", 0, nil, FieldCapabilities, nil, ""},
	// Sendmail 8.17.1.9: HELP without a help file: "502 5.3.0 Sendmail 8.17.1.9 -- HELP not implemented".
	{"sendmail-help", onSMTP, `^(?:\d\.\d\.\d )?Sendmail (\d+\.\d+(?:\.\d+)*)`,
		"Sendmail", "Sendmail", "Sendmail", 1, nil, FieldHelp, nil, ""},
	// OpenSMTPD 6.8: "214-2.0.0 This is OpenSMTPD".
	{"opensmtpd-help", onSMTP, `^(?:\d\.\d\.\d )?This is OpenSMTPD$`,
		"OpenBSD", "OpenSMTPD", "OpenSMTPD", 0, nil, FieldHelp, nil, ""},
	// Postfix 3.7 has no HELP: "500 5.5.2 Error: command not recognized".
	{"postfix-help", onSMTP, `^5\.5\.2 Error: command not recognized$`,
		"Postfix", "Postfix", "Postfix", 0, nil, FieldHelp, nil, ""},
	// Self-signed certificates the software makes by default: Courier's
	// mk*cert from imapd.cnf/pop3d.cnf/esmtpd.cnf, Dovecot's mkcert.sh from
	// dovecot-openssl.cnf.
	{"courier-cert", onIMAP | onPOP3 | onSMTP, `(?:^|,)O=Courier Mail Server(?:,|$)`,
		"Double Precision", "", "Courier", 0, nil, FieldCertificate, nil, ""},
	{"dovecot-cert", onIMAP | onPOP3, `(?:^|,)O=Dovecot mail server(?:,|$)`,
		"Dovecot", "Dovecot", "Dovecot", 0, nil, FieldCertificate, nil, ""},
	// perdition 2.2 (IMAP and POP3 proxy): "* OK [CAPABILITY IMAP4 IMAP4REV1] perdition ready on ...",
	// "+OK POP3 perditon ready on ..." (sic).
	{"perdition", onIMAP | onPOP3, `^(?:POP3 )?perditi?on ready on `,
		"Horms", "perdition", "perdition", 0, nil, 0, nil, ""},
	// aiosmtpd 1.4.3: "220 host Python SMTP 1.4.3".
	{"aiosmtpd", onSMTP, `^\S+ Python SMTP (\d+(?:\.\d+)+\S*)$`,
		"aio-libs", "aiosmtpd", "aiosmtpd", 1, nil, 0, nil, ""},

	// Microsoft Exchange and Exchange Online, IMAP and POP3. Exchange 2013 and
	// later append the base64 of the serving host's name in UTF-16LE; in
	// Microsoft 365 that host is in outlook.com or exchangelabs.com.
	{"exchange-online", onIMAP | onPOP3, `^The Microsoft Exchange (?:IMAP4|POP3) service is ready\. \[([A-Za-z0-9+/]+={0,2})\]`,
		"Microsoft", "Exchange Online", "Microsoft 365", 0, postExchangeOnline, 0, nil, ""},
	{"exchange-hostname", onIMAP | onPOP3, `^The Microsoft Exchange (?:IMAP4|POP3) service is ready\. \[([A-Za-z0-9+/]+={0,2})\]`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 0, postExchangeHost, 0, nil, ""},
	{"exchange", onIMAP | onPOP3, `^(?:The )?Microsoft Exchange (?:IMAP4|POP3) service is ready`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 0, nil, 0, nil, ""},
	{"exchange-2007", onIMAP | onPOP3, `^Microsoft Exchange Server 2007 (?:IMAP4|POP3) service ready`,
		"Microsoft", "Exchange 2007 Server", "Microsoft Exchange", 0, nil, 0, nil, ""},
	// Localised Exchange 2003 greetings keep the product name and the build.
	{"exchange-2003", onIMAP | onPOP3, `Microsoft Exchange Server 2003 (?:IMAP4rev1|POP3)\b.*?\b(6\.5\.\d+\.\d+)\b`,
		"Microsoft", "Exchange 2003 Server", "Microsoft Exchange", 1, nil, 0, nil, ""},
	{"exchange-2000", onIMAP | onPOP3, `^Microsoft Exchange 2000 (?:IMAP4rev1|POP3) server version (6\.0\.\d+\.\d+)`,
		"Microsoft", "Exchange 2000 Server", "Microsoft Exchange", 1, nil, 0, nil, ""},
	{"exchange-5.5", onIMAP, `^Microsoft Exchange IMAP4rev1 server version (5\.5\.\d+\.\d+)`,
		"Microsoft", "Exchange Server 5.5", "Microsoft Exchange", 1, nil, 0, nil, ""},
	// Recog names the POP3 service of the same release without the number.
	{"exchange-5.5-pop3", onPOP3, `^Microsoft Exchange POP3 server version (5\.5\.\d+\.\d+)`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 1, nil, 0, nil, ""},

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

	{"cyrus-imap", onIMAP, `^\S+ Cyrus IMAP4?(?: Murder)? v?(\d+(?:\.\d+)+)\S*.* server ready`,
		"Carnegie Mellon University", "Cyrus IMAP", "Cyrus", 1, nil, 0, nil, ""},
	{"cyrus-pop3", onPOP3, `^\S+ Cyrus POP3 v?(\d+(?:\.\d+)+)`,
		"Carnegie Mellon University", "Cyrus POP", "Cyrus", 1, nil, 0, nil, ""},

	// Qpopper as modified by Sphera (an ISP platform vendor) says so.
	{"qpopper-sphera", onPOP3, `(?i)^Qpop(?:per)? \(version (\d+(?:\.\d+)+)[^)]*modified by Sphera`,
		"Sphera", "Qpopper", "Qpopper", 1, nil, 0, nil, ""},
	{"qpopper", onPOP3, `(?i)^Qpop(?:per)? \(version (\d+(?:\.\d+)+)?[^)]*\) at `,
		"Qualcomm", "Qpopper", "Qpopper", 1, nil, 0, nil, ""},

	// Domino: unbranded IMAP greetings, branded POP3 and SMTP ones; the
	// brand (HCL, IBM, Lotus) sets vendor and product.
	{"domino-imap", onIMAP, `^Domino IMAP4 Server (?:Release|Build) (\S+(?: HF\d+)?) +ready`,
		"HCL", "HCL Domino", "HCL Domino", 1, postDominoRelease, 0, nil, ""},
	{"domino-pop3", onPOP3, `^(HCL|IBM|Lotus) Notes POP3 server version (?:Release (\S+(?: HF\d+)?)|\S+) ready on `,
		"", "", "HCL Domino", 2, postDominoBrand, 0, nil, ""},
	{"domino-lotus-smtp", onSMTP, `^(?:\S+ )?Lotus (?:SMTP MTA Service|Notes ESMTP Server)`,
		"Lotus", "Lotus Domino", "HCL Domino", 0, nil, 0, nil, ""},
	// A build number is no release: Recog names its maker Lotus and no version.
	{"domino-smtp", onSMTP, `ESMTP Service \((HCL|IBM|Lotus) Domino (?:Release ([^()]+?)|Build [^()]+?)(?: \([^()]*\))?\) ready`,
		"", "", "HCL Domino", 2, postDominoBrand, 0, nil, ""},

	{"zimbra", onIMAP | onPOP3, `^\S+ Zimbra (?:(\d+(?:\.\d+)+\S*) )?(?:IMAP4rev1|POP3) server ready`,
		"Zimbra", "Collaboration", "Zimbra", 1, nil, 0, nil, ""},

	{"kerio", onIMAP | onPOP3, `^Kerio (Connect|MailServer) (\d+(?:\.\d+)*)(?: patch \d+)? (?:IMAP4rev1|POP3) server ready`,
		"Kerio", "", "Kerio Connect", 2, postKerioProduct, 0, nil, ""},
	{"kerio-smtp", onSMTP, `^\S+ Kerio (Connect|MailServer) (\d+(?:\.\d+)*)(?: patch \d+)? ESMTP ready`,
		"Kerio", "", "Kerio Connect", 2, postKerioProduct, 0, nil, ""},

	{"mdaemon", onIMAP | onPOP3, `^\S+ (?:IMAP4rev1|POP3?) MDaemon (\d+(?:\.\d+)+) ready`,
		"Alt-N", "MDaemon", "MDaemon", 1, nil, 0, nil, ""},
	{"mdaemon-smtp", onSMTP, `^\S+ +ESMTP (?:service ready \[\d+\] \(?(?:using )?)?MDaemon v?(\d+(?:\.\d+)+)`,
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
	{"iis-smtp", onSMTP, `(?:^|\s)Microsoft E?SMTP MAIL (?:Service, Version: (\d+(?:\.\d+)+)|ready at .* Version: (\d+(?:\.\d+)+))`,
		"Microsoft", "IIS", "Microsoft IIS", anyGroup, nil, 0, nil, ""},
	{"exchange-smtp", onSMTP, `(?i)^\S+ Microsoft ESMTP MAIL Service ready at `,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 0, nil, 0, nil, ""},
	{"exchange-ims-smtp", onSMTP, `^\S+ +(?:ESMTP Server \()?Microsoft Exchange Internet Mail Service (\d+(?:\.\d+)+)\)? ready`,
		"Microsoft", "Exchange Server", "Microsoft Exchange", 1, nil, 0, nil, ""},
	{"opensmtpd", onSMTP, `^\S+ ESMTP OpenSMTPD$`,
		"OpenBSD", "OpenSMTPD", "OpenSMTPD", 0, nil, 0, nil, ""},
	{"exim", onSMTP, `(?i)(?:^|\s)ESMTP \(?Exim(?: (\d+\.\d+(?:[._-]\w+)*|\d+))?(?:[\s)]|$)`,
		"Exim", "Exim", "Exim", 1, nil, 0, nil, ""},
	{"exim-service", onSMTP, `(?i)^\S+ Exim ESMTP Service`,
		"Exim", "Exim", "Exim", 0, nil, 0, nil, ""},
	{"postfix", onSMTP, `^(?:\S+ +)?(?:E?SMTP(?: .*)? )?Postfix(?: (\d+\.\d+(?:\.\d+)*))?(?: \(.*\))?$`,
		"Postfix", "Postfix", "Postfix", 1, nil, 0, nil, ""},
	// Mail-in-a-Box's greeting names the Postfix it runs.
	{"postfix-mailinabox", onSMTP, `\(\w+/Postfix; see https://mailinabox\.email/\)`,
		"Postfix", "Postfix", "Postfix", 0, nil, 0, nil, ""},
	{"sendmail-metainfo", onSMTP, `ESMTP MetaInfo Sendmail .*\(Berkeley (\d+\.\d+(?:\.\d+)*)\)`,
		"MetaInfo", "Sendmail", "Sendmail", 1, nil, 0, nil, ""},
	{"intrastore", onSMTP, `\(IntraStore TurboSendmail\) ESMTP`,
		"BT", "IntraStore", "IntraStore", 0, nil, 0, nil, ""},
	{"sendmail", onSMTP, `(?i)^ *(?:\S+ +)?(?:E?SMTP )?(?:\S+ )*?Sendmail(?:[ ;]|$)(\d+\.\d+(?:\.\d+)*)?`,
		"Sendmail", "Sendmail", "Sendmail", 1, nil, 0, nil, ""},
	// qmail-smtpd's default greeting is "host ESMTP" and names nothing;
	// this only catches installations that say so.
	{"qmail", onSMTP, `(?i)(?:^|[\s(])(?:net)?qmail(?:[\s)!.,;]|$)`,
		"D J Bernstein", "qmail", "qmail", 0, nil, 0, nil, ""},

	// Products and providers whose greeting names them but that Recog has no
	// pattern for, each written from the public transcripts of
	// testdata/greetings.tsv (the rows cite them).
	{"haraka", onSMTP, `^\S+ ESMTP Haraka[ /]v?(\d+(?:\.\d+)+) ready$`,
		"Haraka", "Haraka", "Haraka", 1, nil, 0, nil, ""},
	{"stalwart-imap", onIMAP, `^Stalwart IMAP4rev\d at your service`,
		"Stalwart Labs", "Stalwart Mail Server", "Stalwart", 0, nil, 0, nil, ""},
	{"stalwart-smtp", onSMTP, `^(?:\S+ )?Stalwart ESMTP at your service`,
		"Stalwart Labs", "Stalwart Mail Server", "Stalwart", 0, nil, 0, nil, ""},
	{"smartermail-imap", onIMAP, `^IMAP4rev1 SmarterMail$`,
		"SmarterTools", "SmarterMail", "SmarterMail", 0, nil, 0, nil, ""},
	// IceWarp (Merak's successor) puts its version, sometimes an OS and an
	// architecture, before the protocol name.
	{"icewarp-imap", onIMAP, `^IceWarp (\d+(?:\.\d+)+)(?: [A-Za-z0-9_]+)*? IMAP4rev1(?: |$)`,
		"IceWarp", "Mail Server", "IceWarp Mail Server", 1, nil, 0, nil, ""},
	{"icewarp-pop3", onPOP3, `^\S+ IceWarp (\d+(?:\.\d+)+)(?: [A-Za-z0-9_]+)*? POP3(?: |$)`,
		"IceWarp", "Mail Server", "IceWarp Mail Server", 1, nil, 0, nil, ""},
	{"icewarp-smtp", onSMTP, `^\S+ ESMTP IceWarp (\d+(?:\.\d+)+)(?: [A-Za-z0-9_]+)*?(?:;|$)`,
		"IceWarp", "Mail Server", "IceWarp Mail Server", 1, nil, 0, nil, ""},
	{"imsva", onSMTP, `^(?:\S+ )?ESMTP IMSVA$`,
		"Trend Micro", "InterScan Messaging Security Virtual Appliance", "Trend Micro IMSVA", 0, nil, 0, nil, ""},
	{"sophos-email-appliance", onSMTP, `ESMTP Sophos Email Appliance v(\d+(?:\.\d+)+)`,
		"Sophos", "Email Appliance", "Sophos", 1, nil, 0, nil, ""},
	{"surgemail", onSMTP, `(?i)\(SurgeMail Version (\d[\w.-]*)\)`,
		"NetWin", "SurgeMail", "SurgeMail", 1, nil, 0, nil, ""},
	// Providers, named by the service's own wording.
	{"yahoo-imap", onIMAP, `^IMAP4rev1 imapgate-(\d\S*)`,
		"Yahoo", "Yahoo Mail", "Yahoo", 1, nil, 0, nil, ""},
	{"yahoo-smtp", onSMTP, `(?i)^\S+\.yahoo\.com ESMTP ready$`,
		"Yahoo", "Yahoo Mail", "Yahoo", 0, nil, 0, nil, ""},
	{"yandex-imap", onIMAP, `^Yandex IMAP4rev1 at `,
		"Yandex", "Yandex Mail", "Yandex", 0, nil, 0, nil, ""},
	{"yandex-smtp", onSMTP, `^\S+ ESMTP \(Want to use Yandex\.Mail for your domain\?`,
		"Yandex", "Yandex Mail", "Yandex", 0, nil, 0, nil, ""},
	{"amazon-ses", onSMTP, `^\S+ ESMTP SimpleEmailService-`,
		"Amazon", "Simple Email Service", "Amazon SES", 0, nil, 0, nil, ""},
	{"zoho-smtp", onSMTP, `(?i)^\S*zoho\S* SMTP Server ready `,
		"Zoho", "Zoho Mail", "Zoho", 0, nil, 0, nil, ""},

	// The long tail: products whose greeting names them, written from the
	// examples of Recog's banner databases (testdata/recog_examples.tsv, by
	// the Recog file and line the row cites), named as Recog names them.
	// imap_banners.xml:177
	{"callpilot", onIMAP, `^\S+ CallPilot IMAP4rev1 v(\d+(?:\.\d+)+) server ready`, "Nortel", "CallPilot", "CallPilot", 1, nil, 0, nil, ""},
	// pop_banners.xml:142
	{"windows-pop3", onPOP3, `^Microsoft Windows POP3 Service Version \d`, "Microsoft", "E-mail Services", "Microsoft Windows", 0, nil, 0, nil, ""},
	// pop_banners.xml:258
	{"apple-password-server", onPOP3, `^ApplePasswordServer \d`, "Apple", "Open Directory", "Apple Open Directory", 0, nil, 0, nil, ""},
	// pop_banners.xml:272
	{"openvms-tcpip-pop", onPOP3, `^TCPIP POP server V\S+, OpenVMS`, "HP", "TCPIP POP server", "HP TCPIP", 0, nil, 0, nil, ""},
	// pop_banners.xml:294
	{"cmailserver", onPOP3 | onSMTP, `CMailServer (\d+(?:\.\d+)+) (?:POP3|E?SMTP) Service Ready`, "Youngzsoft", "CMailServer", "CMailServer", 1, nil, 0, nil, ""},
	// pop_banners.xml:304
	{"bigfoot", onPOP3, `^POP3 Bigfoot v(\d+(?:\.\d+)+) server ready`, "Bigfoot", "Bigfoot Email Tools", "Bigfoot", 1, nil, 0, nil, ""},
	// pop_banners.xml:324, smtp_banners.xml:1907
	{"winwebmail", onPOP3, `^POP3 on WinWebMail \[(\d+(?:\.\d+)+)\] ready`, "Ma Jian", "WinWebMail", "WinWebMail", 1, nil, 0, nil, ""},
	{"winwebmail-smtp", onSMTP, `^ESMTP on WinWebMail \[(\d+(?:\.\d+)+)\] ready`, "Ma Jian", "ESMTP", "WinWebMail", 1, nil, 0, nil, ""},
	// pop_banners.xml:336
	{"blackjumbodog", onPOP3 | onSMTP, `^BlackJumboDog \(Version (\d+(?:\.\d+)+)\)`, "SapporoWorks", "BlackJumboDog", "BlackJumboDog", 1, nil, 0, nil, ""},
	// pop_banners.xml:348, imap_banners.xml:19 (test data)
	{"mailenable-pop3", onPOP3 | onIMAP, `(?i)^Welcome to MailEnable (?:POP3|IMAP) Server`, "MailEnable", "MailEnable", "MailEnable", 0, nil, 0, nil, ""},
	// smtp_banners.xml:541, 559
	{"mailenable-smtp", onSMTP, `ESMTP MailEnable Service, Version: (\d+(?:\.\d+)*)`, "MailEnable", "Mail Server", "MailEnable", 1, nil, 0, nil, ""},
	// smtp_banners.xml:24, 36, 47
	{"imail", onSMTP, `\(IMail (\d+(?:\.\d+)+)[ )]`, "Ipswitch", "IMail Server", "Ipswitch IMail", 1, nil, 0, nil, ""},
	// smtp_banners.xml:58
	{"analogx", onSMTP, `SMTP AnalogX Proxy (\d+(?:\.\d+)+)`, "AnalogX", "Proxy", "AnalogX Proxy", 1, nil, 0, nil, ""},
	// smtp_banners.xml:69, 83, 99
	{"argosoft", onSMTP, `ArGoSoft Mail Server.*, Version \S+ \((\d+(?:\.\d+)+)\)`, "ArGoSoft", "Mail Server", "ArGoSoft Mail Server", 1, nil, 0, nil, ""},
	// smtp_banners.xml:116
	{"appleshare-ip", onSMTP, `AppleShare IP Mail Server (\d+(?:\.\d+)+) SMTP Server Ready`, "Apple", "AppleShare IP Mail Server", "AppleShare IP", 1, nil, 0, nil, ""},
	// smtp_banners.xml:127
	{"checkpoint-fw1", onSMTP, `^CheckPoint FireWall-1 secure E?SMTP server`, "Check Point", "Firewall-1", "Check Point Firewall-1", 0, nil, 0, nil, ""},
	// smtp_banners.xml:186
	{"csm", onSMTP, `^CSM Internet Mail Scanner SMTP-Gateway`, "CSM", "Internet Mail Scanner", "CSM Internet Mail Scanner", 0, nil, 0, nil, ""},
	// smtp_banners.xml:195
	{"emwac-ims", onSMTP, `^\S+ IMS SMTP Receiver Version (\d+(?:\.\d+)+) Ready`, "EMWAC", "Internet Mail Services", "EMWAC IMS", 1, nil, 0, nil, ""},
	// smtp_banners.xml:205
	{"eudora", onSMTP, `running Eudora Internet Mail Server (\d+(?:\.\d+)+)`, "Eudora", "Internet Mail Server", "Eudora Internet Mail Server", 1, nil, 0, nil, ""},
	// smtp_banners.xml:439
	{"barracuda", onSMTP, `(?i)^barracuda\S* ESMTP \([0-9a-f]{32}\)$`, "Barracuda", "Email Security Gateway", "Barracuda", 0, nil, 0, nil, ""},
	// smtp_banners.xml:449
	{"ftgate", onSMTP, `^\S+ FTGate server ready`, "Floosietek", "FTGate", "FTGate", 0, nil, 0, nil, ""},
	// smtp_banners.xml:458
	{"fwtk-smap", onSMTP, `^\S+ SMTP/smap Ready\.`, "TIS", "FWTK", "TIS FWTK", 0, nil, 0, nil, ""},
	// smtp_banners.xml:467, 478, 490
	{"groupwise", onSMTP, `GroupWise (?:Internet Agent|SMTP/MIME Daemon) (\d+(?:\.\d+)+)`, "Novell", "GroupWise", "GroupWise", 1, nil, 0, nil, ""},
	// smtp_banners.xml:502
	{"ibm-vm", onSMTP, `running IBM VM SMTP (Level \w+|V\d+R\d+)`, "IBM", "VM", "IBM VM", 1, nil, 0, nil, ""},
	// smtp_banners.xml:529
	{"james", onSMTP, `\(JAMES SMTP Server (\d+(?:\.\d+)+)\)`, "Apache", "James", "Apache James", 1, nil, 0, nil, ""},
	// smtp_banners.xml:580
	{"mail-max", onSMTP, `\(Mail-Max Version (\d+(?:\.\d+)+),`, "Mail-Max", "Mail-Max", "Mail-Max", 1, nil, 0, nil, ""},
	// smtp_banners.xml:593, 604, 613
	{"mailsite", onSMTP, `MailSite E?SMTP Receiver (?:Version (\d+(?:\.\d+)+) )?Ready`, "Rockliffe", "MailSite", "MailSite", 1, nil, 0, nil, ""},
	// smtp_banners.xml:622
	{"mailsweeper", onSMTP, `MAILsweeper ESMTP Receiver Version (\d+(?:\.\d+)+)`, "Clearswift", "MAILsweeper", "MAILsweeper", 1, nil, 0, nil, ""},
	// smtp_banners.xml:744
	{"merak", onSMTP, `(?i)^\S+ E?SMTP Merak (\d+(?:\.\d+)+);`, "Merak", "Mail Server", "IceWarp Mail Server", 1, nil, 0, nil, ""},
	// smtp_banners.xml:758
	{"mercur", onSMTP, `^MERCUR SMTP-Server \(v(\d+\.\d)`, "Atrium Software", "MERCUR", "MERCUR", 1, nil, 0, nil, ""},
	// smtp_banners.xml:772, 785
	{"mercury", onSMTP, `^\S+ Mercury(?:/32)? v?(\d+\.\w+) (?:E?SMTP|SMTP/ESMTP) server ready`, "", "Mercury Mail Transport System", "Mercury", 1, nil, 0, nil, ""},
	// smtp_banners.xml:799
	{"navieg", onSMTP, `^\S+ SMTP NAVIEG (\d+(?:\.\d+)+);`, "Norton", "Antivirus for Gateways", "Norton Antivirus for Gateways", 1, nil, 0, nil, ""},
	// smtp_banners.xml:811, 823
	{"netscape-ms", onSMTP, `\(Netscape Messaging Server (?:- Version )?(\d+(?:\.\d+)+)`, "Netscape", "Messaging Server", "Netscape Messaging Server", 1, nil, 0, nil, ""},
	// smtp_banners.xml:913, 924
	{"ntmail", onSMTP, `NTMail \(v(\d+(?:\.\d+)+)/`, "Gordano", "NTMail", "NTMail", 1, nil, 0, nil, ""},
	{"ntmail-nt", onSMTP, `WindowsNT SMTP Server v(\d+(?:\.\d+)+)/`, "Gordano", "NTMail", "NTMail", 1, nil, 0, nil, ""},
	// smtp_banners.xml:952
	{"pmailserver", onSMTP, `ESMTP PMailServer (?:\[[^]]*\] )?(\d+(?:\.\d+)+);`, "A.K.I Software", "PMail Server", "PMail Server", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1083
	{"post-office", onSMTP, `(?i)\(post\.office v(\d+(?:\.\d+)+) release`, "", "Post.Office", "Post.Office", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1097
	{"raptor", onSMTP, `^\S+ Generic SMTP handler$`, "", "raptor", "Raptor", 0, nil, 0, nil, ""},
	// smtp_banners.xml:1104
	{"sap", onSMTP, `^\S+ SAP (\d+\.\d+\(\d+\)) ESMTP service ready`, "SAP", "SMTP", "SAP", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1656
	{"sims", onSMTP, `\(Sun Internet Mail Server sims\.(\S+)\)`, "Sun", "Internet Mail Server", "Sun Internet Mail Server", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1670
	{"ecelerity", onSMTP, `ESMTP ecelerity (\d+(?:\.\d+)+) r\(`, "Ecelerity", "Ecelerity Mail Server", "Ecelerity", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1686
	{"slmail", onSMTP, `(?i)SMTP Server SLmail v?(\d+(?:\.\d+)+) Ready`, "Seattle Labs", "SLMail", "SLMail", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1698, 1707
	{"symantec-mss", onSMTP, `ESMTP Symantec Mail Security$`, "Symantec", "Mail Security for SMTP", "Symantec", 0, nil, 0, nil, ""},
	{"symantec-smg", onSMTP, `ESMTP Symantec Messaging Gateway$`, "Symantec", "Messaging Gateway", "Symantec", 0, nil, 0, nil, ""},
	// smtp_banners.xml:1718
	{"sonicwall", onSMTP, `(?i)ESMTP SonicWALL \((\d+(?:\.\d+)+)\)`, "SonicWall", "Email Security", "SonicWall", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1730
	{"powermta", onSMTP, `\(PowerMTA\(TM\) v(\w+(?:\.\w+)+)\) ESMTP`, "port25", "PowerMTA", "PowerMTA", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1740
	{"vopmail", onSMTP, `VOPmail ESMTP Receiver Version (\d+(?:\.\d+)+)`, "Vircom", "VOPMail", "VOPMail", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1750
	{"vpop3", onSMTP, `^\S+ VPOP3 E?SMTP Server`, "Paul Smith Computer Services", "VPOP3", "VPOP3", 0, nil, 0, nil, ""},
	// smtp_banners.xml:1761, 1776, 1792
	{"webshield", onSMTP, `WebShield SMTP V(\d+(?:\.\d+)+)`, "McAfee", "WebShield", "McAfee WebShield", 1, nil, 0, nil, ""},
	{"webshield-asap", onSMTP, `McAfee (?:WebShield|VirusScreen) ASaP v(\d+(?:\.\d+)+)`, "McAfee", "WebShield", "McAfee WebShield", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1808
	{"lyris", onSMTP, `ESMTP Lyris ListManager service ready`, "Lyris", "ListManager", "Lyris ListManager", 0, nil, 0, nil, ""},
	// smtp_banners.xml:1817, 1826
	{"winroute", onSMTP, `ESMTP - WinRoute Pro (\d+(?:\.\d+)+)`, "", "WinRoute", "WinRoute", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1836, 1849
	{"zmailer", onSMTP, `ZMailer Server (\d+(?:\.\d+)+) #\d+ ESMTP`, "ZMailer", "ZMailer", "ZMailer", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1875
	{"communigate", onSMTP | onIMAP | onPOP3, `CommuniGate Pro (\d+(?:\.\d+)+)`, "Communigate", "Communigate Pro", "CommuniGate Pro", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1897
	{"cellopoint", onSMTP, `^Cellopoint E-mail Firewall v(\d+(?:\.\d+)+)`, "Cellopoint", "E-mail Firewall", "Cellopoint", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1916
	{"david-fx", onSMTP, `Service ready by David\.fx \((\d+)\) ESMTP Server \(Tobit\.Software`, "Tobit Software", "ESMTP", "Tobit David", 1, nil, 0, nil, ""},
	// smtp_banners.xml:1888 (Twisted's default greeting)
	{"twisted", onSMTP, `^\S+ NO UCE NO UBE NO RELAY PROBES ESMTP$`, "Twisted Matrix Labs", "ESMTP", "Twisted", 0, nil, 0, nil, ""},
	// smtp_banners.xml:1926
	{"perl-smtp", onSMTP, `^\S+ ESMTP Perl$`, "", "Perl", "Perl", 0, nil, 0, nil, ""},
}

// anyGroup as a rule's version group takes the first capture group that
// took part in the match.
const anyGroup = -1

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
		if b.version > re.NumSubexp() || b.version < anyGroup {
			return nil, fmt.Errorf("fingerprint: built-in rule %q: version group %d > %d groups", b.name, b.version, re.NumSubexp())
		}
		lit, fold, more := literalsOf(b.pattern)
		field := b.field
		if field == 0 {
			field = FieldGreeting
		}
		r := &rule{
			name: "builtin:" + b.name, protos: b.protos, field: field, re: re, lit: lit, litFold: fold, more: more,
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
		if strings.Contains(line, "Domino Build") {
			fp.Vendor = "Lotus"
		}
	}
	return true
}

// postDominoRelease names the maker of a Domino release that does not say
// its brand (the IMAP greeting): IBM up to release 9, HCL from release 10
// (HCL took Domino over in 2019), as Recog names them.
func postDominoRelease(fp *Fingerprint, line string, m []int) bool {
	v := group(line, m, 1)
	if major, _, _ := strings.Cut(v, "."); len(major) == 1 && major[0] >= '1' && major[0] <= '9' {
		fp.Vendor, fp.Product = "IBM", "Lotus Domino"
	}
	return true
}

// postID takes version and OS from an IMAP ID reply (RFC 2971 field
// names "version" and "os").
func postID(fp *Fingerprint, line string, m []int) bool {
	fp.Version = idValue(line, "version")
	fp.OS = idValue(line, "os")
	return true
}

// idValue returns the value of key in an ID reply's list of quoted
// strings ("name" "Cyrus IMAPD" "version" "3.6.1"), "" if absent. Keys
// match case-insensitively (RFC 2971 §3.3); literals and NIL count as
// empty.
func idValue(line, key string) string {
	open := strings.IndexByte(line, '(')
	if open < 0 {
		return ""
	}
	s := line[open+1:]
	var prev string
	for i := 0; s != ""; i++ {
		s = strings.TrimLeft(s, " ")
		var tok string
		switch {
		case strings.HasPrefix(s, `"`):
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return ""
			}
			tok, s = s[1:end], s[end+1:]
		default:
			sp := strings.IndexAny(s, " )")
			if sp < 0 {
				return ""
			}
			tok, s = "", s[sp:]
			if s[0] == ')' {
				return ""
			}
		}
		if i%2 == 1 && strings.EqualFold(prev, key) {
			return tok
		}
		prev = tok
		if strings.HasPrefix(s, ")") {
			return ""
		}
	}
	return ""
}

// postKerioProduct names the product: Kerio MailServer was renamed Kerio
// Connect in version 7.
func postKerioProduct(fp *Fingerprint, line string, m []int) bool {
	fp.Product = "Kerio " + group(line, m, 1)
	return true
}
