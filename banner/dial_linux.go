package banner

import (
	"context"
	"syscall"

	"golang.org/x/sys/unix"
)

// dialControl sets IP_BIND_ADDRESS_NO_PORT on every socket we dial from.
// The dialer binds the local address before connecting (a --source-ip, or
// the wildcard); without this option bind(2) reserves an ephemeral port
// for good, shared with no other connection, and a scan runs out of ports
// near 28,000 connections (TIME_WAIT included). With it, the port is
// picked at connect(2) time and only the 4-tuple must be unique. Failure
// (a kernel before 4.2) is ignored: the dial works, with the old limit.
func dialControl(_ context.Context, _, _ string, c syscall.RawConn) error {
	return c.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
}
