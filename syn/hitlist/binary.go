package hitlist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// masscan's binary output (-oB), as its src/out-binary.c writes it and
// src/in-binary.c reads it back:
//
//	file   = header record*
//	header = "masscan/1.1\ns:<start time>\n", zero-padded to 99 bytes; read
//	         as a record it is type 'm' (109) with length 'a' (97), and the
//	         trailer masscan writes on close is one too
//	record = type length payload; type and length are 7-bit groups, most
//	         significant first, the high bit set on all but the last byte
//
// Status payloads, all big-endian:
//
//	type 1 open, 2 closed (old):  time[4] ip[4] port[2] reason[1] ttl[1]
//	                              (the protocol is implied by the port)
//	type 6 open, 7 closed:        time[4] ip[4] proto[1] port[2] reason[1] ttl[1]
//	type 10 open, 11 closed:      time[4] proto[1] port[2] reason[1] ttl[1] version[1] ip[16]
//
// Types 3, 4, 5, 9 and 13 are banners, 8 and 12 ARP answers: skipped. Type 4
// is followed by one byte its length does not count.

const binMagic = "masscan/1.1"

// maxBinRecord bounds one record's length: masscan's reader refuses more
// than 1 MiB. Records other than status records are skipped, not held.
const maxBinRecord = 1 << 20

type binState struct {
	n   int       // records read
	buf [256]byte // a status record
}

// binaryRecord reads one record.
func (r *Reader) binaryRecord() error {
	b := r.bin
	typ, err := r.binVarint()
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return r.binFatal("record type", err)
	}
	length, err := r.binVarint()
	if err != nil {
		return r.binFatal("record length", err)
	}
	b.n++
	r.recLine = b.n
	if length > maxBinRecord {
		return r.binFatal(fmt.Sprintf("record %d (type %d)", b.n, typ), fmt.Errorf("length %d over %d", length, maxBinRecord))
	}
	var min int
	switch typ {
	case 1, 2:
		min = 12
	case 6, 7:
		min = 13
	case 10, 11:
		min = 26
	case 4:
		length++
		fallthrough
	case 3, 5, 9, 13, 8, 12:
		r.stats.Records++
		r.stats.NotOpen++
		return r.binSkip(length)
	case 'm':
		return r.binSkip(length) // a header or trailer: concatenated files are fine
	default:
		return r.binFatal(fmt.Sprintf("record %d", b.n), fmt.Errorf("unknown record type %d", typ))
	}
	if length > len(b.buf) {
		return r.binFatal(fmt.Sprintf("record %d (type %d)", b.n, typ), fmt.Errorf("status record of %d bytes", length))
	}
	p := b.buf[:length]
	if _, err := io.ReadFull(r.br, p); err != nil {
		return r.binFatal(fmt.Sprintf("record %d (type %d)", b.n, typ), err)
	}
	if length < min {
		return &LineError{File: r.name, Line: b.n, Value: fmt.Sprintf("record type %d", typ),
			Err: fmt.Errorf("status record of %d bytes, want at least %d", length, min)}
	}
	st := stateOpen
	if typ == 2 || typ == 7 || typ == 11 {
		st = stateClosed
	}
	h := Hit{Time: time.Unix(int64(binary.BigEndian.Uint32(p)), 0).UTC()}
	var addr netip.Addr
	var port uint16
	var proto byte
	switch typ {
	case 1, 2:
		addr = netip.AddrFrom4([4]byte(p[4:8]))
		port, h.TTL = binary.BigEndian.Uint16(p[8:]), p[11]
		proto = 6
		switch port { // masscan's own rule for these old records
		case 53, 123, 137, 161:
			proto = 17
		case 36422, 36412, 2905:
			proto = 132
		}
	case 6, 7:
		addr = netip.AddrFrom4([4]byte(p[4:8]))
		proto, port, h.TTL = p[8], binary.BigEndian.Uint16(p[9:]), p[12]
	case 10, 11:
		if p[9] != 6 {
			return &LineError{File: r.name, Line: b.n, Value: fmt.Sprintf("record type %d", typ), Err: fmt.Errorf("IP version %d in an IPv6 record", p[9])}
		}
		proto, port, h.TTL = p[4], binary.BigEndian.Uint16(p[5:]), p[8]
		addr = netip.AddrFrom16([16]byte(p[10:26])).Unmap()
	}
	if proto != 6 || !addr.IsValid() || addr.IsUnspecified() { // not TCP, or an ARP answer (address 0)
		st = stateOther
	}
	if port == 0 && st != stateOther {
		return &LineError{File: r.name, Line: b.n, Value: fmt.Sprintf("record type %d", typ), Err: errors.New("port 0")}
	}
	r.add(addr, port, st, h)
	return nil
}

// binVarint reads a type or length: 7-bit groups, high bit = more. More
// than three groups (2^21) is no masscan record.
func (r *Reader) binVarint() (int, error) {
	v := 0
	for i := 0; i < 3; i++ {
		c, err := r.br.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("varint longer than 3 bytes")
}

func (r *Reader) binSkip(n int) error {
	if _, err := r.br.Discard(n); err != nil {
		return r.binFatal(fmt.Sprintf("record %d", r.bin.n), err)
	}
	return nil
}

// binFatal ends a binary file: a damaged record leaves no way to find the
// next one. A truncated last record is what an interrupted masscan leaves.
func (r *Reader) binFatal(what string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("hitlist: %s: masscan binary: %s: %w; the rest of the input is not read", r.name, what, err)
}
