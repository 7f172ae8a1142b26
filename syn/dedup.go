package syn

import "mailscan/blocklist"

// dedup is a set of (address, port) pairs, sized by the replies it holds, not
// by the address space: open addressing over a power-of-two table of uint64
// keys. It is used by the receiver goroutine only, on the per-reply path.
//
// It grows incrementally: at half load a table twice the size is made, and
// each later insert moves a few slots of the old table into it. Doubling in
// one go would stop the receiver for the copy and the page faults of the new
// table (milliseconds at millions of entries), long enough for the kernel's
// receive ring to overflow at 0.5 Mpps of replies.
type dedup struct {
	cur []uint64 // key+1; 0 marks an empty slot
	old []uint64 // the previous table while its entries move; nil otherwise
	pos int      // slots of old moved so far
	n   int      // distinct keys
}

// migrateStep is how many old slots each insert moves. The old table has
// 2n slots when growth starts, so it is empty after n/32 inserts, long
// before the new one (4n slots) reaches half load.
const migrateStep = 64

func newDedup() *dedup { return &dedup{cur: make([]uint64, 1<<12)} }

// add inserts addr:port and reports whether it was new.
func (d *dedup) add(addr uint32, port uint16) bool {
	k := (uint64(addr)<<16 | uint64(port)) + 1
	if d.old != nil {
		// Entries not yet moved are still only in old. Moved ones are in
		// both; old is never changed, so its probe chains stay valid.
		if find(d.old, k) {
			return false
		}
		d.migrate()
	}
	if !insert(d.cur, k) {
		return false
	}
	d.n++
	if d.n*2 > len(d.cur) && d.old == nil {
		d.old, d.cur, d.pos = d.cur, make([]uint64, len(d.cur)*2), 0
	}
	return true
}

func (d *dedup) migrate() {
	end := min(d.pos+migrateStep, len(d.old))
	for _, k := range d.old[d.pos:end] {
		if k != 0 {
			insert(d.cur, k)
		}
	}
	d.pos = end
	if d.pos == len(d.old) {
		d.old = nil
	}
}

// slot is where k's probe chain starts: Fibonacci hashing spreads sequential
// addresses over the table.
func slot(k uint64, mask uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> 20 & mask }

// insert puts k into t and reports whether it was absent.
func insert(t []uint64, k uint64) bool {
	mask := uint64(len(t) - 1)
	for i := slot(k, mask); ; i = (i + 1) & mask {
		switch t[i] {
		case 0:
			t[i] = k
			return true
		case k:
			return false
		}
	}
}

// find reports whether k is in t.
func find(t []uint64, k uint64) bool {
	mask := uint64(len(t) - 1)
	for i := slot(k, mask); ; i = (i + 1) & mask {
		switch t[i] {
		case 0:
			return false
		case k:
			return true
		}
	}
}

func (d *dedup) len() int { return d.n }

// dedup6 is dedup's IPv6 counterpart: a Go map, whose tables (since Go
// 1.24) grow one small group of slots at a time, so it never stops the
// receiver for a large copy either. IPv6 hits are the few of a list scan;
// the IPv4 table keeps its packed uint64 keys.
type dedup6 struct {
	m map[key6]struct{}
}

type key6 struct {
	a    blocklist.Addr6
	port uint16
}

func newDedup6() *dedup6 { return &dedup6{m: map[key6]struct{}{}} }

// add inserts [addr]:port and reports whether it was new.
func (d *dedup6) add(addr blocklist.Addr6, port uint16) bool {
	k := key6{addr, port}
	if _, ok := d.m[k]; ok {
		return false
	}
	d.m[k] = struct{}{}
	return true
}

func (d *dedup6) len() int { return len(d.m) }
