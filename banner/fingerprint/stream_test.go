package fingerprint

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMatchLines(t *testing.T) {
	in := strings.Join([]string{
		"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.",
		"",
		"+OK Gpop ready for requests from 95.86.241.51 n67mb28062338lja\r",
		`220-laposte\n220 lpn-prd-vrin019 ESMTP Postfix (Ubuntu)`,
		"220 serv.hostname.com ESMTP Haraka/2.8.27 ready",
		"no prefix at all <&>",
	}, "\n")
	want := `{"banner":"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.","proto":"imap","vendor":"Dovecot","product":"Dovecot","family":"Dovecot","rule":"builtin:dovecot","evidence":[{"rule":"builtin:dovecot","field":"greeting","text":"Dovecot (Debian) ready."}]}
{"banner":"+OK Gpop ready for requests from 95.86.241.51 n67mb28062338lja","proto":"pop3","vendor":"Google","product":"Gmail","family":"Google","rule":"builtin:gmail","evidence":[{"rule":"builtin:gmail","field":"greeting","text":"Gpop ready for requests from "}]}
{"banner":"220-laposte\\n220 lpn-prd-vrin019 ESMTP Postfix (Ubuntu)","proto":"smtp","vendor":"Postfix","product":"Postfix","family":"Postfix","rule":"builtin:postfix","evidence":[{"rule":"builtin:postfix","field":"greeting","text":"lpn-prd-vrin019 ESMTP Postfix (Ubuntu)"}]}
{"banner":"220 serv.hostname.com ESMTP Haraka/2.8.27 ready","proto":"smtp","vendor":"Haraka","product":"Haraka","version":"2.8.27","family":"Haraka","rule":"builtin:haraka","evidence":[{"rule":"builtin:haraka","field":"greeting","text":"serv.hostname.com ESMTP Haraka/2.8.27 ready"}]}
{"banner":"no prefix at all <&>"}
`
	var out bytes.Buffer
	if err := Builtin().MatchLines(&out, strings.NewReader(in), ""); err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("MatchLines output:\n%s\nwant:\n%s", out.String(), want)
	}

	// A fixed protocol applies to every line, aliases included.
	out.Reset()
	if err := Builtin().MatchLines(&out, strings.NewReader("Dovecot ready.\n"), "imaps"); err != nil {
		t.Fatal(err)
	}
	if want := `{"banner":"Dovecot ready.","proto":"imap","vendor":"Dovecot","product":"Dovecot","family":"Dovecot","rule":"builtin:dovecot","evidence":[{"rule":"builtin:dovecot","field":"greeting","text":"Dovecot ready."}]}` + "\n"; out.String() != want {
		t.Errorf("MatchLines(imaps) = %s, want %s", out.String(), want)
	}
}

func TestMatchLinesErrors(t *testing.T) {
	var out bytes.Buffer
	if err := Builtin().MatchLines(&out, strings.NewReader("x\n"), "http"); err == nil || err.Error() != `fingerprint: unknown protocol "http" (want imap, pop3 or smtp)` {
		t.Errorf("unknown protocol: %v", err)
	}
	// A line past the limit is reported by number; the lines around it are
	// still matched and written (issue 13: nothing printed before).
	var good strings.Builder
	for i := 0; i < 50; i++ {
		good.WriteString("220 mx ESMTP Postfix\n")
	}
	long := good.String() + strings.Repeat("a", 70<<10) + "\n+OK Dovecot ready."
	out.Reset()
	err := Builtin().MatchLines(&out, strings.NewReader(long), "")
	var tl *LineTooLongError
	if !errors.As(err, &tl) || !reflect.DeepEqual(tl.Lines, []int{51}) {
		t.Errorf("long line: %v, want line 51 reported", err)
	}
	if n := strings.Count(out.String(), "\n"); n != 51 || !strings.Contains(out.String(), `"banner":"+OK Dovecot ready."`) {
		t.Errorf("long line: %d lines written, want 51 including the last:\n%.300s", n, out.String())
	}
	if !strings.Contains(err.Error(), "input line 51 longer than 65536 bytes") {
		t.Errorf("message %q does not name line 51", err)
	}
	if err := Builtin().MatchLines(failWriter{}, strings.NewReader("220 x ESMTP\n"), "smtp"); !errors.Is(err, errWrite) {
		t.Errorf("failing writer: %v", err)
	}
}

var errWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
