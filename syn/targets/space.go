package targets

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"

	"mailscan/blocklist"
)

// MaxTargets bounds a target space: the permutation's index space
// (cyclic.MaxN). It is far beyond any IPv4 scan (2^32 addresses × 2^16
// ports is under 2^48); only IPv6 prefixes can reach it.
const MaxTargets = 1 << 63

// Space is the set of scan targets: allowed addresses × ports, the IPv4
// addresses first, then the IPv6 ones. It is immutable and safe for
// concurrent use.
//
// Index i maps to address rank i/len(ports) and port i%len(ports), so the
// indices below Len4 are the IPv4 targets and the rest the IPv6 targets:
// one comparison tells a target's family, and one permutation of [0, Len)
// mixes both families over the whole scan.
type Space struct {
	v4    *blocklist.Set
	v6    *blocklist.Set6
	ports []uint16
	np    uint64
	n4    uint64 // IPv4 targets: v4.Len() × np
	n     uint64
}

// New returns the space addrs × ports. ports are probed in the order given;
// they must be non-zero and distinct. New fails if the space is empty or
// holds more than MaxTargets targets. Neither argument is modified; the
// sets are retained (they are immutable) and ports is copied.
func New(addrs Addrs, ports []uint16) (*Space, error) {
	if addrs.Empty() {
		return nil, errors.New("targets: no addresses left to scan")
	}
	if len(ports) == 0 {
		return nil, errors.New("targets: no ports to scan")
	}
	sorted := slices.Clone(ports)
	slices.Sort(sorted)
	if sorted[0] == 0 {
		return nil, errors.New("targets: port 0 cannot be scanned")
	}
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return nil, fmt.Errorf("targets: port %d listed twice", sorted[i])
		}
	}
	np := uint64(len(ports))
	n, ok := addrs.Targets(len(ports))
	if !ok {
		return nil, fmt.Errorf("targets: %s × %d ports exceed %d targets, the most one scan can order", addrs.LenString(), np, uint64(MaxTargets))
	}
	// Cannot overflow: at most 2^32 addresses times fewer than 2^16 ports.
	n4 := addrs.V4.Len() * np
	return &Space{v4: addrs.V4, v6: addrs.V6, ports: slices.Clone(ports), np: np, n4: n4, n: n}, nil
}

// Len returns the number of targets, addresses × ports, at most MaxTargets.
func (s *Space) Len() uint64 { return s.n }

// Len4 returns the number of IPv4 targets: indices below it are IPv4
// targets (At), the others IPv6 targets (At6).
func (s *Space) Len4() uint64 { return s.n4 }

// At returns IPv4 target i: the address of rank i/len(ports) in Addrs().V4
// and port i%len(ports) of Ports. It takes O(log ranges) time and allocates
// nothing. The caller must ensure i < s.Len4(); At panics otherwise.
func (s *Space) At(i uint64) (addr uint32, port uint16) {
	if s.np == 1 {
		return s.v4.At(i), s.ports[0]
	}
	a, p := i/s.np, i%s.np
	return s.v4.At(a), s.ports[p]
}

// At6 returns IPv6 target i: the address of rank i/len(ports) - v4 in
// Addrs().V6 (v4 being the number of IPv4 addresses) and port
// i%len(ports). It takes O(log ranges) time and allocates nothing. The
// caller must ensure s.Len4() <= i < s.Len(); At6 panics otherwise.
func (s *Space) At6(i uint64) (addr blocklist.Addr6, port uint16) {
	a, p := i/s.np, i%s.np
	return s.v6.AtAddr6(a - s.n4/s.np), s.ports[p]
}

// IndexOf returns the index of the IPv4 target (addr, port), the inverse
// of At; ok is false if the pair is not in the space.
func (s *Space) IndexOf(addr uint32, port uint16) (i uint64, ok bool) {
	a, ok := s.v4.IndexOf(addr)
	if !ok {
		return 0, false
	}
	p := slices.Index(s.ports, port)
	if p < 0 {
		return 0, false
	}
	return a*s.np + uint64(p), true
}

