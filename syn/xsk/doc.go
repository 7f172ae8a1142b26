// Package xsk sends raw Ethernet frames through a Linux AF_XDP socket in copy
// mode: a Sender writes frames into a UMEM (frame buffers it shares with the
// kernel), queues them as TX ring descriptors, kicks the kernel with one
// sendto(2) per batch, and takes the frames back from the completion ring.
// It has the method set of afpacket.Sender (Next, Commit, Flush, Mode,
// Close), so the SYN stage can use either.
//
// It exists because the AF_PACKET send path is the limit of a single SYN
// sender: per frame, sendmmsg(2) copies and checks a message header and an
// iovec, and packet_snd parses the frame's headers and runs the flow
// dissector. The AF_XDP copy path (xsk_generic_xmit) reads a 16-byte
// descriptor, copies the frame into a socket buffer and hands it to the
// device. Into a veth whose peer drops everything, one sender on one thread
// measured 3.13 Mpps against 2.16 Mpps for sendmmsg (1.45×).
//
// Limits:
//   - Linux 5.4 or later, copy mode (XDP_COPY) only: no zero-copy, which veth
//     and most drivers lack, and no receive side (no RX ring, no XDP program).
//     Linux 6.17 or later lets one kick send a whole Batch
//     (XDP_MAX_TX_SKB_BUDGET); before, a kick sends at most 32 frames and
//     Flush kicks again.
//   - One socket per queue: a Sender binds to one queue of its interface,
//     and a second AF_XDP socket on that queue fails with EBUSY. Several
//     senders need several TX queues (ethtool -L; a veth has one by default,
//     see ethtool -l); on a device with one queue only one sender can use
//     AF_XDP and the others must use AF_PACKET. The kernel lets a closed
//     socket's queue go from a workqueue, so reopening the queue right after
//     Close may fail with EBUSY for a moment.
//   - A queue number the device has for receiving but not for sending binds
//     but never sends: Flush then fails with ETIMEDOUT after 10 s.
//   - Opening needs root or CAP_NET_RAW (such a failure satisfies
//     errors.Is(err, os.ErrPermission)); the UMEM (Frames × FrameSize bytes,
//     2 MiB by default) is pinned and, without CAP_IPC_LOCK, charged to
//     RLIMIT_MEMLOCK. When the kernel, the device or the queue refuses
//     AF_XDP, the error satisfies errors.Is(err, ErrUnsupported): fall back
//     to AF_PACKET.
//   - Frames skip the qdisc layer and the packet taps: they are invisible to
//     packet sniffers on the sending host.
//   - Kicks are raw system calls that keep the goroutine's processor (P)
//     while the kernel sends: run with more Ps than senders.
//   - A Sender is not safe for concurrent use: one per sender goroutine,
//     locked to its OS thread.
package xsk
