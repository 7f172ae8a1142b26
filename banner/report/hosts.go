package report

import (
	"cmp"
	"container/heap"
	"math/bits"
	"net/netip"
	"slices"
)

// maxSlots is how many distinct (port, protocol) pairs one report tells
// apart: a host's ports are bitmaps of this many bits, and the last bit of
// host.seen marks a pseudo-service host.
const maxSlots = 31

const pseudoBit = 1 << maxSlots

// host is the whole per-host state: 16 bytes, whatever the number of
// records or ports. Bit s of a bitmap is slot s (a port and protocol).
type host struct {
	ip    uint32 // IPv4; IPv6 hosts live in hostTable.v6
	seen  uint32 // targets seen (any status); pseudoBit: answers_all_ports
	svc   uint32 // targets that are services
	login uint32 // services that expose a cleartext login
}

// hostShards splits the IPv4 table so that growing it never holds two
// copies of the whole: each shard doubles on its own.
const hostShards = 256

// hostTable maps addresses to host state: IPv4 in open-addressing tables
// keyed by the address as a uint32 (linear probing, an entry is free when
// its seen is 0), IPv6 in a map (rare).
type hostTable struct {
	shards [hostShards]shard4
	v6     map[[16]byte]*host
	n      int
}

type shard4 struct {
	slots []host
	n     int
}

// hash4 mixes an address (a 32-bit finaliser of MurmurHash3): consecutive
// addresses must not fill consecutive slots.
func hash4(ip uint32) uint32 {
	h := ip
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// get returns the state of ip, creating it (with seen 0) if new; the
// caller must set a seen bit before the next get. The pointer is valid
// until the next get.
func (t *hostTable) get(ip netip.Addr) *host {
	if ip.Is4() {
		a := ip.As4()
		return t.get4(uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]))
	}
	if t.v6 == nil {
		t.v6 = make(map[[16]byte]*host)
	}
	k := ip.As16()
	h := t.v6[k]
	if h == nil {
		h = new(host)
		t.v6[k] = h
		t.n++
	}
	return h
}

func (t *hostTable) get4(ip uint32) *host {
	hv := hash4(ip)
	sh := &t.shards[hv>>24]
	if len(sh.slots) == 0 || (sh.n+1)*8 > len(sh.slots)*7 {
		sh.grow()
	}
	mask := uint32(len(sh.slots) - 1)
	for i := hv & mask; ; i = (i + 1) & mask {
		e := &sh.slots[i]
		if e.seen == 0 {
			// A new entry; a get without a seen bit set leaves it free.
			e.ip = ip
			e.svc, e.login = 0, 0
			sh.n++
			t.n++
			return e
		}
		if e.ip == ip {
			return e
		}
	}
}

func (sh *shard4) grow() {
	old := sh.slots
	n := max(64, 2*len(old))
	sh.slots = make([]host, n)
	mask := uint32(n - 1)
	for _, e := range old {
		if e.seen == 0 {
			continue
		}
		i := hash4(e.ip) & mask
		for sh.slots[i].seen != 0 {
			i = (i + 1) & mask
		}
		sh.slots[i] = e
	}
}

// each calls fn for every host, IPv4 in address order then IPv6 in address
// order, without a copy of the table: each shard is compacted and sorted in
// place, then the shards are merged. The table is unusable for get after.
func (t *hostTable) each(fn func(ip netip.Addr, h *host)) {
	var hp mergeHeap
	for i := range t.shards {
		sh := &t.shards[i]
		k := 0
		for _, e := range sh.slots {
			if e.seen != 0 {
				sh.slots[k] = e
				k++
			}
		}
		sh.slots = sh.slots[:k]
		slices.SortFunc(sh.slots, func(a, b host) int { return cmp.Compare(a.ip, b.ip) })
		if k > 0 {
			hp = append(hp, mergeHead{shard: sh})
		}
	}
	heap.Init(&hp)
	for len(hp) > 0 {
		m := &hp[0]
		e := &m.shard.slots[m.pos]
		fn(netip.AddrFrom4([4]byte{byte(e.ip >> 24), byte(e.ip >> 16), byte(e.ip >> 8), byte(e.ip)}), e)
		m.pos++
		if m.pos == len(m.shard.slots) {
			heap.Pop(&hp)
		} else {
			heap.Fix(&hp, 0)
		}
	}
	keys := make([][16]byte, 0, len(t.v6))
	for k := range t.v6 {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [16]byte) int {
		return slices.Compare(a[:], b[:])
	})
	for _, k := range keys {
		fn(netip.AddrFrom16(k), t.v6[k])
	}
}

