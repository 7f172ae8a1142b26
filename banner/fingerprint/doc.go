// Package fingerprint names the software behind a mail server's dialogue:
// vendor, product, version, family and OS where told, from built-in rules and,
// optionally, a Rapid7 Recog XML database. Every fingerprint carries the rule
// that named the software and its evidence.
//
// # What is matched
//
// [Matcher.MatchFacts] takes the [Facts] of one dialogue: the greeting, the
// capabilities before and after TLS, the replies to IMAP "ID NIL", SMTP HELP,
// a refused POP3 CAPA, LOGOUT/QUIT and STARTTLS, the leaf certificate's
// subject and issuer, the APOP timestamp. Each is a [Field] that rules name.
// [Matcher.Match] is MatchFacts with the greeting alone.
//
// The greeting is cut into the text each rule was written for, the same text
// Recog's imap4.banner, pop3.banner and smtp.banner databases expect:
//
//   - IMAP: the line after "* OK " (or "* PREAUTH ", "* BYE ") with a leading
//     response code such as "[CAPABILITY ...] " removed, so that
//     "* OK [CAPABILITY IMAP4rev1 ...] Dovecot (Debian) ready." becomes
//     "Dovecot (Debian) ready.";
//   - POP3: the line after "+OK " (or "-ERR ");
//   - SMTP: every line after its reply code and separator ("220 ", "220-"),
//     one line at a time, as Recog's smtp_banners.xml says it is used.
//
// HELP replies are cut like SMTP greetings; the other fields are matched a
// line at a time as sent, capabilities one per line. Trailing blanks and CR
// are dropped, and at most 16 lines of a field are read. Text without the
// prefix (a banner copied from another tool) is used as it is.
//
// # Rules and their order
//
// The built-in rules (rules.go) are one table, the rule language: each row
// names the protocols and the field it reads, a pattern, further conditions
// on other fields, and what it yields. Rows are ordered most specific first,
// rules over the software's own words (an ID reply, a CAPA IMPLEMENTATION
// line, an EHLO keyword only one implementation sends) before greeting
// rules; the first match names vendor, product and family, and later
// matches of the same family add their evidence and a version or OS the
// first lacked. Each row cites where its pattern comes from: the lab's real
// servers (testdata/transcripts.jsonl), public greetings
// (testdata/greetings.tsv) or Recog's examples (testdata/recog_examples.tsv),
// all of which the tests run.
//
// A Matcher built by [Matcher.WithRecog] also tries the Recog patterns on the
// greeting; where a built-in rule and a Recog pattern both match, [Merge]
// keeps the most specific answer: Recog's vendor and product, the longer of
// two versions that extend each other, the built-in family name.
//
// # Recog databases
//
// [LoadRecog] reads imap_banners.xml, pop_banners.xml and smtp_banners.xml
// from a directory. Recog's reference implementation is Ruby, whose regular
// expressions are richer than Go's RE2: patterns using lookarounds,
// backreferences, possessive quantifiers, atomic groups, \Z, \h and the like are
// not rewritten but skipped, and [RecogDB.Report] lists each one with the
// reason. Ruby semantics are kept where RE2 can express them: ^ and $ always
// match at line boundaries (Ruby's rule, so every pattern gets (?m)),
// REG_ICASE becomes (?i), and REG_DOT_NEWLINE, REG_MULTILINE and
// REG_LINE_ANY_CRLF become (?s), as Ruby maps them all to Regexp::MULTILINE.
// [RecogDB.Verify] runs Recog's own check: every <example> must match its
// fingerprint and yield the parameter values its attributes state.
//
// # Limits
//
// A greeting is a claim made by the server, not proof: administrators change
// greetings, proxies and filters answer for the servers behind them, and many
// servers (qmail, hMailServer's SMTP, Kerio with its name hidden) say nothing
// about themselves. No match is the honest answer then.
package fingerprint
