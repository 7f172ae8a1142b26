package targets

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"mailscan/blocklist"
)

// EffectiveBlocklist returns the addresses a scan must never probe: the
// reserved ranges (blocklist.Reserved) minus allowReserved, plus
// userBlock. userBlock always wins: an address it holds is blocked even if
// allowReserved holds it too. Either argument may be nil.
func EffectiveBlocklist(userBlock, allowReserved *blocklist.Set) *blocklist.Set {
	return blocklist.Reserved().Subtract(allowReserved).Union(userBlock)
}

// Excluded counts the target addresses an exclusion removed. An address
// both reserved and in a user blocklist counts as User only, so that
// Reserved + User is the number removed.
type Excluded struct {
	Targets  uint64 `json:"targets"`  // addresses in the targets
	Allowed  uint64 `json:"allowed"`  // addresses left to scan
	Reserved uint64 `json:"reserved"` // removed by reserved ranges only
	User     uint64 `json:"user"`     // removed by the user's blocklists

	// ByReserved breaks Reserved down by reserved range, in the order of
	// blocklist.ReservedRanges, listing only ranges that removed targets.
	// Where reserved ranges nest (255.255.255.255/32 lies in 240.0.0.0/4)
	// an address counts for the most specific one.
	ByReserved []ReservedCount `json:"by_reserved,omitempty"`

	// Blocklist is the effective blocklist (see EffectiveBlocklist): the
	// scanner checks every destination against it once more before
	// sending.
	Blocklist *blocklist.Set `json:"-"`
}

// ReservedCount is how many target addresses one reserved range removed.
type ReservedCount struct {
	Range blocklist.ReservedRange `json:"range"`
	Count uint64                  `json:"count"`
}

// Total returns the number of target addresses excluded.
func (e Excluded) Total() uint64 { return e.Reserved + e.User }

// String returns e.g. "excluded 512 of 4096 addresses: 256 by user
// blocklist, 256 reserved (198.18.0.0/15 (benchmarking, RFC 2544): 256)".
func (e Excluded) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "excluded %d of %d addresses: %d by user blocklist, %d reserved", e.Total(), e.Targets, e.User, e.Reserved)
	for i, rc := range e.ByReserved {
		if i == 0 {
			b.WriteString(" (")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%v: %d", rc.Range, rc.Count)
		if i == len(e.ByReserved)-1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

// Build returns the addresses of targets that may be scanned: targets minus
// the effective blocklist (reserved ranges not in allowReserved, plus
// userBlock, which always wins), and what each exclusion removed. Any
// argument may be nil, which is the empty set; a nil or empty result is the
// caller's to report ("nothing left to scan").
func Build(targets, userBlock, allowReserved *blocklist.Set) (allowed *blocklist.Set, excluded Excluded) {
	deny := EffectiveBlocklist(userBlock, allowReserved)
	allowed = targets.Subtract(deny)

	// Targets hit by reserved ranges that no user blocklist already took.
	notUser := targets.Subtract(userBlock)
	byReserved := notUser.Intersect(blocklist.Reserved()).Subtract(allowReserved)

	excluded = Excluded{
		Targets:   targets.Len(),
		Allowed:   allowed.Len(),
		Reserved:  byReserved.Len(),
		User:      targets.Len() - notUser.Len(),
		Blocklist: deny,
	}
	if byReserved.Len() > 0 {
		excluded.ByReserved = breakdown(byReserved)
	}
	return allowed, excluded
}

// breakdown attributes each address of removed to the most specific
// reserved range holding it.
func breakdown(removed *blocklist.Set) []ReservedCount {
	rrs := blocklist.ReservedRanges
	order := make([]int, len(rrs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(rrs[b].Prefix.Bits(), rrs[a].Prefix.Bits())
	})
	counts := make([]uint64, len(rrs))
	left := removed
	for _, i := range order {
		r := blocklist.NewSet(rrs[i].Range())
		counts[i] = left.Intersect(r).Len()
		left = left.Subtract(r)
	}
	var out []ReservedCount
	for i, n := range counts {
		if n > 0 {
			out = append(out, ReservedCount{Range: rrs[i], Count: n})
		}
	}
	return out
}
