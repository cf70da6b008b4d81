package netstat

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strconv"

	"github.com/procnet/procnet/internal/procfile"
)

// TrafficFile is the name of the traffic file, in a table directory of a
// fixture tree (proc/net/procnet-traffic, or proc/PID/net/procnet-traffic
// for a namespace's tables). The kernel has no such file: the proc text
// has no byte counters, so a capture writes this one next to the tables
// (AppendTrafficFile) for a replay to find them again.
//
// It is text, one TCP socket a line, eight fields separated by spaces:
//
//	# procnet-traffic: proto local remote inode bytes_sent bytes_received segs_out segs_in
//	tcp 127.0.0.1:43210 127.0.0.1:8080 51234 1000000 123456 40 31
//	tcp6 [::ffff:127.0.0.1]:8080 [::ffff:127.0.0.1]:43211 51240 0 0 1 1
//
// proto is the table (tcp or tcp6); local and remote are the addresses as
// netip.AddrPort prints them (an IPv4-mapped address of tcp6 stays
// mapped); inode is the socket's inode. These four say which row of the
// table a line belongs to. The last four are Traffic's counters, in
// decimal. Lines starting with # and blank lines are ignored.
const TrafficFile = "procnet-traffic"

// trafficHeader is the comment line AppendTrafficFile starts with.
const trafficHeader = "# " + TrafficFile + ": proto local remote inode bytes_sent bytes_received segs_out segs_in\n"

// ErrDuplicate is the cause given for a traffic file line naming a socket
// an earlier line already named (the earlier one is kept).
var ErrDuplicate = errors.New("socket listed twice")

// trafficKey is what identifies a row of a TCP table in the traffic file.
type trafficKey struct {
	proto         Proto
	local, remote netip.AddrPort
	inode         uint64
}

// trafficTable is a traffic file, read once per scan.
type trafficTable struct {
	rows  map[trafficKey]Traffic
	addrs map[string]netip.Addr // parsed addresses, so a repeated one costs no allocation
}

// maxAddrCache bounds trafficTable.addrs.
const maxAddrCache = 4096

// AppendTraffic appends s's line of the traffic file to dst: nothing
// unless s is a TCP socket whose Traffic is Known.
func AppendTraffic(dst []byte, s *Socket) []byte {
	if !s.Proto.IsTCP() || !s.Traffic.Known {
		return dst
	}
	dst = append(dst, s.Proto.String()...)
	dst = append(dst, ' ')
	dst = s.Local.AppendTo(dst)
	dst = append(dst, ' ')
	dst = s.Remote.AppendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, s.Inode, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, s.Traffic.BytesSent, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, s.Traffic.BytesReceived, 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(s.Traffic.SegsOut), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendUint(dst, uint64(s.Traffic.SegsIn), 10)
	return append(dst, '\n')
}

// AppendTrafficFile reads the TCP tables that pass f with their traffic
// counters (as with Reader.Traffic set) and appends the traffic file's
// text to dst: a comment line naming the columns, then one line per
// socket whose counters are known (AppendTraffic). A capture writes it as
// TrafficFile next to the tables it copied, from the same Reader settings
// (Root, PID) that read them. The rows are read again, so a connection
// that opened or closed between the copy and this read has no line or an
// unused one: a replay shows it with unknown traffic.
//
// The errors met are joined, as AppendSockets does; the rows around a bad
// one are written.
func (r *Reader) AppendTrafficFile(ctx context.Context, dst []byte, f Filter) ([]byte, error) {
	saved := r.Traffic
	r.Traffic = true
	defer func() { r.Traffic = saved }()
	if f.Protos == 0 {
		f.Protos = Protos(TCP, TCP6)
	} else {
		f.Protos &= Protos(TCP, TCP6)
		if f.Protos == 0 {
			return append(dst, trafficHeader...), nil
		}
	}
	dst = append(dst, trafficHeader...)
	var errs []error
	for s, err := range r.Sockets(ctx, f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dst = AppendTraffic(dst, &s)
	}
	return dst, errors.Join(errs...)
}

// scanTraffic is scanTable for a TCP table read from the text of a root
// other than the live system's when Traffic is asked for: it fills
// Socket.Traffic from the traffic file. The file is read at the first TCP
// table of a scan (tcp, or tcp6 when f leaves tcp out) and its errors are
// yielded then.
func (r *Reader) scanTraffic(p Proto, f *Filter, yield func(Socket, error) bool) bool {
	if p == TCP || !f.Protos.Has(TCP) {
		if r.traffic == nil {
			r.traffic = &trafficTable{}
		}
		if !r.loadTraffic(yield) {
			return false
		}
	}
	t := r.traffic
	if t == nil || len(t.rows) == 0 {
		return r.scanTable(p, f, yield)
	}
	return r.scanTable(p, f, func(s Socket, err error) bool {
		if err == nil && s.Inode != 0 {
			if tr, ok := t.rows[trafficKey{s.Proto, s.Local, s.Remote, s.Inode}]; ok {
				s.Traffic = tr
			}
		}
		return yield(s, err)
	})
}

