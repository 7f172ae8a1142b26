package netroute

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Errors that callers may test with errors.Is.
var (
	// ErrNoRoute means the kernel has no route to the destination, or one
	// that discards it (unreachable, prohibit, blackhole).
	ErrNoRoute = errors.New("netroute: no route to destination")
	// ErrNoHardwareAddr means the route leaves through an interface that has
	// no Ethernet address, so raw Ethernet frames cannot be sent on it.
	ErrNoHardwareAddr = errors.New("netroute: interface has no Ethernet address")
	// ErrNotResolved means the next hop's Ethernet address is unknown: no
	// usable neighbour entry, or no answer to ARP or neighbour
	// solicitation.
	ErrNotResolved = errors.New("netroute: next hop's Ethernet address not resolved")
)

// DefaultARPTimeout bounds the ARP or neighbour solicitation exchange of
// Lookup and LookupVia.
const DefaultARPTimeout = 3 * time.Second

// arpAttempts is how many requests ARP (or solicitations NDP) sends before
// giving up, spread evenly over its timeout.
const arpAttempts = 3

// Route is how to reach a destination from this host: interface, our source
// address, next hop and the Ethernet addresses of both ends of the link.
type Route struct {
	Interface *net.Interface
	// Source is the preferred source address (the kernel's RTA_PREFSRC, else
	// the interface's first address of the destination's family; for IPv6
	// a global one, not link-local).
	Source netip.Addr
	// Gateway is the router the destination is reached through; zero when the
	// destination is on-link.
	Gateway netip.Addr
	// NextHop is Gateway, or the destination itself when on-link: the host
	// whose Ethernet address frames carry.
	NextHop netip.Addr
	SrcMAC  net.HardwareAddr
	// DstMAC is NextHop's Ethernet address (neighbour table, else ARP or
	// neighbour solicitation); nil until Resolve.
	DstMAC net.HardwareAddr
}

// String describes r like `ip route get` plus the link addresses.
func (r *Route) String() string {
	s := ""
	if r.Gateway.IsValid() {
		s = "via " + r.Gateway.String() + " "
	}
	name := "?"
	if r.Interface != nil {
		name = r.Interface.Name
	}
	return fmt.Sprintf("%sdev %s src %s (%v -> %v)", s, name, r.Source, r.SrcMAC, r.DstMAC)
}

// Lookup returns the complete route to dst, IPv4 or IPv6: the kernel's
// answer to RTM_GETROUTE (as `ip route get dst`), then the next hop's
// Ethernet address from the neighbour table, else by ARP (IPv4) or
// neighbour solicitation (IPv6) within DefaultARPTimeout.
func Lookup(dst netip.Addr) (*Route, error) {
	return lookup(dst, "")
}

// LookupVia is Lookup restricted to the interface ifname (the -i flag). When
// no route leaves through ifname, the kernel assumes dst is on-link there,
// as `ip route get dst oif ifname` does.
func LookupVia(ifname string, dst netip.Addr) (*Route, error) {
	if ifname == "" {
		return nil, errors.New("netroute: empty interface name")
	}
	return lookup(dst, ifname)
}

func lookup(dst netip.Addr, ifname string) (*Route, error) {
	r, err := Find(dst, ifname)
	if err != nil {
		return nil, err
	}
	if err := r.Resolve(DefaultARPTimeout); err != nil {
		return nil, err
	}
	return r, nil
}

// Find returns the route to dst, through the interface ifname if it is not
// empty, with every field set but DstMAC. Callers that override the source
// address set Source before Resolve; callers that know the gateway's MAC set
// DstMAC and skip Resolve.
// An IPv4-mapped dst is the IPv4 address it carries.
func Find(dst netip.Addr, ifname string) (*Route, error) {
	dst = dst.Unmap()
	if !dst.IsValid() || dst.Zone() != "" {
		return nil, fmt.Errorf("netroute: %v is not a destination address", dst)
	}
	return find(dst, ifname)
}

// Resolve sets r.DstMAC to the Ethernet address of r.NextHop: from the
// neighbour table when it holds a usable entry, else by ARP (IPv4) or
// neighbour solicitation (IPv6) on r.Interface from r.Source, waiting at
// most timeout.
func (r *Route) Resolve(timeout time.Duration) error {
	if r.Interface == nil || !r.NextHop.IsValid() || !r.Source.IsValid() || r.NextHop.Is4() != r.Source.Is4() {
		return errors.New("netroute: Resolve needs Interface, and Source and NextHop of one family")
	}
	mac, err := Neighbor(r.Interface.Index, r.NextHop)
	if errors.Is(err, ErrNotResolved) {
		if r.NextHop.Is4() {
			mac, err = ARP(r.Interface, r.Source, r.NextHop, timeout)
		} else {
			mac, err = NDP(r.Interface, r.Source, r.NextHop, timeout)
		}
	}
	if err != nil {
		return err
	}
	r.DstMAC = mac
	return nil
}

// Neighbor returns the Ethernet address of ip (IPv4 or IPv6) in the
// kernel's neighbour table for the interface ifindex (RTM_GETNEIGH). Only
// entries in state REACHABLE, STALE, DELAY, PROBE or PERMANENT count;
// otherwise the error wraps ErrNotResolved.
func Neighbor(ifindex int, ip netip.Addr) (net.HardwareAddr, error) {
	if !ip.IsValid() || ip.Is4In6() {
		return nil, fmt.Errorf("netroute: %v is not a neighbour address", ip)
	}
	return neighbor(ifindex, ip.WithZone(""))
}

// ARP asks for target's Ethernet address on ifi with ARP who-has requests
// from src (on an AF_PACKET socket), sending up to three, evenly spaced
// within timeout, and returns the address in the first reply from target.
// Without a reply the error wraps ErrNotResolved.
func ARP(ifi *net.Interface, src, target netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	switch {
	case ifi == nil:
		return nil, errors.New("netroute: ARP needs an interface")
	case !validMAC(ifi.HardwareAddr):
		return nil, fmt.Errorf("%w: %s", ErrNoHardwareAddr, ifi.Name)
	case !src.Is4() || !target.Is4():
		return nil, fmt.Errorf("netroute: ARP from %v for %v: IPv4 addresses only", src, target)
	case timeout <= 0:
		return nil, fmt.Errorf("netroute: ARP timeout %v is not positive", timeout)
	}
	return arp(ifi, src, target, timeout)
}

// NDP asks for target's Ethernet address on ifi with IPv6 neighbour
// solicitations (RFC 4861) from src, sent to target's solicited-node
// multicast address on an AF_PACKET socket, up to three evenly spaced within
// timeout, and returns the address in the first advertisement for target.
// Without one the error wraps ErrNotResolved.
func NDP(ifi *net.Interface, src, target netip.Addr, timeout time.Duration) (net.HardwareAddr, error) {
	switch {
	case ifi == nil:
		return nil, errors.New("netroute: NDP needs an interface")
	case !validMAC(ifi.HardwareAddr):
		return nil, fmt.Errorf("%w: %s", ErrNoHardwareAddr, ifi.Name)
	case !src.Is6() || src.Is4In6() || !target.Is6() || target.Is4In6() || target.IsMulticast():
		return nil, fmt.Errorf("netroute: neighbour solicitation from %v for %v: IPv6 unicast addresses only", src, target)
	case timeout <= 0:
		return nil, fmt.Errorf("netroute: NDP timeout %v is not positive", timeout)
	}
	return ndp(ifi, src.WithZone(""), target.WithZone(""), timeout)
}
