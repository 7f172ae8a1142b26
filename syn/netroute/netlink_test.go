package netroute

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// Real kernel replies (Linux 6.18, amd64: headers little-endian), captured in
// a two-namespace lab: va 198.18.250.1/24 (ifindex 2) joined to
// 198.18.250.2, a route 198.18.16.0/20 via 198.18.250.2, and a STALE
// neighbour entry 198.18.250.2 → 02:00:00:00:00:99. Requests had sequence
// number 77 (route) and 78 (neighbours), from netlink port 6213.
const (
	capturePid = 6213
	// ip route get 198.18.16.5
	hexRouteViaGateway = "70000000180000004d0000004518000002200000fe0000010002000008000f00fe00000008000100c6121005080004000200000008000700c612fa0108000500c612fa02080019000000000024000c000200000000000000000000000000000000000000000000000000000000000000"
	// ip route get 198.18.250.2
	hexRouteOnLink = "68000000180000004d0000004518000002200000fe0000010002000008000f00fe00000008000100c612fa02080004000200000008000700c612fa01080019000000000024000c000200000000000000000000000000000000000000000000000000000000000000"
	// ip route get 198.19.0.1: NLMSG_ERROR -101 (ENETUNREACH), request echoed
	hexRouteUnreachable = "38000000020000004d000000451800009bffffff240000001a0001004d0000000000000002200000000000000000000008000100c6130001"
	// ip neigh show (dump): one RTM_NEWNEIGH, then NLMSG_DONE
	hexNeighDump = "4c0000001c0002004e0000004518000002000000020000000400000108000100c612fa020a00020002000000009900000800040000000000140003007017000000000000000000000000000014000000030002004e0000004518000000000000"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

func TestEncodeRouteRequest(t *testing.T) {
	if !littleEndian() {
		t.Fatal("expected bytes below are for little-endian hosts")
	}
	tests := []struct {
		name string
		dst  string
		oif  int
		want string
	}{
		{"no oif", "198.18.16.5", 0,
			"24000000" + "1a00" + "0100" + "4d000000" + "00000000" + // nlmsghdr: len 36, RTM_GETROUTE, NLM_F_REQUEST, seq 77
				"0220000000000000" + "00000000" + // rtmsg: AF_INET, dst_len 32
				"08000100" + "c6121005"}, // RTA_DST
		{"oif 3", "198.18.250.2", 3,
			"2c000000" + "1a00" + "0100" + "4d000000" + "00000000" +
				"0220000000000000" + "00000000" +
				"08000100" + "c612fa02" +
				"08000400" + "03000000"}, // RTA_OIF
		{"IPv6", "2001:db8:16::5", 0,
			"30000000" + "1a00" + "0100" + "4d000000" + "00000000" + // len 48
				"0a80000000000000" + "00000000" + // rtmsg: AF_INET6, dst_len 128
				"14000100" + "20010db8001600000000000000000005"}, // RTA_DST, 16 bytes
		{"IPv6 with oif", "2001:db8::1", 7,
			"38000000" + "1a00" + "0100" + "4d000000" + "00000000" +
				"0a80000000000000" + "00000000" +
				"14000100" + "20010db8000000000000000000000001" +
				"08000400" + "07000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeRouteRequest(77, netip.MustParseAddr(tt.dst), tt.oif)
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("encodeRouteRequest:\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestEncodeNeighDump(t *testing.T) {
	if !littleEndian() {
		t.Fatal("expected bytes below are for little-endian hosts")
	}
	got := encodeNeighDump(78, afInet, 3)
	want := unhex(t, "1c000000"+"1e00"+"0103"+"4e000000"+"00000000"+ // len 28, RTM_GETNEIGH, REQUEST|DUMP, seq 78
		"02000000"+"03000000"+"00000000") // ndmsg: AF_INET, ifindex 3
	if !bytes.Equal(got, want) {
		t.Fatalf("encodeNeighDump:\n got %x\nwant %x", got, want)
	}
	got = encodeNeighDump(78, afInet6, 3)
	want[16] = afInet6
	if !bytes.Equal(got, want) {
		t.Fatalf("encodeNeighDump(AF_INET6):\n got %x\nwant %x", got, want)
	}
}

func TestParseRouteReply(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		in      string
		want    routeInfo
		wantErr int32 // kernel errno
	}{
		{"via gateway", hexRouteViaGateway, routeInfo{
			Family: afInet, DstLen: 32, Table: 254, Type: rtnUnicast, Dst: a("198.18.16.5"), OIF: 2,
			Gateway: a("198.18.250.2"), PrefSrc: a("198.18.250.1"),
		}, 0},
		{"on-link", hexRouteOnLink, routeInfo{
			Family: afInet, DstLen: 32, Table: 254, Type: rtnUnicast, Dst: a("198.18.250.2"), OIF: 2,
			PrefSrc: a("198.18.250.1"),
		}, 0},
		{"unreachable", hexRouteUnreachable, routeInfo{}, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri, kerr, err := parseRouteReply(unhex(t, tt.in), 77, capturePid)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != 0 {
				if kerr == nil || kerr.Errno != tt.wantErr {
					t.Fatalf("kernel error = %+v, want errno %d", kerr, tt.wantErr)
				}
				return
			}
			if kerr != nil {
				t.Fatalf("unexpected kernel error %+v", kerr)
			}
			if ri != tt.want {
				t.Fatalf("parseRouteReply:\n got %+v\nwant %+v", ri, tt.want)
			}
		})
	}
}

func TestParseRouteReplyOtherRequest(t *testing.T) {
	b := unhex(t, hexRouteViaGateway)
	for _, c := range []struct {
		name     string
		seq, pid uint32
	}{{"other seq", 78, capturePid}, {"other pid", 77, 1}} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := parseRouteReply(b, c.seq, c.pid); err == nil || !strings.Contains(err.Error(), "no route") {
				t.Fatalf("a reply to another request was taken: err = %v", err)
			}
		})
	}
}

