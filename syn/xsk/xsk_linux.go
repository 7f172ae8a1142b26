//go:build linux

package xsk

import (
	"errors"
	"fmt"
	"mailscan/syn/internal/backoff"
	"net"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	ethHeaderLen    = 14
	vlanTagLen      = 4
	etherTypeOffset = 12
	etherTypeVLAN   = 0x8100

	// minTxBudget is the kernel's TX_BATCH_SIZE: the most frames the copy
	// path sends per kick unless XDP_MAX_TX_SKB_BUDGET raises it, and the
	// least that option accepts.
	minTxBudget = 32
	// fillRingSize is the size of the fill ring, which the kernel requires
	// (bind fails with EINVAL without one) but a socket without an RX ring
	// never uses.
	fillRingSize = 1
	// sizeofMmapOffsets is struct xdp_mmap_offsets with the flags fields
	// (Linux 5.4+); older kernels return the 96-byte form.
	sizeofMmapOffsets = int(unsafe.Sizeof(unix.XDPMmapOffsets{}))
	sizeofDesc        = int(unsafe.Sizeof(unix.XDPDesc{}))
)

// sender is the Linux implementation of Sender.
type sender struct {
	fd        int
	stats     Stats
	frameSize int
	frames    int
	maxLen    int    // longest untagged frame the interface takes: MTU + Ethernet header
	batch     uint32 // committed descriptors that make Next flush
	closed    bool
	sl        backoff.Sleeper

	umem  []byte // the frames, registered with XDP_UMEM_REG
	txMap []byte // the TX ring's mapping
	cqMap []byte // the completion ring's mapping

	tx      prodRing
	txDescs []unix.XDPDesc
	cq      consRing
	cqAddrs []uint64

	// free holds the UMEM offsets of the frames user space owns, as a stack:
	// the frame completed last is reused first, while it is still in cache.
	// Every other frame is in the TX ring, in the kernel, or in the
	// completion ring; so neither ring, both as large as the UMEM, can
	// overflow.
	free     []uint64
	cur      uint64 // offset of the frame Next handed out
	reserved bool   // Next handed out cur and Commit has not consumed it
	pending  uint32 // committed descriptors not yet published
}

