package afpacket

import (
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"
)

// Mode selects how a Sender hands frames to the kernel.
type Mode int

const (
	// ModeAuto (the zero value) picks by the kind of interface. On a
	// device with hardware behind it, a TX ring: the NIC sends straight
	// from the ring's pages. On a virtual device (veth, and anything else
	// without a /sys/class/net/IF/device), sendmmsg: such a device cannot
	// keep zero-copy ring pages and copies every frame into a new page
	// (skb_copy_ubufs), which on a veth measured 5-7% slower than the copy
	// sendmmsg makes anyway. Either way it falls back to the other path
	// when the kernel refuses the first.
	ModeAuto Mode = iota
	// ModeRing writes frames into a memory-mapped PACKET_TX_RING and kicks
	// the kernel with one sendto(2) per batch.
	ModeRing
	// ModeSendmmsg copies each batch to the kernel with one sendmmsg(2).
	ModeSendmmsg
)

// String returns the name ParseMode accepts: "auto", "tx-ring" or
// "sendmmsg".
func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeRing:
		return "tx-ring"
	case ModeSendmmsg:
		return "sendmmsg"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// ParseMode returns the Mode named s: "auto", "tx-ring" (or "ring") or
// "sendmmsg".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "auto", "":
		return ModeAuto, nil
	case "tx-ring", "ring":
		return ModeRing, nil
	case "sendmmsg":
		return ModeSendmmsg, nil
	}
	return 0, fmt.Errorf("afpacket: unknown send mode %q (want auto, tx-ring or sendmmsg)", s)
}

// Defaults applied by NewSender for zero SenderConfig fields.
const (
	DefaultFrameSize  = 128     // DefaultFrameSize is the default SenderConfig.FrameSize.
	DefaultRingFrames = 4096    // DefaultRingFrames is the default SenderConfig.RingFrames.
	DefaultBatch      = 64      // DefaultBatch is the default SenderConfig.Batch.
	DefaultSendBuffer = 4 << 20 // DefaultSendBuffer is the default SenderConfig.SendBuffer.
)

// SenderConfig configures a Sender. A nil *SenderConfig, and every zero
// field, applies the default.
type SenderConfig struct {
	// FrameSize is the largest frame, in bytes, that Next's slots hold
	// (default 128; a SYN probe is at most 78 bytes).
	FrameSize int
	// RingFrames is the least number of TX ring slots (default 4096; rounded
	// up to fill the ring's blocks). It bounds how many frames can be in
	// flight in the kernel at once.
	RingFrames int
	// Batch is how many committed frames Next lets accumulate before it
	// flushes them by itself (default 64; at most RingFrames). It is also the
	// number of slots of the sendmmsg path.
	Batch int
	// Mode chooses the send path (default ModeAuto).
	Mode Mode
	// UseQdisc sends frames through the interface's qdisc layer. By default
	// the Sender sets PACKET_QDISC_BYPASS: a scanner paces itself, so traffic
	// control would only add work per frame (and a queue to overflow).
	UseQdisc bool
	// SendBuffer is SO_SNDBUF in bytes (default 4 MiB, forced past
	// net.core.wmem_max when privileged). It bounds the bytes in flight.
	SendBuffer int
}

// SenderStats counts a Sender's work since it was opened.
type SenderStats struct {
	// Sent is the number of frames handed to the kernel.
	Sent uint64
	// Rejected is the number of frames refused, dropped and never retried:
	// committed with a length the kernel would refuse (shorter than an
	// Ethernet header, longer than the slot or than MTU + header), or, on the
	// sendmmsg path, refused by the kernel itself (EMSGSIZE, EINVAL). A TX
	// ring would mark such a frame TP_STATUS_WRONG_FORMAT and stop there for
	// good, so the ring runs with PACKET_LOSS and Commit applies the kernel's
	// length rules before a frame reaches it.
	Rejected uint64
	// Flushes is the number of batches handed to the kernel.
	Flushes uint64
}

// Sender writes raw Ethernet frames on one interface. Not safe for
// concurrent use: use one per sender goroutine, which should call
// runtime.LockOSThread so that the kernel's per-CPU work stays local.
//
// The cycle is Next (a slot to write into), Commit (its length), and now and
// then Flush; Next flushes by itself every Batch frames and waits, sleeping,
// while every slot is in flight.
type Sender struct {
	s sender // per-OS implementation
}

