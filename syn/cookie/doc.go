// Package cookie makes and checks the stateless SYN cookies of the scanner:
// the source port and sequence number of each probe are derived from a keyed
// hash of the probe's addresses and destination port, so that a SYN-ACK or
// RST can be matched to its probe by recomputing the hash from the reply,
// without storing anything per probe.
//
// For a probe from saddr to daddr:dport,
//
//	h     = xxhash64(key ‖ saddr ‖ daddr ‖ dport)     (big-endian fields)
//	seq   = low 32 bits of h
//	sport = sportFirst + (h>>32) mod (sportLast−sportFirst+1)
//
// with 4-byte addresses for IPv4 probes (Probe, Check) and 16-byte ones for
// IPv6 probes (Probe6, Check6); the two input lengths keep the families
// apart. A reply from daddr:dport to saddr:lport with acknowledgment number
// ack answers it if and only if lport == sport and ack−1 == seq (mod 2^32):
// a SYN-ACK acknowledges seq+1, and so does the RST-ACK a closed port sends
// (RFC 793 section 3.4: the SYN counts as one octet). A reset without ACK
// carries no acknowledgment number worth checking and fails.
//
// Limits. xxhash is fast, not a MAC: the cookie rejects backscatter, stray
// traffic, stale replies from an earlier scan (new key) and replies mangled
// in transit, but not an attacker who reads our probes or can query the
// hash; such an attacker can forge "open" replies for any target. Nor does
// it hide that the scan is a scan. The key is 128 bits from crypto/rand, one
// per scan; a random reply to one of our addresses passes with probability
// 1/(2^32 · number of source ports).
package cookie
