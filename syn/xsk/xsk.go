package xsk

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// Defaults applied by NewSender for zero Config fields.
const (
	// DefaultFrames is the default Config.Frames: 2 MiB of UMEM, room for
	// 16 batches in flight. On a veth it sent 4-5% faster than 4096 frames
	// (fewer cache and TLB misses), and it stays well inside the 8 MiB
	// RLIMIT_MEMLOCK common without CAP_IPC_LOCK.
	DefaultFrames = 1024
	// DefaultFrameSize is the default Config.FrameSize: the smallest UMEM
	// chunk the kernel accepts (XDP_UMEM_MIN_CHUNK_SIZE).
	DefaultFrameSize = 2048
	// DefaultBatch is the default Config.Batch.
	DefaultBatch = 64
	// DefaultSendBuffer is the default Config.SendBuffer.
	DefaultSendBuffer = 4 << 20
)

// Limits of the kernel's XDP_UMEM_REG on a UMEM of aligned chunks.
const (
	minFrameSize = 2048    // XDP_UMEM_MIN_CHUNK_SIZE
	maxFrames    = 1 << 20 // with maxUMEM, far past any use and inside the kernel's u32 limits
	maxUMEM      = 1 << 30 // bytes of UMEM: pinned memory, and within a 32-bit address space
)

// Config configures a Sender. A nil *Config, and every zero field, applies
// the default.
type Config struct {
	// Frames is the number of frame buffers in the UMEM (default 1024,
	// rounded up to a power of two). It is also the size of the TX and
	// completion rings, so every frame can be in flight at once; it bounds
	// how many frames the kernel holds before Next has to wait.
	Frames int
	// FrameSize is the size of one UMEM frame (chunk) in bytes: a power of
	// two from 2048 to the page size (default 2048). It is the length of the
	// slices Next returns; a SYN probe needs 78 bytes, but the kernel takes
	// nothing smaller.
	FrameSize int
	// Batch is how many committed frames Next lets accumulate before it
	// flushes them by itself (default 64; at most Frames). The kernel's copy
	// path sends at most max(Batch, 32) frames per kick.
	Batch int
	// SendBuffer is SO_SNDBUF in bytes (default 4 MiB, forced past
	// net.core.wmem_max when privileged). In copy mode every frame becomes a
	// socket buffer charged to the socket until the device frees it, so it
	// bounds the bytes in flight.
	SendBuffer int
}

func (c *Config) setDefaults(page int) error {
	if c.Frames == 0 {
		c.Frames = DefaultFrames
	}
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if c.Batch == 0 {
		c.Batch = min(DefaultBatch, c.Frames)
	}
	if c.SendBuffer == 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	switch {
	case c.Frames < 1 || c.Frames > maxFrames:
		return fmt.Errorf("xsk: Frames %d out of range [1, %d]", c.Frames, maxFrames)
	case c.FrameSize < minFrameSize || c.FrameSize > page || c.FrameSize&(c.FrameSize-1) != 0:
		return fmt.Errorf("xsk: FrameSize %d is not a power of two in [%d, %d] (the page size)", c.FrameSize, minFrameSize, page)
	case c.Batch < 1 || c.Batch > c.Frames:
		return fmt.Errorf("xsk: Batch %d out of range [1, Frames=%d]", c.Batch, c.Frames)
	case c.SendBuffer < 0:
		return fmt.Errorf("xsk: negative SendBuffer %d", c.SendBuffer)
	}
	// The rings' sizes must be powers of two, and they are as large as the
	// UMEM (see Config.Frames).
	c.Frames = int(ceilPow2(uint32(c.Frames)))
	if int64(c.Frames)*int64(c.FrameSize) > maxUMEM {
		return fmt.Errorf("xsk: Frames %d × FrameSize %d exceeds %d bytes of UMEM", c.Frames, c.FrameSize, maxUMEM)
	}
	return nil
}

// ceilPow2 returns the least power of two >= v (v in [1, 2^31]).
func ceilPow2(v uint32) uint32 {
	p := uint32(1)
	for p < v {
		p <<= 1
	}
	return p
}

// Stats counts a Sender's work since it was opened.
type Stats struct {
	// Sent is the number of frames the kernel has taken from the TX ring.
	Sent uint64
	// Rejected is the number of frames Commit refused for their length
	// (shorter than an Ethernet header, longer than the frame or than MTU +
	// header) and never queued: the kernel would skip such a descriptor
	// without ever completing its frame.
	Rejected uint64
	// Dropped is the number of frames the device refused after the kernel
	// had taken them (the kick returned EBUSY: NET_XMIT_DROP). They are
	// counted in Sent too.
	Dropped uint64
	// Flushes is the number of batches published to the kernel.
	Flushes uint64
	// Kicks is the number of sendto(2) calls made to wake the kernel.
	Kicks uint64
}

