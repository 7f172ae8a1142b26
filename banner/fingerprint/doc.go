// Package fingerprint names the software behind a mail server's greeting:
// vendor, product, version and family, from built-in rules and, optionally, a
// Rapid7 Recog XML database.
//
// # What is matched
//
// [Matcher.Match] takes the greeting exactly as the server sent it ("* OK ...",
// "+OK ...", "220 ..." or "220-..." lines joined with "\n") and cuts it into the
// text each rule was written for, the same text Recog's imap4.banner,
// pop3.banner and smtp.banner databases expect:
//
//   - IMAP: the line after "* OK " (or "* PREAUTH ", "* BYE ") with a leading
//     response code such as "[CAPABILITY ...] " removed, so that
//     "* OK [CAPABILITY IMAP4rev1 ...] Dovecot (Debian) ready." becomes
//     "Dovecot (Debian) ready.";
//   - POP3: the line after "+OK " (or "-ERR ");
//   - SMTP: every line after its reply code and separator ("220 ", "220-"),
//     one line at a time, as Recog's smtp_banners.xml says it is used.
//
// Trailing blanks and CR are dropped. Text without the prefix (a banner copied
// from another tool) is used as it is.
//
// # Rules and their order
//
// The built-in rules (rules.go) are a table ordered most specific first and are
// tested against real greetings collected from public sources
// (testdata/greetings.tsv names where each one was seen). A Matcher built by
// [Matcher.WithRecog] tries the built-in rules first and the Recog patterns
// after them: the built-ins are tested and give the stable family names the
// report counts, Recog fills the gaps for software they do not know.
// [Matcher.WithRecogFirst] gives Recog precedence instead.
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
