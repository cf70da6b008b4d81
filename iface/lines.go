package iface

import (
	"bytes"
	"errors"
	"io"
)

// bufSize is the fixed read buffer. A host with thousands of veth
// interfaces has a /proc/net/dev of megabytes; it is streamed through this
// buffer, never held whole. It also bounds one line.
const bufSize = 64 << 10

var errLineTooLong = errors.New("line longer than 64 KiB")

// lineReader yields the lines of r through one reused buffer (the same
// reader as netstat's). A line that does not fit is reported as
// errLineTooLong and skipped; reading goes on after it.
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

// appendFields appends the words of line (split at runs of spaces and
// tabs) to dst.
func appendFields(dst [][]byte, line []byte) [][]byte {
	i := 0
	for {
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
}
