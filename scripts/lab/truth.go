package lab

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
)

// Layout is where the lab puts things: the ranges and ports scripts/lab.sh
// declares, handed to the generator so that they are written down once.
type Layout struct {
	TargetRange   netip.Prefix // a /20 of AnyIP addresses behind which the servers answer
	PseudoRange   netip.Prefix // answers on every port (pseudo-services)
	ClearAllowed  netip.Prefix // Dovecot allows cleartext login here
	ClearDisabled netip.Prefix // and not here
	DovecotPorts  [4]uint16    // the order of the bits of a host's port mask
	SMTPPorts     [3]uint16    // Postfix's, bits 4-6
}

// Shape of the truth: up hosts in total, up hosts forced into the
// blocklisted /24 and /28, and the chances (out of 256) that an up host has
// a given Dovecot port open (90: about 1.7 ports a host) and, drawn after
// everything else, a given SMTP port (40: about 85 hosts with one).
const (
	upHosts      = 200
	upInBlock24  = 6
	upInBlock28  = 3
	portOdds     = 90
	smtpOdds     = 40
	rangeSize    = 4096 // a /20
	block24Index = 1024 // the blocklisted /24: the fifth of the range, in ClearAllowed
	streamBytes  = 16384
)

// BlockEntry is one line of the lab's blocklist.
type BlockEntry struct {
	Prefix  netip.Prefix
	Text    string // as written: a bare address, or a CIDR
	Comment string
}

// Truth is the lab's ground truth.
type Truth struct {
	Up        []netip.Addr     // the up hosts, ascending
	Open      []netip.AddrPort // open pairs, by address, then port ascending
	Blocklist []BlockEntry
	Pseudo    []netip.Addr // every address of the pseudo-service range
	Cleartext []Policy
	header    string // the blocklist file's comment header
}

// Policy is Dovecot's cleartext-login policy for a range.
type Policy struct {
	Prefix  netip.Prefix
	Allowed bool
}

// stream is the generator's randomness: AES-128-CTR over zeros, keyed by
// the first half of SHA-256("mailscan-lab-seed:" + seed), so that a seed
// gives the same truth on every machine (the first lab.sh drew it with
// `openssl enc -aes-128-ctr`, and the truth is byte for byte what it was).
type stream struct {
	b   []byte
	pos int
	err error
}

func newStream(seed uint64) *stream {
	sum := sha256.Sum256([]byte("mailscan-lab-seed:" + strconv.FormatUint(seed, 10)))
	// openssl was given the hex digits, the first 32: the first 16 bytes.
	block, err := aes.NewCipher(sum[:16])
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	s := &stream{b: make([]byte, streamBytes)}
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(s.b, s.b)
	return s
}

func (s *stream) u8() int {
	if s.pos == len(s.b) {
		s.err = errors.New("lab: ground truth: random stream exhausted")
		return 0
	}
	s.pos++
	return int(s.b[s.pos-1])
}

func (s *stream) u16() int {
	hi := s.u8()
	return hi<<8 | s.u8()
}

// dovecotMask is a random non-empty subset of the four Dovecot ports.
func (s *stream) dovecotMask() int {
	m := 0
	for m == 0 && s.err == nil {
		for i := range 4 {
			if s.u8() < portOdds {
				m |= 1 << i
			}
		}
	}
	return m
}

// smtpMask is a random subset of the three SMTP ports, non-empty if need.
func (s *stream) smtpMask(need bool) int {
	for {
		m := 0
		for j := range 3 {
			if s.u8() < smtpOdds {
				m |= 1 << j
			}
		}
		if m != 0 || !need || s.err != nil {
			return m
		}
	}
}

func (l *Layout) check() error {
	if !l.TargetRange.Addr().Is4() || l.TargetRange.Bits() != 20 || l.TargetRange.Masked() != l.TargetRange {
		return fmt.Errorf("lab: target range %s: want an IPv4 /20", l.TargetRange)
	}
	for _, p := range []netip.Prefix{l.PseudoRange, l.ClearAllowed, l.ClearDisabled} {
		if !p.IsValid() || !p.Addr().Is4() {
			return fmt.Errorf("lab: range %s: want an IPv4 CIDR", p)
		}
	}
	if !l.ClearAllowed.Contains(l.at(block24Index)) || l.ClearDisabled.Contains(l.at(block24Index)) {
		return fmt.Errorf("lab: the blocklisted /24 at %s must be in the cleartext-allowed range %s", l.at(block24Index), l.ClearAllowed)
	}
	return nil
}

