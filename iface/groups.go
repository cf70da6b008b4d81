package iface

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"strconv"

	"github.com/procnet/procnet/internal/procfile"
)

// Group is one multicast group an interface has joined: a row of
// /proc/net/igmp (IPv4) or /proc/net/igmp6 (IPv6), what `netstat -g`
// lists.
type Group struct {
	// Index and Interface name the interface.
	Index     int
	Interface string
	// Addr is the group address.
	Addr netip.Addr
	// Users counts the sockets (and the kernel itself) that joined the
	// group on the interface: net-tools' RefCnt.
	Users uint32
}

// Groups returns the multicast group memberships under root. See
// Reader.Groups.
func Groups(root string) ([]Group, error) {
	r := Reader{Root: root}
	return r.AppendGroups(nil)
}

// Groups returns the IPv4 memberships (proc/net/igmp) and then the IPv6
// ones (proc/net/igmp6), each in file order: interface by interface, as
// the kernel lists them.
//
// Both results may be non-empty: a row that cannot be parsed is reported
// as a *ParseError naming file and line and the other rows are kept; all
// errors are joined into one. A missing proc/net/igmp6 (IPv6 disabled) is
// no error; a missing proc/net/igmp is an *fs.PathError wrapping
// fs.ErrNotExist (a kernel without IPv4 multicast: net-tools says "no
// support"), and the IPv6 rows are still returned.
func (r *Reader) Groups() ([]Group, error) { return r.AppendGroups(nil) }

// AppendGroups is Groups appending to dst.
func (r *Reader) AppendGroups(dst []Group) ([]Group, error) {
	dir := "proc/net/"
	if r.PID > 0 {
		dir = "proc/" + strconv.Itoa(r.PID) + "/net/"
	}
	var errs []error
	var p *groupParser // -g is no polling path: its buffers live for one call
	for _, t := range [...]struct {
		name     string
		parse    func(*groupParser, []Group, string, io.Reader) ([]Group, []error)
		optional bool
	}{
		{"igmp", (*groupParser).parseIGMP, false},
		{"igmp6", (*groupParser).parseIGMP6, true},
	} {
		name := dir + t.name
		root := r.Root
		if root == "" {
			root = "/"
		}
		f, err := procfile.Open(root, name)
		if err != nil {
			if !t.optional || !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err) // procfile.Open names the file relative to the root
			}
			continue
		}
		if p == nil {
			p = &groupParser{buf: make([]byte, procfile.BufSize), names: map[string]string{}}
		}
		var e []error
		dst, e = t.parse(p, dst, name, f)
		f.Close()
		errs = append(errs, e...)
	}
	return dst, errors.Join(errs...)
}

// groupParser reads the igmp tables through one buffer.
type groupParser struct {
	buf    []byte
	fields [][]byte
	lr     procfile.Lines
	names  map[string]string
}

// intern returns b as a string, one copy per distinct name.
func (r *groupParser) intern(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	s := string(b)
	r.names[s] = s
	return s
}

// errNoDevice reports an igmp group row before any device row.
var errNoDevice = errors.New("group row before any device row")

// parseIGMP reads proc/net/igmp (net/ipv4/igmp.c, igmp_mc_seq_show):
//
//	Idx	Device    : Count Querier	Group    Users Timer	Reporter
//	1	lo        :     1      V3
//					010000E0     1 0:00000000		0
//
// A device row ("%d\t%-10s: %5d %7s") is followed by its groups, each
// indented by tabs ("%08X %5d %d:%08lX\t\t%d"); the group address is
// printed like the socket tables' words: its network-order bytes read as
// a host integer.
func (r *groupParser) parseIGMP(dst []Group, name string, f io.Reader) ([]Group, []error) {
	r.lr.Reset(f, name, r.buf)
	var errs []error
	var dev Group
	haveDev := false
	fail := func(field string, err error) {
		errs = append(errs, &ParseError{File: name, Line: r.lr.Line(), Field: field, Err: err})
	}
	for line, err := range r.lr.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r.lr.Line() == 1 || len(bytes.TrimSpace(line)) == 0 {
			continue // the header, a blank line
		}
		if line[0] != '\t' && line[0] != ' ' {
			// A device row: index, tab, name padded, colon.
			haveDev = false
			tab := bytes.IndexByte(line, '\t')
			colon := bytes.IndexByte(line, ':')
			if tab <= 0 || colon < tab {
				fail("device", ErrSyntax)
				continue
			}
			idx, ok := procfile.Dec(line[:tab])
			if !ok || idx > 1<<31-1 {
				fail("index", ErrSyntax)
				continue
			}
			ifname := bytes.TrimRight(line[tab+1:colon], " \t")
			if len(ifname) == 0 {
				fail("device", ErrSyntax)
				continue
			}
			dev = Group{Index: int(idx), Interface: r.intern(ifname)}
			haveDev = true
			continue
		}
		r.fields = procfile.Fields(r.fields, line, 2)
		if len(r.fields) < 2 {
			fail("", ErrFieldCount)
			continue
		}
		if !haveDev {
			fail("", errNoDevice)
			continue
		}
		v, ok := procfile.Hex(r.fields[0])
		if !ok || len(r.fields[0]) != 8 {
			fail("group", ErrSyntax)
			continue
		}
		users, ok := procfile.Dec(r.fields[1])
		if !ok || users > 1<<32-1 {
			fail("users", ErrSyntax)
			continue
		}
		var a [4]byte
		binary.NativeEndian.PutUint32(a[:], uint32(v))
		g := dev
		g.Addr, g.Users = netip.AddrFrom4(a), uint32(users)
		dst = append(dst, g)
	}
	return dst, errs
}

// parseIGMP6 reads proc/net/igmp6 (net/ipv6/mcast.c, igmp6_mc_seq_show),
// which has no header:
//
//	1    lo              ff020000000000000000000000000001     1 0000000C 0
//
// ("%-4d %-15s %pi6 %5d %08X %ld": index, name, the address as 32 hex
// digits in network order, users, flags, timer).
func (r *groupParser) parseIGMP6(dst []Group, name string, f io.Reader) ([]Group, []error) {
	r.lr.Reset(f, name, r.buf)
	var errs []error
	fail := func(field string, err error) {
		errs = append(errs, &ParseError{File: name, Line: r.lr.Line(), Field: field, Err: err})
	}
	for line, err := range r.lr.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.fields = procfile.Fields(r.fields, line, 4)
		if len(r.fields) == 0 {
			continue // a blank line
		}
		if len(r.fields) < 4 {
			fail("", ErrFieldCount)
			continue
		}
		idx, ok := procfile.Dec(r.fields[0])
		if !ok || idx > 1<<31-1 {
			fail("index", ErrSyntax)
			continue
		}
		var a [16]byte
		if h := r.fields[2]; len(h) != 32 || !unhex(a[:], h) {
			fail("group", ErrSyntax)
			continue
		}
		users, ok := procfile.Dec(r.fields[3])
		if !ok || users > 1<<32-1 {
			fail("users", ErrSyntax)
			continue
		}
		dst = append(dst, Group{Index: int(idx), Interface: r.intern(r.fields[1]), Addr: netip.AddrFrom16(a), Users: uint32(users)})
	}
	return dst, errs
}

// unhex decodes hex digits h into dst (len(h) == 2*len(dst)).
func unhex(dst, h []byte) bool {
	for i := range dst {
		hi, lo := procfile.Unhex[h[2*i]], procfile.Unhex[h[2*i+1]]
		if hi == 0xff || lo == 0xff {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}
