package targets

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"mailscan/blocklist"
)

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

	// ByFile counts, per user blocklist in the order given, the target
	// addresses it holds (an address in two files counts in both).
	ByFile []FileCount `json:"by_file,omitempty"`

	// Blocklist is the policy's effective IPv4 blocklist
	// (blocklist.Policy.Deny4): the scanner checks every destination
	// against it once more before sending.
	Blocklist *blocklist.Set `json:"-"`
}

// FileCount is how many target addresses one blocklist file holds, and how
// many IPv6 entries it has (which apply to IPv6 targets only).
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
		Targets:   targets.Len(),
		Allowed:   allowed.Len(),
		Reserved:  byReserved.Len(),
		User:      targets.Len() - notUser.Len(),
		Blocklist: deny,
	}
	if byReserved.Len() > 0 {
		excluded.ByReserved = breakdown(byReserved)
	}
	for _, l := range policy.Lists() {
		excluded.ByFile = append(excluded.ByFile, FileCount{File: l.Name, Count: targets.Intersect(l.V4).Len(), IPv6Entries: l.V6Entries})
	}
	return allowed, excluded
}

// Spec names a scan's targets as a user gives them: entries (addresses,
// CIDR prefixes, ranges), allowlist files in ZMap's format, and the
// exclusion policy.
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
// excludes. A bad entry or allowlist line is an error naming it.
func (s *Spec) Build() (*blocklist.Set, Excluded, error) {
	var rs []blocklist.Range
	for _, a := range s.Entries {
		r, err := blocklist.ParseEntry(a)
		if err != nil {
			return nil, Excluded{}, fmt.Errorf("targets: bad target %q: %w", a, errors.Unwrap(err))
		}
		rs = append(rs, r)
	}
	tgt := blocklist.NewSet(rs...)
	for _, file := range s.Allowlists {
		set, err := blocklist.ParseFile(file)
		if err != nil {
			return nil, Excluded{}, err
		}
		tgt = tgt.Union(set)
	}
	if tgt.Len() == 0 {
		return nil, Excluded{}, ErrNoTargets
	}
	allowed, ex := Build(tgt, s.Policy)
	if allowed.Len() == 0 {
		return nil, ex, &AllExcludedError{ex}
	}
	return allowed, ex, nil
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
