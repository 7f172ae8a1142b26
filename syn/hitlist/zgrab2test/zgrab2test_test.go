package zgrab2test_test

import (
	"strings"
	"testing"

	"mailscan/syn/hitlist/zgrab2test"
)

// TestRuns: ZGrab2's own example input (integration_tests/multiple) and an
// ini in its style: lines run only the sections their tag triggers, on the
// line's port or the section's; lines ZGrab2 skips are errors.
func TestRuns(t *testing.T) {
	ini := "# comment\n; comment\n[imap]\nname=\"imaps\"\ntrigger=\"imaps\"\nport=993\nimaps=true\n[smtp]\nname=\"smtp\"\ntrigger=\"smtp\"\nport=25\n"
	list := "198.18.16.7, , imaps\n198.18.16.8,,smtp,2525\n198.18.16.9,,http80\n# comment\n"
	runs, err := zgrab2test.Runs(strings.NewReader(list), strings.NewReader(ini))
	if err != nil {
		t.Fatal(err)
	}
	want := "198.18.16.7:993 imap implicit-tls|198.18.16.8:2525 smtp starttls-if-offered"
	if got := strings.Join(runs, "|"); got != want {
		t.Errorf("runs %q, want %q", got, want)
	}
	for _, bad := range []string{"198.18.16.7,,imaps,143,x\n", "mail.example,,imaps\n", "198.18.16.7,,imaps,x\n"} {
		if _, err := zgrab2test.Runs(strings.NewReader(bad), strings.NewReader(ini)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestCheckSections: what zgrab2 refuses is refused.
func TestCheckSections(t *testing.T) {
	for _, ini := range []string{
		"[imap]\nname=\"a\"\nsmtps=true\n",                // not an imap flag
		"[imap]\nname=\"a\"\n[imap]\nname=\"a\"\n",        // one name twice
		"[imap]\ntrigger=\"a\"\n",                         // no name
		"[http]\nname=\"a\"\n",                            // not a mail module
		"[pop3]\nname=\"a\"\npop3s=yes\n",                 // not a boolean
		"[pop3]\nname=\"a\"\npop3s=true\nstarttls=true\n", // both TLS modes
		"[smtp]\nname=\"a\"\nport=70000\n",                // not a port
		"port=25\n",                                       // outside a section
	} {
		sections, err := zgrab2test.ReadINI(strings.NewReader(ini))
		if err == nil && len(zgrab2test.CheckSections(sections)) == 0 {
			t.Errorf("%q accepted", ini)
		}
	}
}