func (s *sender) open(ifindex, queue int, c *Config) (err error) {
	s.frameSize, s.frames, s.batch = c.FrameSize, c.Frames, uint32(c.Batch)
	mtu, err := interfaceMTU(ifindex)
	if err != nil {
		return err
	}
	s.maxLen = mtu + ethHeaderLen

	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		err = os.NewSyscallError("socket", err)
		if errors.Is(err, unix.EAFNOSUPPORT) {
			err = unsupported("the kernel has no AF_XDP (CONFIG_XDP_SOCKETS)", err)
		}
		return opError(opSocket, err)
	}
	s.fd = fd
	defer func() {
		if err != nil {
			s.release()
		}
	}()

	// The UMEM: page-aligned anonymous memory, pinned by the kernel when
	// registered (charged to RLIMIT_MEMLOCK without CAP_IPC_LOCK).
	s.umem, err = unix.Mmap(-1, 0, s.frames*s.frameSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return opError(opMmap, os.NewSyscallError("mmap", err))
	}
	reg := unix.XDPUmemReg{
		Addr: uint64(uintptr(unsafe.Pointer(&s.umem[0]))),
		Len:  uint64(len(s.umem)),
		Size: uint32(s.frameSize),
	}
	if err := setsockopt(fd, unix.XDP_UMEM_REG, unsafe.Pointer(&reg), unsafe.Sizeof(reg)); err != nil {
		err = os.NewSyscallError("setsockopt XDP_UMEM_REG", err)
		if errors.Is(err, unix.ENOBUFS) {
			// The kernel pins the UMEM and charges it to RLIMIT_MEMLOCK
			// unless the process has CAP_IPC_LOCK.
			err = fmt.Errorf("xsk: UMEM of %d bytes exceeds RLIMIT_MEMLOCK (raise it, grant CAP_IPC_LOCK or lower Frames): %w", len(s.umem), err)
		}
		return opError(opSetsockopt, err)
	}
	for _, r := range []struct {
		opt  int
		name string
		size int
	}{
		{unix.XDP_UMEM_FILL_RING, "XDP_UMEM_FILL_RING", fillRingSize},
		{unix.XDP_UMEM_COMPLETION_RING, "XDP_UMEM_COMPLETION_RING", s.frames},
		{unix.XDP_TX_RING, "XDP_TX_RING", s.frames},
	} {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, r.opt, r.size); err != nil {
			return opError(opSetsockopt, os.NewSyscallError("setsockopt "+r.name, err))
		}
	}

	var off unix.XDPMmapOffsets
	if n, err := getsockopt(fd, unix.XDP_MMAP_OFFSETS, unsafe.Pointer(&off), unsafe.Sizeof(off)); err != nil {
		return opError(opGetsockopt, os.NewSyscallError("getsockopt XDP_MMAP_OFFSETS", err))
	} else if n != sizeofMmapOffsets {
		return opError(opGetsockopt, unsupported(fmt.Sprintf("XDP_MMAP_OFFSETS returned %d bytes, want %d (Linux 5.4+)", n, sizeofMmapOffsets), nil))
	}
	s.txMap, err = unix.Mmap(fd, unix.XDP_PGOFF_TX_RING, int(off.Tx.Desc)+s.frames*sizeofDesc,
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return opError(opMmap, os.NewSyscallError("mmap TX ring", err))
	}
	s.cqMap, err = unix.Mmap(fd, unix.XDP_UMEM_PGOFF_COMPLETION_RING, int(off.Cr.Desc)+s.frames*8,
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return opError(opMmap, os.NewSyscallError("mmap completion ring", err))
	}
	size := uint32(s.frames)
	s.tx = newProdRing(u32At(s.txMap, off.Tx.Producer), u32At(s.txMap, off.Tx.Consumer), size)
	s.txDescs = unsafe.Slice((*unix.XDPDesc)(unsafe.Pointer(&s.txMap[off.Tx.Desc])), s.frames)
	s.cq = newConsRing(u32At(s.cqMap, off.Cr.Producer), u32At(s.cqMap, off.Cr.Consumer), size)
	s.cqAddrs = unsafe.Slice((*uint64)(unsafe.Pointer(&s.cqMap[off.Cr.Desc])), s.frames)

	// One kick sends at most the budget (TX_BATCH_SIZE, 32) and then fails
	// with EAGAIN; raising it to the batch makes one kick per batch, as one
	// sendmmsg(2) is on the AF_PACKET path. Kernels before 6.17 lack the
	// option and keep 32.
	if budget := max(c.Batch, minTxBudget); budget > minTxBudget {
		b := uint32(min(budget, s.frames))
		err := setsockopt(fd, unix.XDP_MAX_TX_SKB_BUDGET, unsafe.Pointer(&b), unsafe.Sizeof(b))
		if err != nil && !errors.Is(err, unix.ENOPROTOOPT) && !errors.Is(err, unix.EACCES) {
			return opError(opSetsockopt, os.NewSyscallError("setsockopt XDP_MAX_TX_SKB_BUDGET", err))
		}
	}
	if c.SendBuffer > 0 {
		// SO_SNDBUFFORCE passes net.core.wmem_max when privileged.
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, c.SendBuffer); err != nil {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, c.SendBuffer); err != nil {
				return opError(opSetsockopt, os.NewSyscallError("setsockopt SO_SNDBUF", err))
			}
		}
	}

	// XDP_COPY: veth and most drivers have no zero-copy AF_XDP, and copy
	// mode is what every driver with XDP (or none: generic XDP) supports.
	// No XDP_USE_NEED_WAKEUP: in copy mode the kernel sends only when kicked
	// anyway, so the flag would change nothing.
	sa := &unix.SockaddrXDP{Flags: unix.XDP_COPY, Ifindex: uint32(ifindex), QueueID: uint32(queue)}
	if err := unix.Bind(fd, sa); err != nil {
		err = os.NewSyscallError("bind", err)
		switch {
		case errors.Is(err, unix.EBUSY):
			// Another AF_XDP socket holds the queue (or held it: the kernel
			// lets a closed socket's queue go from a workqueue).
			err = unsupported(fmt.Sprintf("queue %d of interface %d is taken by another AF_XDP socket", queue, ifindex), err)
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.EOPNOTSUPP):
			// No such queue, or a device that refuses copy mode.
			err = unsupported(fmt.Sprintf("interface %d refuses an AF_XDP socket on queue %d", ifindex, queue), err)
		}
		return opError(opBind, err)
	}

	s.free = make([]uint64, s.frames)
	for i := range s.free {
		// Reversed, so that the first frames handed out are the first in
		// memory.
		s.free[i] = uint64((s.frames - 1 - i) * s.frameSize)
	}
	return nil
}