// IndexOfAddr returns the index of the target (addr, port) of either
// family, the inverse of At and At6; ok is false if the pair is not in the
// space. IPv4-mapped IPv6 addresses are IPv4 addresses here.
func (s *Space) IndexOfAddr(addr netip.Addr, port uint16) (i uint64, ok bool) {
	if v, ok := blocklist.Uint32FromAddr(addr); ok {
		return s.IndexOf(v, port)
	}
	a, ok := s.v6.IndexOf(addr)
	if !ok {
		return 0, false
	}
	p := slices.Index(s.ports, port)
	if p < 0 {
		return 0, false
	}
	return s.n4 + a*s.np + uint64(p), true
}

// Addrs returns the allowed addresses.
func (s *Space) Addrs() Addrs { return Addrs{V4: s.v4, V6: s.v6} }

// Ports returns the ports in probe order. The slice is shared and must not
// be modified.
func (s *Space) Ports() []uint16 { return s.ports }

// Addrs is a set of addresses of both families. A nil member is empty.
type Addrs struct {
	V4 *blocklist.Set
	V6 *blocklist.Set6
}

// Empty reports whether a holds no address.
func (a Addrs) Empty() bool { return a.V4.Len() == 0 && a.V6.Empty() }

// Len returns the number of addresses in a, saturated at 2^64-1.
func (a Addrs) Len() uint64 {
	n, c := bits.Add64(a.V4.Len(), a.V6.Len(), 0)
	if c != 0 || a.V6.Len() == ^uint64(0) {
		return ^uint64(0)
	}
	return n
}

// Targets returns the number of targets a × ports ports; ok is false when
// it exceeds MaxTargets.
func (a Addrs) Targets(ports int) (n uint64, ok bool) {
	addrs := a.Len()
	if addrs == ^uint64(0) {
		return 0, false
	}
	hi, lo := bits.Mul64(addrs, uint64(max(ports, 0)))
	return lo, hi == 0 && lo <= MaxTargets
}

// Targets6 returns the number of IPv6 targets, saturated at 2^64-1.
func (a Addrs) Targets6(ports int) uint64 {
	hi, lo := bits.Mul64(a.V6.Len(), uint64(max(ports, 0)))
	if hi != 0 || a.V6.Len() == ^uint64(0) {
		return ^uint64(0)
	}
	return lo
}

// LenString describes the size of a: "4096 addresses" or "4096 IPv4 and
// 256 IPv6 addresses".
func (a Addrs) LenString() string {
	n6 := a.V6.Len()
	s6 := fmt.Sprint(n6)
	if n6 == ^uint64(0) {
		s6 = "2^64 or more"
	}
	switch {
	case a.V6.Empty():
		return fmt.Sprintf("%d addresses", a.V4.Len())
	case a.V4.Len() == 0:
		return s6 + " IPv6 addresses"
	}
	return fmt.Sprintf("%d IPv4 and %s IPv6 addresses", a.V4.Len(), s6)
}

// String returns the IPv4 ranges and then the IPv6 ranges, separated by
// ", ".
func (a Addrs) String() string {
	s4, s6 := a.V4.String(), a.V6.String()
	switch {
	case s6 == "":
		return s4
	case s4 == "":
		return s6
	}
	return s4 + ", " + s6
}

// MaxIPv6Targets is how many IPv6 targets (addresses × ports) a scan takes
// without being forced (CheckSize): a list from DNS or a hit list, or a
// few small prefixes, stays far below it, while a /96 typed for a /112
// does not.
const MaxIPv6Targets = 1 << 32

// ErrTooLarge is wrapped by the error of CheckSize.
var ErrTooLarge = errors.New("targets: too many IPv6 targets")

// CheckSize refuses an IPv6 part of more than MaxIPv6Targets targets
// unless force is set: IPv6 is scanned as lists and small prefixes, and a
// prefix a few bits too short would otherwise start a scan of billions.
func (a Addrs) CheckSize(ports int, force bool) error {
	if n := a.Targets6(ports); n > MaxIPv6Targets && !force {
		what := fmt.Sprint(n)
		if n == ^uint64(0) {
			what = "2^64 or more"
		}
		return fmt.Errorf("%w: %s IPv6 addresses × %d ports = %s targets, above %d: check the prefixes, or confirm with --force",
			ErrTooLarge, lenString6(a.V6), ports, what, uint64(MaxIPv6Targets))
	}
	return nil
}

func lenString6(s *blocklist.Set6) string {
	if n := s.Len(); n != ^uint64(0) {
		return fmt.Sprint(n)
	}
	return "2^64 or more"
}
