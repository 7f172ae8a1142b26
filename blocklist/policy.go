package blocklist

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy is mailscan's one exclusion policy: which addresses it may
// contact. Every stage that sends a packet or opens a connection asks the
// same Policy, right before it does, whatever list of targets it was given.
//
// An address is denied when it is in a user blocklist, or in a reserved
// range (Reserved, Reserved6) that allowReserved does not open. A user
// blocklist always wins: naming a blocked address in allowReserved does
// not open it. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as
// the IPv4 address they carry.
//
// A Policy is immutable and safe for concurrent use. The zero Policy denies
// nothing and must not be used: build one with NewPolicy.
type Policy struct {
	lists         []*List
	user4, allow4 *Set
	user6, allow6 *Set6
	deny4         *Set
	deny6         *Set6
	v6Entries     int
}

// NewPolicy returns the policy of the user's blocklists and the reserved
// ranges opened on purpose by allowReserved (nil: none).
func NewPolicy(blocklists []*List, allowReserved *List) *Policy {
	p := &Policy{lists: blocklists, user4: NewSet(), user6: NewSet6(), allow4: NewSet(), allow6: NewSet6()}
	for _, l := range blocklists {
		p.user4 = p.user4.Union(l.V4)
		p.user6 = p.user6.Union(l.V6)
		p.v6Entries += l.V6Entries
	}
	if allowReserved != nil {
		p.allow4, p.allow6 = allowReserved.V4, allowReserved.V6
	}
	p.deny4 = Reserved().Subtract(p.allow4).Union(p.user4)
	p.deny6 = Reserved6().Subtract(p.allow6).Union(p.user6)
	return p
}

// DefaultPolicy denies the reserved ranges of both families and nothing
// else.
func DefaultPolicy() *Policy { return NewPolicy(nil, nil) }

// ParseAllowReserved parses --allow-reserved values: IPv4 or IPv6
// addresses, prefixes or ranges. Errors name the value.
func ParseAllowReserved(entries []string) (*List, error) {
	var b strings.Builder
	for _, e := range entries {
		if strings.ContainsAny(e, "\n#") {
			return nil, fmt.Errorf("blocklist: allow-reserved %q: one address, prefix or range per value", truncate(e))
		}
		b.WriteString(strings.TrimSpace(e))
		b.WriteByte('\n')
	}
	l, err := ParseList(strings.NewReader(b.String()), "allow-reserved")
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Allows reports whether a may be contacted. The zero Addr is never
// allowed. It allocates nothing.
func (p *Policy) Allows(a netip.Addr) bool {
	a = a.Unmap()
	switch {
	case a.Is4():
		v, _ := Uint32FromAddr(a)
		return !p.deny4.Contains(v)
	case a.Is6():
		return !p.deny6.Contains(a.WithZone(""))
	}
	return false
}

// Reason says why a is denied ("blocklist hosts.txt", "reserved range
// 198.18.0.0/15 (benchmarking, RFC 2544)"), or "" if it is allowed.
func (p *Policy) Reason(a netip.Addr) string {
	if p.Allows(a) {
		return ""
	}
	a = a.Unmap().WithZone("")
	for _, l := range p.lists {
		if l.V4.ContainsAddr(a) || l.V6.Contains(a) {
			return "blocklist " + l.Name
		}
	}
	var names []string
	if a.Is4() {
		v, _ := Uint32FromAddr(a)
		names = ReservedName(Range{v, v})
	} else if a.Is6() {
		names = reservedName6(a)
	}
	if len(names) == 0 {
		return "not a unicast address"
	}
	return "reserved range " + names[len(names)-1]
}

// Deny4 returns the effective IPv4 blocklist: the reserved ranges not
// opened, and the user's blocklists.
func (p *Policy) Deny4() *Set { return p.deny4 }

// Deny6 returns the effective IPv6 blocklist.
func (p *Policy) Deny6() *Set6 { return p.deny6 }

// User4 returns the IPv4 addresses of the user's blocklists.
func (p *Policy) User4() *Set { return p.user4 }

// AllowReserved4 returns the IPv4 reserved addresses opened on purpose.
func (p *Policy) AllowReserved4() *Set { return p.allow4 }

// User6 returns the IPv6 addresses of the user's blocklists.
func (p *Policy) User6() *Set6 { return p.user6 }

// AllowReserved6 returns the IPv6 reserved addresses opened on purpose.
func (p *Policy) AllowReserved6() *Set6 { return p.allow6 }

// Lists returns the user's blocklists, in the order given.
func (p *Policy) Lists() []*List { return p.lists }

// V6Entries counts the IPv6 lines of the user's blocklists.
func (p *Policy) V6Entries() int { return p.v6Entries }
