//go:build !linux

package banner

import (
	"context"
	"syscall"
)

// dialControl does nothing where IP_BIND_ADDRESS_NO_PORT does not exist.
func dialControl(context.Context, string, string, syscall.RawConn) error { return nil }
