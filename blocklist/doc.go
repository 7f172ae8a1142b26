// Package blocklist holds sets of IPv4 addresses (Set) and IPv6 addresses
// (Set6) as sorted lists of disjoint ranges: the targets of a scan, the
// ranges it must never touch, and the algebra between them (union,
// intersection, difference). Policy is the one exclusion policy of both
// families that every stage asks before it sends or dials.
//
// Addresses are uint32 values in host byte order (1.2.3.4 == 0x01020304),
// the form the scanner's hot paths use; netip.Addr conveniences sit on top.
// A Set is immutable once built, so one Set may be shared by every sender
// goroutine without locking. Contains, the per-packet blocklist check, is a
// binary search over the ranges and allocates nothing. At and IndexOf map
// between an address and its rank in the set, so a scan can walk a
// permutation of [0, Len()) without any per-address memory. Set6 does the
// same for IPv6 lists and prefixes, with the addresses of its per-packet
// methods (ContainsAddr6, AtAddr6) as Addr6, two uint64 halves.
//
// Parse reads ZMap's blocklist/allowlist file format: one entry per line,
// "#" starts a comment anywhere on a line, blank lines and surrounding
// whitespace are ignored. An entry is an address ("192.0.2.1"), a CIDR
// prefix ("192.0.2.0/24"; host bits are masked off, as ZMap does) or, as
// masscan writes it, an inclusive range ("192.0.2.1-192.0.2.9").
//
// Limits, and where this parser is deliberately stricter than ZMap's:
//   - Parse reads IPv4 only: an IPv6 entry is an error (ErrIPv6), not
//     silently dropped. ParseList takes IPv6 entries too, into a Set6.
//   - No host names: ZMap resolves names through DNS while loading a
//     blocklist; an exclusion list that depends on DNS answers is not one
//     a scanner should trust, so names are errors here.
//   - Addresses are dotted quads with four decimal fields (netip's syntax):
//     the shorthand forms inet_aton(3) accepts ("10.1", "0x0a.0.0.1",
//     octal "010.0.0.1") are errors, because their meaning surprises.
//   - ZMap reads only the first whitespace-separated word of a line and
//     ignores the rest; a line holding two words ("192.0.2.0/24 10.0.0.0/8")
//     is an error here, so that an address the author meant to block is
//     never dropped without a word.
//   - Lines are bounded (MaxLineLength); every bad line is reported, up to
//     MaxLineErrors of them, with file, line number and value.
package blocklist
