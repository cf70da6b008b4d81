package netstat

import (
	"encoding/binary"
	"net/netip"

	"github.com/procnet/procnet/internal/procfile"
)

// The fast path of the Internet-table parser. The kernel prints a row as
//
//	%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %d %pK …
//
// with 32 hex digits per address in the IPv6 tables. parseFixed decodes
// such a row in place, eight hex digits at a time, without splitting it
// into columns. It handles only the rows it can decode entirely and says
// so; any other row (a bad digit, a moved separator, a tab, a missing or
// cut column, a number out of range) goes to splitRow and parseInet, so
// every error — and every filter decision — is the one parseInet makes.
// FuzzParseFixed holds the two to that.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hexBad is zero if and only if the eight bytes of x are hex digits.
func hexBad(x uint64) uint64 {
	// With every byte below 0x80, adding up to 0x7f to a byte cannot carry
	// into the next, and bit 7 of byte+0x80-n says byte >= n. A byte of
	// 0x80 or more is bad itself, and only spoils the bytes above it.
	digit := (x + (0x80-'0')*ones) &^ (x + (0x80-'9'-1)*ones)
	y := x | 0x20*ones // lower case
	letter := (y + (0x80-'a')*ones) &^ (y + (0x80-'f'-1)*ones)
	return (x | ^(digit | letter)) & highs
}

// hexValue is the value of eight hex digits (any value for other bytes).
func hexValue(x uint64) uint32 {
	// A digit's value is its low nibble; a letter's (bit 6 set) is that + 9.
	n := x&(0x0f*ones) + (x>>6&ones)*9
	n = (n<<4 | n>>8) & 0x00ff00ff00ff00ff // byte pairs
	n = (n<<8 | n>>16) & 0x0000ffff0000ffff
	return uint32(n<<16 | n>>32)
}

// word64 loads the eight bytes at b[0:8], the first in the lowest byte.
func word64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// hex2At decodes the two hex digits at b[0:2].
func hex2At(b []byte) (uint64, uint64) {
	h, l := procfile.Unhex[b[0]], procfile.Unhex[b[1]]
	return uint64(h)<<4 | uint64(l), uint64(h|l) & 0x80 // 0xff marks a non-digit
}

// putWord stores an address word in memory order (see word).
func putWord(dst []byte, v uint32) {
	if littleEndian {
		binary.LittleEndian.PutUint32(dst, v)
	} else {
		binary.BigEndian.PutUint32(dst, v)
	}
}

// addrBad is zero if the 8 (IPv4) or 32 (IPv6) bytes at b are hex digits.
func addrBad(b []byte, v6 bool) uint64 {
	if !v6 {
		return hexBad(word64(b))
	}
	return hexBad(word64(b[0:])) | hexBad(word64(b[8:])) | hexBad(word64(b[16:])) | hexBad(word64(b[24:]))
}

// addrAt decodes the 8 (IPv4) or 32 (IPv6) hex digits at b, which addrBad
// has checked.
func addrAt(b []byte, v6 bool) netip.Addr {
	if !v6 {
		var a [4]byte
		putWord(a[:], hexValue(word64(b)))
		return netip.AddrFrom4(a)
	}
	var a [16]byte
	putWord(a[0:], hexValue(word64(b[0:])))
	putWord(a[4:], hexValue(word64(b[8:])))
	putWord(a[8:], hexValue(word64(b[16:])))
	putWord(a[12:], hexValue(word64(b[24:])))
	return netip.AddrFrom16(a)
}

// skipSpaces returns the index of the first byte at or after i that is not
// a space (len(line) if none).
func skipSpaces(line []byte, i int) int {
	for i < len(line) && line[i] == ' ' {
		i++
	}
	return i
}

// udpDrops reads the drops column of a udp or raw row, which may follow
// the pointer at line[i:]; ok is false where parseInet would report an
// error (a missing or cut drops, a bad number) or a tab is met.
func udpDrops(line []byte, i int, end rowEnd) (drops uint64, ok bool) {
	for i < len(line) && line[i] != ' ' { // the pointer
		if line[i] == '\t' {
			return 0, false
		}
		i++
	}
	i = skipSpaces(line, i)
	if i == len(line) {
		return 0, !end.drops
	}
	start := i
	for i < len(line) && line[i]-'0' <= 9 {
		drops = drops*10 + uint64(line[i]-'0')
		i++
	}
	n := i - start
	if n == 0 || n > 19 || i == len(line) && end.cut || i < len(line) && line[i] != ' ' {
		return 0, false
	}
	return drops, true
}

// decAt skips the spaces at line[i:] and parses the decimal number after
// them, which must be 1 to 19 digits (no overflow) followed by a space.
// (Byte by byte: the lengths repeat from row to row, so the branches are
// predicted, and the next column's position does not wait for the value.)
func decAt(line []byte, i int) (v uint64, next int, ok bool) {
	i = skipSpaces(line, i)
	start := i
	for i < len(line) {
		c := line[i] - '0'
		if c > 9 {
			break
		}
		v = v*10 + uint64(c)
		i++
	}
	n := i - start
	return v, i, n > 0 && n < 20 && i < len(line) && line[i] == ' '
}

// skipColumn skips the spaces at line[i:] and the column after them. It
// returns where the column ends, or -1 if there is no column or a tab is
// met (the tokenizer's business).
func skipColumn(line []byte, i int) int {
	i = skipSpaces(line, i)
	if i == len(line) || line[i] == '\t' {
		return -1
	}
	for i < len(line) && line[i] != ' ' {
		if line[i] == '\t' {
			return -1
		}
		i++
	}
	return i
}

// parseFixed fills s from a row laid out exactly as the kernel prints it,
// applying f, as parseInet would. handled is false when the row is not
// such a row, or parseInet would report an error for it: the caller then
// hands it to parseInet.
func parseFixed(s *Socket, p Proto, line []byte, f *Filter, end rowEnd) (ok, handled bool) {
	// sl and its colon, as splitRow finds them.
	c := 0
	for c < len(line) && line[c] == ' ' {
		c++
	}
	for c < len(line) && line[c] != ':' && line[c] != ' ' && line[c] != '\t' {
		c++
	}
	if c >= len(line) || line[c] != ':' {
		return false, false
	}
	v6 := p.IPv6()
	alen := 8
	if v6 {
		alen = 32
	}
	a := alen + 6 // " ADDR:PORT"
	b := line[c+1:]
	// The fixed part and the space after retrnsmt.
	if len(b) < 2*a+43 || b[0] != ' ' || b[alen+1] != ':' || b[a] != ' ' || b[a+alen+1] != ':' ||
		b[2*a] != ' ' || b[2*a+3] != ' ' || b[2*a+12] != ':' || b[2*a+21] != ' ' ||
		b[2*a+24] != ':' || b[2*a+33] != ' ' || b[2*a+42] != ' ' {
		return false, false
	}
	// Check every digit, and the columns after retrnsmt, before the filter
	// decides: a row parseInet would reject is not handled.
	xp := uint64(binary.LittleEndian.Uint32(b[alen+2:])) | uint64(binary.LittleEndian.Uint32(b[a+alen+2:]))<<32 // both ports
	xtx, xrx, xwhen, xretr := word64(b[2*a+4:]), word64(b[2*a+13:]), word64(b[2*a+25:]), word64(b[2*a+34:])
	st, bad := hex2At(b[2*a+1:])
	tr, bad1 := hex2At(b[2*a+22:])
	bad |= bad1 | hexBad(xp) | hexBad(xtx) | hexBad(xrx) | hexBad(xwhen) | hexBad(xretr) | addrBad(b[1:], v6) | addrBad(b[a+1:], v6)
	if bad != 0 {
		return false, false
	}
	// uid, timeout, inode; then ref and pointer, which every row has.
	i := c + 1 + 2*a + 42
	uid, i, ok1 := decAt(line, i)
	timeout, i, ok2 := decAt(line, i)
	inode, i, ok3 := decAt(line, i)
	if !ok1 || !ok2 || !ok3 || uid > 0xffffffff || timeout > 0xffffffff {
		return false, false
	}
	if i = skipColumn(line, i); i < 0 { // ref
		return false, false
	}
	i = skipSpaces(line, i) // to the pointer
	if i == len(line) || line[i] == '\t' {
		return false, false
	}
	var drops uint64
	if !p.IsTCP() {
		if drops, handled = udpDrops(line, i, end); !handled {
			return false, false
		}
	}
	ports := hexValue(xp)
	lport, rport := uint16(ports>>16), uint16(ports)
	if !f.States.Has(State(st)) || !f.portsMatch(lport, rport) || f.Inodes != nil && !f.Inodes[inode] {
		return false, true
	}
	s.Proto = p
	s.Local = netip.AddrPortFrom(addrAt(b[1:], v6), lport)
	s.Remote = netip.AddrPortFrom(addrAt(b[a+1:], v6), rport)
	s.State = State(st)
	s.TxQueue = hexValue(xtx)
	s.RxQueue = hexValue(xrx)
	s.Timer = Timer(tr)
	s.TimerTicks = uint64(hexValue(xwhen))
	s.Retransmits = hexValue(xretr)
	s.Timeout = uint32(timeout)
	s.UID = uint32(uid)
	s.Inode = inode
	s.Drops = drops
	return true, true
}
