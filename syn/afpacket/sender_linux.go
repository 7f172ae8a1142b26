//go:build linux

package afpacket

import (
	"errors"
	"mailscan/syn/internal/backoff"
	"net"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TX ring layout (TPACKET_V2; see Documentation/networking/packet_mmap.rst).
// The kernel reads a frame's data at TPACKET2_HDRLEN - sizeof(struct
// sockaddr_ll), which is the aligned size of struct tpacket2_hdr.
//
// V2 rather than V3: for transmission V3 offers nothing more (fixed slots,
// tp_next_offset must be 0, tpacket_req3 with its block fields zero) and
// costs 16 more bytes per slot; on a veth the two measured within noise.
const (
	tpacketAlignment = 16
	sizeofSockaddrLL = 20

	txHdrLen      = unix.SizeofTpacket2Hdr
	txDataOffset  = (txHdrLen + tpacketAlignment - 1) &^ (tpacketAlignment - 1)
	txMinSlotSize = txDataOffset + sizeofSockaddrLL // TPACKET2_HDRLEN: the kernel's minimum tp_frame_size
	txLenOffset   = 4                               // tp_len in struct tpacket2_hdr
	txBlockSize   = 16 << 10                        // 4 pages: a cheap allocation that still holds ~100 slots
)

// ringHook, when set by a test, runs before a TX ring is set up; an error
// from it makes the setup fail as a kernel refusal would.
var ringHook func() error

func tpacketAlign(n int) int { return (n + tpacketAlignment - 1) &^ (tpacketAlignment - 1) }

// sender is the Linux implementation of Sender.
type sender struct {
	fd        int
	mode      Mode
	stats     SenderStats
	frameSize int
	maxLen    int // longest untagged frame the interface takes: MTU + Ethernet header
	batch     int
	reserved  bool // Next returned a slot that Commit has not consumed yet
	closed    bool
	sl        backoff.Sleeper

	// TX ring.
	ring    []byte
	slots   []int // byte offset of each slot's struct tpacket2_hdr
	cur     int   // index of the next slot to fill
	pending int   // committed frames not yet handed to the kernel
	last    int   // offset of the last committed slot

	// sendmmsg.
	buf  []byte
	msgs []unix.Mmsghdr
	iovs []unix.Iovec
	n    int // committed messages
}

func (s *sender) open(ifindex int, c *SenderConfig) error {
	s.frameSize = c.FrameSize
	s.batch = c.Batch
	var err error
	switch c.Mode {
	case ModeRing:
		err = s.openRing(ifindex, c)
	case ModeSendmmsg:
		err = s.openMmsg(ifindex, c)
	default:
		// A TX ring needs contiguous kernel pages and CONFIG_PACKET_MMAP-era
		// features; when the kernel refuses, sendmmsg still works (and the
		// other way round). A missing privilege is not worth a second try.
		first, second := s.openRing, s.openMmsg
		if virtualHook(ifindex) {
			first, second = s.openMmsg, s.openRing
		}
		if err = first(ifindex, c); err != nil && !errors.Is(err, os.ErrPermission) {
			err = second(ifindex, c)
		}
	}
	return err
}

// virtualHook is virtualDevice, replaced by tests.
var virtualHook = virtualDevice

// virtualDevice reports whether the interface has no device behind it in
// sysfs: veth, bridges, tunnels and the like, where TX ring frames are
// copied rather than sent from the ring (see ModeAuto).
func virtualDevice(ifindex int) bool {
	ifi, err := net.InterfaceByIndex(ifindex)
	if err != nil {
		return false
	}
	_, err = os.Stat("/sys/class/net/" + ifi.Name + "/device")
	return errors.Is(err, os.ErrNotExist)
}

// openSocket opens and configures the socket shared by both send paths.
func (s *sender) openSocket(ifindex int, c *SenderConfig) error {
	fd, err := packetSocket()
	if err != nil {
		return err
	}
	s.fd = fd
	mtu, err := interfaceMTU(fd, ifindex)
	if err != nil {
		unix.Close(fd)
		return err
	}
	s.maxLen = mtu + ethHeaderLen
	if !c.UseQdisc {
		// Linux < 3.14 lacks the option; frames then take the qdisc path.
		err := setsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS")
		if err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
			unix.Close(fd)
			return err
		}
	}
	if c.SendBuffer > 0 {
		// SO_SNDBUFFORCE passes net.core.wmem_max when privileged.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, c.SendBuffer); err != nil {
			if err := setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, c.SendBuffer, "SO_SNDBUF"); err != nil {
				unix.Close(fd)
				return err
			}
		}
	}
	// A blocked send returns after a second, so that a stalled interface ends
	// in an error (see backoff.Stall) rather than a hang.
	tv := unix.Timeval{Sec: 1}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		unix.Close(fd)
		return opError(opSetsockopt, os.NewSyscallError("setsockopt SO_SNDTIMEO", err))
	}
	return nil
}

