package netstat

import (
	"bytes"

	"github.com/procnet/procnet/internal/procfile"
)

var (
	space = []byte{' '}
	drops = []byte(" drops")
)

// namesDrops reports whether a udp or raw table's header line names the
// drops column (kernels since about 2.6.27; older ones end at pointer).
func namesDrops(header []byte) bool { return bytes.Contains(header, drops) }

// splitRow splits an Internet-table row into its first n columns. The
// kernel prints the columns up to retrnsmt at fixed widths:
//
//	%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X
//
// (32 hex digits per address in the IPv6 tables). When every separator is
// where that format puts it, those seven columns are sliced at their
// offsets and only the rest is tokenized; any other layout goes through
// fields.
func splitRow(dst [][]byte, line []byte, n int, v6 bool) [][]byte {
	alen := 8
	if v6 {
		alen = 32
	}
	sl := 0
	for sl < len(line) && line[sl] == ' ' {
		sl++
	}
	c := sl
	for c < len(line) && line[c] != ':' && line[c] != ' ' && line[c] != '\t' {
		c++
	}
	// c is at the colon after sl; the fixed part follows it.
	l := c + 1 + 2*(alen+6) + 3 + 18 + 12 + 9
	if c >= len(line) || line[c] != ':' || len(line) < l || n < 8 {
		return procfile.Fields(dst, line, n)
	}
	b := line[c+1 : l]
	a := alen + 6 // " ADDR:PORT"
	if b[0] != ' ' || b[alen+1] != ':' || b[a] != ' ' || b[a+alen+1] != ':' || b[2*a] != ' ' ||
		b[2*a+3] != ' ' || b[2*a+12] != ':' || b[2*a+21] != ' ' || b[2*a+24] != ':' || b[2*a+33] != ' ' ||
		(len(line) > l && line[l] != ' ') || bytes.Count(b, space) != 6 || bytes.IndexByte(b, '\t') >= 0 {
		return procfile.Fields(dst, line, n)
	}
	dst = append(dst[:0], line[sl:c+1],
		b[1:a], b[a+1:2*a], b[2*a+1:2*a+3], b[2*a+4:2*a+21], b[2*a+22:2*a+33], b[2*a+34:])
	return append(dst, procfile.Fields(dst[len(dst):], line[l:], n-len(dst))...)
}
