// Package targets describes the target space of a SYN scan: the allowed
// IPv4 addresses crossed with the ports to probe, numbered 0..Len()-1 so
// that a permutation of the indices (package cyclic) visits every
// (address, port) pair exactly once without per-target memory.
//
// Index i maps to address rank i/len(ports) and port i%len(ports): the
// ports of one address are consecutive indices, and a random permutation
// of the indices still spreads one host's probes far apart in time.
//
// Build computes the allowed addresses from the user's targets, the
// IANA reserved ranges (blocklist.Reserved), the ranges the user explicitly
// allows among them, and the user's own blocklists, which always win. It
// also says how many targets each kind of exclusion removed.
package targets
