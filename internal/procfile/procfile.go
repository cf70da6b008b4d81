// Package procfile holds what every /proc parser of this module shares:
// a line reader over one reused buffer, a tokenizer, number parsing that
// does not allocate, and the error that names a file and line.
//
// A Lines is not safe for concurrent use; the functions (Open, Fields, Hex,
// Dec) are, and a ParseError is a plain value.
package procfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"strconv"
)

// BufSize is the size of the buffer a Lines reads through. Files are
// streamed through it — a 20 MB /proc/net/tcp or a million-row routing
// table never lives in memory at once — and it bounds the length of a line.
const BufSize = 64 << 10

// ErrLineTooLong reports a line that does not fit the buffer.
var ErrLineTooLong = errors.New("line longer than 64 KiB")

// The reasons for a ParseError that every parser gives, one value each,
// so that errors.Is(err, route.ErrSyntax) holds for an error of netstat
// too, as the ParseError type is already the same.
var (
	ErrSyntax = errors.New("invalid syntax")
	ErrRange  = errors.New("value out of range")
	// ErrFieldCount: a row without the columns its layout has.
	ErrFieldCount = errors.New("wrong number of fields")
)

// Lines yields the lines of a reader through one reused buffer. A line
// that does not fit is reported as a *ParseError wrapping ErrLineTooLong
// (once, with its number) and skipped; reading goes on after it. A read
// error is reported once as an *fs.PathError and ends the file. A last line
// without its newline (a truncated file) is returned as a line. Errors name
// the file as Reset was given it, so callers pass them on as they are.
type Lines struct {
	r          io.Reader
	name       string
	buf        []byte
	start, end int
	line       int
	eof        bool
	skipping   bool
	partial    bool
	ctx        context.Context // nil: never cancelled
}

// Reset starts reading r, the file name (relative to the root), through
// buf (BufSize bytes is the usual size).
func (lr *Lines) Reset(r io.Reader, name string, buf []byte) {
	*lr = Lines{r: r, name: name, buf: buf}
}

// ResetContext is Reset with a context: once ctx is done, Next returns
// ctx.Err() (checked before each read into the buffer, so within 64 KiB
// of lines), and io.EOF after that.
func (lr *Lines) ResetContext(ctx context.Context, r io.Reader, name string, buf []byte) {
	*lr = Lines{ctx: ctx, r: r, name: name, buf: buf}
}

// All returns an iterator over what Next returns until io.EOF: each line
// with a nil error, or a nil line with the error (a line too long, a read
// error, the context's error). It is the read loop of every parser:
//
//	for line, err := range lr.All() {
//		if err != nil {
//			// report it; after a read error or ctx's error the
//			// iterator ends by itself
//			continue
//		}
//		// parse line; lr.Line() is its number
//	}
func (lr *Lines) All() iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for {
			line, err := lr.Next()
			if err == io.EOF || !yield(line, err) {
				return
			}
		}
	}
}

func (lr *Lines) tooLong() error {
	return &ParseError{File: lr.name, Line: lr.line, Err: ErrLineTooLong}
}

// Line is the 1-based number of the line Next returned last.
func (lr *Lines) Line() int { return lr.line }

// Partial reports whether the line Next returned last is the end of the
// file without its newline. The kernel ends every line it prints, so such a
// line was cut short (a truncated file or copy), maybe inside its last
// column.
func (lr *Lines) Partial() bool { return lr.partial }

// Next returns the next line without its newline. The slice is valid until
// the following call. At the end it returns io.EOF, also after a read error
// has been returned.
func (lr *Lines) Next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.start:lr.end], '\n'); i >= 0 {
			line := lr.buf[lr.start : lr.start+i]
			lr.start += i + 1
			lr.line++
			if lr.skipping {
				lr.skipping = false
				return nil, lr.tooLong()
			}
			return line, nil
		}
		if lr.eof {
			if lr.start < lr.end || lr.skipping {
				// A last line without its newline: a truncated file.
				line := lr.buf[lr.start:lr.end]
				lr.start = lr.end
				lr.line++
				lr.partial = true
				if lr.skipping {
					lr.skipping = false
					return nil, lr.tooLong()
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
		if lr.ctx != nil {
			// Once per read of the buffer, not per line: the hot path
			// stays as it was, and a cancel is seen within 64 KiB.
			if err := lr.ctx.Err(); err != nil {
				lr.eof, lr.skipping, lr.start, lr.end = true, false, 0, 0
				return nil, err
			}
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err == io.EOF {
			lr.eof = true
		} else if err != nil {
			// The rest of the file cannot be trusted: end it here.
			lr.eof, lr.skipping, lr.start, lr.end = true, false, 0, 0
			return nil, PathError("read", lr.name, err)
		}
	}
}

// Fields splits line at runs of spaces and tabs into dst (reused) and
// returns it, stopping after n fields: the columns past them are not read.
func Fields(dst [][]byte, line []byte, n int) [][]byte {
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

// Unhex maps an ASCII byte to its hex value, or 0xff.
var Unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c - 'a' + 10)
		t[c-'a'+'A'] = byte(c - 'a' + 10)
	}
	return t
}()

// Hex parses b as an unsigned hex number of at most 16 digits.
func Hex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		d := Unhex[c]
		if d == 0xff {
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

// Dec parses b as an unsigned decimal number that fits 64 bits.
func Dec(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		n := v*10 + uint64(c)
		if n/10 != v {
			return 0, false
		}
		v = n
	}
	return v, true
}

// ParseError reports a row that could not be read. The rows before and
// after it are still delivered.
type ParseError struct {
	File  string // path relative to the root, such as "proc/net/tcp6"
	Line  int    // 1-based line number within File
	Field string // the column at fault, such as "local address"; may be empty
	Err   error
}

func (e *ParseError) Error() string {
	s := e.File + ":" + strconv.Itoa(e.Line) + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }
