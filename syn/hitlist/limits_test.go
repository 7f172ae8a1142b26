package hitlist_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"mailscan/syn/hitlist"
)

// drain reads r to its end and returns the hits as "ip:port", the line
// errors and the error that ended it (nil for io.EOF).
func drain(t *testing.T, r *hitlist.Reader) (hits []string, lineErrs []*hitlist.LineError, end error) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("reader does not end")
		}
		h, err := r.Next()
		if err == io.EOF {
			return hits, lineErrs, nil
		}
		var le *hitlist.LineError
		if errors.As(err, &le) {
			lineErrs = append(lineErrs, le)
			continue
		}
		if err != nil {
			return hits, lineErrs, err
		}
		hits = append(hits, netip.AddrPortFrom(h.Addr, h.Port).String())
	}
}

const nmapHead = `<?xml version="1.0"?>` + "\n" + `<nmaprun scanner="nmap">` + "\n"

func nmapHost(ip string, port int, state string) string {
	return `<host><address addr="` + ip + `" addrtype="ipv4"/><ports><port protocol="tcp" portid="` +
		strconv.Itoa(port) + `"><state state="` + state + `"/></port></ports></host>` + "\n"
}

// TestReaderXMLLimits: a truncated document (an interrupted nmap) keeps
// every host read in full and ends with an error naming the line; a token
// longer than MaxRecordBytes and nesting deeper than the limit end the
// input instead of growing memory; concatenated documents are all read.
func TestReaderXMLLimits(t *testing.T) {
	truncated := nmapHead + nmapHost("198.18.16.1", 143, "open") +
		`<host><address addr="198.18.16.2" addrtype="ipv4"/><ports><port protocol="tcp" portid="993"><state state="open"/></port>` + "\n<port protocol="
	hits, _, end := drain(t, hitlist.NewReader(strings.NewReader(truncated), "n.xml", nil))
	if strings.Join(hits, " ") != "198.18.16.1:143 198.18.16.2:993" || end == nil || !strings.Contains(end.Error(), "n.xml:5: XML") {
		t.Errorf("truncated: hits %v, end %v", hits, end)
	}

	long := nmapHead + `<host comment="` + strings.Repeat("a", 10<<20) + `">` + nmapHost("198.18.16.1", 143, "open")
	hits, _, end = drain(t, hitlist.NewReader(strings.NewReader(long), "n.xml", nil))
	if len(hits) != 0 || end == nil || !strings.Contains(end.Error(), "longer than") {
		t.Errorf("long token: hits %v, end %v", hits, end)
	}

	deep := nmapHead + strings.Repeat("<a>", 1000)
	_, _, end = drain(t, hitlist.NewReader(strings.NewReader(deep), "n.xml", nil))
	if end == nil || !strings.Contains(end.Error(), "nested deeper") {
		t.Errorf("deep: end %v", end)
	}

	// '<' that starts no nmap document: a bad line, and the list goes on.
	other := "198.18.16.1:143\n<rss><item/></rss>\n<<oops\n198.18.16.2:143\n"
	hits, lerrs, end := drain(t, hitlist.NewReader(strings.NewReader(other), "n.txt", nil))
	if strings.Join(hits, " ") != "198.18.16.1:143 198.18.16.2:143" || len(lerrs) != 2 || lerrs[0].Line != 2 || lerrs[1].Line != 3 ||
		!strings.Contains(lerrs[0].Error(), "neither nmap's nor masscan's") || end != nil {
		t.Errorf("stray XML: hits %v, errors %v, end %v", hits, lerrs, end)
	}

	two := nmapHead + nmapHost("198.18.16.1", 143, "open") + "</nmaprun>\n" + nmapHead + nmapHost("198.18.16.2", 110, "closed") +
		nmapHost("198.18.16.3", 110, "open") + "</nmaprun>\n198.18.16.4:25\n"
	hits, lerrs, end = drain(t, hitlist.NewReader(strings.NewReader(two), "n.xml", nil))
	if strings.Join(hits, " ") != "198.18.16.1:143 198.18.16.3:110 198.18.16.4:25" || end != nil || len(lerrs) != 0 {
		t.Errorf("concatenated: hits %v, errors %v, end %v", hits, lerrs, end)
	}

	noAddr := nmapHead + `<host><ports><port protocol="tcp" portid="143"><state state="open"/></port></ports></host>` + "\n" +
		nmapHost("198.18.16.5", 143, "open") + "</nmaprun>"
	hits, lerrs, end = drain(t, hitlist.NewReader(strings.NewReader(noAddr), "n.xml", nil))
	if strings.Join(hits, " ") != "198.18.16.5:143" || len(lerrs) != 1 || lerrs[0].Line != 3 || end != nil {
		t.Errorf("host without address: hits %v, errors %v, end %v", hits, lerrs, end)
	}
}

