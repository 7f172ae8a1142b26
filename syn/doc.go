// Package syn is mailscan's stateless SYN scanner: it walks a cyclic-group
// permutation of (address, port) targets of both IP families (IPv4 ranges
// and IPv6 lists or small prefixes in one index space), writes one raw
// Ethernet frame per probe on an AF_XDP or AF_PACKET socket, and recognises
// the answers (SYN-ACK: open, RST: closed) by a keyed cookie in the sequence
// number and source port, with no state kept per probe.
//
// The parts live in small packages of their own: the target space
// (syn/targets), the permutation (syn/cyclic), cookies (syn/cookie), frames
// and reply parsing (syn/frame), raw sockets (syn/xsk for AF_XDP sending,
// syn/afpacket for AF_PACKET sending and receiving), route and
// gateway discovery (syn/netroute), pacing (syn/pace) and the hit-list format
// (syn/hitlist). This package ties them into a Scanner: sender goroutines,
// each locked to an OS thread with its own socket and share of the cycle; one
// receiver goroutine; one output goroutine; a status line; a summary.
//
// Safety: every destination is checked against the blocklist of its family
// once more right before its frame is written, independently of how the
// target set was computed, so a bug in the set algebra cannot put a frame on
// the wire to an excluded address.
//
// Limits: both families leave through one interface, each with its own
// source address and next hop. The cookie is an xxhash of a random 128-bit
// key and the probe's addresses and port: it rejects backscatter and stray
// traffic, not an attacker who can read our probes.
package syn
