// Package hitlist is the one small type the two stages of mailscan share: a
// hit (an address and port that answered a SYN) and its three text forms.
//
// The SYN stage writes hits with a Writer as they are found; the banner stage,
// and any other tool, reads them back with a Reader. The Reader is lenient in
// what it takes, because hit lists come from many tools: besides mailscan's own
// CSV (with header), JSON lines and "ip:port" list, it reads zmap's CSV and
// JSON (saddr/sport), masscan's -oL list ("open tcp 143 192.0.2.1 1700000000"),
// zgrab2's input CSV ("ip,domain,tag,port") and plain addresses, to which the
// caller's default ports are applied. A bad line is reported as a *LineError
// naming the file, line and value; the caller skips it and reads on, so a
// damaged file never loses the hits around the damage.
//
// The Writer is on the per-hit path of a scan: it formats into a reused buffer
// and allocates nothing per hit.
package hitlist
