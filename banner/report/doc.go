// Package report turns the banner stage's results (JSON lines, one
// banner.Result each) into the tables of an internet exposure report —
// "4,045,472 hosts run cleartext IMAP, 3,068,391 of them are Dovecot" — as
// text, Markdown, CSV, JSON or one self-contained HTML page with inline SVG
// bar charts.
//
// # What is counted
//
// Every number has one meaning, the same in every format:
//
//   - A line is a non-blank line of the input. It is either a record or a
//     bad line.
//   - A record is a line that decodes as one banner.Result with an IP
//     address, a non-zero port, a known protocol and a known status. Any
//     other line is a bad line: it is skipped, counted, and the first
//     MaxBadLines are listed as name:line with the reason.
//   - A target is a distinct (IP, port). A second record of a target is a
//     duplicate: it is counted, and it replaces the record kept so far only
//     when that one is not a service and the new one is (a retry that
//     reached the server wins; otherwise the first record stands).
//   - A pseudo-service host is an IP that any record flags with
//     answers_all_ports (a middlebox or tarpit that accepts every port).
//     Its targets are counted in the summary and nowhere else: no status,
//     service, host, TLS, vendor, country or provider count includes them.
//   - A service is a target of a real host whose status is success or that
//     has a greeting: something there spoke the protocol, even if it then
//     refused us or failed a TLS handshake. Other targets (refused, timed
//     out, no greeting) appear only in the status table.
//   - A host is a distinct IP with at least one service. "Share of hosts"
//     is always of this number.
//   - TLS for a service means a completed handshake, implicit or after
//     STARTTLS: a negotiated version and no handshake error. The TLS
//     versions table counts exactly these services.
//   - Certificates are judged by the leaf (the first certificate the server
//     presented), on every service that presented one, whether or not the
//     handshake then completed.
//   - STARTTLS offered and cleartext login come from the result's findings
//     (starttls_offered, cleartext_login); without the finding, STARTTLS
//     falls back to the starttls record and otherwise the service is
//     counted as unknown.
//   - A vendor family is the fingerprint's family, else its product, else
//     its vendor; a service without a fingerprint is "unknown".
//   - Countries and providers count hosts, looked up in MaxMind-format
//     databases (GeoLite2-Country, GeoLite2-ASN or compatible). The
//     provider is the first mapping (user file first, then the built-in
//     table) whose pattern matches the AS organisation, else the
//     organisation's own name; an address not in the database is
//     "unknown". Without a database the table is left out and the report
//     says how to add it.
//
// Tables are sorted by count, largest first, then by name. Tables with an
// open-ended set of names keep the top N rows (Options.Top) and fold the
// rest into one "other" row, so that every count column sums to the total
// row. Numbers carry thousands separators in text, Markdown and HTML and
// are raw in CSV and JSON; percentages are rounded to one decimal for
// reading and to two in CSV and JSON.
//
// # Limits
//
// Build streams its input: memory grows with the number of distinct
// targets (a few dozen bytes each) and distinct names, not with the number
// of records. Lines longer than MaxLineBytes are bad lines. Strings from
// the input (names, versions) are cleaned of control and bidirectional
// formatting characters and cut to MaxNameRunes before they reach any
// output, and the HTML page escapes them; CSV cells that a spreadsheet
// would take for a formula get a leading apostrophe.
package report