// Sender sends raw Ethernet frames through an AF_XDP socket bound to one
// queue of an interface in copy mode (XDP_COPY): frames are written into a
// UMEM of frame buffers shared with the kernel, queued as TX ring
// descriptors, and returned through the completion ring once the device is
// done with them. It has no RX ring and needs no XDP program.
//
// Not safe for concurrent use: use one per sender goroutine, which should
// call runtime.LockOSThread. The cycle is Next (a frame to write into),
// Commit (its length), and now and then Flush; Next flushes by itself every
// Batch frames and waits, sleeping, while every frame is in flight.
type Sender struct {
	s sender // per-OS implementation
}

// ErrUnsupported is matched (errors.Is) by NewSender's error when the
// kernel, the device or the queue refuses an AF_XDP socket in copy mode: a
// kernel without CONFIG_XDP_SOCKETS or older than 5.4, a queue the device
// does not have, a queue another AF_XDP socket holds, another operating
// system. The caller should fall back to AF_PACKET.
var ErrUnsupported = errors.New("AF_XDP unavailable")

// unsupportedError is a refusal of AF_XDP itself, as opposed to a failure of
// this one socket: it matches ErrUnsupported and unwraps to the system
// call's error.
type unsupportedError struct {
	why string
	err error // *os.SyscallError, or nil
}

func unsupported(why string, err error) error { return &unsupportedError{why, err} }

func (e *unsupportedError) Error() string {
	if e.err == nil {
		return "xsk: " + ErrUnsupported.Error() + ": " + e.why
	}
	return "xsk: " + ErrUnsupported.Error() + ": " + e.why + ": " + e.err.Error()
}
func (e *unsupportedError) Unwrap() error        { return e.err }
func (e *unsupportedError) Is(target error) bool { return target == ErrUnsupported }

// NewSender opens a Sender on queue queue of the interface with index
// ifindex. A nil cfg applies the defaults. A missing privilege (root or
// CAP_NET_RAW) satisfies errors.Is(err, os.ErrPermission); a kernel, device
// or queue that refuses AF_XDP satisfies errors.Is(err, ErrUnsupported).
func NewSender(ifindex, queue int, cfg *Config) (*Sender, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if err := c.setDefaults(os.Getpagesize()); err != nil {
		return nil, err
	}
	if queue < 0 || int64(queue) > 1<<32-1 {
		return nil, fmt.Errorf("xsk: queue %d out of range", queue)
	}
	s := &Sender{}
	if err := s.s.open(ifindex, queue, &c); err != nil {
		return nil, err
	}
	return s, nil
}

// Next returns the frame to write the next frame into; its length is the
// configured FrameSize. It flushes first when Batch frames are waiting, and
// when no frame is free it takes back the frames the kernel has completed,
// waiting, sleeping, until there is one. Calling Next again without Commit
// returns the same frame.
func (s *Sender) Next() ([]byte, error) { return s.s.next() }

// Commit queues the frame last returned by Next as n bytes long: a TX
// descriptor, not yet published to the kernel (see Flush). A length the
// interface cannot send is counted in Stats().Rejected and the frame is
// reused. Commit panics if no frame is reserved by Next.
func (s *Sender) Commit(n int) { s.s.commit(n) }

// Flush publishes every committed descriptor and kicks the kernel with
// sendto(2) until it has taken them all. The kernel's copy path takes at most
// a bounded batch per kick; Flush kicks again while it makes progress, and
// sleeps, backing off, while it does not (device queue or send buffer full).
func (s *Sender) Flush() error { return s.s.flush() }

// Mode reports the send path: "af_xdp".
func (s *Sender) Mode() string { return "af_xdp" }

// Stats returns the Sender's counters.
func (s *Sender) Stats() Stats { return s.s.stats }

// Close flushes committed frames, waits for the kernel to complete every
// frame in flight, and releases the socket, rings and UMEM. They are released
// even if the flush fails; that error is returned.
func (s *Sender) Close() error { return s.s.close() }

// Operation names used in *net.OpError values.
const (
	opSocket     = "socket"
	opSetsockopt = "setsockopt"
	opGetsockopt = "getsockopt"
	opBind       = "bind"
	opMmap       = "mmap"
	opSendto     = "sendto"
	opClose      = "close"
)

// opError wraps err as package net does, so that callers can test it with
// errors.Is (os.ErrPermission, net.ErrClosed, ErrUnsupported). A nil err
// stays nil.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &net.OpError{Op: op, Net: "xdp", Err: err}
}
