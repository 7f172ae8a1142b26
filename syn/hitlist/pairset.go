package hitlist

import "net/netip"

// pairSet remembers the (address, port) pairs a Reader has returned, so that
// each is returned once. An IPv4 pair is one uint64 (address<<16 | port): a
// Go map of uint64 keys costs about 10-20 bytes per pair, not the 50 or more
// of a map of strings. IPv6 pairs, rare today, have their own map.
type pairSet struct {
	v4 map[uint64]struct{}
	v6 map[pair6]struct{}
}

type pair6 struct {
	hi, lo uint64
	port   uint16
}

// add inserts a:port and reports whether it was new.
func (s *pairSet) add(a netip.Addr, port uint16) bool {
	if a.Is4() {
		b := a.As4()
		k := uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(port)
		if s.v4 == nil {
			s.v4 = make(map[uint64]struct{})
		}
		if _, ok := s.v4[k]; ok {
			return false
		}
		s.v4[k] = struct{}{}
		return true
	}
	b := a.As16()
	k := pair6{port: port}
	for i := 0; i < 8; i++ {
		k.hi = k.hi<<8 | uint64(b[i])
		k.lo = k.lo<<8 | uint64(b[8+i])
	}
	if s.v6 == nil {
		s.v6 = make(map[pair6]struct{})
	}
	if _, ok := s.v6[k]; ok {
		return false
	}
	s.v6[k] = struct{}{}
	return true
}

func (s *pairSet) len() int { return len(s.v4) + len(s.v6) }
