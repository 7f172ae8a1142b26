package targets

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mailscan/blocklist"
)

// Excluded counts the target addresses an exclusion removed, over both
// families. An address both reserved and in a user blocklist counts as
// User only, so that Reserved + User is the number removed.
type Excluded struct {
	Targets  uint64 `json:"targets"`  // addresses in the targets
	Allowed  uint64 `json:"allowed"`  // addresses left to scan
	Reserved uint64 `json:"reserved"` // removed by reserved ranges only
	User     uint64 `json:"user"`     // removed by the user's blocklists

	// IPv6 is the IPv6 share of the four counts above; nil when no target
	// is an IPv6 address.
	IPv6 *Family `json:"ipv6,omitempty"`

	// ByReserved breaks Reserved down by reserved range, in the order of
	// blocklist.ReservedRanges then blocklist.ReservedRanges6, listing only
	// ranges that removed targets. Where reserved ranges nest
	// (255.255.255.255/32 lies in 240.0.0.0/4, 64:ff9b::/96 in ::/8) an
	// address counts for the most specific one.
	ByReserved []ReservedCount `json:"by_reserved,omitempty"`

	// ByFile counts, per user blocklist in the order given, the target
	// addresses it holds (an address in two files counts in both).
	ByFile []FileCount `json:"by_file,omitempty"`

	// Blocklist and Blocklist6 are the policy's effective blocklists
	// (blocklist.Policy.Deny4 and Deny6): the scanner checks every
	// destination against them once more before sending.
	Blocklist  *blocklist.Set  `json:"-"`
	Blocklist6 *blocklist.Set6 `json:"-"`
}

// Family is what the exclusions did to the targets of one address family.
type Family struct {
	Targets  uint64 `json:"targets"`
	Allowed  uint64 `json:"allowed"`
	Reserved uint64 `json:"reserved"`
	User     uint64 `json:"user"`
}