func (s *sender) openRing(ifindex int, c *SenderConfig) error {
	if err := s.openSocket(ifindex, c); err != nil {
		return err
	}
	fail := func(err error) error {
		if s.ring != nil {
			unix.Munmap(s.ring)
			s.ring = nil
		}
		unix.Close(s.fd)
		return err
	}
	if ringHook != nil {
		if err := ringHook(); err != nil {
			return fail(err)
		}
	}
	if err := setsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V2, "PACKET_VERSION"); err != nil {
		return fail(err)
	}
	// With PACKET_LOSS a frame the kernel cannot send is marked available and
	// skipped. Without it the kernel marks it TP_STATUS_WRONG_FORMAT and stops
	// there for good: one bad frame would wedge the ring. Commit refuses the
	// lengths the kernel would refuse, so no frame is lost this way unseen.
	if err := setsockoptInt(s.fd, unix.SOL_PACKET, unix.PACKET_LOSS, 1, "PACKET_LOSS"); err != nil {
		return fail(err)
	}
	slotSize := tpacketAlign(max(txDataOffset+c.FrameSize, txMinSlotSize))
	page := os.Getpagesize()
	blockSize := max(txBlockSize, page)
	if slotSize > blockSize {
		blockSize = (slotSize + page - 1) / page * page
	}
	perBlock := blockSize / slotSize
	blocks := (c.RingFrames + perBlock - 1) / perBlock
	req := unix.TpacketReq{
		Block_size: uint32(blockSize),
		Block_nr:   uint32(blocks),
		Frame_size: uint32(slotSize),
		Frame_nr:   uint32(blocks * perBlock),
	}
	if err := unix.SetsockoptTpacketReq(s.fd, unix.SOL_PACKET, unix.PACKET_TX_RING, &req); err != nil {
		return fail(opError(opSetsockopt, os.NewSyscallError("setsockopt PACKET_TX_RING", err)))
	}
	ring, err := unix.Mmap(s.fd, 0, blockSize*blocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return fail(opError(opMmap, os.NewSyscallError("mmap", err)))
	}
	s.ring = ring
	s.slots = make([]int, 0, blocks*perBlock)
	for b := range blocks {
		for f := range perBlock {
			s.slots = append(s.slots, b*blockSize+f*slotSize)
		}
	}
	if err := bindPacket(s.fd, ifindex, 0); err != nil {
		return fail(err)
	}
	s.mode = ModeRing
	return nil
}

func (s *sender) openMmsg(ifindex int, c *SenderConfig) error {
	if err := s.openSocket(ifindex, c); err != nil {
		return err
	}
	if err := bindPacket(s.fd, ifindex, 0); err != nil {
		unix.Close(s.fd)
		return err
	}
	s.buf = make([]byte, c.Batch*c.FrameSize)
	s.iovs = make([]unix.Iovec, c.Batch)
	s.msgs = make([]unix.Mmsghdr, c.Batch)
	for i := range s.msgs {
		s.iovs[i].Base = &s.buf[i*c.FrameSize]
		s.msgs[i].Hdr.Iov = &s.iovs[i]
		s.msgs[i].Hdr.SetIovlen(1)
	}
	s.mode = ModeSendmmsg
	return nil
}

func (s *sender) status(off int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[off]))
}

