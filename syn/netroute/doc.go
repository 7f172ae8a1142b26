// Package netroute finds how the scanner reaches a destination from this
// host: the outgoing interface, the source address, the next hop and that
// next hop's Ethernet address, the facts a raw-frame sender must write into
// every frame itself.
//
// It asks the kernel, as `ip route get` and `ip neigh` do, through rtnetlink
// messages it encodes itself (no dependency beyond golang.org/x/sys), for
// IPv4 and IPv6 alike, and falls back to its own ARP request (IPv4) or
// neighbour solicitation (IPv6, RFC 4861) when the neighbour table has no
// usable entry.
//
// Limits:
//   - Linux only; on other systems every lookup returns an error naming the
//     operating system. A route through a gateway of the other family (an
//     IPv4 route via an IPv6 next hop, RFC 5549) is reported as unsupported.
//   - An IPv6 source found on the interface is a global one, never
//     link-local; an IPv6 gateway may be link-local (fe80::1), as default
//     routes usually are.
//   - The answer reflects the network namespace of the calling OS thread, and
//     the routing table at the time of the call.
//   - Interfaces without an Ethernet address (loopback, tun, wireguard) are
//     refused with ErrNoHardwareAddr: frames sent there have no link header
//     to fill.
//   - ARP and neighbour solicitation need root or CAP_NET_RAW (they send on
//     an AF_PACKET socket).
//
// Overrides are the caller's: Find returns a Route without the next hop's
// MAC; a caller may then set Source (-S), or set DstMAC (-G) and skip
// Resolve, which fills DstMAC from the neighbour table or by ARP.
package netroute