// FileCount is how many target addresses one blocklist file holds, and how
// many IPv6 entries it has.
type FileCount struct {
	File        string `json:"file"`
	Count       uint64 `json:"count"`
	IPv6Entries int    `json:"ipv6_entries,omitempty"`
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
	fmt.Fprintf(&b, "excluded %d of %d addresses", e.Total(), e.Targets)
	if f := e.IPv6; f != nil {
		fmt.Fprintf(&b, " (IPv6: %d of %d)", f.Reserved+f.User, f.Targets)
	}
	fmt.Fprintf(&b, ": %d by user blocklist, %d reserved", e.User, e.Reserved)
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

// Build returns the addresses of targets that policy allows, and what each
// exclusion removed. A nil targets is the empty set; a nil policy is
// blocklist.DefaultPolicy(). An empty result is the caller's to report
// ("nothing left to scan").
func Build(targets *blocklist.Set, policy *blocklist.Policy) (allowed *blocklist.Set, excluded Excluded) {
	if policy == nil {
		policy = blocklist.DefaultPolicy()
	}
	deny := policy.Deny4()
	allowed = targets.Subtract(deny)

	// Targets hit by reserved ranges that no user blocklist already took.
	user := policy.User4()
	notUser := targets.Subtract(user)
	byReserved := notUser.Intersect(blocklist.Reserved()).Subtract(policy.AllowReserved4())

	excluded = Excluded{
		Targets:    targets.Len(),
		Allowed:    allowed.Len(),
		Reserved:   byReserved.Len(),
		User:       targets.Len() - notUser.Len(),
		Blocklist:  deny,
		Blocklist6: policy.Deny6(),
	}
	if byReserved.Len() > 0 {
		excluded.ByReserved = breakdown(byReserved)
	}
	for _, l := range policy.Lists() {
		excluded.ByFile = append(excluded.ByFile, FileCount{File: l.Name, Count: targets.Intersect(l.V4).Len(), IPv6Entries: l.V6Entries})
	}
	return allowed, excluded
}

// BuildAddrs is Build for targets of both families: it returns the
// addresses of targets that policy allows, and what each exclusion removed.
// The IPv6 targets must hold fewer than 2^64 addresses (Spec.Build checks),
// so that every count is exact.
func BuildAddrs(targets Addrs, policy *blocklist.Policy) (allowed Addrs, excluded Excluded) {
	if policy == nil {
		policy = blocklist.DefaultPolicy()
	}
	allowed.V4, excluded = Build(targets.V4, policy)
	allowed.V6 = targets.V6.Subtract(policy.Deny6())
	if targets.V6.Empty() {
		return allowed, excluded
	}
	t6 := targets.V6
	notUser := t6.Subtract(policy.User6())
	byReserved := notUser.Intersect(blocklist.Reserved6()).Subtract(policy.AllowReserved6())
	f := &Family{Targets: t6.Len(), Allowed: allowed.V6.Len(), Reserved: byReserved.Len(), User: t6.Len() - notUser.Len()}
	excluded.IPv6 = f
	excluded.Targets += f.Targets
	excluded.Allowed += f.Allowed
	excluded.Reserved += f.Reserved
	excluded.User += f.User
	if !byReserved.Empty() {
		excluded.ByReserved = append(excluded.ByReserved, breakdown6(byReserved)...)
	}
	for i, l := range policy.Lists() {
		excluded.ByFile[i].Count += t6.Intersect(l.V6).Len()
	}
	return allowed, excluded
}

// Spec names a scan's targets as a user gives them: entries (addresses,
// CIDR prefixes, ranges of either family), allowlist files in ZMap's
// format (with IPv6 lines too), and the exclusion policy.
type Spec struct {
	Entries    []string
	Allowlists []string
	// Policy is the exclusion policy (nil: blocklist.DefaultPolicy()).
	Policy *blocklist.Policy
}

// ErrNoTargets is returned by Spec.Build when no target is named at all.
var ErrNoTargets = errors.New("targets: no targets given")

// AllExcludedError is returned by Spec.Build when targets were named but
// the exclusions removed every one.
type AllExcludedError struct{ Excluded Excluded }

func (e *AllExcludedError) Error() string {
	return "targets: no targets left to scan: " + e.Excluded.String()
}

// Build parses the entries and allowlists and removes what the policy
// excludes. A bad entry or allowlist line is an error naming it; so are
// IPv6 targets of 2^64 addresses or more (a /64 or larger), which no scan
// can walk: IPv6 is scanned as lists and small prefixes.
func (s *Spec) Build() (Addrs, Excluded, error) {
	var rs []blocklist.Range
	var rs6 []blocklist.Range6
	for _, a := range s.Entries {
		r, err := blocklist.ParseEntry(a)
		if errors.Is(err, blocklist.ErrIPv6) {
			var r6 blocklist.Range6
			if r6, err = blocklist.ParseEntry6(a); err == nil {
				rs6 = append(rs6, r6)
				continue
			}
		}
		if err != nil {
			return Addrs{}, Excluded{}, fmt.Errorf("targets: bad target %q: %w", a, errors.Unwrap(err))
		}
		rs = append(rs, r)
	}
	tgt := Addrs{V4: blocklist.NewSet(rs...), V6: blocklist.NewSet6(rs6...)}
	for _, file := range s.Allowlists {
		l, err := blocklist.ParseListFile(file)
		if err != nil {
			return Addrs{}, Excluded{}, err
		}
		tgt.V4, tgt.V6 = tgt.V4.Union(l.V4), tgt.V6.Union(l.V6)
	}
	if tgt.Empty() {
		return Addrs{}, Excluded{}, ErrNoTargets
	}
	if tgt.V6.Len() == ^uint64(0) {
		return Addrs{}, Excluded{}, fmt.Errorf("%w: the IPv6 targets hold 2^64 addresses or more (%s): scan lists and small prefixes (a /112 holds 65536)",
			ErrTooLarge, truncateList(tgt.V6.String()))
	}
	allowed, ex := BuildAddrs(tgt, s.Policy)
	if allowed.Empty() {
		return Addrs{}, ex, &AllExcludedError{ex}
	}
	return allowed, ex, nil
}

// truncateList cuts a long set description for an error message.
func truncateList(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:120] + "..."
}

// breakdown6 is breakdown for IPv6, over blocklist.ReservedRanges6.
func breakdown6(removed *blocklist.Set6) []ReservedCount {
	rrs := blocklist.ReservedRanges6
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
		r := blocklist.NewSet6(blocklist.RangeFromPrefix6(rrs[i].Prefix))
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
