package fingerprint_test

import (
	"fmt"
	"os"
	"strings"

	"mailscan/banner/fingerprint"
)

func ExampleMatcher_Match() {
	fp, ok := fingerprint.Builtin().Match("imap",
		"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.")
	fmt.Println(ok, fp.Family, fp.Rule)

	fp, _ = fingerprint.Builtin().Match("smtp", "220 forn.local ESMTP Sendmail 8.16.1+Sun/8.16.1; Fri, 21 May 2021 15:29:53 +0200 (CEST)")
	fmt.Println(fp.Product, fp.Version)
	// Output:
	// true Dovecot builtin:dovecot
	// Sendmail 8.16.1
}

func ExampleLoadRecog() {
	db, err := fingerprint.LoadRecog("testdata/recog")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.SplitN(db.Report().String(), "\n", 2)[0])
	m := fingerprint.Builtin().WithRecog(db)
	fp, _ := m.Match("smtp", "220 mx.example.org ESMTP ExampleMTA/2.8.27 ready")
	fmt.Println(fp.Family, fp.Version, fp.Rule)
	// Output:
	// loaded 5 patterns, skipped 4:
	// ExampleMTA 2.8.27 recog:smtp_banners.xml:10
}

func ExampleMatcher_MatchLines() {
	in := strings.NewReader("+OK Dovecot ready.\n220 tucson ESMTP OpenSMTPD\n")
	if err := fingerprint.Builtin().MatchLines(os.Stdout, in, ""); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"banner":"+OK Dovecot ready.","proto":"pop3","vendor":"Dovecot","product":"Dovecot","family":"Dovecot","rule":"builtin:dovecot","evidence":[{"rule":"builtin:dovecot","field":"greeting","text":"Dovecot ready."}]}
	// {"banner":"220 tucson ESMTP OpenSMTPD","proto":"smtp","vendor":"OpenBSD","product":"OpenSMTPD","family":"OpenSMTPD","rule":"builtin:opensmtpd","evidence":[{"rule":"builtin:opensmtpd","field":"greeting","text":"tucson ESMTP OpenSMTPD"}]}
}