// at is address i of the target range.
func (l *Layout) at(i int) netip.Addr {
	a := l.TargetRange.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(i)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Generate draws the ground truth of seed: UpHosts addresses of the target
// range up, the range's first and last address with every port; six up
// hosts in a blocklisted /24 of the cleartext-allowed half, three in a
// blocklisted /28 of the other half, and two single up hosts blocklisted,
// one in each half; every one of those with at least one SMTP port, so
// that each part a scanner must skip hides SMTP services too.
func Generate(l Layout, prefix string, seed uint64) (*Truth, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	s := newStream(seed)
	mask := map[int]int{0: 15, rangeSize - 1: 15}
	placed := map[int]bool{}
	place := func(idx int) bool {
		if _, ok := mask[idx]; ok {
			return false
		}
		mask[idx] = s.dovecotMask()
		return true
	}
	for n := 0; n < upInBlock24 && s.err == nil; {
		if idx := block24Index + s.u8(); place(idx) {
			placed[idx] = true
			n++
		}
	}
	// A /28 in the upper half, away from the last /28 (which holds an edge).
	b28 := (128 + s.u16()%127) * 16
	for n := 0; n < upInBlock28 && s.err == nil; {
		if idx := b28 + s.u8()%16; place(idx) {
			placed[idx] = true
			n++
		}
	}
	for len(mask) < upHosts && s.err == nil {
		place(s.u16() & (rangeSize - 1))
	}
	sorted := make([]int, 0, len(mask))
	for idx := range mask {
		sorted = append(sorted, idx)
	}
	slices.Sort(sorted)

	// Two single up hosts to blocklist, one in each half, outside the other
	// blocklisted parts and the edges.
	var lower, upper []int
	for _, idx := range sorted {
		switch {
		case idx == 0 || idx == rangeSize-1,
			idx >= block24Index && idx < block24Index+256,
			idx >= b28 && idx < b28+16:
		case idx < rangeSize/2:
			lower = append(lower, idx)
		default:
			upper = append(upper, idx)
		}
	}
	if len(lower) == 0 || len(upper) == 0 {
		return nil, errors.New("lab: ground truth: no up host left to blocklist singly")
	}
	single1 := lower[s.u16()%len(lower)]
	single2 := upper[s.u16()%len(upper)]
	placed[single1], placed[single2] = true, true

	// The SMTP ports come last in the stream, so that a seed gives the
	// Dovecot truth it gave before the lab had Postfix.
	for _, idx := range sorted {
		if idx == 0 || idx == rangeSize-1 {
			mask[idx] |= 7 << 4
			continue
		}
		mask[idx] |= s.smtpMask(placed[idx]) << 4
	}
	if s.err != nil {
		return nil, s.err
	}

	bit := map[uint16]int{}
	for i, p := range l.DovecotPorts {
		bit[p] = i
	}
	for j, p := range l.SMTPPorts {
		bit[p] = 4 + j
	}
	ports := append(l.DovecotPorts[:], l.SMTPPorts[:]...)
	slices.Sort(ports)
	if len(bit) != 7 || ports[0] == 0 {
		return nil, fmt.Errorf("lab: ports %v %v: want seven distinct ports", l.DovecotPorts, l.SMTPPorts)
	}
	t := &Truth{header: fmt.Sprintf("# mailscan lab exclusion list (ZMap format), LAB_PREFIX=%s LAB_SEED=%d.\n"+
		"# Every part below holds up hosts of the ground truth, so a scanner that ignores it is caught.\n", prefix, seed)}
	for _, idx := range sorted {
		a := l.at(idx)
		t.Up = append(t.Up, a)
		for _, p := range ports {
			if mask[idx]>>bit[p]&1 == 1 {
				t.Open = append(t.Open, netip.AddrPortFrom(a, p))
			}
		}
	}
	t.Blocklist = []BlockEntry{
		{netip.PrefixFrom(l.at(block24Index), 24), netip.PrefixFrom(l.at(block24Index), 24).String(), "a whole /24 in the cleartext-allowed half"},
		{netip.PrefixFrom(l.at(single1), 32), l.at(single1).String(), "a single up host, bare address"},
		{netip.PrefixFrom(l.at(single2), 32), netip.PrefixFrom(l.at(single2), 32).String(), "a single up host, /32"},
		{netip.PrefixFrom(l.at(b28), 28), netip.PrefixFrom(l.at(b28), 28).String(), "a /28 in the cleartext-disabled half"},
	}
	for a := l.PseudoRange.Masked().Addr(); l.PseudoRange.Contains(a); a = a.Next() {
		t.Pseudo = append(t.Pseudo, a)
	}
	t.Cleartext = []Policy{{l.ClearAllowed, true}, {l.ClearDisabled, false}}
	return t, nil
}

// Blocked reports whether the lab's blocklist holds a.
func (t *Truth) Blocked(a netip.Addr) bool {
	for _, e := range t.Blocklist {
		if e.Prefix.Contains(a) {
			return true
		}
	}
	return false
}

// Expected is what a correct scan of the target range on ports (all ports
// when none are given) finds open: the truth's open pairs on those ports
// outside the blocklist, in the truth's order.
func (t *Truth) Expected(ports ...uint16) []netip.AddrPort {
	var out []netip.AddrPort
	for _, ap := range t.Open {
		if (len(ports) == 0 || slices.Contains(ports, ap.Port())) && !t.Blocked(ap.Addr()) {
			out = append(out, ap)
		}
	}
	return out
}
