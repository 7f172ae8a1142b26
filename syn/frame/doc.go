// Package frame builds the SYN probes of the scanner and parses the replies to
// them, as raw Ethernet II / IPv4 / TCP frames.
//
// It has three parts:
//
//   - Header views (Ethernet, IPv4, TCP): named byte slices with accessor and
//     setter pairs named after the RFC fields. They copy nothing and check
//     nothing; whoever holds one has checked its length once before use.
//   - Checksums: the RFC 1071 one's-complement sum, the TCP/IP pseudo-header
//     sum and the RFC 1624 incremental update.
//   - The probe Template, encoded once and then stamped out per destination
//     with only the destination address, ports, sequence number, IP ID and
//     the two checksums rewritten, and ParseReply, the receiver's fixed-offset
//     decoder of SYN-ACK and RST replies.
//
// Write and ParseReply are the per-packet hot path: they allocate nothing,
// take no locks and call no interfaces. ParseReply never panics on any input.
//
// Limits: IPv4 only (no IPv6), Ethernet II framing only (with at most one
// 802.1Q tag on receive), no IP fragment reassembly (a fragmented reply is
// not a reply), and no checksum verification on receive (see ParseReply).
package frame
