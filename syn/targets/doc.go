// Package targets describes the target space of a SYN scan: the allowed
// addresses of both families crossed with the ports to probe, numbered
// 0..Len()-1 so that a permutation of the indices (package cyclic) visits
// every (address, port) pair exactly once without per-target memory.
//
// The addresses are the IPv4 ranges followed by the IPv6 list: IPv6 is
// scanned as lists (from DNS, hit lists, earlier scans) and small prefixes,
// each indexed by its rank in a blocklist.Set6, so one index space, one
// permutation, one set of shards and one resume position cover a mixed
// scan. Index i maps to address rank i/len(ports) and port i%len(ports):
// the ports of one address are consecutive indices, and a random
// permutation of the indices still spreads one host's probes far apart in
// time.
//
// Build and BuildAddrs compute the allowed addresses from the user's
// targets, the IANA reserved ranges (blocklist.Reserved and Reserved6), the
// ranges the user explicitly allows among them, and the user's own
// blocklists, which always win. They also say how many targets each kind
// of exclusion removed. CheckSize keeps an IPv6 prefix typed a few bits too
// short from starting a scan of billions: above MaxIPv6Targets it needs
// force.
package targets
