package frame

import (
	"encoding/binary"
	"math/bits"
)

// Checksum returns the 16-bit one's-complement sum (RFC 1071) of b added to
// initial, folded but not complemented: the value to pass as initial when
// the covered data continues in another buffer, and whose complement is the
// checksum field. b is taken to start on a 16-bit boundary of the covered
// data; an odd final byte is padded with a zero byte on its right.
//
// It sums eight bytes per addition into a 64-bit accumulator, loading them
// little-endian, which is a plain load on the machines that matter: the
// one's-complement sum commutes with byte swapping (RFC 1071 section 2(B)),
// so the sum is computed with the bytes of each 16-bit word swapped and
// swapped back once at the end.
func Checksum(b []byte, initial uint16) uint16 {
	acc := uint64(bits.ReverseBytes16(initial))
	var carry uint64
	for len(b) >= 32 {
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[0:8]), carry)
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[8:16]), carry)
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[16:24]), carry)
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b[24:32]), carry)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, carry = bits.Add64(acc, binary.LittleEndian.Uint64(b), carry)
		b = b[8:]
	}
	// The 0 to 7 bytes left keep their byte positions in a zero-padded
	// 64-bit word, so each stays in its half of its 16-bit word.
	var tail uint64
	if len(b) >= 4 {
		tail = uint64(binary.LittleEndian.Uint32(b))
		b = b[4:]
		if len(b) >= 2 {
			tail |= uint64(binary.LittleEndian.Uint16(b)) << 32
			b = b[2:]
			if len(b) == 1 {
				tail |= uint64(b[0]) << 48
			}
		} else if len(b) == 1 {
			tail |= uint64(b[0]) << 32
		}
	} else if len(b) >= 2 {
		tail = uint64(binary.LittleEndian.Uint16(b))
		if len(b) == 3 {
			tail |= uint64(b[2]) << 16
		}
	} else if len(b) == 1 {
		tail = uint64(b[0])
	}
	acc, carry = bits.Add64(acc, tail, carry)
	// End-around carry: with carry set, acc is at most 2^64-2, so adding it
	// cannot overflow again.
	acc += carry
	return bits.ReverseBytes16(fold64(acc))
}

// fold64 folds a 64-bit one's-complement accumulator to 16 bits.
func fold64(acc uint64) uint16 {
	s := acc>>32 + acc&0xffffffff // < 2^33
	s = s>>16 + s&0xffff          // < 2^17 + 2^16
	s = s>>16 + s&0xffff          // <= 0xffff + 2
	s = s>>16 + s&0xffff          // <= 0xffff
	return uint16(s)
}

// fold32 folds a 32-bit one's-complement accumulator to 16 bits.
func fold32(s uint32) uint16 {
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// Combine returns the one's-complement sum of two folded sums a and b, as
// returned by Checksum, of data that are adjacent on a 16-bit boundary.
func Combine(a, b uint16) uint16 {
	return fold32(uint32(a) + uint32(b))
}

// PseudoHeaderChecksum returns the folded one's-complement sum of the IPv4
// pseudo-header of RFC 793 section 3.1 (source and destination address in
// host byte order, a zero byte, the protocol, and the TCP/UDP length), to
// pass as initial to Checksum over the transport header and payload.
func PseudoHeaderChecksum(protocol uint8, src, dst uint32, length uint16) uint16 {
	s := src>>16 + src&0xffff + dst>>16 + dst&0xffff + uint32(protocol) + uint32(length)
	return fold32(s)
}

// PseudoHeaderChecksum6 returns the folded one's-complement sum of the IPv6
// pseudo-header of RFC 8200 section 8.1 (source and destination address,
// the 32-bit upper-layer packet length, three zero bytes and the next
// header value), to pass as initial to Checksum over the transport header
// and payload.
func PseudoHeaderChecksum6(protocol uint8, src, dst [16]byte, length uint32) uint16 {
	return fold64(sum128(src) + sum128(dst) + uint64(length) + uint64(protocol))
}

// sum128 returns the 16-bit words of a, summed as two's-complement 64-bit
// numbers: a 32-bit half adds the same as its two words do modulo 0xffff
// (2^16 ≡ 1), which is all a one's-complement sum is, so fold64 of the
// result is their one's-complement sum. It is below 2^34.
func sum128(a [16]byte) uint64 {
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	return hi>>32 + hi&0xffffffff + lo>>32 + lo&0xffffffff
}

// UpdateChecksum returns the checksum field hc (the complemented sum, as
// stored in a header) updated for one 16-bit word of the covered data that
// changes from m to m2, by equation 3 of RFC 1624:
//
//	HC' = ~(~HC + ~m + m')
//
// Precondition: the changed word starts on a 2-byte boundary of the covered
// data, counting the pseudo-header for TCP; every field of the IPv4 and TCP
// headers passed here (addresses, ports, ID, halves of the sequence number)
// does. A word at an odd offset would have its bytes swapped in the sum.
//
// Unlike equation 2 of RFC 1071, equation 3 never turns a checksum of 0x0000
// into 0xFFFF: the result equals a full recomputation for any data that is
// not all zeros.
func UpdateChecksum(hc, m, m2 uint16) uint16 {
	return ^fold32(uint32(^hc) + uint32(^m) + uint32(m2))
}

// UpdateChecksum32 is UpdateChecksum for a 32-bit field (an IPv4 address or
// a sequence number) that starts on a 2-byte boundary: both of its 16-bit
// words are updated at once.
func UpdateChecksum32(hc uint16, m, m2 uint32) uint16 {
	s := uint32(^hc) +
		uint32(^uint16(m>>16)) + uint32(^uint16(m)) +
		m2>>16 + m2&0xffff
	return ^fold32(s)
}