// u32At returns a pointer to the 32-bit ring index at offset off of m.
func u32At(m []byte, off uint64) *uint32 { return (*uint32)(unsafe.Pointer(&m[off])) }

func setsockopt(fd, opt int, p unsafe.Pointer, n uintptr) error {
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), n, 0)
	if e != 0 {
		return e
	}
	return nil
}

func getsockopt(fd, opt int, p unsafe.Pointer, n uintptr) (int, error) {
	l := uint32(n)
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, uintptr(opt), uintptr(p), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return 0, e
	}
	return int(l), nil
}

func (s *sender) next() ([]byte, error) {
	if s.closed {
		return nil, opError(opSendto, net.ErrClosed)
	}
	if !s.reserved {
		if s.pending >= s.batch {
			if err := s.kick(); err != nil {
				return nil, err
			}
		}
		if len(s.free) == 0 {
			if err := s.refill(); err != nil {
				return nil, err
			}
		}
		n := len(s.free) - 1
		s.cur = s.free[n]
		s.free = s.free[:n]
		s.reserved = true
	}
	return s.umem[s.cur : s.cur+uint64(s.frameSize) : s.cur+uint64(s.frameSize)], nil
}

// reclaim moves the frames the kernel has completed to the free stack and
// returns how many it moved.
func (s *sender) reclaim() int {
	n := s.cq.available()
	for i := range n {
		s.free = append(s.free, s.cqAddrs[s.cq.peek(i)])
	}
	if n > 0 {
		s.cq.release(n)
	}
	return int(n)
}

// refill waits, sleeping, until the kernel completes at least one frame.
func (s *sender) refill() error {
	if s.reclaim() > 0 {
		return nil
	}
	// Committed frames cannot complete before the kernel sees them.
	if err := s.kick(); err != nil {
		return err
	}
	s.sl.Reset()
	for s.reclaim() == 0 {
		if !s.sl.Sleep() {
			return opError(opSendto, os.NewSyscallError("sendto", unix.ETIMEDOUT))
		}
	}
	return nil
}

func (s *sender) commit(n int) {
	if !s.reserved {
		panic("xsk: Commit without a frame from Next")
	}
	if !s.sendable(n) {
		// The kernel would skip the descriptor as invalid, or the device
		// refuse the frame: keep the frame for the next Next.
		s.stats.Rejected++
		return
	}
	// No free check: the ring has a slot for every frame (see free).
	d := &s.txDescs[s.tx.reserve()]
	d.Addr = s.cur
	d.Len = uint32(n)
	d.Options = 0
	s.reserved = false
	s.pending++
}

// sendable applies the length rules of the kernel (a descriptor must fit its
// chunk) and of AF_PACKET's Sender (at least an Ethernet header, at most MTU
// + header, 4 bytes more when the frame carries an 802.1Q tag).
func (s *sender) sendable(n int) bool {
	if n < ethHeaderLen || n > s.frameSize {
		return false
	}
	if n <= s.maxLen {
		return true
	}
	f := s.umem[s.cur:]
	return n <= s.maxLen+vlanTagLen && f[etherTypeOffset] == etherTypeVLAN>>8 && f[etherTypeOffset+1] == etherTypeVLAN&0xff
}

func (s *sender) flush() error {
	if s.closed {
		return opError(opSendto, net.ErrClosed)
	}
	return s.kick()
}