// loadTraffic reads the traffic file of r's table directory into
// r.traffic, yielding its errors. A missing file is no error: the rows
// keep Traffic unknown.
func (r *Reader) loadTraffic(yield func(Socket, error) bool) bool {
	t := r.traffic
	clear(t.rows)
	name := r.dir() + "/" + TrafficFile
	file, err := r.open(name)
	if err != nil {
		return yield(Socket{}, err)
	}
	if file == nil {
		return true
	}
	defer file.Close()
	r.init()
	if t.rows == nil {
		t.rows = make(map[trafficKey]Traffic)
		t.addrs = make(map[string]netip.Addr)
	}
	r.lr.Reset(file, name, r.buf)
	for line, err := range r.lr.All() {
		if err == nil {
			var k trafficKey
			var tr Traffic
			ok, ferr := parseTraffic(&k, &tr, line, r.fields[:0], t.addrs)
			switch {
			case ferr != nil:
				err = &ParseError{File: name, Line: r.lr.Line(), Field: ferr.field, Err: ferr.err}
			case !ok:
			case t.rows[k].Known:
				err = &ParseError{File: name, Line: r.lr.Line(), Err: ErrDuplicate}
			default:
				t.rows[k] = tr
			}
		}
		if err != nil && !yield(Socket{}, err) {
			return false
		}
	}
	return true
}

// parseTraffic parses one line of the traffic file. ok false with no
// error is a blank or comment line. cache, when not nil, keeps the
// addresses parsed.
func parseTraffic(k *trafficKey, tr *Traffic, line []byte, fields [][]byte, cache map[string]netip.Addr) (bool, *fieldError) {
	fs := procfile.Fields(fields, line, 9)
	if len(fs) == 0 || fs[0][0] == '#' {
		return false, nil
	}
	if len(fs) < 8 {
		return false, &fieldError{"", ErrFieldCount}
	}
	if len(fs) > 8 {
		return false, &fieldError{"", errTooManyFields}
	}
	p, okp := ParseProto(string(fs[0]))
	if !okp || !p.IsTCP() {
		return false, &fieldError{"proto", ErrSyntax}
	}
	k.proto = p
	var err *fieldError
	addr := func(b []byte, field string) (netip.AddrPort, *fieldError) {
		a, ok := parseAddrPort(b, cache)
		if !ok || a.Addr().Zone() != "" || a.Addr().Is6() != p.IPv6() {
			return netip.AddrPort{}, &fieldError{field, ErrSyntax}
		}
		return a, nil
	}
	if k.local, err = addr(fs[1], "local address"); err != nil {
		return false, err
	}
	if k.remote, err = addr(fs[2], "remote address"); err != nil {
		return false, err
	}
	num := func(b []byte, bits int, field string) (uint64, *fieldError) {
		v, err := decimal(b, bits)
		if err != nil {
			return 0, &fieldError{field, err}
		}
		return v, nil
	}
	if k.inode, err = num(fs[3], 64, "inode"); err != nil {
		return false, err
	}
	if k.inode == 0 {
		return false, &fieldError{"inode", ErrRange} // TIME_WAIT and request sockets have no counters
	}
	var v [4]uint64
	for i, name := range [4]string{"bytes_sent", "bytes_received", "segs_out", "segs_in"} {
		bits := 64
		if i >= 2 {
			bits = 32
		}
		if v[i], err = num(fs[4+i], bits, name); err != nil {
			return false, err
		}
	}
	*tr = Traffic{BytesSent: v[0], BytesReceived: v[1], SegsOut: uint32(v[2]), SegsIn: uint32(v[3]), Known: true}
	return true, nil
}

var errTooManyFields = errors.New("too many fields")

// parseAddrPort is netip.ParseAddrPort for bytes, taking the address from
// cache when it holds it (and adding it when there is room).
func parseAddrPort(b []byte, cache map[string]netip.Addr) (netip.AddrPort, bool) {
	i := bytes.LastIndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, false
	}
	host, port := b[:i], b[i+1:]
	pn, err := decimal(port, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	bracketed := len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']'
	if bracketed {
		host = host[1 : len(host)-1]
	}
	a, ok := cache[string(host)]
	if !ok {
		var err error
		if a, err = netip.ParseAddr(string(host)); err != nil {
			return netip.AddrPort{}, false
		}
		if cache != nil && len(cache) < maxAddrCache {
			cache[string(host)] = a
		}
	}
	if a.Is4() == bracketed { // IPv6 needs its brackets, IPv4 has none
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(pn)), true
}

// decimal parses b as strconv.ParseUint(b, 10, bits) does, without making
// a string: ErrSyntax unless b is digits, ErrRange if it does not fit.
func decimal(b []byte, bits int) (uint64, error) {
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	v, ok := procfile.Dec(b)
	if !ok {
		if len(b) == 0 || bytes.ContainsFunc(b, func(r rune) bool { return r < '0' || r > '9' }) {
			return 0, ErrSyntax
		}
		return 0, ErrRange
	}
	if bits < 64 && v>>bits != 0 {
		return 0, ErrRange
	}
	return v, nil
}
