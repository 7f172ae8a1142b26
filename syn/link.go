package syn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"mailscan/syn/afpacket"
	"mailscan/syn/netroute"
	"mailscan/syn/xsk"
)

// link is where frames go and come from: AF_PACKET on an interface in a
// real scan, a simulated network in tests.
type link interface {
	route() Route
	sender(i int) (frameSender, error) // the i-th sender's socket
	// receiver opens the receiver's socket for the replies to local4 and
	// local6 (a zero Addr: no target of that family).
	receiver(local4, local6 netip.Addr) (frameReceiver, error)
}

// frameSender is one sender goroutine's socket (*afpacket.Sender).
type frameSender interface {
	Next() ([]byte, error)
	Commit(n int)
	Flush() error
	Close() error
	Mode() string
}

// frameReceiver is the receiver's socket.
type frameReceiver interface {
	Poll(timeout time.Duration, fn func([]byte)) (int, error)
	Drops() (uint64, error)
	Close() error
}

// SendMode selects how the senders hand frames to the kernel.
type SendMode string

// The send paths.
const (
	// SendAuto (also the zero value "") gives sender i an AF_XDP socket on
	// queue i of the interface where the kernel and the device allow it,
	// and AF_PACKET otherwise (see afpacket.ModeAuto for its choice).
	SendAuto SendMode = "auto"
	// SendXDP is AF_XDP in copy mode for every sender, or an error.
	SendXDP SendMode = "af_xdp"
	// SendRing is AF_PACKET with a PACKET_TX_RING.
	SendRing SendMode = "tx-ring"
	// SendMmsg is AF_PACKET with sendmmsg(2).
	SendMmsg SendMode = "sendmmsg"
)

// ParseSendMode parses the names the --send-mode flag takes.
func ParseSendMode(s string) (SendMode, error) {
	switch m := SendMode(s); m {
	case "", SendAuto:
		return SendAuto, nil
	case SendXDP, SendRing, SendMmsg:
		return m, nil
	}
	return "", fmt.Errorf("syn: unknown send mode %q (want auto, af_xdp, tx-ring or sendmmsg)", s)
}

// packetLink opens AF_XDP and AF_PACKET sockets on one interface.
type packetLink struct {
	ifindex int
	r       Route
	mode    SendMode
	batch   int
}

func (l *packetLink) route() Route { return l.r }

// sender opens the i-th sender's socket. AF_XDP comes first because per
// frame it costs the kernel far less than AF_PACKET (into a veth, one sender
// measured 3.1 Mpps against 2.1 Mpps with sendmmsg): it reads a 16-byte
// descriptor where packet_snd copies and checks a message header and runs
// the flow dissector. But an AF_XDP socket holds a whole queue of the
// device, so sender i asks for queue i, and on a device with fewer queues
// than senders (a veth has one) the rest use AF_PACKET.
func (l *packetLink) sender(i int) (frameSender, error) {
	var pm afpacket.Mode
	switch l.mode {
	case "", SendAuto, SendXDP:
		s, err := xsk.NewSender(l.ifindex, i, &xsk.Config{Batch: l.batch})
		if err == nil {
			return s, nil
		}
		if l.mode == SendXDP || errors.Is(err, os.ErrPermission) {
			return nil, privilege(err)
		}
	case SendRing:
		pm = afpacket.ModeRing
	case SendMmsg:
		pm = afpacket.ModeSendmmsg
	}
	s, err := afpacket.NewSender(l.ifindex, &afpacket.SenderConfig{Mode: pm, Batch: l.batch})
	if err != nil {
		return nil, privilege(err)
	}
	return s, nil
}

func (l *packetLink) receiver(local4, local6 netip.Addr) (frameReceiver, error) {
	filter, err := afpacket.FilterReplies(local4, local6)
	if err != nil {
		return nil, err
	}
	r, err := afpacket.NewReceiver(l.ifindex, &afpacket.ReceiverConfig{Filter: filter})
	if err != nil {
		return nil, privilege(err)
	}
	return &packetReceiver{r}, nil
}

type packetReceiver struct{ *afpacket.Receiver }

func (r *packetReceiver) Drops() (uint64, error) {
	st, err := r.Stats()
	if err != nil {
		return 0, err
	}
	return st.Drops, nil
}

// Errors a user can fix, returned wrapped; test with errors.Is.
var (
	// ErrPrivilege: raw sockets were refused.
	ErrPrivilege = errors.New("raw sockets need root or the CAP_NET_RAW capability")
	// ErrInterface: the interface named with -i does not exist or cannot
	// carry Ethernet frames.
	ErrInterface = errors.New("interface")
	// ErrRoute: no route to the targets, or the gateway's MAC could not be
	// resolved.
	ErrRoute = errors.New("no usable route")
)

func privilege(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("syn: %w: %w", ErrPrivilege, err)
	}
	return fmt.Errorf("syn: %w", err)
}

// resolveRoute finds the interface, source addresses and gateway MACs for a
// scan whose first targets are dst4 and dst6 (a zero Addr: no target of
// that family), honouring the overrides in c (Interface, Source, Source6,
// GatewayMAC, GatewayMAC6). Both families must leave through one interface:
// the senders' sockets are bound to it.
func resolveRoute(c *Config, dst4, dst6 netip.Addr) (Route, error) {
	if c.Interface != "" {
		if _, err := net.InterfaceByName(c.Interface); err != nil {
			return Route{}, fmt.Errorf("syn: %w %q does not exist (ip link lists the interfaces)", ErrInterface, c.Interface)
		}
	}
	var out Route
	if dst4.IsValid() {
		r, err := findRoute(c.Interface, dst4, c.Source, c.GatewayMAC)
		if err != nil {
			return Route{}, err
		}
		out = Route{Interface: r.Interface.Name, Index: r.Interface.Index, Source: r.Source, Gateway: r.Gateway,
			SrcMAC: r.SrcMAC, GatewayMAC: r.DstMAC}
	}
	if dst6.IsValid() {
		r, err := findRoute(c.Interface, dst6, c.Source6, c.GatewayMAC6)
		if err != nil {
			return Route{}, err
		}
		if dst4.IsValid() && r.Interface.Index != out.Index {
			return Route{}, fmt.Errorf("syn: %w: IPv4 targets route through %s and IPv6 targets through %s: scan the families separately, or name one interface",
				ErrRoute, out.Interface, r.Interface.Name)
		}
		out.Interface, out.Index, out.SrcMAC = r.Interface.Name, r.Interface.Index, r.SrcMAC
		out.Source6, out.Gateway6, out.GatewayMAC6 = r.Source, r.Gateway, r.DstMAC
	}
	return out, nil
}

// findRoute is resolveRoute for one family: the route to dst, with the
// source and gateway MAC overridden when given.
func findRoute(ifname string, dst, source netip.Addr, gatewayMAC net.HardwareAddr) (*netroute.Route, error) {
	r, err := netroute.Find(dst, ifname)
	if err != nil {
		if errors.Is(err, netroute.ErrNoHardwareAddr) {
			return nil, fmt.Errorf("syn: %w: %w", ErrInterface, err)
		}
		return nil, fmt.Errorf("syn: %w to %v: %w", ErrRoute, dst, err)
	}
	if source.IsValid() {
		r.Source = source
	}
	if gatewayMAC != nil {
		r.DstMAC = gatewayMAC
	} else if err := r.Resolve(netroute.DefaultARPTimeout); err != nil {
		return nil, fmt.Errorf("syn: %w to %v: gateway: %w", ErrRoute, dst, err)
	}
	return r, nil
}