// kick publishes the committed descriptors and wakes the kernel until it
// has consumed every descriptor of the TX ring.
func (s *sender) kick() error {
	if s.pending > 0 {
		s.tx.submit()
		s.pending = 0
		s.stats.Flushes++
	}
	left := s.tx.outstanding()
	if left == 0 {
		return nil
	}
	s.sl.Reset()
	for {
		// sendto(fd, NULL, 0, MSG_DONTWAIT): the kernel refuses a blocking
		// send on an AF_XDP socket (EOPNOTSUPP). Raw, as rawSend says.
		_, _, e := rawSend(unix.SYS_SENDTO, uintptr(s.fd), 0, 0, unix.MSG_DONTWAIT)
		s.stats.Kicks++
		switch e {
		case 0, unix.EINTR:
		case unix.EAGAIN, unix.ENOBUFS:
			// Budget spent (more to send), send buffer full, or device
			// queue busy: the descriptors stay in the ring.
		case unix.EBUSY:
			// The device dropped one frame (NET_XMIT_DROP); the kernel has
			// consumed its descriptor and completes its frame.
			s.stats.Dropped++
		default:
			return opError(opSendto, os.NewSyscallError("sendto", e))
		}
		now := s.tx.outstanding()
		s.stats.Sent += uint64(left - now)
		if now == 0 {
			return nil
		}
		if now != left || e == unix.EBUSY {
			// Progress: kick again at once. (After a drop the kernel may
			// not publish its consumer index until the next kick.)
			left = now
			s.sl.Reset()
			continue
		}
		if !s.sl.Sleep() {
			return opError(opSendto, os.NewSyscallError("sendto", unix.ETIMEDOUT))
		}
	}
}

// rawSend makes a send system call that cannot block (MSG_DONTWAIT) without
// telling the Go scheduler, as the afpacket package's rawSend does and for
// the same reason: a kick takes tens of microseconds in the kernel (on a
// veth the peer's receive path runs within it), past the point where the
// runtime would hand the thread's processor to another thread, so a
// scheduled call would cost hand-offs per batch. The price is that a sender
// holds its processor (P) throughout: run with more Ps than senders.
func rawSend(trap, a1, a2, a3, flags uintptr) (r1, r2 uintptr, err unix.Errno) {
	return unix.RawSyscall6(trap, a1, a2, a3, flags, 0, 0)
}

// drain waits until every frame is back on the free stack.
func (s *sender) drain() error {
	if s.reserved {
		s.free = append(s.free, s.cur)
		s.reserved = false
	}
	s.sl.Reset()
	for s.reclaim(); len(s.free) < s.frames; s.reclaim() {
		if !s.sl.Sleep() {
			return opError(opClose, os.NewSyscallError("sendto", unix.ETIMEDOUT))
		}
	}
	return nil
}

func (s *sender) close() error {
	if s.closed {
		return opError(opClose, net.ErrClosed)
	}
	s.closed = true
	err := s.kick()
	if err == nil {
		err = s.drain()
	}
	if e := s.release(); e != nil && err == nil {
		err = e
	}
	return err
}

// release closes the socket, then unmaps the rings and the UMEM: once the
// socket is gone the kernel no longer touches them.
func (s *sender) release() error {
	var err error
	if e := unix.Close(s.fd); e != nil {
		err = opError(opClose, os.NewSyscallError("close", e))
	}
	for _, m := range []*[]byte{&s.txMap, &s.cqMap, &s.umem} {
		if *m != nil {
			if e := unix.Munmap(*m); e != nil && err == nil {
				err = opError(opClose, os.NewSyscallError("munmap", e))
			}
			*m = nil
		}
	}
	s.txDescs, s.cqAddrs = nil, nil
	return err
}

// interfaceMTU returns the MTU of ifindex in the calling thread's network
// namespace, through the ioctls of a throwaway UDP socket (an AF_XDP socket
// takes no ioctl). The socket is never bound and sends nothing.
func interfaceMTU(ifindex int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, opError(opSocket, os.NewSyscallError("socket", err))
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return 0, opError("ioctl", err)
	}
	ifr.SetUint32(uint32(ifindex))
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr); err != nil {
		return 0, opError("ioctl", os.NewSyscallError("ioctl SIOCGIFNAME", err))
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr); err != nil {
		return 0, opError("ioctl", os.NewSyscallError("ioctl SIOCGIFMTU", err))
	}
	return int(ifr.Uint32()), nil
}
