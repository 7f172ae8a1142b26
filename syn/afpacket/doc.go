// Package afpacket moves raw Ethernet frames between the scanner and one
// network interface through Linux AF_PACKET sockets: a Sender that writes
// frames through a memory-mapped PACKET_TX_RING (or sendmmsg(2) where no ring
// can be had), and a Receiver that reads frames through a TPACKET_V3 RX ring
// with a classic BPF filter attached in the kernel.
//
// It exists because the SYN stage must move well over a million frames per
// second with no allocation and very few system calls per frame: a Sender
// hands a whole batch to the kernel with one sendto(2) or sendmmsg(2), and a
// Receiver hands a whole block of frames to user space per wake-up.
//
// Limits:
//   - Linux only. On other systems every constructor returns an error naming
//     the operating system; FilterTCPTo and FilterReplies work everywhere.
//   - Opening a socket needs root or CAP_NET_RAW; such a failure satisfies
//     errors.Is(err, os.ErrPermission).
//   - A Sender's sockets are bound with protocol 0, so they never receive, and
//     with PACKET_QDISC_BYPASS (the default) its frames skip the qdisc layer
//     and are invisible to packet sniffers on the sending host.
//   - A Receiver sees only frames arriving on its interface
//     (PACKET_IGNORE_OUTGOING, Linux 4.20+). The kernel strips an 802.1Q tag
//     before packet sockets see a frame, so frames reach the callback untagged.
//   - Neither type is safe for concurrent use, except Receiver.Stats and
//     Receiver.Close, which may be called while another goroutine polls.
package afpacket
