// Package frame builds the SYN probes of the scanner and parses the replies to
// them, as raw Ethernet II / IPv4 / TCP and Ethernet II / IPv6 / TCP frames.
//
// It has three parts:
//
//   - Header views (Ethernet, IPv4, IPv6, TCP): named byte slices with accessor and
//     setter pairs named after the RFC fields. They copy nothing and check
//     nothing; whoever holds one has checked its length once before use.
//   - Checksums: the RFC 1071 one's-complement sum, the IPv4 and IPv6
//     pseudo-header sums and the RFC 1624 incremental update.
//   - The probe Template (IPv4) and Template6 (IPv6), encoded once and then
//     stamped out per destination with only the destination address, ports,
//     sequence number, IP ID or flow label and the checksums rewritten, and
//     ParseReply, the receiver's fixed-offset decoder of SYN-ACK and RST
//     replies of both families.
//
// Write and ParseReply are the per-packet hot path: they allocate nothing,
// take no locks and call no interfaces. ParseReply never panics on any input.
//
// Limits: Ethernet II framing only (with at most one 802.1Q tag on
// receive), no IP fragment reassembly (a fragmented reply is not a reply),
// no IPv6 extension headers (a reply that carries one is not taken), and no
// checksum verification on receive (see ParseReply).
package frame
