package main

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"mailscan/syn/afpacket"
)

// runRole runs a helper role of the test binary, started in a lab namespace
// by a test (the binary re-executed with MAILSCAN_TEST_ROLE set).
func runRole(role string) int {
	var err error
	switch role {
	case "inject":
		err = injector()
	case "inject6":
		err = injector6()
	case "greeter":
		err = greeter()
	case "tarpit":
		err = tarpit()
	case "refclient":
		err = refClient()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "role", role+":", err)
		return 1
	}
	return 0
}

// injector answers SYNs it sees on the target namespace's veth with forged
// replies, like a host that lies or an attacker who cannot see our probes'
// cookies: to every SYN for MAILSCAN_INJECT_WRONG it sends a SYN-ACK and a RST
// with ack = seq+2, and a SYN-ACK with the right ack to the wrong port; to
// every SYN for MAILSCAN_INJECT_CONTROL it sends a correct SYN-ACK (the
// positive control: the scanner must report that one). It runs until stdin
// closes.
func injector() error {
	ifi, err := net.InterfaceByName(os.Getenv("MAILSCAN_INJECT_IF"))
	if err != nil {
		return err
	}
	wrong := netip.MustParseAddr(os.Getenv("MAILSCAN_INJECT_WRONG"))
	control := netip.MustParseAddr(os.Getenv("MAILSCAN_INJECT_CONTROL"))
	rcv, err := afpacket.NewReceiver(ifi.Index, nil)
	if err != nil {
		return err
	}
	defer rcv.Close()
	snd, err := afpacket.NewSender(ifi.Index, &afpacket.SenderConfig{Mode: afpacket.ModeSendmmsg})
	if err != nil {
		return err
	}
	defer snd.Close()
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	fmt.Println("ready")

	var sendErr error
	send := func(b []byte) {
		buf, err := snd.Next()
		if err != nil {
			sendErr = err
			return
		}
		snd.Commit(copy(buf, b))
	}
	handle := func(frame []byte) {
		pkt := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.NoCopy)
		eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
		ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if eth == nil || ip == nil || tcp == nil || !tcp.SYN || tcp.ACK {
			return
		}
		dst, _ := netip.AddrFromSlice(ip.DstIP.To4())
		switch dst {
		case wrong:
			send(forge(eth, ip, tcp, tcp.Seq+2, true, tcp.SrcPort))
			send(forge(eth, ip, tcp, tcp.Seq+2, false, tcp.SrcPort))
			send(forge(eth, ip, tcp, tcp.Seq+1, true, tcp.SrcPort^1))
		case control:
			send(forge(eth, ip, tcp, tcp.Seq+1, true, tcp.SrcPort))
		}
	}
	for {
		select {
		case <-done:
			return sendErr
		default:
		}
		if _, err := rcv.Poll(100*time.Millisecond, handle); err != nil {
			return err
		}
		if err := snd.Flush(); err != nil {
			return err
		}
	}
}

// forge builds a reply to the SYN (eth, ip, tcp) with the given ack, as a
// SYN-ACK or a RST-ACK, to destination port dport.
func forge(eth *layers.Ethernet, ip *layers.IPv4, tcp *layers.TCP, ack uint32, synack bool, dport layers.TCPPort) []byte {
	e := &layers.Ethernet{SrcMAC: eth.DstMAC, DstMAC: eth.SrcMAC, EthernetType: layers.EthernetTypeIPv4}
	i := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip.DstIP, DstIP: ip.SrcIP, Flags: layers.IPv4DontFragment}
	t := &layers.TCP{SrcPort: tcp.DstPort, DstPort: dport, Ack: ack, ACK: true, Seq: 1000, Window: 64240}
	if synack {
		t.SYN = true
	} else {
		t.RST, t.Window = true, 0
	}
	t.SetNetworkLayerForChecksum(i)
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, e, i, t)
	return buf.Bytes()
}

// TestIntegrationSynForgedReplies: SYN-ACKs and RSTs with a wrong ack or to
// the wrong port, injected in the lab, are not reported; a forged reply that
// carries the right cookie (the positive control, proving the injection path
// works) is.
func TestIntegrationSynForgedReplies(t *testing.T) {
	l := needLab(t)
	// Two addresses of the target range that never answer by themselves: not
	// up hosts, not blocklisted.
	up := map[string]bool{}
	for _, h := range readLines(t, l.get("LAB_UP")) {
		up[h] = true
	}
	bl := l.blocklist(t)
	var quiet []netip.Addr
	pfx := netip.MustParsePrefix(l.get("LAB_TARGET_RANGE"))
	for a := pfx.Addr().Next(); pfx.Contains(a) && len(quiet) < 2; a = a.Next() {
		if !up[a.String()] && !blocked(bl, a) {
			quiet = append(quiet, a)
		}
	}
	wrong, control := quiet[0], quiet[1]

	inj := startRole(t, l.get("LAB_TARGET_NS"), "inject",
		"MAILSCAN_INJECT_IF="+l.get("LAB_TARGET_IF"),
		"MAILSCAN_INJECT_WRONG="+wrong.String(), "MAILSCAN_INJECT_CONTROL="+control.String())
	meta := t.TempDir() + "/meta.json"
	r := l.mailscanIn(t, l.get("LAB_SCAN_NS"), l.scanArgs("--closed", "-p", "143", "--metadata", meta)...)
	if err := inj.stop(); err != nil {
		t.Fatalf("injector: %v", err)
	}
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	open, closed := hitKeys(t, r.stdout, "open"), hitKeys(t, r.stdout, "closed")
	for _, k := range append(open, closed...) {
		if strings.HasPrefix(k, wrong.String()+":") {
			t.Errorf("a forged reply from %s was reported: %s", wrong, k)
		}
	}
	controlKey := control.String() + ":143"
	found := false
	for _, k := range open {
		found = found || k == controlKey
	}
	if !found {
		t.Errorf("the control reply from %s was not reported: the injection did not work, so the test proves nothing", controlKey)
	}
	b, _ := os.ReadFile(meta)
	if !strings.Contains(string(b), `"invalid": 3`) {
		t.Errorf("metadata should count exactly the 3 forged replies as invalid:\n%s", b)
	}
}
