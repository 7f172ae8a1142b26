package frame_test

import (
	"fmt"
	"net"

	"mailscan/syn/frame"
)

func ExampleTemplate_Write() {
	tmpl, err := frame.NewTemplate(&frame.TemplateConfig{
		SrcMAC:  net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01},
		DstMAC:  net.HardwareAddr{0x02, 0, 0, 0, 0, 0xfe},
		SrcAddr: 0xc6120001, // 198.18.0.1
		Options: frame.OptionsMSS,
	})
	if err != nil {
		panic(err)
	}
	buf := make([]byte, tmpl.Len()) // one slot of a TX ring, in real use
	n := tmpl.Write(buf, 0xc6121005, 993, 40000, 0x12345678, 1)
	fmt.Printf("% x\n", buf[:14])
	fmt.Printf("% x\n", buf[14:34])
	fmt.Printf("% x\n", buf[34:n])
	// Output:
	// 02 00 00 00 00 fe 02 00 00 00 00 01 08 00
	// 45 00 00 2c 00 01 40 00 40 06 9e a0 c6 12 00 01 c6 12 10 05
	// 9c 40 03 e1 12 34 56 78 00 00 00 00 60 02 ff ff f3 2d 00 00 02 04 05 b4
}

func ExampleParseReply() {
	// A RST-ACK from 198.18.16.5:143 to 198.18.0.1:40001, as captured.
	captured := []byte{
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x9e, 0xa5,
		0xc6, 0x12, 0x10, 0x05, 0xc6, 0x12, 0x00, 0x01,
		0x00, 0x8f, 0x9c, 0x41, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x79,
		0x50, 0x14, 0x00, 0x00, 0x0e, 0x28, 0x00, 0x00,
		0, 0, 0, 0, 0, 0, // Ethernet padding to 60 bytes
	}
	var r frame.Reply
	if frame.ParseReply(captured, &r) {
		fmt.Printf("%v from port %d to port %d, ack %#x\n", r.Flags, r.SrcPort, r.DstPort, r.Ack)
	}
	// Checksums are not ParseReply's business, but they can be checked.
	ip := frame.IPv4(captured[frame.EthernetMinimumSize:])
	tcp := frame.TCP(ip.Payload())
	fmt.Println(ip.CalculateChecksum() == ip.Checksum(), tcp.CalculateChecksum(r.SrcAddr, r.DstAddr) == tcp.Checksum())
	// Output:
	// RA from port 143 to port 40001, ack 0x12345679
	// true true
}
