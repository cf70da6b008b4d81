package netstat

import (
	"bytes"
	"errors"
	"io"
)

// bufSize is the fixed read buffer. Tables are streamed through it: a 20 MB
// /proc/net/tcp never lives in memory at once. It also bounds one line.
const bufSize = 64 << 10

var space = []byte{' '}

var errLineTooLong = errors.New("line longer than 64 KiB")

// lineReader yields the lines of r through one reused buffer. A line that
// does not fit is reported as errLineTooLong (once, with its number) and
// skipped; reading goes on after it.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int
	line       int
	eof        bool
	skipping   bool
}

func (lr *lineReader) reset(r io.Reader, buf []byte) {
	*lr = lineReader{r: r, buf: buf}
}

// next returns the next line without its newline. The slice is valid until
// the following call. At the end it returns io.EOF; a read error ends it too.
func (lr *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.start:lr.end], '\n'); i >= 0 {
			line := lr.buf[lr.start : lr.start+i]
			lr.start += i + 1
			lr.line++
			if lr.skipping {
				lr.skipping = false
				return nil, errLineTooLong
			}
			return line, nil
		}
		if lr.eof {
			if lr.start < lr.end || lr.skipping {
				// A last line without its newline: a truncated file.
				line := lr.buf[lr.start:lr.end]
				lr.start = lr.end
				lr.line++
				if lr.skipping {
					lr.skipping = false
					return nil, errLineTooLong
				}
				return line, nil
			}
			return nil, io.EOF
		}
		if lr.start > 0 {
			lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
			lr.start = 0
		}
		if lr.end == len(lr.buf) {
			lr.skipping = true
			lr.end = 0
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err == io.EOF {
			lr.eof = true
		} else if err != nil {
			return nil, err
		}
	}
}

// fields splits line at runs of spaces into dst (reused) and returns it,
// stopping after n fields: the padding and columns past them are not read.
func fields(dst [][]byte, line []byte, n int) [][]byte {
	dst = dst[:0]
	i := 0
	for len(dst) < n {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			return dst
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		dst = append(dst, line[i:j])
		i = j
	}
	return dst
}

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
		return fields(dst, line, n)
	}
	b := line[c+1 : l]
	a := alen + 6 // " ADDR:PORT"
	if b[0] != ' ' || b[alen+1] != ':' || b[a] != ' ' || b[a+alen+1] != ':' || b[2*a] != ' ' ||
		b[2*a+3] != ' ' || b[2*a+12] != ':' || b[2*a+21] != ' ' || b[2*a+24] != ':' || b[2*a+33] != ' ' ||
		(len(line) > l && line[l] != ' ') || bytes.Count(b, space) != 6 || bytes.IndexByte(b, '\t') >= 0 {
		return fields(dst, line, n)
	}
	dst = append(dst[:0], line[sl:c+1],
		b[1:a], b[a+1:2*a], b[2*a+1:2*a+3], b[2*a+4:2*a+21], b[2*a+22:2*a+33], b[2*a+34:])
	for _, f := range fields(dst[len(dst):], line[l:], n-len(dst)) {
		dst = append(dst, f)
	}
	return dst
}
