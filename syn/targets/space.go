package targets

import (
	"errors"
	"fmt"
	"slices"

	"mailscan/blocklist"
)

// Space is the set of scan targets: allowed addresses × ports. It is
// immutable and safe for concurrent use.
type Space struct {
	addrs *blocklist.Set
	ports []uint16
	np    uint64
	n     uint64
}

// New returns the space addrs × ports. ports are probed in the order given;
// they must be non-zero and distinct. New fails if the space is empty.
// Neither argument is modified; addrs is retained (a Set is immutable) and
// ports is copied.
func New(addrs *blocklist.Set, ports []uint16) (*Space, error) {
	if addrs.Len() == 0 {
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
	// Cannot overflow: at most 2^32 addresses times fewer than 2^16 ports.
	return &Space{addrs: addrs, ports: slices.Clone(ports), np: np, n: addrs.Len() * np}, nil
}

// Len returns the number of targets, addresses × ports (below 2^48).
func (s *Space) Len() uint64 { return s.n }

// At returns target i: the address of rank i/len(ports) in Addrs and port
// i%len(ports) of Ports. It takes O(log ranges) time and allocates nothing.
// The caller must ensure i < s.Len(); At panics otherwise.
func (s *Space) At(i uint64) (addr uint32, port uint16) {
	if s.np == 1 {
		return s.addrs.At(i), s.ports[0]
	}
	a, p := i/s.np, i%s.np
	return s.addrs.At(a), s.ports[p]
}

// IndexOf returns the index of (addr, port), the inverse of At; ok is false
// if the pair is not in the space.
func (s *Space) IndexOf(addr uint32, port uint16) (i uint64, ok bool) {
	a, ok := s.addrs.IndexOf(addr)
	if !ok {
		return 0, false
	}
	p := slices.Index(s.ports, port)
	if p < 0 {
		return 0, false
	}
	return a*s.np + uint64(p), true
}

// Addrs returns the allowed addresses.
func (s *Space) Addrs() *blocklist.Set { return s.addrs }

// Ports returns the ports in probe order. The slice is shared and must not
// be modified.
func (s *Space) Ports() []uint16 { return s.ports }
