package netstat

import (
	"encoding/binary"
	"net/netip"

	"github.com/procnet/procnet/internal/procfile"
)

// littleEndian is the host's byte order. The kernel prints each 32-bit word
// of an address from its in-memory bytes read as a host integer, so the
// decoding depends on it. Tests flip it to read big-endian fixtures.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// hex and dec are procfile's parsers; plain wrappers (not function
// variables) so that both inline on the per-row path.
func hex(b []byte) (uint64, bool) { return procfile.Hex(b) }
func dec(b []byte) (uint64, bool) { return procfile.Dec(b) }

// hexPair parses "XXXX:YYYY" (two hex numbers around a colon).
func hexPair(b []byte) (a, c uint64, ok bool) {
	for i, ch := range b {
		if ch == ':' {
			a, ok1 := hex(b[:i])
			c, ok2 := hex(b[i+1:])
			return a, c, ok1 && ok2
		}
	}
	return 0, 0, false
}

// splitAddr splits "ADDR:PORT" and parses the port.
func splitAddr(b []byte) (addr []byte, port uint16, ok bool) {
	n := len(b)
	if n < 6 || b[n-5] != ':' {
		return nil, 0, false
	}
	p, ok := hex(b[n-4:])
	return b[:n-5], uint16(p), ok
}

// word decodes one 8-digit address word into dst in memory order.
func word(dst []byte, b []byte) bool {
	v, ok := hex(b)
	if !ok || len(b) != 8 {
		return false
	}
	if littleEndian {
		binary.LittleEndian.PutUint32(dst, uint32(v))
	} else {
		binary.BigEndian.PutUint32(dst, uint32(v))
	}
	return true
}