type mergeHead struct {
	shard *shard4
	pos   int
}

type mergeHeap []mergeHead

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	return h[i].shard.slots[h[i].pos].ip < h[j].shard.slots[h[j].pos].ip
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeHead)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// nonServiceTable remembers the status of targets that are not services, keyed
// by address and slot, so that a later record of the same target that is a
// service can take its place in the status counts. IPv4 keys are packed
// into one uint64 entry with the status; IPv6 ones use a map.
type nonServiceTable struct {
	shards [hostShards]shard64
	v6     map[statusKey6]uint8
}

type statusKey6 struct {
	ip   [16]byte
	slot uint8
}

type shard64 struct {
	slots []uint64 // 1<<63 | ip<<16 | slot<<8 | status; 0 free, tombstone 1
	n     int
}

const tombstone = 1

func statusEntry(ip uint32, slot uint8) uint64 {
	return 1<<63 | uint64(ip)<<16 | uint64(slot)<<8
}

// put records the status of a target that is not a service.
func (t *nonServiceTable) put(ip netip.Addr, slot, status uint8) {
	if !ip.Is4() {
		if t.v6 == nil {
			t.v6 = make(map[statusKey6]uint8)
		}
		t.v6[statusKey6{ip.As16(), slot}] = status
		return
	}
	a := ip.As4()
	v4 := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	key := statusEntry(v4, slot)
	hv := hash4(v4 ^ uint32(slot)*0x9e3779b9)
	sh := &t.shards[hv>>24]
	if len(sh.slots) == 0 || (sh.n+1)*4 > len(sh.slots)*3 {
		sh.grow()
	}
	mask := uint32(len(sh.slots) - 1)
	for i := hv & mask; ; i = (i + 1) & mask {
		e := sh.slots[i]
		if e == 0 || e == tombstone {
			sh.slots[i] = key | uint64(status)
			sh.n++
			return
		}
		if e&^0xff == key {
			sh.slots[i] = key | uint64(status)
			return
		}
	}
}

// take returns and forgets the status of a target; ok is false when none
// was recorded.
func (t *nonServiceTable) take(ip netip.Addr, slot uint8) (status uint8, ok bool) {
	if !ip.Is4() {
		k := statusKey6{ip.As16(), slot}
		status, ok = t.v6[k]
		delete(t.v6, k)
		return status, ok
	}
	a := ip.As4()
	v4 := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	key := statusEntry(v4, slot)
	hv := hash4(v4 ^ uint32(slot)*0x9e3779b9)
	sh := &t.shards[hv>>24]
	if len(sh.slots) == 0 {
		return 0, false
	}
	mask := uint32(len(sh.slots) - 1)
	for i := hv & mask; ; i = (i + 1) & mask {
		e := sh.slots[i]
		if e == 0 {
			return 0, false
		}
		if e != tombstone && e&^0xff == key {
			sh.slots[i] = tombstone // n keeps counting it until the next grow
			return uint8(e), true
		}
	}
}

func (sh *shard64) grow() {
	old := sh.slots
	live := 0
	for _, e := range old {
		if e > tombstone {
			live++
		}
	}
	n := max(64, len(old))
	for (live+1)*2 > n {
		n *= 2
	}
	sh.slots = make([]uint64, n)
	sh.n = live
	mask := uint32(n - 1)
	for _, e := range old {
		if e <= tombstone {
			continue
		}
		i := hash4(uint32(e>>16)^uint32(uint8(e>>8))*0x9e3779b9) & mask
		for sh.slots[i] != 0 {
			i = (i + 1) & mask
		}
		sh.slots[i] = e
	}
}

func popcount(x uint32) int64 { return int64(bits.OnesCount32(x)) }
