//go:build linux

package afpacket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RX ring layout (TPACKET_V3). A block starts with struct tpacket_block_desc
// (version, offset_to_priv, then struct tpacket_hdr_v1); frames are struct
// tpacket3_hdr followed, at tp_mac, by tp_snaplen bytes of frame.
const (
	blkStatusOffset  = 8  // hdr.bh1.block_status
	blkNumPktsOffset = 12 // hdr.bh1.num_pkts
	blkFirstOffset   = 16 // hdr.bh1.offset_to_first_pkt
	blkDescLen       = 48 // sizeof(struct tpacket_block_desc), rounded as the kernel does

	rxNextOffset    = 0  // tp_next_offset
	rxSnapLenOffset = 12 // tp_snaplen
	rxMacOffset     = 24 // tp_mac
	rxHdrLen        = unix.SizeofTpacket3Hdr

	ethPAll = 0x0003 // ETH_P_ALL
)

// receiver is the Linux implementation of Receiver.
type receiver struct {
	fd        int
	efd       int // eventfd written by Close to wake a blocked ppoll
	ring      []byte
	blockSize int
	nblocks   int
	cur       int // next block to read
	fds       [2]unix.PollFd
	ts        unix.Timespec
}

func (r *receiver) open(ifindex int, c *ReceiverConfig) (err error) {
	// The socket is opened with protocol 0 and bound to ETH_P_ALL only once
	// the filter and ring are in place: until bind(2) it receives nothing, so
	// no unfiltered frame can reach the ring and nothing needs draining (the
	// way libpcap must after attaching a filter to a live socket).
	fd, err := packetSocket()
	if err != nil {
		return err
	}
	r.fd, r.efd = fd, -1
	defer func() {
		if err != nil {
			r.release()
		}
	}()
	if err := setsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3, "PACKET_VERSION"); err != nil {
		return err
	}
	if len(c.Filter) > 0 {
		prog := make([]unix.SockFilter, len(c.Filter))
		for i, in := range c.Filter {
			prog[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
		}
		fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
			return opError(opSetsockopt, os.NewSyscallError("setsockopt SO_ATTACH_FILTER", err))
		}
	}
	// Our own outgoing frames must not reach the filter (Linux 4.20+). On an
	// older kernel they are still rejected by a filter that wants replies.
	err = setsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING")
	if err != nil && !errors.Is(err, unix.ENOPROTOOPT) {
		return err
	}
	frameSize := tpacketAlign(max(c.FrameSize, rxHdrLen+sizeofSockaddrLL+ethHeaderLen))
	if frameSize > c.BlockSize {
		return fmt.Errorf("afpacket: FrameSize %d does not fit BlockSize %d", c.FrameSize, c.BlockSize)
	}
	req := unix.TpacketReq3{
		Block_size:     uint32(c.BlockSize),
		Block_nr:       uint32(c.NumBlocks),
		Frame_size:     uint32(frameSize),
		Frame_nr:       uint32(c.BlockSize / frameSize * c.NumBlocks),
		Retire_blk_tov: uint32(max(c.Timeout/time.Millisecond, 1)),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return opError(opSetsockopt, os.NewSyscallError("setsockopt PACKET_RX_RING", err))
	}
	ring, err := unix.Mmap(fd, 0, c.BlockSize*c.NumBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		return opError(opMmap, os.NewSyscallError("mmap", err))
	}
	r.ring, r.blockSize, r.nblocks = ring, c.BlockSize, c.NumBlocks
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return opError(opSocket, os.NewSyscallError("eventfd", err))
	}
	r.efd = efd
	r.fds = [2]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(efd), Events: unix.POLLIN}}
	return bindPacket(fd, ifindex, ethPAll)
}

func (r *receiver) blockStatus(b int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.ring[b*r.blockSize+blkStatusOffset]))
}

func (r *receiver) ready(b int) bool {
	return atomic.LoadUint32(r.blockStatus(b))&unix.TP_STATUS_USER != 0
}

func (r *receiver) poll(timeout time.Duration, fn func([]byte), closed *atomic.Bool) (int, error) {
	if !r.ready(r.cur) {
		if timeout == 0 {
			return 0, nil
		}
		if timeout < 0 {
			timeout = -1
		}
		_, e := ppoll(r.fds[:], &r.ts, timeout)
		if e != 0 && e != unix.EINTR {
			return 0, opError(opPoll, os.NewSyscallError("ppoll", e))
		}
		if closed.Load() {
			return 0, opError(opPoll, net.ErrClosed)
		}
		if !r.ready(r.cur) {
			return 0, nil
		}
	}
	n := 0
	for range r.nblocks {
		if !r.ready(r.cur) {
			break
		}
		n += r.walk(r.ring[r.cur*r.blockSize:(r.cur+1)*r.blockSize], fn)
		atomic.StoreUint32(r.blockStatus(r.cur), unix.TP_STATUS_KERNEL)
		r.cur++
		if r.cur == r.nblocks {
			r.cur = 0
		}
	}
	return n, nil
}

// walk calls fn for each frame of the block b. The kernel wrote the block,
// but every offset is checked anyway: a bad one ends the walk, never the
// process.
func (r *receiver) walk(b []byte, fn func([]byte)) int {
	num := binary.NativeEndian.Uint32(b[blkNumPktsOffset:])
	off := int(binary.NativeEndian.Uint32(b[blkFirstOffset:]))
	n := 0
	for i := uint32(0); i < num; i++ {
		if off < blkDescLen || off > len(b)-rxHdrLen {
			break
		}
		h := b[off : off+rxHdrLen]
		snap := int(binary.NativeEndian.Uint32(h[rxSnapLenOffset:]))
		start := off + int(binary.NativeEndian.Uint16(h[rxMacOffset:]))
		if snap > len(b)-start {
			break
		}
		fn(b[start : start+snap : start+snap])
		n++
		next := int(binary.NativeEndian.Uint32(h[rxNextOffset:]))
		if next <= 0 {
			break
		}
		off += next
	}
	return n
}

func (r *receiver) readStats() (ReceiverStats, error) {
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return ReceiverStats{}, opError(opGetsockopt, os.NewSyscallError("getsockopt PACKET_STATISTICS", err))
	}
	return ReceiverStats{Packets: uint64(st.Packets), Drops: uint64(st.Drops), FreezeCount: uint64(st.Freeze_q_cnt)}, nil
}

// wake makes a ppoll in progress (or the next one) return at once.
func (r *receiver) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(r.efd, one[:])
}

func (r *receiver) close() error {
	return r.release()
}

func (r *receiver) release() error {
	var err error
	if r.ring != nil {
		if e := unix.Munmap(r.ring); e != nil {
			err = opError(opClose, os.NewSyscallError("munmap", e))
		}
		r.ring = nil
	}
	if r.efd >= 0 {
		unix.Close(r.efd)
		r.efd = -1
	}
	if e := unix.Close(r.fd); e != nil && err == nil {
		err = opError(opClose, os.NewSyscallError("close", e))
	}
	return err
}
