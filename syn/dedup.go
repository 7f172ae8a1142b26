package syn

// dedup is a set of (address, port) pairs, sized by the replies it holds, not
// by the address space: open addressing over a power-of-two table of uint64
// keys, doubled at half load. It is used by the receiver goroutine only.
type dedup struct {
	keys []uint64 // key+1; 0 marks an empty slot
	n    int
}

func newDedup() *dedup { return &dedup{keys: make([]uint64, 1<<12)} }

// add inserts addr:port and reports whether it was new.
func (d *dedup) add(addr uint32, port uint16) bool {
	k := (uint64(addr)<<16 | uint64(port)) + 1
	if d.insert(k) {
		d.n++
		if d.n*2 > len(d.keys) {
			d.grow()
		}
		return true
	}
	return false
}

func (d *dedup) insert(k uint64) bool {
	mask := uint64(len(d.keys) - 1)
	// Fibonacci hashing spreads sequential addresses over the table.
	for i := (k * 0x9E3779B97F4A7C15) >> 20 & mask; ; i = (i + 1) & mask {
		switch d.keys[i] {
		case 0:
			d.keys[i] = k
			return true
		case k:
			return false
		}
	}
}

func (d *dedup) grow() {
	old := d.keys
	d.keys = make([]uint64, len(old)*2)
	for _, k := range old {
		if k != 0 {
			d.insert(k)
		}
	}
}

func (d *dedup) len() int { return d.n }
