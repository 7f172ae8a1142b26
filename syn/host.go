package syn

import (
	"net/netip"

	"mailscan/blocklist"
)

// host is a scanned address of either family, in the forms the per-packet
// paths use: comparable, free of pointers, a map key for the per-host state
// of control probes.
type host struct {
	v6 bool
	a4 uint32          // IPv4, host byte order; 0 for IPv6
	a6 blocklist.Addr6 // IPv6; zero for IPv4
}

func host4(a uint32) host          { return host{a4: a} }
func host6(a blocklist.Addr6) host { return host{v6: true, a6: a} }
func (h host) addr() netip.Addr {
	if h.v6 {
		return h.a6.Addr()
	}
	return blocklist.AddrFromUint32(h.a4)
}

// hostOf returns a's host; ok is false for the zero Addr. IPv4-mapped IPv6
// addresses are IPv4 hosts.
func hostOf(a netip.Addr) (h host, ok bool) {
	if v, ok := blocklist.Uint32FromAddr(a); ok {
		return host4(v), true
	}
	if a.Is6() {
		return host6(blocklist.Addr6From(a)), true
	}
	return host{}, false
}
