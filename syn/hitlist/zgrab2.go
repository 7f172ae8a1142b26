package hitlist

import (
	"fmt"
	"io"
	"strings"
)

// zgrab2Section is one section of the ini WriteZGrab2INI writes: a ZGrab2
// module, its options as ZGrab2's flags name them (modules/smtp, imap, pop3
// scanner.go), triggered by the tag of the ZGrab2 format.
type zgrab2Section struct {
	module string
	tag    string
	opts   []string
}

// zgrab2Sections follow mailscan's own dialogue as far as ZGrab2's flags
// allow: implicit TLS on 465, 993, 995; STARTTLS/STLS on the cleartext
// IMAP and POP3 ports (ZGrab2's smtp module sends STARTTLS by itself when
// EHLO offers it); a polite QUIT where the module can send one.
//
// Every section sets no-sni, as mailscan sends no SNI to an address: the
// domain column, when filled, is the scanner's EHLO name, not the server's.
var zgrab2Sections = []zgrab2Section{
	{"smtp", "smtp", []string{"send-quit=true", "no-sni=true"}},
	{"smtp", "submission", []string{"send-quit=true", "no-sni=true"}},
	{"smtp", "smtps", []string{"smtps=true", "send-quit=true", "no-sni=true"}},
	{"imap", "imap", []string{"starttls=true", "no-sni=true"}},
	{"imap", "imaps", []string{"imaps=true", "no-sni=true"}},
	{"pop3", "pop3", []string{"starttls=true", "send-quit=true", "no-sni=true"}},
	{"pop3", "pop3s", []string{"pop3s=true", "send-quit=true", "no-sni=true"}},
}

// WriteZGrab2INI writes the configuration of `zgrab2 multiple` for a hit
// list in the ZGrab2 format: one section per mail protocol, named after it
// and triggered by its tag, with its conventional port (a line's own port
// comes first). ZGrab2 runs on a line only the sections whose trigger
// equals the line's tag.
func WriteZGrab2INI(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`# ZGrab2 "multiple" configuration for hit lists written by mailscan -O zgrab2
# ("ip,,tag,port": the tag names the mail protocol of the port).
#
#   zgrab2 multiple -b blocklist.txt -c mail.ini -f hits.zgrab2.csv -o results.jsonl
#
# ZGrab2 will not start without a blocklist file (-b, else
# ~/.config/zgrab2/blocklist.conf): give it the one the scan used.
# ZGrab2 runs on each line only the section whose trigger equals the line's
# tag, on the line's port. Its smtp module sends EHLO with the line's domain
# column as the name, and STARTTLS when EHLO offers it: write the list with
# -O zgrab2:NAME to fill the column (a bare EHLO gets "501" from Postfix, and
# then no STARTTLS). Lines with an empty tag (ports with no mail protocol)
# trigger no section.
`)
	for _, s := range zgrab2Sections {
		port, _ := TagPort(s.tag)
		fmt.Fprintf(&b, "\n[%s]\nname=%q\ntrigger=%q\nport=%d\n", s.module, s.tag, s.tag, port)
		for _, o := range s.opts {
			b.WriteString(o + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
