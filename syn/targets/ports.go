package targets

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultPorts are the mail-access ports: SMTP, POP3, IMAP, SMTPS,
// submission, IMAPS and POP3S.
const DefaultPorts = "25,110,143,465,587,993,995"

// ParsePorts parses a comma-separated list of ports and inclusive port
// ranges, such as "25,110,143" or "110,143,990-995", into ascending,
// deduplicated ports. Spaces around items are allowed. Port 0, ports above
// 65535, reversed ranges and empty items are errors naming the value.
func ParsePorts(s string) ([]uint16, error) {
	// A bitmap dedups and sorts in one pass however large the ranges are.
	var seen [1 << 16 / 64]uint64
	n := 0
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("targets: port list %q: empty item", s)
		}
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := parsePort(lo, item)
		if err != nil {
			return nil, err
		}
		last := first
		if isRange {
			if last, err = parsePort(hi, item); err != nil {
				return nil, err
			}
			if first > last {
				return nil, fmt.Errorf("targets: port range %q is reversed", item)
			}
		}
		for p := uint32(first); p <= uint32(last); p++ {
			if seen[p/64]&(1<<(p%64)) == 0 {
				seen[p/64] |= 1 << (p % 64)
				n++
			}
		}
	}
	ports := make([]uint16, 0, n)
	for p := 1; p < 1<<16; p++ {
		if seen[p/64]&(1<<(p%64)) != 0 {
			ports = append(ports, uint16(p))
		}
	}
	return ports, nil
}

// parsePort parses one port number of item.
func parsePort(s, item string) (uint16, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil || v == 0 || v > 65535 {
		if s == item {
			return 0, fmt.Errorf("targets: invalid port %q (want 1 to 65535)", s)
		}
		return 0, fmt.Errorf("targets: invalid port %q in %q (want 1 to 65535)", s, item)
	}
	return uint16(v), nil
}

// FormatPorts returns ports in the form ParsePorts reads, with runs of
// consecutive ports folded into ranges: "25,110,143,990-995".
func FormatPorts(ports []uint16) string {
	var b strings.Builder
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && uint32(ports[j+1]) == uint32(ports[j])+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(ports[i])))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(ports[j])))
		}
		i = j + 1
	}
	return b.String()
}
