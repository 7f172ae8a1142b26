// Package hitlist is the hand-off between the two stages of mailscan, and
// between mailscan and the tools around it: a hit (an address and port that
// answered a SYN), the formats mailscan writes hits in, and a Reader of
// every common scanner output. The SYN stage (package syn) emits Hits; the
// banner stage takes them in through a Reader (mailscan banner) or a
// pipeline.Bridge (mailscan run), and each open hit becomes a banner.Target
// on the way: package banner itself never sees a Hit.
//
// The SYN stage writes hits as they are found, with a Writer (mailscan's
// CSV, JSON lines and "ip:port" list; ZGrab2's CSV input "ip,,tag,port";
// masscan's -oL list) or PortFiles (one address file per port, the input
// nmap's -iL takes). WriteZGrab2INI writes the `zgrab2 multiple` sections
// that the ZGrab2 format's tags trigger. The Writer is on the per-hit path of
// a scan: it formats into a reused buffer and allocates nothing per hit.
//
// The Reader takes, and tells apart by their content, not their names:
// mailscan's own formats; zmap's CSV and JSON with any field set (saddr,
// sport, classification, success, repeat, ...; a lone "saddr" header
// too); masscan's -oL, -oJ (masscan 1.0's "{finished: 1}" last line is
// its end, not a bad line), -oD, -oX, -oG and -oB (binary); nmap's -oG
// and -oX; ZGrab2's CSV input; and plain addresses, to which the caller's
// default ports apply. IPv6
// addresses are read ("[2001:db8::1]:143" in list form) and returned; the
// caller decides what to do with them.
//
// Only open ports are returned: closed and filtered rows, zmap's success=0
// and masscan's banner records are skipped and counted (Stats.NotOpen). Each
// (address, port) pair is returned once, however often the input repeats it
// (zmap's repeat=1 rows, concatenated shards), in a set of about 24 bytes a
// pair. A record with an address but no port takes the default ports, except
// a scanner's record (zmap's saddr-only output) with several default ports:
// that ends the input with ErrPortUnknown rather than connect to every
// address on every port.
//
// A bad line is reported as a *LineError naming the file, line and value;
// the caller skips it and reads on, so a damaged file never loses the hits
// around the damage. Damage after which no record boundary can be found
// (broken XML, a corrupt binary record) ends the input with an error, after
// every hit before it. Memory is bounded per record: MaxLineBytes per line,
// MaxRecordBytes per JSON object, XML token and binary record, and a fixed
// XML nesting depth.
package hitlist
