package names

// parse.go: the parsers of etc/services, etc/passwd, etc/hosts and
// etc/networks.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/internal/procfile"
)

// ParseError reports a line that could not be read: the file (as the
// parser was given it), the 1-based line, the field at fault and why. It
// is the same type the netstat, route and iface packages report.
type ParseError = procfile.ParseError

// The reasons a ParseError gives.
var (
	ErrFieldCount = errors.New("too few fields")
	ErrSyntax     = procfile.ErrSyntax
	ErrRange      = procfile.ErrRange
)

// maxErrors bounds the errors one parse keeps: a file of a million bad
// lines costs no more than one of a few.
const maxErrors = 16

// errs gathers the errors of one parse.
type errs struct {
	file string
	list []error
	more int
}

func (e *errs) add(err error) {
	if len(e.list) < maxErrors {
		e.list = append(e.list, err)
		return
	}
	e.more++
}

func (e *errs) at(line int, field string, err error) {
	e.add(&ParseError{File: e.file, Line: line, Field: field, Err: err})
}

func (e *errs) err() error {
	if e.more > 0 {
		e.list = append(e.list, fmt.Errorf("%s: %d more lines could not be read", e.file, e.more))
	}
	return errors.Join(e.list...)
}

// eachLine calls fn with the number and the fields of each line of r that
// is not blank, less comments ('#' to the end of the line) when cut is
// set, or (for etc/passwd) lines whose first field starts with '#'. A line
// longer than 64 KiB is reported and skipped; the lines after it are
// read.
func eachLine(r io.Reader, e *errs, cut bool, fn func(line int, text []byte)) {
	var lr procfile.Lines
	lr.Reset(r, e.file, make([]byte, procfile.BufSize))
	for line, err := range lr.All() {
		if err != nil {
			e.add(err)
			continue
		}
		if cut {
			if i := bytes.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
		}
		line = bytes.Trim(line, " \t\r\v\f")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		fn(lr.Line(), line)
	}
}

// fields splits line at runs of blanks as C's isspace knows them (space,
// tab, CR, VT, FF): not at Unicode spaces, which stay in the name (and
// are escaped where the rule says so).
func fields(line []byte) [][]byte {
	return bytes.FieldsFunc(line, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\r' || r == '\v' || r == '\f'
	})
}

// name is a name as this package returns it: escaped.
func name(b []byte) string { return escape.String(string(b)) }

// Service is the key of etc/services: a port and its protocol ("tcp",
// "udp", …).
type Service struct {
	Port  uint16
	Proto string
}

// ParseServices reads etc/services ("name port/proto [aliases…]") from r;
// file names it in errors. The first name for a port and protocol wins,
// as with getservbyport.
func ParseServices(r io.Reader, file string) (map[Service]string, error) {
	m := map[Service]string{}
	e := &errs{file: file}
	eachLine(r, e, true, func(n int, line []byte) {
		fs := fields(line)
		if len(fs) < 2 {
			e.at(n, "", ErrFieldCount)
			return
		}
		port, proto, ok := bytes.Cut(fs[1], []byte("/"))
		if !ok || len(proto) == 0 {
			e.at(n, "port", ErrSyntax)
			return
		}
		p, err := strconv.ParseUint(string(port), 10, 16)
		if err != nil {
			e.at(n, "port", numErr(err))
			return
		}
		k := Service{Port: uint16(p), Proto: escape.String(string(proto))}
		if _, dup := m[k]; !dup {
			m[k] = name(fs[0])
		}
	})
	return m, e.err()
}

// ParsePasswd reads etc/passwd ("name:password:uid:…") from r; file names
// it in errors. The first name for a UID wins. NIS compatibility lines
// ("+…", "-…") are skipped.
func ParsePasswd(r io.Reader, file string) (map[uint32]string, error) {
	m := map[uint32]string{}
	e := &errs{file: file}
	eachLine(r, e, false, func(n int, line []byte) {
		if line[0] == '+' || line[0] == '-' {
			return
		}
		parts := bytes.SplitN(line, []byte(":"), 4)
		if len(parts) < 3 {
			e.at(n, "", ErrFieldCount)
			return
		}
		if len(parts[0]) == 0 {
			e.at(n, "name", ErrSyntax)
			return
		}
		id, err := strconv.ParseUint(string(parts[2]), 10, 32)
		if err != nil {
			e.at(n, "uid", numErr(err))
			return
		}
		if _, dup := m[uint32(id)]; !dup {
			m[uint32(id)] = name(parts[0])
		}
	})
	return m, e.err()
}

// ParseHosts reads etc/hosts ("address name [aliases…]") from r; file
// names it in errors. The first name for an address wins.
func ParseHosts(r io.Reader, file string) (map[netip.Addr]string, error) {
	m := map[netip.Addr]string{}
	e := &errs{file: file}
	eachLine(r, e, true, func(n int, line []byte) {
		fs := fields(line)
		if len(fs) < 2 {
			e.at(n, "", ErrFieldCount)
			return
		}
		a, err := netip.ParseAddr(string(fs[0]))
		if err != nil {
			e.at(n, "address", ErrSyntax)
			return
		}
		if _, dup := m[a]; !dup {
			m[a] = name(fs[1])
		}
	})
	return m, e.err()
}

// ParseNetworks reads etc/networks ("name number [aliases…]") from r;
// file names it in errors. The number has one to four dotted decimal
// parts; a short one ("127") is padded with zero bytes on the right, as
// glibc's getnetbyaddr compares it. The first name for a number wins.
func ParseNetworks(r io.Reader, file string) (map[netip.Addr]string, error) {
	m := map[netip.Addr]string{}
	e := &errs{file: file}
	eachLine(r, e, true, func(n int, line []byte) {
		fs := fields(line)
		if len(fs) < 2 {
			e.at(n, "", ErrFieldCount)
			return
		}
		a, err := parseNetwork(fs[1])
		if err != nil {
			e.at(n, "number", err)
			return
		}
		if _, dup := m[a]; !dup {
			m[a] = name(fs[0])
		}
	})
	return m, e.err()
}

// parseNetwork reads a dotted network number of one to four decimal parts.
func parseNetwork(s []byte) (netip.Addr, error) {
	parts := bytes.Split(s, []byte("."))
	if len(parts) > 4 {
		return netip.Addr{}, ErrSyntax
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.ParseUint(string(p), 10, 8)
		if err != nil {
			return netip.Addr{}, numErr(err)
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), nil
}

// numErr is ErrRange for a number too large, else ErrSyntax.
func numErr(err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return ErrRange
	}
	return ErrSyntax
}