// parseAddr decodes a table's address: 8 hex digits for IPv4, 32 for IPv6.
func parseAddr(b []byte) (netip.Addr, bool) {
	switch len(b) {
	case 8:
		var a [4]byte
		if !word(a[:], b) {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4(a), true
	case 32:
		var a [16]byte
		for i := 0; i < 4; i++ {
			if !word(a[4*i:], b[8*i:8*i+8]) {
				return netip.Addr{}, false
			}
		}
		return netip.AddrFrom16(a), true
	}
	return netip.Addr{}, false
}

// Column positions in tcp, udp, raw and their siblings:
//
//	sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer [drops | tcp extras]
const (
	colLocal = 1 + iota
	colRemote
	colState
	colQueues
	colTimer
	colRetr
	colUID
	colTimeout
	colInode
	minCols     // a row with fewer columns is ErrFieldCount
	colPointer  = colInode + 2
	colDropsUDP = 12
)

// columns returns how many leading columns of p's rows the scan splits:
// those the parser reads or checks, and for UDP and raw one more, to know
// whether drops is the row's last column.
func (p Proto) columns() int {
	if p.IsTCP() {
		return colPointer + 1
	}
	return colDropsUDP + 2
}

// rowEnd says what the scan knows of how a row ends, beyond its columns.
//
// What makes a row complete: every layout of every kernel prints the
// inode's ref and pointer columns after it — tcp sockets (then five
// extras), tcp TIME_WAIT and request rows (nothing after the pointer),
// udp and raw of older kernels (nothing after the pointer) and of newer
// ones (then drops). A row missing ref or pointer was cut, maybe inside its
// inode, and is an error rather than a wrong inode. A udp or raw table
// whose header names drops has it on every row. A drops column that ends a
// file's last line, without the newline the kernel always prints, may
// itself be cut.
type rowEnd struct {
	drops bool // the table's header names a drops column: every row has one
	cut   bool // the file ends inside this row's last column (no newline)
}

// parseRow fills s from one row, applying f: through parseFixed when the
// row is laid out as the kernel prints it, else column by column. A line of
// blanks is no row: (false, nil).
func (r *Reader) parseRow(s *Socket, p Proto, line []byte, f *Filter, end rowEnd) (bool, *fieldError) {
	if ok, handled := parseFixed(s, p, line, f, end); handled {
		return ok, nil
	}
	r.fields = splitRow(r.fields, line, p.columns(), p.IPv6())
	if len(r.fields) == 0 {
		return false, nil
	}
	return parseInet(s, p, r.fields, f, end)
}

// parseInet fills s from the fields of one row, applying f. It reports
// whether the row passed the filter; a row that fails it is left half
// decoded. Only the columns the filter needs are decoded before it decides;
// a row missing columns is an error whatever the filter.
func parseInet(s *Socket, p Proto, fs [][]byte, f *Filter, end rowEnd) (bool, *fieldError) {
	if len(fs) < minCols {
		return false, &fieldError{"", ErrFieldCount}
	}
	if len(fs) <= colPointer {
		return false, &fieldError{"inode", ErrTruncated}
	}
	hasDrops := !p.IsTCP() && len(fs) > colDropsUDP
	if !p.IsTCP() && (end.drops && !hasDrops || end.cut && len(fs) == colDropsUDP+1) {
		return false, &fieldError{"drops", ErrTruncated}
	}
	st, ok := hex(fs[colState])
	if !ok || st > 0xff {
		return false, &fieldError{"state", ErrSyntax}
	}
	if !f.States.Has(State(st)) {
		return false, nil
	}
	la, lport, ok := splitAddr(fs[colLocal])
	if !ok {
		return false, &fieldError{"local address", ErrSyntax}
	}
	ra, rport, ok := splitAddr(fs[colRemote])
	if !ok {
		return false, &fieldError{"remote address", ErrSyntax}
	}
	if !f.portsMatch(lport, rport) {
		return false, nil
	}
	inode, ok := dec(fs[colInode])
	if !ok {
		return false, &fieldError{"inode", ErrSyntax}
	}
	if f.Inodes != nil && !f.Inodes[inode] {
		return false, nil
	}
	laddr, ok := parseAddr(la)
	if !ok || laddr.Is6() != p.IPv6() {
		return false, &fieldError{"local address", ErrSyntax}
	}
	raddr, ok := parseAddr(ra)
	if !ok || raddr.Is6() != p.IPv6() {
		return false, &fieldError{"remote address", ErrSyntax}
	}
	tx, rx, ok := hexPair(fs[colQueues])
	if !ok || tx > 0xffffffff || rx > 0xffffffff {
		return false, &fieldError{"queues", ErrSyntax}
	}
	tr, when, ok := hexPair(fs[colTimer])
	if !ok || tr > 0xff {
		return false, &fieldError{"timer", ErrSyntax}
	}
	retr, ok := hex(fs[colRetr])
	if !ok || retr > 0xffffffff {
		return false, &fieldError{"retransmits", ErrSyntax}
	}
	uid, ok := dec(fs[colUID])
	if !ok || uid > 0xffffffff {
		return false, &fieldError{"uid", ErrSyntax}
	}
	timeout, ok := dec(fs[colTimeout])
	if !ok || timeout > 0xffffffff {
		return false, &fieldError{"timeout", ErrSyntax}
	}
	var drops uint64
	if hasDrops {
		if drops, ok = dec(fs[colDropsUDP]); !ok {
			return false, &fieldError{"drops", ErrSyntax}
		}
	}
	*s = Socket{
		Proto:       p,
		Local:       netip.AddrPortFrom(laddr, lport),
		Remote:      netip.AddrPortFrom(raddr, rport),
		State:       State(st),
		TxQueue:     uint32(tx),
		RxQueue:     uint32(rx),
		Timer:       Timer(tr),
		TimerTicks:  when,
		Retransmits: uint32(retr),
		Timeout:     uint32(timeout),
		UID:         uint32(uid),
		Inode:       inode,
		Drops:       drops,
	}
	return true, nil
}

func (f *Filter) portsMatch(local, remote uint16) bool {
	if len(f.Ports) > 0 && !has(f.Ports, local) && !has(f.Ports, remote) {
		return false
	}
	if len(f.LocalPorts) > 0 && !has(f.LocalPorts, local) {
		return false
	}
	if len(f.RemotePorts) > 0 && !has(f.RemotePorts, remote) {
		return false
	}
	return true
}

func has(ps []uint16, p uint16) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}