// NewSender opens a Sender on the interface with index ifindex. A nil cfg
// applies the defaults.
func NewSender(ifindex int, cfg *SenderConfig) (*Sender, error) {
	var c SenderConfig
	if cfg != nil {
		c = *cfg
	}
	if err := c.setDefaults(); err != nil {
		return nil, err
	}
	s := &Sender{}
	if err := s.s.open(ifindex, &c); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *SenderConfig) setDefaults() error {
	if c.FrameSize == 0 {
		c.FrameSize = DefaultFrameSize
	}
	if c.RingFrames == 0 {
		c.RingFrames = DefaultRingFrames
	}
	if c.Batch == 0 {
		c.Batch = min(DefaultBatch, c.RingFrames)
	}
	if c.SendBuffer == 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	switch {
	case c.FrameSize < ethHeaderLen || c.FrameSize > 65535:
		return fmt.Errorf("afpacket: FrameSize %d out of range [%d, 65535]", c.FrameSize, ethHeaderLen)
	case c.RingFrames < 1 || c.RingFrames > 1<<20:
		return fmt.Errorf("afpacket: RingFrames %d out of range [1, %d]", c.RingFrames, 1<<20)
	case c.Batch < 1 || c.Batch > c.RingFrames:
		return fmt.Errorf("afpacket: Batch %d out of range [1, RingFrames=%d]", c.Batch, c.RingFrames)
	case c.SendBuffer < 0:
		return fmt.Errorf("afpacket: negative SendBuffer %d", c.SendBuffer)
	case c.Mode < ModeAuto || c.Mode > ModeSendmmsg:
		return fmt.Errorf("afpacket: invalid %v", c.Mode)
	}
	return nil
}

// Next returns the slot to write the next frame into; its length is the
// configured FrameSize. It flushes first when Batch frames are waiting, and
// blocks, sleeping, while every slot is still in flight. Calling Next again
// without Commit returns the same slot.
func (s *Sender) Next() ([]byte, error) { return s.s.next() }

// Commit queues the frame in the slot last returned by Next as n bytes long.
// The frame is not sent before the next Flush (explicit, or done by Next). A
// length the interface cannot send is counted in Stats().Rejected and the slot
// is reused. Commit panics if no slot is reserved by Next.
func (s *Sender) Commit(n int) { s.s.commit(n) }

// Flush hands every committed frame to the kernel: one sendto(2) (TX ring)
// or sendmmsg(2) per batch, retried while the kernel has no room.
func (s *Sender) Flush() error { return s.s.flush() }

// Mode reports the send path in use: "tx-ring" or "sendmmsg".
func (s *Sender) Mode() string { return s.s.mode.String() }

// Stats returns the Sender's counters.
func (s *Sender) Stats() SenderStats { return s.s.stats }

// Close flushes committed frames, waits for the kernel to finish with every
// frame in flight, and releases the socket and ring. The socket is released
// even if the flush fails; that error is returned.
func (s *Sender) Close() error { return s.s.close() }

// Defaults applied by NewReceiver for zero ReceiverConfig fields.
const (
	DefaultBlockSize        = 1 << 20               // DefaultBlockSize is the default ReceiverConfig.BlockSize.
	DefaultNumBlocks        = 32                    // DefaultNumBlocks is the default ReceiverConfig.NumBlocks.
	DefaultReceiveFrameSize = 256                   // DefaultReceiveFrameSize is the default ReceiverConfig.FrameSize.
	DefaultTimeout          = 10 * time.Millisecond // DefaultTimeout is the default ReceiverConfig.Timeout.
)

// ReceiverConfig configures a Receiver. A nil *ReceiverConfig, and every zero
// field, applies the default.
type ReceiverConfig struct {
	// Filter is a classic BPF program run by the kernel on every frame; only
	// frames it accepts reach the ring. It is attached before the socket is
	// bound to the interface, so no unfiltered frame is ever queued. Nil
	// accepts every frame.
	Filter []bpf.RawInstruction
	// BlockSize is the size of one ring block in bytes, a multiple of the page
	// size (default 1 MiB: about 6,500 SYN-ACK frames).
	BlockSize int
	// NumBlocks is the number of blocks (default 32). The defaults hold about
	// 200,000 replies: 400 ms of a 0.5 Mpps burst with nobody polling.
	NumBlocks int
	// FrameSize is the snap-length hint the kernel checks the ring layout
	// against (tp_frame_size, default 256). TPACKET_V3 packs frames of any
	// length into blocks, so it does not cut frames.
	FrameSize int
	// Timeout is how long the kernel fills a block before handing it over
	// part-full (tp_retire_blk_tov, millisecond granularity; default 10 ms).
	Timeout time.Duration
}

// ReceiverStats holds a Receiver's packet-socket counters (PACKET_STATISTICS,
// struct tpacket_stats_v3), summed since the Receiver was opened.
type ReceiverStats struct {
	// Packets is the number of frames that passed the filter, including those
	// dropped.
	Packets uint64
	// Drops is the number of frames that passed the filter but found no room
	// in the ring.
	Drops uint64
	// FreezeCount is the number of times the ring filled up and froze.
	FreezeCount uint64
}

// Receiver captures frames arriving on one interface through a TPACKET_V3 RX
// ring. Poll must be called from one goroutine at a time; Stats and Close may
// be called from any goroutine, and Close wakes a blocked Poll.
type Receiver struct {
	mu     sync.Mutex // held by Poll while it reads the ring; Close takes it to unmap
	closed atomic.Bool

	statsMu sync.Mutex
	stats   ReceiverStats

	r receiver // per-OS implementation
}

// NewReceiver opens a Receiver on the interface with index ifindex. A nil cfg
// applies the defaults.
func NewReceiver(ifindex int, cfg *ReceiverConfig) (*Receiver, error) {
	var c ReceiverConfig
	if cfg != nil {
		c = *cfg
	}
	if err := c.setDefaults(); err != nil {
		return nil, err
	}
	r := &Receiver{}
	if err := r.r.open(ifindex, &c); err != nil {
		return nil, err
	}
	return r, nil
}

func (c *ReceiverConfig) setDefaults() error {
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.NumBlocks == 0 {
		c.NumBlocks = DefaultNumBlocks
	}
	if c.FrameSize == 0 {
		c.FrameSize = DefaultReceiveFrameSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	switch {
	case c.BlockSize < 0 || c.BlockSize > 1<<30 || c.BlockSize%os.Getpagesize() != 0:
		return fmt.Errorf("afpacket: BlockSize %d is not a multiple of the page size %d in (0, 1 GiB]", c.BlockSize, os.Getpagesize())
	case c.NumBlocks < 1 || c.NumBlocks > 1<<16:
		return fmt.Errorf("afpacket: NumBlocks %d out of range [1, %d]", c.NumBlocks, 1<<16)
	case c.FrameSize < ethHeaderLen || c.FrameSize > c.BlockSize:
		return fmt.Errorf("afpacket: FrameSize %d out of range [%d, BlockSize]", c.FrameSize, ethHeaderLen)
	case c.Timeout < time.Millisecond || c.Timeout > time.Minute:
		return fmt.Errorf("afpacket: Timeout %v out of range [1ms, 1m]", c.Timeout)
	case len(c.Filter) > 4096:
		return fmt.Errorf("afpacket: filter of %d instructions exceeds 4096", len(c.Filter))
	}
	return nil
}

// Poll waits up to timeout for a filled block (timeout < 0 waits until one
// arrives or the Receiver is closed; 0 does not wait), then calls fn for every
// frame of every filled block, in arrival order, handing each block back to
// the kernel once fn has seen its frames. It returns the number of frames
// passed to fn; 0 with a nil error means the timeout expired.
//
// The frame slice aliases the ring: it is valid only during fn, and fn must
// not retain it. Poll allocates nothing; to keep it so, pass a func value made
// once (a method value stored in a variable or field), not a closure built
// anew on each call.
func (r *Receiver) Poll(timeout time.Duration, fn func(frame []byte)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return 0, opError(opPoll, net.ErrClosed)
	}
	return r.r.poll(timeout, fn, &r.closed)
}

// Stats returns the frames counted by the kernel since the Receiver was
// opened. Reading PACKET_STATISTICS resets the kernel's counters; Stats adds
// each reading to totals it keeps, so successive calls return running totals.
func (r *Receiver) Stats() (ReceiverStats, error) {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	if r.closed.Load() {
		return r.stats, opError(opGetsockopt, net.ErrClosed)
	}
	d, err := r.r.readStats()
	if err != nil {
		return r.stats, err
	}
	r.stats.Packets += d.Packets
	r.stats.Drops += d.Drops
	r.stats.FreezeCount += d.FreezeCount
	return r.stats, nil
}

// Close wakes a blocked Poll, waits for it to return, and releases the
// socket and ring. Closing twice returns an error wrapping net.ErrClosed.
func (r *Receiver) Close() error {
	if r.closed.Swap(true) {
		return opError(opClose, net.ErrClosed)
	}
	r.r.wake()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	return r.r.close()
}

const ethHeaderLen = 14

// Operation names used in *net.OpError values.
const (
	opSocket     = "socket"
	opSetsockopt = "setsockopt"
	opGetsockopt = "getsockopt"
	opBind       = "bind"
	opMmap       = "mmap"
	opSendto     = "sendto"
	opSendmmsg   = "sendmmsg"
	opPoll       = "poll"
	opClose      = "close"
)

// opError wraps err as package net does, so that callers can test it with
// errors.Is (os.ErrPermission, net.ErrClosed). A nil err stays nil.
func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &net.OpError{Op: op, Net: "packet", Err: err}
}