// TestReaderJSONLimits: an object over MaxRecordBytes is reported and the
// next line is read.
func TestReaderJSONLimits(t *testing.T) {
	in := `{"ip":"198.18.16.1","port":143,"pad":"` + strings.Repeat("a", 1<<20) + `"}` + "\n" + `{"ip":"198.18.16.2","port":143}` + "\n"
	hits, lerrs, end := drain(t, hitlist.NewReader(strings.NewReader(in), "j", nil))
	if strings.Join(hits, " ") != "198.18.16.2:143" || len(lerrs) != 1 || !strings.Contains(lerrs[0].Error(), "longer than") || end != nil {
		t.Errorf("hits %v, errors %v, end %v", hits, lerrs, end)
	}
	// A multi-line object broken off: the next object still counts.
	in = "{\n  \"ip\": \"198.18.16.1\",\n{\"ip\":\"198.18.16.3\",\"port\":25}\n"
	hits, lerrs, end = drain(t, hitlist.NewReader(strings.NewReader(in), "j", nil))
	if strings.Join(hits, " ") != "198.18.16.3:25" || len(lerrs) != 1 || lerrs[0].Line != 1 || end != nil {
		t.Errorf("broken multi-line: hits %v, errors %v, end %v", hits, lerrs, end)
	}
}

// masscanBinary builds a -oB file: the header record, the given records,
// the trailer.
func masscanBinary(records ...[]byte) []byte {
	hdr := make([]byte, 99)
	copy(hdr, "masscan/1.1\ns:1796401190\n")
	out := append([]byte(nil), hdr...)
	for _, r := range records {
		out = append(out, r...)
	}
	trailer := make([]byte, 99)
	copy(trailer, "masscan/1.1")
	return append(out, trailer...)
}

func status2(typ byte, ip string, port uint16, proto byte) []byte {
	b := []byte{typ, 13, 0x6b, 0x12, 0xe8, 0x26}
	a := netip.MustParseAddr(ip).As4()
	b = append(b, a[:]...)
	b = append(b, proto)
	b = binary.BigEndian.AppendUint16(b, port)
	return append(b, 0x12, 63)
}

func status6(typ byte, ip string, port uint16) []byte {
	b := []byte{typ, 26, 0x6b, 0x12, 0xe8, 0x26, 6}
	b = binary.BigEndian.AppendUint16(b, port)
	b = append(b, 0x12, 63, 6)
	a := netip.MustParseAddr(ip).As16()
	return append(b, a[:]...)
}

// TestReaderMasscanBinary: open records of every layout are read, closed,
// ARP, UDP and banner records skipped (a banner with a two-byte length), a
// bad IP version is one bad record, and damage that loses the record
// boundary ends the input after the hits before it.
func TestReaderMasscanBinary(t *testing.T) {
	banner := append([]byte{9, 0x81, 0x00}, make([]byte, 128)...) // length 128: two 7-bit groups
	old := []byte{1, 12, 0x6b, 0x12, 0xe8, 0x26, 198, 18, 16, 9, 0, 143, 0x12, 63}
	badVersion := status6(10, "2001:db8::2", 143)
	badVersion[11] = 4
	in := masscanBinary(
		status2(6, "198.18.16.1", 143, 6),
		status2(7, "198.18.16.2", 143, 6),
		status2(6, "198.18.16.3", 53, 17),
		status2(8, "0.0.0.0", 0, 0),
		banner,
		status6(10, "2001:db8::1", 993),
		badVersion,
		old,
		status2(6, "198.18.16.1", 143, 6),
	)
	r := hitlist.NewReader(bytes.NewReader(in), "m.bin", nil)
	hits, lerrs, end := drain(t, r)
	if strings.Join(hits, " ") != "198.18.16.1:143 [2001:db8::1]:993 198.18.16.9:143" || len(lerrs) != 1 || lerrs[0].Line != 8 || end != nil {
		t.Errorf("hits %v, errors %v, end %v", hits, lerrs, end)
	}
	if s := r.Stats(); s.NotOpen != 4 || s.Duplicates != 1 {
		t.Errorf("stats %+v", s)
	}

	// Two files back to back.
	two := append(masscanBinary(status2(6, "198.18.16.1", 143, 6)), masscanBinary(status2(6, "198.18.16.2", 25, 6))...)
	if hits, _, end := drain(t, hitlist.NewReader(bytes.NewReader(two), "m.bin", nil)); strings.Join(hits, " ") != "198.18.16.1:143 198.18.16.2:25" || end != nil {
		t.Errorf("concatenated: hits %v, end %v", hits, end)
	}

	for name, tail := range map[string][]byte{
		"truncated record": status2(6, "198.18.16.2", 25, 6)[:9],
		"unknown type":     {42, 1, 0},
		"huge length":      {9, 0xff, 0xff, 0x7f},
		"long varint":      {0x81, 0x81, 0x81, 0x01},
	} {
		in := masscanBinary(status2(6, "198.18.16.1", 143, 6))
		in = append(in[:len(in)-99], tail...)
		hits, _, end := drain(t, hitlist.NewReader(bytes.NewReader(in), "m.bin", nil))
		if strings.Join(hits, " ") != "198.18.16.1:143" || end == nil || !strings.Contains(end.Error(), "m.bin: masscan binary") {
			t.Errorf("%s: hits %v, end %v", name, hits, end)
		}
	}
}
