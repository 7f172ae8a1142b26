//go:build linux

package afpacket

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// packet(7): sll_protocol and the socket(2) protocol are in network byte
// order.
func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket opens an AF_PACKET SOCK_RAW socket with protocol 0: such a
// socket receives nothing until it is bound with a protocol, so options and
// filters can be set before the first frame arrives.
func packetSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, opError(opSocket, os.NewSyscallError("socket", err))
	}
	return fd, nil
}

// bindPacket binds fd to the interface ifindex for protocol (host order; 0
// registers no receive hook, so the socket never receives).
func bindPacket(fd, ifindex int, protocol uint16) error {
	sa := &unix.SockaddrLinklayer{Protocol: htons(protocol), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		return opError(opBind, os.NewSyscallError("bind", err))
	}
	return nil
}

func setsockoptInt(fd, level, opt, v int, name string) error {
	if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
		return opError(opSetsockopt, os.NewSyscallError("setsockopt "+name, err))
	}
	return nil
}

// ppoll waits up to timeout (negative: forever) for events on fds. It never
// allocates: fds and ts belong to the caller.
func ppoll(fds []unix.PollFd, ts *unix.Timespec, timeout time.Duration) (int, unix.Errno) {
	var tsp uintptr
	if timeout >= 0 {
		*ts = unix.NsecToTimespec(int64(timeout))
		tsp = uintptr(unsafe.Pointer(ts))
	}
	n, _, e := unix.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&fds[0])), uintptr(len(fds)), tsp, 0, 0, 0)
	return int(n), e
}

// interfaceMTU returns the MTU of ifindex via SIOCGIFMTU on fd.
func interfaceMTU(fd, ifindex int) (int, error) {
	name, err := interfaceName(fd, ifindex)
	if err != nil {
		return 0, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, opError("ioctl", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFMTU, ifr); err != nil {
		return 0, opError("ioctl", os.NewSyscallError("ioctl SIOCGIFMTU", err))
	}
	return int(ifr.Uint32()), nil
}

// interfaceName resolves ifindex with SIOCGIFNAME in the socket's network
// namespace (package net would ask the namespace of the calling thread).
func interfaceName(fd, ifindex int) (string, error) {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return "", opError("ioctl", err)
	}
	ifr.SetUint32(uint32(ifindex))
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr); err != nil {
		return "", opError("ioctl", os.NewSyscallError("ioctl SIOCGIFNAME", err))
	}
	return ifr.Name(), nil
}