// msg builds one netlink message around payload, little-endian or not.
func msg(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := appendHeader(nil, typ, flags, seq)
	binary.NativeEndian.PutUint32(b[12:], capturePid)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return finish(b)
}

func rtmsg(family, typ uint8, attrs ...[]byte) []byte {
	b := []byte{family, 32, 0, 0, 254, 0, 0, typ, 0, 0, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func attr(typ uint16, data []byte) []byte { return appendAttr(nil, typ, data) }

func errPayload(errno int32, flags uint16, tlvs []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(-errno))
	req := encodeRouteRequest(77, netip.MustParseAddr("198.18.16.5"), 0)
	if flags&nlmFCapped != 0 {
		req = req[:nlmsgHdrLen]
	}
	return append(append(b, req...), tlvs...)
}

func TestParseError(t *testing.T) {
	tlv := attr(nlmsgerrAttrM, []byte("Invalid prefix for given prefix length\x00"))
	tests := []struct {
		name    string
		flags   uint16
		payload []byte
		want    nlError
		ok      bool
	}{
		{"ack", 0, errPayload(0, 0, nil), nlError{}, true},
		{"plain errno", 0, errPayload(22, 0, nil), nlError{Errno: 22}, true},
		{"ext ack, request echoed", nlmFAckTLVs, errPayload(22, 0, tlv), nlError{Errno: 22, Msg: "Invalid prefix for given prefix length"}, true},
		{"ext ack, capped", nlmFAckTLVs | nlmFCapped, errPayload(22, nlmFCapped, tlv), nlError{Errno: 22, Msg: "Invalid prefix for given prefix length"}, true},
		{"ext ack, bad echo length keeps errno", nlmFAckTLVs, append(errCode(22), 0xff, 0xff, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), nlError{Errno: 22}, true},
		{"3 bytes", 0, []byte{1, 2, 3}, nlError{}, false},
		{"positive code", 0, binary.NativeEndian.AppendUint32(nil, 5), nlError{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseError(tt.flags, tt.payload)
			if (err == nil) != tt.ok {
				t.Fatalf("parseError err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && got != tt.want {
				t.Fatalf("parseError = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseRouteMalformed(t *testing.T) {
	gw := netip.MustParseAddr("198.18.250.2").As4()
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"short header", []byte{16, 0, 0, 0, 24, 0}},
		{"length below header", []byte{8, 0, 0, 0, 24, 0, 0, 0, 77, 0, 0, 0, 0x45, 0x18, 0, 0}},
		{"length beyond data", func() []byte {
			m := msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast))
			binary.NativeEndian.PutUint32(m, uint32(len(m)+8))
			return m
		}()},
		{"trailing bytes after a message", append(msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast)), 1, 2, 3)},
		{"truncated rtmsg", msg(rtmNewRoute, 0, 77, []byte{2, 32, 0})},
		{"family 7", msg(rtmNewRoute, 0, 77, rtmsg(7, rtnUnicast))},
		{"IPv6 RTA_GATEWAY of 4 bytes", msg(rtmNewRoute, 0, 77, rtmsg(afInet6, rtnUnicast, attr(rtaGateway, gw[:])))},
		{"IPv6 RTA_PREFSRC of 15 bytes", msg(rtmNewRoute, 0, 77, rtmsg(afInet6, rtnUnicast, attr(rtaPrefSrc, make([]byte, 15))))},
		{"attribute length below 4", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, []byte{2, 0, 5, 0}))},
		{"attribute longer than message", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, []byte{40, 0, 5, 0, 1, 2, 3, 4}))},
		{"RTA_GATEWAY of 16 bytes", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, attr(rtaGateway, make([]byte, 16))))},
		{"RTA_OIF of 2 bytes", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, attr(rtaOIF, []byte{1, 0})))},
		{"RTA_TABLE of 1 byte", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, attr(rtaTable, []byte{1})))},
		{"RTA_VIA of 3 bytes", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, attr(rtaVia, []byte{2, 0, 1})))},
		{"RTA_PREFSRC of 3 bytes, after a good gateway", msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, attr(rtaGateway, gw[:]), attr(rtaPrefSrc, []byte{1, 2, 3})))},
		{"overrun", msg(nlmsgOverrun, 0, 77, nil)},
		{"error payload of 2 bytes", msg(nlmsgError, 0, 77, []byte{1, 2})},
		{"no route message", msg(nlmsgDone, 0, 77, []byte{0, 0, 0, 0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri, kerr, err := parseRouteReply(tt.in, 77, capturePid)
			if err == nil {
				t.Fatalf("parseRouteReply accepted malformed input: %+v, %+v", ri, kerr)
			}
			if !strings.HasPrefix(err.Error(), "netroute: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseRouteVia(t *testing.T) {
	v4 := append([]byte{afInet, 0}, 198, 18, 250, 9)
	v6 := append([]byte{afInet6, 0}, netip.MustParseAddr("2001:db8::1").AsSlice()...)
	if !littleEndian() {
		v4[0], v4[1], v6[0], v6[1] = 0, afInet, 0, afInet6
	}
	tests := []struct {
		name string
		via  []byte
		want netip.Addr
	}{
		{"IPv4 via", v4, netip.MustParseAddr("198.18.250.9")},
		{"IPv6 via", v6, netip.MustParseAddr("2001:db8::1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri, err := parseRoute(rtmsg(afInet, rtnUnicast, attr(rtaVia, tt.via)))
			if err != nil {
				t.Fatal(err)
			}
			if ri.Gateway != tt.want {
				t.Fatalf("Gateway = %v, want %v", ri.Gateway, tt.want)
			}
		})
	}
}

// TestParseRoute6 decodes an IPv6 route reply shaped like the kernel's to
// `ip -6 route get 2001:db8:16::5`: a default route via a link-local
// gateway, with the preferred source the kernel selected.
func TestParseRoute6(t *testing.T) {
	a := netip.MustParseAddr
	oif := binary.NativeEndian.AppendUint32(nil, 2)
	table := binary.NativeEndian.AppendUint32(nil, 254)
	m := msg(rtmNewRoute, 0, 77, rtmsg6(rtnUnicast,
		attr(rtaTable, table), attr(rtaDst, a("2001:db8:16::5").AsSlice()), attr(rtaOIF, oif),
		attr(rtaGateway, a("fe80::1").AsSlice()), attr(rtaPrefSrc, a("2001:db8::2").AsSlice()),
		attr(6, binary.NativeEndian.AppendUint32(nil, 1024)))) // RTA_PRIORITY, ignored
	ri, kerr, err := parseRouteReply(m, 77, capturePid)
	if err != nil || kerr != nil {
		t.Fatal(err, kerr)
	}
	want := routeInfo{Family: afInet6, DstLen: 128, Table: 254, Type: rtnUnicast, Dst: a("2001:db8:16::5"), OIF: 2,
		Gateway: a("fe80::1"), PrefSrc: a("2001:db8::2")}
	if ri != want {
		t.Fatalf("parseRouteReply:\n got %+v\nwant %+v", ri, want)
	}
	// An IPv6 route through an IPv4 gateway (RTA_VIA) keeps the gateway's
	// family, for find to refuse.
	v4 := append([]byte{afInet, 0}, 198, 18, 250, 9)
	if !littleEndian() {
		v4[0], v4[1] = 0, afInet
	}
	ri, err = parseRoute(rtmsg6(rtnUnicast, attr(rtaVia, v4)))
	if err != nil || ri.Gateway != a("198.18.250.9") {
		t.Fatalf("RTA_VIA in an IPv6 route: %+v, %v", ri, err)
	}
}

func rtmsg6(typ uint8, attrs ...[]byte) []byte {
	b := []byte{afInet6, 128, 0, 0, 254, 0, 0, typ, 0, 0, 0, 0}
	for _, a := range attrs {
		b = append(b, a...)
	}
	return b
}

func TestLookupNeigh6(t *testing.T) {
	peer := netip.MustParseAddr("fe80::1")
	mac := []byte{2, 0, 0, 0, 0, 0x77}
	done := msg(nlmsgDone, nlmFMulti, 78, []byte{0, 0, 0, 0})
	v4peer := netip.MustParseAddr("198.18.250.2")
	for _, tt := range []struct {
		name string
		in   []byte
		want []byte
	}{
		{"REACHABLE", append(neighMsg(78, 2, nudReachable, peer, mac), done...), mac},
		{"STALE among IPv4 entries", append(append(neighMsg(78, 2, nudReachable, v4peer, []byte{2, 1, 1, 1, 1, 1}), neighMsg(78, 2, nudStale, peer, mac)...), done...), mac},
		{"INCOMPLETE", append(neighMsg(78, 2, nudIncomplete, peer, nil), done...), nil},
		{"other address", append(neighMsg(78, 2, nudReachable, netip.MustParseAddr("fe80::2"), mac), done...), nil},
		{"other interface", append(neighMsg(78, 3, nudReachable, peer, mac), done...), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var r reply
			if err := r.collect(tt.in, 78, capturePid); err != nil {
				t.Fatal(err)
			}
			got, ok, err := lookupNeigh(r.msgs, 2, peer)
			if err != nil || ok != (tt.want != nil) || !bytes.Equal(got, tt.want) {
				t.Fatalf("lookupNeigh = %v, %v, %v; want %v", net.HardwareAddr(got), ok, err, tt.want)
			}
		})
	}
	// An IPv4 lookup never takes an IPv6 entry, and the other way round.
	var r reply
	r.collect(append(neighMsg(78, 2, nudReachable, peer, mac), done...), 78, capturePid)
	if _, ok, _ := lookupNeigh(r.msgs, 2, v4peer); ok {
		t.Error("an IPv4 lookup took an IPv6 entry")
	}
	if _, err := parseNeigh(neighMsg(78, 2, nudReachable, peer, mac)[nlmsgHdrLen:][:ndmsgLen+4+4]); err == nil {
		t.Error("an IPv6 NDA_DST of 4 bytes was accepted")
	}
}

func neighMsg(seq uint32, ifindex int32, state uint16, dst netip.Addr, ll []byte) []byte {
	fam := byte(afInet)
	if dst.Is6() {
		fam = afInet6
	}
	b := []byte{fam, 0, 0, 0}
	b = binary.NativeEndian.AppendUint32(b, uint32(ifindex))
	b = binary.NativeEndian.AppendUint16(b, state)
	b = append(b, 0, 1)
	b = append(b, attr(ndaDst, dst.AsSlice())...)
	if ll != nil {
		b = append(b, attr(ndaLLAddr, ll)...)
	}
	return msg(rtmNewNeigh, nlmFMulti, seq, b)
}

func TestLookupNeigh(t *testing.T) {
	peer := netip.MustParseAddr("198.18.250.2")
	mac := []byte{2, 0, 0, 0, 0, 0x99}
	done := msg(nlmsgDone, nlmFMulti, 78, []byte{0, 0, 0, 0})
	tests := []struct {
		name    string
		in      []byte
		ifindex int
		want    net.HardwareAddr // nil: not found
	}{
		{"captured STALE entry", unhex(t, hexNeighDump), 2, mac},
		{"captured entry, other interface", unhex(t, hexNeighDump), 3, nil},
		{"REACHABLE", append(neighMsg(78, 2, nudReachable, peer, mac), done...), 2, mac},
		{"DELAY", append(neighMsg(78, 2, nudDelay, peer, mac), done...), 2, mac},
		{"PROBE", append(neighMsg(78, 2, nudProbe, peer, mac), done...), 2, mac},
		{"PERMANENT", append(neighMsg(78, 2, nudPermanent, peer, mac), done...), 2, mac},
		{"INCOMPLETE", append(neighMsg(78, 2, nudIncomplete, peer, nil), done...), 2, nil},
		{"FAILED with old address", append(neighMsg(78, 2, nudFailed, peer, mac), done...), 2, nil},
		{"NOARP", append(neighMsg(78, 2, nudNoARP, peer, mac), done...), 2, nil},
		{"NONE", append(neighMsg(78, 2, 0, peer, mac), done...), 2, nil},
		{"other address", append(neighMsg(78, 2, nudReachable, netip.MustParseAddr("198.18.250.3"), mac), done...), 2, nil},
		{"multicast MAC", append(neighMsg(78, 2, nudPermanent, peer, []byte{1, 0, 0x5e, 0, 0, 1}), done...), 2, nil},
		{"zero MAC", append(neighMsg(78, 2, nudPermanent, peer, make([]byte, 6)), done...), 2, nil},
		{"6-byte MAC required", append(neighMsg(78, 2, nudReachable, peer, []byte{2, 0, 0, 0}), done...), 2, nil},
		{"second of two entries", append(append(neighMsg(78, 2, nudFailed, peer, []byte{2, 1, 1, 1, 1, 1}), neighMsg(78, 2, nudReachable, peer, mac)...), done...), 2, mac},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r reply
			if err := r.collect(tt.in, 78, capturePid); err != nil {
				t.Fatal(err)
			}
			if !r.done || r.err != nil {
				t.Fatalf("reply done=%v err=%v, want a complete dump", r.done, r.err)
			}
			got, ok, err := lookupNeigh(r.msgs, tt.ifindex, peer)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tt.want != nil) || !bytes.Equal(got, tt.want) {
				t.Fatalf("lookupNeigh = %v, %v; want %v", net.HardwareAddr(got), ok, tt.want)
			}
		})
	}
}