func (s *sender) next() ([]byte, error) {
	if s.closed {
		return nil, opError(opSendto, net.ErrClosed)
	}
	if s.ring == nil {
		return s.nextMmsg()
	}
	off := s.slots[s.cur]
	if !s.reserved {
		if s.pending >= s.batch {
			if err := s.flushRing(); err != nil {
				return nil, err
			}
		}
		if atomic.LoadUint32(s.status(off)) != unix.TP_STATUS_AVAILABLE {
			if err := s.waitSlot(off); err != nil {
				return nil, err
			}
		}
		s.reserved = true
	}
	d := off + txDataOffset
	return s.ring[d : d+s.frameSize : d+s.frameSize], nil
}

func (s *sender) nextMmsg() ([]byte, error) {
	if !s.reserved {
		if s.n == len(s.msgs) {
			if err := s.flushMmsg(); err != nil {
				return nil, err
			}
		}
		s.reserved = true
	}
	o := s.n * s.frameSize
	return s.buf[o : o+s.frameSize : o+s.frameSize], nil
}

func (s *sender) commit(n int) {
	if !s.reserved {
		panic("afpacket: Commit without a slot from Next")
	}
	if s.ring == nil {
		if !s.sendable(n, s.buf[s.n*s.frameSize:]) {
			s.stats.Rejected++
			return
		}
		s.reserved = false
		s.iovs[s.n].SetLen(n)
		s.n++
		return
	}
	off := s.slots[s.cur]
	if !s.sendable(n, s.ring[off+txDataOffset:]) {
		s.stats.Rejected++
		return
	}
	s.reserved = false
	*(*uint32)(unsafe.Pointer(&s.ring[off+txLenOffset])) = uint32(n)
	// The atomic store publishes tp_len and the frame to the kernel.
	atomic.StoreUint32(s.status(off), unix.TP_STATUS_SEND_REQUEST)
	s.last = off
	s.cur++
	if s.cur == len(s.slots) {
		s.cur = 0
	}
	s.pending++
}

// sendable applies the kernel's length rules (packet_snd, tpacket_snd): at
// least an Ethernet header, at most MTU + header, 4 bytes more when the
// frame carries an 802.1Q tag.
func (s *sender) sendable(n int, frame []byte) bool {
	if n < ethHeaderLen || n > s.frameSize {
		return false
	}
	if n <= s.maxLen {
		return true
	}
	return n <= s.maxLen+vlanTagLen && frame[etherTypeOffset] == etherTypeVLAN>>8 && frame[etherTypeOffset+1] == etherTypeVLAN&0xff
}

func (s *sender) flush() error {
	if s.closed {
		return opError(opSendto, net.ErrClosed)
	}
	if s.ring == nil {
		return s.flushMmsg()
	}
	return s.flushRing()
}

// flushRing kicks the kernel until it has taken every committed frame. The
// kernel walks the ring from its own head, in the order the frames were
// committed, so once the last committed slot has left TP_STATUS_SEND_REQUEST
// every earlier one has too.
func (s *sender) flushRing() error {
	if s.pending == 0 {
		return nil
	}
	last := s.status(s.last)
	s.sl.Reset()
	for {
		// MSG_DONTWAIT: return once the frames are handed over, without
		// waiting for the device to finish them (a blocking call would let
		// the link idle while it waits). Because it never blocks, the call
		// is raw (see rawSend).
		_, _, e := rawSend(unix.SYS_SENDTO, uintptr(s.fd), 0, 0, unix.MSG_DONTWAIT)
		switch e {
		case 0, unix.EINTR:
		case unix.EAGAIN, unix.ENOBUFS:
			// Send buffer full, or device queue stopped (QDISC_BYPASS):
			// the frames stay queued; wait for room below.
		default:
			return opError(opSendto, os.NewSyscallError("sendto", e))
		}
		if atomic.LoadUint32(last) != unix.TP_STATUS_SEND_REQUEST {
			break
		}
		if !s.sl.Sleep() {
			return opError(opSendto, os.NewSyscallError("sendto", unix.ETIMEDOUT))
		}
	}
	s.stats.Sent += uint64(s.pending)
	s.stats.Flushes++
	s.pending = 0
	return nil
}

