//go:build !linux

package netroute

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"time"
)

// errUnimplemented is returned by every lookup on systems without rtnetlink.
var errUnimplemented = fmt.Errorf("netroute: not implemented on %s/%s", runtime.GOOS, runtime.GOARCH)

func find(netip.Addr, string) (*Route, error)            { return nil, errUnimplemented }
func neighbor(int, netip.Addr) (net.HardwareAddr, error) { return nil, errUnimplemented }
func arp(*net.Interface, netip.Addr, netip.Addr, time.Duration) (net.HardwareAddr, error) {
	return nil, errUnimplemented
}
func ndp(*net.Interface, netip.Addr, netip.Addr, time.Duration) (net.HardwareAddr, error) {
	return nil, errUnimplemented
}