func TestReplyCollectAcrossDatagrams(t *testing.T) {
	peer := netip.MustParseAddr("198.18.250.2")
	var r reply
	for i, dg := range [][]byte{
		neighMsg(78, 2, nudStale, peer, []byte{2, 0, 0, 0, 0, 1}),
		append(neighMsg(99, 2, nudStale, peer, []byte{2, 0, 0, 0, 0, 2}), neighMsg(78, 2, nudStale, peer, []byte{2, 0, 0, 0, 0, 3})...),
		msg(nlmsgDone, nlmFMulti, 78, []byte{0, 0, 0, 0}),
	} {
		if r.done {
			t.Fatalf("reply complete before datagram %d", i)
		}
		if err := r.collect(dg, 78, capturePid); err != nil {
			t.Fatal(err)
		}
	}
	if !r.done || len(r.msgs) != 2 {
		t.Fatalf("done=%v with %d messages, want done with 2 (the one of seq 99 skipped)", r.done, len(r.msgs))
	}
}

func FuzzParseRouteMessage(f *testing.F) {
	for _, h := range []string{hexRouteViaGateway, hexRouteOnLink, hexRouteUnreachable, hexNeighDump} {
		f.Add(unhex(f, h), uint32(77), uint32(capturePid))
	}
	f.Add(msg(nlmsgError, nlmFAckTLVs|nlmFCapped, 77, errPayload(22, nlmFCapped, attr(nlmsgerrAttrM, []byte("bad\x00")))), uint32(77), uint32(capturePid))
	f.Add(msg(rtmNewRoute, 0, 77, rtmsg(afInet, rtnUnicast, attr(rtaVia, []byte{10, 0, 1, 2}))), uint32(77), uint32(capturePid))
	f.Add(msg(rtmNewRoute, 0, 77, rtmsg6(rtnUnicast, attr(rtaGateway, netip.MustParseAddr("fe80::1").AsSlice()),
		attr(rtaPrefSrc, netip.MustParseAddr("2001:db8::2").AsSlice()))), uint32(77), uint32(capturePid))
	// RFC 5549 routes name their gateway in RTA_VIA, of either family.
	for _, gw := range []netip.Addr{netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("fe80::1")} {
		via := binary.NativeEndian.AppendUint16(nil, afInet)
		if gw.Is6() {
			via = binary.NativeEndian.AppendUint16(nil, afInet6)
		}
		route := rtmsg(afInet, rtnUnicast, attr(rtaVia, append(via, gw.AsSlice()...)), attr(rtaOIF, []byte{2, 0, 0, 0}))
		f.Add(msg(rtmNewRoute, 0, 77, route), uint32(77), uint32(capturePid))
	}
	f.Fuzz(func(t *testing.T, b []byte, seq, pid uint32) {
		ri, kerr, err := parseRouteReply(b, seq, pid)
		if err != nil {
			return
		}
		if kerr != nil && kerr.Errno < 0 {
			t.Fatalf("negative errno %d", kerr.Errno)
		}
		if kerr != nil {
			return
		}
		// A route is an IPv4 or IPv6 route, and every address in it is one
		// the kernel's bytes carry, whole, in an attribute of its kind and
		// of the route's family: an address read from the wrong offset or
		// attribute, or the wrong family's bytes, is caught.
		if ri.Family != afInet && ri.Family != afInet6 {
			t.Fatalf("route of family %d accepted", ri.Family)
		}
		is6 := ri.Family == afInet6
		for _, f := range []struct {
			name string
			a    netip.Addr
			typ  uint16
		}{{"destination", ri.Dst, rtaDst}, {"preferred source", ri.PrefSrc, rtaPrefSrc}} {
			if f.a.IsValid() && (f.a.Is6() != is6 || !carried(b, f.typ, f.a.AsSlice())) {
				t.Fatalf("%s %v is not the bytes of an attribute %d of family %d in the input", f.name, f.a, f.typ, ri.Family)
			}
		}
		if g := ri.Gateway; g.IsValid() {
			via := binary.NativeEndian.AppendUint16(nil, afInet)
			if g.Is6() {
				via = binary.NativeEndian.AppendUint16(nil, afInet6)
			}
			if !(g.Is6() == is6 && carried(b, rtaGateway, g.AsSlice())) && !carried(b, rtaVia, append(via, g.AsSlice()...)) {
				t.Fatalf("gateway %v is carried by no RTA_GATEWAY or RTA_VIA of its family in the input", g)
			}
		}
	})
}

