// Package report turns the banner stage's results (JSON lines, one
// banner.Result each) into the tables of an internet exposure report, as
// the study it follows writes them — "4,045,472 hosts run cleartext IMAP on
// TCP/143 and 3,848,675 run IMAPS" — then by country and by provider, port
// by port, with the vendor families and the share that could be
// fingerprinted, and, given an earlier scan, the change since. Formats:
// text, Markdown, CSV, JSON or one self-contained HTML page with inline SVG
// bar charts.
//
// # What is counted
//
// Every number has one meaning, the same in every format:
//
//   - A line is a non-blank line of an input. It is either a record or a
//     bad line (a torn last line, say).
//   - A record is a line that decodes as a banner result with an IP address
//     (IPv4 or IPv6), a non-zero port, a known protocol and a known status.
//     Any other line is a bad line: it is skipped, counted, and the first
//     MaxBadLines are listed as name:line with the reason.
//   - A record with status "excluded" (a target the exclusion policy
//     refused, never dialled) is counted in the summary and nowhere else.
//   - A target is a distinct (IP, port) over all inputs: shards of one scan
//     count as one. A second record of a target is a duplicate: it is
//     counted, and it replaces the record kept so far only when that one is
//     not a service and the new one is (a retry that reached the server
//     wins; otherwise the first record stands).
//   - A pseudo-service host is an IP that any record flags with
//     answers_all_ports (a middlebox or tarpit that accepts every port).
//     Its targets are counted in the summary and nowhere else, also those
//     counted before the flag came: inputs that are files are read a second
//     time for those hosts; from a pipe they stay, and a note says so.
//   - A service is a target of a real host whose status is success or that
//     has a greeting: something there spoke the protocol, even if it then
//     refused us or failed a TLS handshake. Other targets (refused, timed
//     out, no greeting) appear only in the status table.
//   - A host is a distinct IP with at least one service. "Share of hosts"
//     is always of this number. IPv6 hosts are counted apart in the
//     summary and like any other in the tables.
//   - The port tables (headline, countries and providers by port, families
//     by port) count, per port and protocol, distinct hosts with a service
//     there; a host on several ports counts in each.
//   - TLS for a service means a completed handshake, implicit or after
//     STARTTLS: a negotiated version and no handshake error.
//   - Certificates are judged by the leaf (the first certificate the server
//     presented), on every service that presented one.
//   - STARTTLS offered and cleartext login come from the result's findings
//     (starttls_offered, cleartext_login); without the finding, STARTTLS
//     falls back to the starttls record and otherwise the service is
//     counted as unknown. A host is exposed when one of its services is.
//   - A vendor family is the fingerprint's family, else its product, else
//     its vendor; a service without a fingerprint is "unknown". Coverage is
//     the share of services with a family.
//   - Countries and providers are looked up once per host in
//     MaxMind-format databases (GeoLite2-Country, GeoLite2-ASN or
//     compatible). The provider is the first mapping (user file first,
//     then the built-in table) whose pattern matches the AS organisation,
//     else the organisation's own name; an address not in the database is
//     "unknown".
//   - With a baseline (an earlier results file, or the JSON of an earlier
//     report), every count and percentage gets the earlier value and the
//     change beside it; rows and port columns only the baseline has are
//     kept, at zero now. Percentages change in points.
//
// Tables are sorted by count, largest first, then by name. Tables with an
// open-ended set of names keep the top N rows (Options.Top) and fold the
// rest into one "other" row, so that every count column sums to the total
// row.
//
// # How it reads
//
// Inputs go through three stages: one goroutine reads blocks (gzip and zstd
// are recognised by their magic number and decompressed), one splits them
// into batches of whole lines, and one decoder per core turns lines into
// records with a hand-written scanner that reads only the fields the
// tables need and skips the rest (certificates, capabilities) without
// decoding it. It takes fields in any order and ignores unknown ones;
// anything it does not take on (escaped or case-folded keys, repeated
// objects, unexpected types, bad syntax) goes to encoding/json, which is
// then the reference, also for the error text. Batches are aggregated in
// input order.
//
// # Limits
//
// Per host the aggregate keeps 16 bytes (the address as a uint32 key of an
// open-addressing table, and three bitmaps of its ports: seen, service,
// exposed login), whatever its number of records; a target that is not a
// service costs 8 bytes more until a service replaces it. A report tells
// apart 31 (port, protocol) pairs; records on more are counted in a note.
// Lines longer than MaxLineBytes are bad lines. Strings from the input
// (names, versions) are cleaned of control and bidirectional formatting
// characters and cut to MaxNameRunes before they reach any output, and the
// HTML page escapes them; CSV cells that a spreadsheet would take for a
// formula get a leading apostrophe.
package report
