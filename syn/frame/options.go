package frame

import (
	"encoding/binary"
	"flag"
	"fmt"
	"strconv"
)

// TCP option kinds (IANA "TCP Option Kind Numbers") used in probes.
const (
	TCPOptionEOL           = 0
	TCPOptionNOP           = 1
	TCPOptionMSS           = 2
	TCPOptionWS            = 3
	TCPOptionSACKPermitted = 4
	TCPOptionTS            = 8
)

// Lengths of those options, kind and length bytes included.
const (
	TCPOptionMSSLength           = 4
	TCPOptionWSLength            = 3
	TCPOptionSACKPermittedLength = 2
	TCPOptionTSLength            = 10
)

// Values carried by the probe options.
const (
	// ProbeMSS is the maximum segment size announced by every layout that
	// has one: an Ethernet MTU of 1500 minus 40 bytes of IPv4 and TCP.
	ProbeMSS = 1460
	// ProbeMSS6 is the MSS of IPv6 probes: 1500 minus 60 bytes of IPv6 and
	// TCP, as Linux and Windows announce over IPv6.
	ProbeMSS6 = 1440
	// probeTSval is the "TSval" of the Linux layout. A kernel starts it at a
	// random per-connection offset; every probe is its own connection, so
	// one constant is as good as any and keeps the frame fixed.
	probeTSval = 1
	// Window scale shifts of the Linux (Linux 3.x and later with the
	// default tcp_rmem) and Windows (7 to 11) layouts.
	linuxWindowScale   = 7
	windowsWindowScale = 8
)

// TCPOptions names a layout of TCP options carried by the SYN probes, so
// that probes can look like the SYNs of a common operating system.
// Its zero value is invalid.
type TCPOptions int

// The layouts. Each one's length is a multiple of 4, so no padding is needed.
const (
	_ TCPOptions = iota
	// OptionsNone sends no options: a 20-byte TCP header, as ZMap does.
	OptionsNone
	// OptionsMSS sends MSS 1460 only (4 bytes), as masscan does.
	OptionsMSS
	// OptionsLinux sends what a Linux kernel sends, in its order (20 bytes):
	// MSS 1460, SACK permitted, timestamps (TSval constant, TSecr 0), NOP,
	// window scale 7.
	OptionsLinux
	// OptionsWindows sends what Windows 7 to 11 send, in their order
	// (12 bytes, p0f signature "mss,nop,ws,nop,nop,sok"): MSS 1460, NOP,
	// window scale 8, NOP, NOP, SACK permitted.
	OptionsWindows
)

// ParseTCPOptions returns the layout named by a command-line value: "none",
// "mss", "linux" or "windows".
func ParseTCPOptions(name string) (TCPOptions, error) {
	switch name {
	case "none":
		return OptionsNone, nil
	case "mss":
		return OptionsMSS, nil
	case "linux":
		return OptionsLinux, nil
	case "windows":
		return OptionsWindows, nil
	}
	return 0, fmt.Errorf("frame: unknown TCP options layout %q (want none, mss, linux or windows)", name)
}

var _ flag.Value = (*TCPOptions)(nil)

// String returns the name ParseTCPOptions accepts for o, or "TCPOptions(n)"
// for an invalid value.
func (o TCPOptions) String() string {
	switch o {
	case OptionsNone:
		return "none"
	case OptionsMSS:
		return "mss"
	case OptionsLinux:
		return "linux"
	case OptionsWindows:
		return "windows"
	}
	return "TCPOptions(" + strconv.Itoa(int(o)) + ")"
}

// Set sets o from a command-line value, so that a *TCPOptions is a
// flag.Value.
func (o *TCPOptions) Set(name string) error {
	v, err := ParseTCPOptions(name)
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Valid reports whether o is one of the layouts above.
func (o TCPOptions) Valid() bool {
	return o >= OptionsNone && o <= OptionsWindows
}

// Len returns the length in bytes of the layout's options, a multiple of 4,
// or 0 for an invalid value.
func (o TCPOptions) Len() int {
	switch o {
	case OptionsMSS:
		return TCPOptionMSSLength
	case OptionsLinux:
		return TCPOptionMSSLength + TCPOptionSACKPermittedLength + TCPOptionTSLength + 1 + TCPOptionWSLength
	case OptionsWindows:
		return TCPOptionMSSLength + 1 + TCPOptionWSLength + 1 + 1 + TCPOptionSACKPermittedLength
	}
	return 0
}

// Encode writes the layout's options, with MSS ProbeMSS (Template6 announces
// ProbeMSS6 instead), into b and returns the number of bytes
// written, o.Len(). It writes nothing and returns 0 if o is invalid or b is
// shorter than o.Len().
func (o TCPOptions) Encode(b []byte) int { return o.encode(b, ProbeMSS) }

// encode is Encode with the MSS to announce.
func (o TCPOptions) encode(b []byte, mss uint16) int {
	n := o.Len()
	if len(b) < n {
		return 0
	}
	switch o {
	case OptionsMSS:
		putMSS(b, mss)
	case OptionsLinux:
		putMSS(b, mss)
		b[4], b[5] = TCPOptionSACKPermitted, TCPOptionSACKPermittedLength
		b[6], b[7] = TCPOptionTS, TCPOptionTSLength
		binary.BigEndian.PutUint32(b[8:], probeTSval)
		binary.BigEndian.PutUint32(b[12:], 0) // TSecr: nothing to echo in a SYN
		b[16] = TCPOptionNOP
		b[17], b[18], b[19] = TCPOptionWS, TCPOptionWSLength, linuxWindowScale
	case OptionsWindows:
		putMSS(b, mss)
		b[4] = TCPOptionNOP
		b[5], b[6], b[7] = TCPOptionWS, TCPOptionWSLength, windowsWindowScale
		b[8], b[9] = TCPOptionNOP, TCPOptionNOP
		b[10], b[11] = TCPOptionSACKPermitted, TCPOptionSACKPermittedLength
	}
	return n
}

func putMSS(b []byte, mss uint16) {
	b[0], b[1] = TCPOptionMSS, TCPOptionMSSLength
	binary.BigEndian.PutUint16(b[2:], mss)
}