// carried reports whether b holds a netlink attribute of type typ whose
// value is exactly val: the header (length 4+len(val), type with or without
// the NLA_F_NESTED and NLA_F_NET_BYTEORDER flag bits) and the value, as the
// kernel lays them out (written here by hand, not by the package's encoder).
func carried(b []byte, typ uint16, val []byte) bool {
	for _, flags := range []uint16{0, 0x4000, 0x8000, 0xc000} {
		a := binary.NativeEndian.AppendUint16(nil, uint16(4+len(val)))
		a = binary.NativeEndian.AppendUint16(a, typ|flags)
		if bytes.Contains(b, append(a, val...)) {
			return true
		}
	}
	return false
}

func FuzzParseNeighMessage(f *testing.F) {
	peer := netip.MustParseAddr("198.18.250.2")
	f.Add(unhex(f, hexNeighDump), 2)
	f.Add(neighMsg(78, 2, nudReachable, peer, []byte{2, 0, 0, 0, 0, 1}), 2)
	peer6 := netip.MustParseAddr("fe80::1")
	f.Add(neighMsg(78, 2, nudStale, peer6, []byte{2, 0, 0, 0, 0, 1}), 2)
	f.Fuzz(func(t *testing.T, b []byte, ifindex int) {
		var r reply
		if err := r.collect(b, 78, capturePid); err != nil {
			return
		}
		for _, p := range []netip.Addr{peer, peer6} {
			mac, ok, err := lookupNeigh(r.msgs, ifindex, p)
			if err == nil && ok && !validMAC(mac) {
				t.Fatalf("lookupNeigh(%v) returned unusable address %x", p, mac)
			}
		}
	})
}

// errCode is the struct nlmsgerr error field for errno: its negation.
func errCode(errno int32) []byte {
	return binary.NativeEndian.AppendUint32(nil, uint32(-errno))
}