// waitSlot waits, sleeping, until the kernel has finished with the slot at
// off. poll(2) cannot be used: a packet socket reports POLLOUT whenever its
// send buffer is below half full, whatever the ring's state.
func (s *sender) waitSlot(off int) error {
	if s.pending > 0 {
		if err := s.flushRing(); err != nil {
			return err
		}
	}
	st := s.status(off)
	s.sl.Reset()
	for atomic.LoadUint32(st) != unix.TP_STATUS_AVAILABLE {
		if !s.sl.Sleep() {
			return opError(opSendto, os.NewSyscallError("sendto", unix.ETIMEDOUT))
		}
	}
	return nil
}

// rawSend makes a send system call that cannot block (MSG_DONTWAIT) without
// telling the Go scheduler. A batch takes about 30 µs in the kernel (with
// PACKET_QDISC_BYPASS the frames go through the device, and on a veth
// through the peer's receive path, in this call), longer than the 20 µs
// after which the runtime hands a thread's processor to another thread:
// through unix.Syscall every batch cost two scheduler hand-offs and a wake-up
// of the runtime's monitor, about 8% of a core at line rate. The price is
// that a sender holds its processor (P) throughout, so the binary must run
// with more Ps than senders (mailscan sets GOMAXPROCS to senders + 2).
func rawSend(trap, a1, a2, a3, flags uintptr) (r1, r2 uintptr, err unix.Errno) {
	return unix.RawSyscall6(trap, a1, a2, a3, flags, 0, 0)
}

// flushMmsg sends the committed messages with as few sendmmsg(2) calls as
// the kernel allows. sendmmsg returns how many messages it sent before the
// first failure; a message the kernel refuses for its length is dropped and
// counted, anything else stops the flush with the unsent frames kept queued.
func (s *sender) flushMmsg() error {
	if s.n == 0 {
		return nil
	}
	s.sl.Reset()
	i := 0
	for i < s.n {
		r, _, e := rawSend(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.msgs[i])), uintptr(s.n-i), unix.MSG_DONTWAIT)
		switch e {
		case 0:
			s.stats.Sent += uint64(r)
			i += int(r)
		case unix.EINTR:
		case unix.EAGAIN, unix.ENOBUFS:
			if !s.sl.Sleep() {
				s.keep(i)
				return opError(opSendmmsg, os.NewSyscallError("sendmmsg", unix.ETIMEDOUT))
			}
		case unix.EMSGSIZE, unix.EINVAL:
			s.stats.Rejected++
			i++
		default:
			s.keep(i)
			return opError(opSendmmsg, os.NewSyscallError("sendmmsg", e))
		}
	}
	s.stats.Flushes++
	s.n = 0
	return nil
}

// keep moves the unsent messages from..n-1 to the front after a failed
// flush, so that a later Flush retries them.
func (s *sender) keep(from int) {
	if from == 0 {
		return
	}
	for j := from; j < s.n; j++ {
		k := j - from
		n := int(s.iovs[j].Len)
		copy(s.buf[k*s.frameSize:k*s.frameSize+n], s.buf[j*s.frameSize:j*s.frameSize+n])
		s.iovs[k].SetLen(n)
	}
	s.n -= from
}

// drain waits until the kernel has finished with every slot of the ring.
func (s *sender) drain() error {
	for _, off := range s.slots {
		st := s.status(off)
		s.sl.Reset()
		for atomic.LoadUint32(st) != unix.TP_STATUS_AVAILABLE {
			if !s.sl.Sleep() {
				return opError(opClose, os.NewSyscallError("sendto", unix.ETIMEDOUT))
			}
		}
	}
	return nil
}

func (s *sender) close() error {
	if s.closed {
		return opError(opClose, net.ErrClosed)
	}
	s.closed = true
	var err error
	if s.ring != nil {
		err = s.flushRing()
		if err == nil {
			err = s.drain()
		}
		if e := unix.Munmap(s.ring); e != nil && err == nil {
			err = opError(opClose, os.NewSyscallError("munmap", e))
		}
		s.ring = nil
	} else {
		err = s.flushMmsg()
	}
	if e := unix.Close(s.fd); e != nil && err == nil {
		err = opError(opClose, os.NewSyscallError("close", e))
	}
	return err
}
