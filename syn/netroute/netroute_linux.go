//go:build linux

package netroute

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// nlTimeout bounds the wait for the kernel's answer; it answers at once, so
// only a lost reply would ever reach it.
const nlTimeout = 5 * time.Second

var nlSeq atomic.Uint32

func init() { nlSeq.Store(uint32(time.Now().Unix())) }

// nlConn is an rtnetlink socket in the network namespace of the thread that
// opened it.
type nlConn struct {
	fd  int
	pid uint32 // our netlink port id, which the kernel puts in its replies
}

func dialNetlink() (*nlConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netroute: %w", os.NewSyscallError("socket", err))
	}
	c := &nlConn{fd: fd}
	// Extended acks make the kernel explain a refusal; an old kernel without
	// them still answers with the errno alone.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	tv := unix.NsecToTimeval(int64(nlTimeout))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		c.close()
		return nil, fmt.Errorf("netroute: %w", os.NewSyscallError("setsockopt SO_RCVTIMEO", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		c.close()
		return nil, fmt.Errorf("netroute: %w", os.NewSyscallError("bind", err))
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		c.close()
		return nil, fmt.Errorf("netroute: %w", os.NewSyscallError("getsockname", err))
	}
	nl, ok := sa.(*unix.SockaddrNetlink)
	if !ok {
		c.close()
		return nil, fmt.Errorf("netroute: netlink socket has address %T", sa)
	}
	c.pid = nl.Pid
	return c, nil
}

func (c *nlConn) close() { unix.Close(c.fd) }

// execute sends req (whose sequence number is seq) and reads datagrams until
// the kernel's answer is complete.
func (c *nlConn) execute(req []byte, seq uint32) (*reply, error) {
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netroute: %w", os.NewSyscallError("sendto", err))
	}
	r := &reply{}
	buf := make([]byte, 64<<10)
	for !r.done {
		// MSG_TRUNC makes recvfrom return the datagram's real length, so a
		// message cut short by the buffer is detected rather than misread.
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_TRUNC)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return nil, fmt.Errorf("netroute: no netlink answer within %v", nlTimeout)
		case err != nil:
			return nil, fmt.Errorf("netroute: %w", os.NewSyscallError("recvfrom", err))
		case n > len(buf):
			return nil, fmt.Errorf("netroute: netlink datagram of %d bytes exceeds %d", n, len(buf))
		}
		if sa, ok := from.(*unix.SockaddrNetlink); !ok || sa.Pid != 0 {
			continue // not from the kernel
		}
		// Messages alias the datagram, so each datagram gets its own copy.
		if err := r.collect(append([]byte(nil), buf[:n]...), seq, c.pid); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// kernelError describes the kernel's refusal. The errno is spelled out, not
// wrapped: an EACCES from a prohibit route must not read as a missing
// privilege to a caller testing errors.Is(err, os.ErrPermission).
func kernelError(op string, e *nlError) error {
	msg := fmt.Sprintf("%s: %v", op, unix.Errno(e.Errno))
	if e.Msg != "" {
		msg += " (" + e.Msg + ")"
	}
	return errors.New(msg)
}

// noRouteReasons names the errors RTM_GETROUTE returns for a destination
// that has no usable route.
var noRouteReasons = map[unix.Errno]string{
	unix.ENETUNREACH:  "network is unreachable",
	unix.EHOSTUNREACH: "unreachable route",
	unix.EACCES:       "prohibit route",
	unix.EINVAL:       "blackhole route",
}

func find(dst netip.Addr, ifname string) (*Route, error) {
	oif := 0
	if ifname != "" {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return nil, fmt.Errorf("netroute: interface %q: %w", ifname, err)
		}
		oif = ifi.Index
	}
	c, err := dialNetlink()
	if err != nil {
		return nil, err
	}
	defer c.close()
	seq := nlSeq.Add(1)
	rep, err := c.execute(encodeRouteRequest(seq, dst, oif), seq)
	if err != nil {
		return nil, err
	}
	if rep.err != nil {
		if why, ok := noRouteReasons[unix.Errno(rep.err.Errno)]; ok {
			return nil, fmt.Errorf("%w %v: %s", ErrNoRoute, dst, why)
		}
		return nil, fmt.Errorf("netroute: route to %v: %w", dst, kernelError("rtnetlink RTM_GETROUTE", rep.err))
	}
	var ri routeInfo
	for _, m := range rep.msgs {
		if m.Type == rtmNewRoute {
			if ri, err = parseRoute(m.Data); err != nil {
				return nil, err
			}
			break
		}
	}
	switch ri.Type {
	case rtnUnicast:
	case rtnLocal:
		return nil, fmt.Errorf("netroute: %v is an address of this host, not a remote one", dst)
	case rtnBroadcast, rtnMulticast, rtnAnycast:
		return nil, fmt.Errorf("netroute: %v is a broadcast, multicast or anycast address (route type %d)", dst, ri.Type)
	case rtnUnreachable, rtnProhibit, rtnBlackhole, rtnThrow:
		return nil, fmt.Errorf("%w %v (route type %d)", ErrNoRoute, dst, ri.Type)
	default:
		return nil, fmt.Errorf("netroute: route to %v of unexpected type %d", dst, ri.Type)
	}
	if ri.Gateway.IsValid() && ri.Gateway.Is4() != dst.Is4() {
		return nil, fmt.Errorf("netroute: route to %v goes through gateway %v of the other family: not supported", dst, ri.Gateway)
	}
	ifi, err := net.InterfaceByIndex(ri.OIF)
	if err != nil {
		return nil, fmt.Errorf("netroute: interface %d of the route to %v: %w", ri.OIF, dst, err)
	}
	if ifi.Flags&net.FlagLoopback != 0 || !validMAC(ifi.HardwareAddr) {
		return nil, fmt.Errorf("%w: route to %v leaves through %s", ErrNoHardwareAddr, dst, ifi.Name)
	}
	src := ri.PrefSrc
	if !src.IsValid() {
		if src, err = firstAddr(ifi, dst.Is4()); err != nil {
			return nil, err
		}
	}
	r := &Route{Interface: ifi, Source: src, Gateway: ri.Gateway, NextHop: dst, SrcMAC: ifi.HardwareAddr}
	if ri.Gateway.IsValid() {
		r.NextHop = ri.Gateway
	}
	return r, nil
}

// firstAddr returns the first IPv4 address of ifi, or with v4 false its
// first IPv6 address that is not link-local (a reply to a probe from a
// link-local address could not come back from beyond the link).
func firstAddr(ifi *net.Interface, v4 bool) (netip.Addr, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("netroute: addresses of %s: %w", ifi.Name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			if v4 && ip.Is4() || !v4 && ip.Is6() && !ip.IsLinkLocalUnicast() {
				return ip, nil
			}
		}
	}
	fam := "IPv4"
	if !v4 {
		fam = "global IPv6"
	}
	return netip.Addr{}, fmt.Errorf("netroute: interface %s has no %s address", ifi.Name, fam)
}

func neighbor(ifindex int, ip netip.Addr) (net.HardwareAddr, error) {
	c, err := dialNetlink()
	if err != nil {
		return nil, err
	}
	defer c.close()
	seq := nlSeq.Add(1)
	fam := uint8(afInet)
	if ip.Is6() {
		fam = afInet6
	}
	rep, err := c.execute(encodeNeighDump(seq, fam, ifindex), seq)
	if err != nil {
		return nil, err
	}
	if rep.err != nil {
		return nil, fmt.Errorf("netroute: neighbour table: %w", kernelError("rtnetlink RTM_GETNEIGH", rep.err))
	}
	mac, ok, err := lookupNeigh(rep.msgs, ifindex, ip)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: no usable neighbour entry for %v on interface %d", ErrNotResolved, ip, ifindex)
	}
	return net.HardwareAddr(append([]byte(nil), mac...)), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func arp(ifi *net.Interface, src, target netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	var req [ethMinFrame]byte
	n := encodeARPRequest(req[:], ifi.HardwareAddr, src, target)
	mac, err := solicit(ifi, ethTypeARP, req[:n], timeout, func(frame []byte) net.HardwareAddr {
		if p, ok := parseARP(frame); ok && p.isReplyFrom(target) {
			return p.SenderMAC
		}
		return nil
	})
	if err == nil && mac == nil {
		err = fmt.Errorf("%w: no ARP reply from %v on %s within %v", ErrNotResolved, target, ifi.Name, timeout)
	}
	return mac, err
}

func ndp(ifi *net.Interface, src, target netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	var req [nsFrameLen]byte
	n := encodeNS(req[:], ifi.HardwareAddr, src, target)
	mac, err := solicit(ifi, ethTypeIPv6, req[:n], timeout, func(frame []byte) net.HardwareAddr {
		if p, ok := parseNA(frame); ok && p.isAnswerFor(target) {
			return p.TargetMAC
		}
		return nil
	})
	if err == nil && mac == nil {
		err = fmt.Errorf("%w: no neighbour advertisement for %v on %s within %v", ErrNotResolved, target, ifi.Name, timeout)
	}
	return mac, err
}

// solicit sends req on ifi up to arpAttempts times, evenly spaced within
// timeout, from an AF_PACKET socket bound to the EtherType proto, and
// returns a copy of the first address answer finds in a received frame;
// nil and no error when none came.
func solicit(ifi *net.Interface, proto uint16, req []byte, timeout time.Duration, answer func([]byte) net.HardwareAddr) (net.HardwareAddr, error) {
	// Protocol 0 until bind: the socket receives nothing before it is bound
	// to proto on ifi.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, &net.OpError{Op: "socket", Net: "packet", Err: os.NewSyscallError("socket", err)}
	}
	defer unix.Close(fd)
	// Our own requests need not come back to us (Linux 4.20+).
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifi.Index}); err != nil {
		return nil, &net.OpError{Op: "bind", Net: "packet", Err: os.NewSyscallError("bind", err)}
	}
	buf := make([]byte, 2048)
	start := time.Now()
	for i := 1; i <= arpAttempts; i++ {
		if _, err := unix.Write(fd, req); err != nil {
			return nil, &net.OpError{Op: "write", Net: "packet", Err: os.NewSyscallError("write", err)}
		}
		next := start.Add(timeout * time.Duration(i) / arpAttempts)
		for {
			wait := time.Until(next)
			if wait <= 0 {
				break
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, int(max(wait/time.Millisecond, 1))); err != nil && !errors.Is(err, unix.EINTR) {
				return nil, &net.OpError{Op: "poll", Net: "packet", Err: os.NewSyscallError("poll", err)}
			}
			for {
				m, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
				if err != nil {
					break // EAGAIN: read everything that had arrived
				}
				if mac := answer(buf[:m]); mac != nil {
					return net.HardwareAddr(append([]byte(nil), mac...)), nil
				}
			}
		}
	}
	return nil, nil
}
