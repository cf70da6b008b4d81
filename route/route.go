package route

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/procnet/procnet/internal/procfile"
)

// Entry is one row of a kernel routing table.
type Entry struct {
	// Dest is the destination network: address and prefix length (for
	// IPv4 the prefix length comes from the Genmask column). The address
	// is kept as the kernel printed it, not masked.
	Dest netip.Prefix
	// Gateway is the gateway (IPv4) or next hop (IPv6): the unspecified
	// address (0.0.0.0 or ::) for a directly connected route.
	Gateway netip.Addr
	// Flags are the RTF_* bits. Use Flags.String for an IPv4 row and
	// Flags.String6 for an IPv6 row, or Entry.FlagString for either.
	Flags Flags
	// Metric is the route's priority. The kernel prints IPv4 metrics with
	// %d, so a metric of 2^31 or more appears negative in the file; it is
	// stored here as the unsigned value (netstat prints int32(Metric)).
	// The IPv6 reject route to ::/0 on lo has metric 0xffffffff, which
	// netstat prints as -1.
	Metric uint32
	// RefCnt is the reference count (always 0 for IPv4 since Linux 2.6).
	RefCnt uint32
	// Use is the use count (always 0 in current kernels).
	Use uint32
	// MTU is the kernel's MTU column, which is the advertised MSS plus 40
	// and is shown by `netstat -rn` in its "MSS" column (IPv4 only).
	MTU uint32
	// Window is the TCP window clamp (IPv4 only).
	Window uint32
	// IRTT is the initial round trip time in milliseconds (IPv4 only).
	IRTT uint32
	// Iface is the output device. It is "" when the route has no device:
	// the kernel prints "*" in /proc/net/route (netstat shows "*") and
	// nothing in ipv6_route.
	Iface string
	// Source is the IPv6 source prefix of a source-specific route
	// (`ip -6 route add … from PREFIX`); ::/0 for every other IPv6 route
	// and the zero Prefix for IPv4 routes.
	Source netip.Prefix
}

// FlagString returns the flags as netstat prints them for this route's
// family: Flags.String for IPv4, Flags.String6 for IPv6.
func (e Entry) FlagString() string {
	if e.Dest.Addr().Is6() {
		return e.Flags.String6()
	}
	return e.Flags.String()
}

// Reader reads the routing tables under one root directory. Its zero value
// reads the live system's tables. A Reader keeps its buffers between
// calls, so a program that polls should keep one.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	// Root is the directory holding proc/ ("" or "/" for the live system).
	Root string
	// PID, when positive, reads proc/PID/net/…: the tables of that
	// process's network namespace. Zero reads proc/net/….
	PID int

	buf    []byte
	fields [][]byte
	lr     procfile.Lines
	names  map[string]string // interned interface names
	row    Entry             // the row being parsed (a local would escape)
}

// IPv4 returns the rows of proc/net/route under root. See Reader.IPv4.
func IPv4(root string) ([]Entry, error) {
	r := Reader{Root: root}
	return r.AppendIPv4(nil)
}

// IPv6 returns the rows of proc/net/ipv6_route under root. See Reader.IPv6.
func IPv6(root string) ([]Entry, error) {
	r := Reader{Root: root}
	return r.AppendIPv6(nil)
}

// IPv4 returns the rows of proc/net/route, in file order (the kernel's
// main table; local and broadcast routes are not in it).
//
// Both results may be non-empty: a row that cannot be parsed is reported
// as a *ParseError naming file and line, and the rows around it are kept;
// all errors are joined into one. A table the kernel does not have is not
// an error: it returns (nil, nil). A table that cannot be opened or read
// gives an *fs.PathError naming it relative to the root.
func (r *Reader) IPv4() ([]Entry, error) { return r.AppendIPv4(nil) }

// IPv6 returns the rows of proc/net/ipv6_route in file order, which
// include the local (Un) and reject (!n) routes that netstat also prints.
// Errors are as for IPv4; a kernel without IPv6 has no table and gives
// (nil, nil).
func (r *Reader) IPv6() ([]Entry, error) { return r.AppendIPv6(nil) }

// AppendIPv4 is IPv4 appending to dst: with a reused dst and Reader,
// reading makes no allocation per row.
func (r *Reader) AppendIPv4(dst []Entry) ([]Entry, error) {
	return r.scan(dst, "route", parse4)
}

// AppendIPv6 is IPv6 appending to dst.
func (r *Reader) AppendIPv6(dst []Entry) ([]Entry, error) {
	return r.scan(dst, "ipv6_route", parse6)
}

func (r *Reader) path(name string) string {
	if r.PID > 0 {
		return "proc/" + strconv.Itoa(r.PID) + "/net/" + name
	}
	return "proc/net/" + name
}

// rowError is a parse failure before the file and line are known.
type rowError struct {
	field string
	err   error
}

type parseFunc func(r *Reader, e *Entry, fs [][]byte) *rowError

func (r *Reader) scan(dst []Entry, file string, parse parseFunc) ([]Entry, error) {
	name := r.path(file)
	root := r.Root
	if root == "" {
		root = "/"
	}
	f, err := procfile.Open(root, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return dst, nil
		}
		return dst, err // procfile.Open names the file relative to the root
	}
	defer f.Close()
	return r.parse(dst, name, f, parse)
}

// parse reads the rows of the table name from f.
func (r *Reader) parse(dst []Entry, name string, f io.Reader, parse parseFunc) ([]Entry, error) {
	if r.buf == nil {
		r.buf = make([]byte, procfile.BufSize)
		r.fields = make([][]byte, 0, 16)
		r.names = make(map[string]string)
	}
	r.lr.Reset(f, name, r.buf)
	var errs []error
	header := strings.HasSuffix(name, "/route") // ipv6_route has no header line
	for line, err := range r.lr.All() {
		if err != nil { // a line too long, or a read error that ends the file
			errs = append(errs, err)
			continue
		}
		if header && r.lr.Line() == 1 {
			continue
		}
		r.fields = procfile.Fields(r.fields, line, 64)
		if len(r.fields) == 0 {
			continue // a blank line
		}
		if perr := parse(r, &r.row, r.fields); perr != nil {
			errs = append(errs, &ParseError{File: name, Line: r.lr.Line(), Field: perr.field, Err: perr.err})
			continue
		}
		dst = append(dst, r.row)
	}
	return dst, errors.Join(errs...)
}

// intern returns b as a string, sharing one copy per distinct name.
func (r *Reader) intern(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	if len(r.names) > 1<<16 {
		clear(r.names) // a bound, in case of garbage input
	}
	s := string(b)
	r.names[s] = s
	return s
}

// littleEndian is the host's byte order. The kernel prints an IPv4 route
// address as the in-memory (network order) 32-bit word read as a host
// integer, so decoding depends on it. Tests flip it to read big-endian
// fixtures.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// /proc/net/route columns (net/ipv4/fib_trie.c, fib_route_seq_show):
//
//	Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
const cols4 = 11

func parse4(r *Reader, e *Entry, fs [][]byte) *rowError {
	if len(fs) != cols4 {
		return &rowError{"", ErrFieldCount}
	}
	dst, ok := addr4(fs[1])
	if !ok {
		return &rowError{"destination", ErrSyntax}
	}
	gw, ok := addr4(fs[2])
	if !ok {
		return &rowError{"gateway", ErrSyntax}
	}
	fl, ok := hex(fs[3])
	if !ok || fl > 0xffffffff {
		return &rowError{"flags", ErrSyntax}
	}
	mask, ok := addr4(fs[7])
	if !ok {
		return &rowError{"mask", ErrSyntax}
	}
	m := binary.BigEndian.Uint32(mask.AsSlice())
	ones := bits.LeadingZeros32(^m)
	if m<<ones != 0 {
		return &rowError{"mask", ErrMask}
	}
	var nums [6]uint32
	for i, c := range [...]int{4, 5, 6, 8, 9, 10} {
		v, err := int32Field(fs[c])
		if err != nil {
			return &rowError{names4[c], err}
		}
		nums[i] = v
	}
	iface := ""
	if string(fs[0]) != "*" {
		iface = r.intern(fs[0])
	}
	*e = Entry{
		Dest:    netip.PrefixFrom(dst, ones),
		Gateway: gw,
		Flags:   Flags(fl),
		RefCnt:  nums[0],
		Use:     nums[1],
		Metric:  nums[2],
		MTU:     nums[3],
		Window:  nums[4],
		IRTT:    nums[5],
		Iface:   iface,
	}
	return nil
}

var names4 = [cols4]string{"iface", "destination", "gateway", "flags", "refcnt", "use", "metric", "mask", "mtu", "window", "irtt"}

// addr4 decodes an 8-digit host-order hex word.
func addr4(b []byte) (netip.Addr, bool) {
	v, ok := hex(b)
	if !ok || len(b) != 8 {
		return netip.Addr{}, false
	}
	var a [4]byte
	if littleEndian {
		binary.LittleEndian.PutUint32(a[:], uint32(v))
	} else {
		binary.BigEndian.PutUint32(a[:], uint32(v))
	}
	return netip.AddrFrom4(a), true
}

// int32Field parses a decimal the kernel printed with %d or %u into 32
// bits: a negative value becomes its two's complement.
func int32Field(b []byte) (uint32, error) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := dec(b)
	if !ok {
		return 0, ErrSyntax
	}
	if neg {
		if v > 1<<31 {
			return 0, ErrRange
		}
		return uint32(-int64(v)), nil
	}
	if v > 0xffffffff {
		return 0, ErrRange
	}
	return uint32(v), nil
}

// /proc/net/ipv6_route columns (net/ipv6/route.c, ipv6_route_native_seq_show):
//
//	dest dest_len src src_len next_hop metric refcnt use flags [device]
//
// The device is printed with %8s: a route without one leaves only spaces.
const cols6 = 10

func parse6(r *Reader, e *Entry, fs [][]byte) *rowError {
	if len(fs) != cols6 && len(fs) != cols6-1 {
		return &rowError{"", ErrFieldCount}
	}
	dst, ok := addr6(fs[0])
	if !ok {
		return &rowError{"destination", ErrSyntax}
	}
	dlen, ok := hex(fs[1])
	if !ok || len(fs[1]) > 2 {
		return &rowError{"destination prefix length", ErrSyntax}
	}
	if dlen > 128 {
		return &rowError{"destination prefix length", ErrRange}
	}
	src, ok := addr6(fs[2])
	if !ok {
		return &rowError{"source", ErrSyntax}
	}
	slen, ok := hex(fs[3])
	if !ok || len(fs[3]) > 2 {
		return &rowError{"source prefix length", ErrSyntax}
	}
	if slen > 128 {
		return &rowError{"source prefix length", ErrRange}
	}
	nh, ok := addr6(fs[4])
	if !ok {
		return &rowError{"next hop", ErrSyntax}
	}
	var nums [4]uint32
	for i := range nums {
		v, ok := hex(fs[5+i])
		if !ok || len(fs[5+i]) > 8 {
			return &rowError{names6[i], ErrSyntax}
		}
		nums[i] = uint32(v)
	}
	iface := ""
	if len(fs) == cols6 {
		iface = r.intern(fs[9])
	}
	*e = Entry{
		Dest:    netip.PrefixFrom(dst, int(dlen)),
		Source:  netip.PrefixFrom(src, int(slen)),
		Gateway: nh,
		Metric:  nums[0],
		RefCnt:  nums[1],
		Use:     nums[2],
		Flags:   Flags(nums[3]),
		Iface:   iface,
	}
	return nil
}

var names6 = [4]string{"metric", "refcnt", "use", "flags"}

// addr6 decodes 32 hex digits in network byte order (ipv6_route prints
// the bytes with %pi6, not word by word).
func addr6(b []byte) (netip.Addr, bool) {
	if len(b) != 32 {
		return netip.Addr{}, false
	}
	var a [16]byte
	for i := range a {
		hi, lo := procfile.Unhex[b[2*i]], procfile.Unhex[b[2*i+1]]
		if hi == 0xff || lo == 0xff {
			return netip.Addr{}, false
		}
		a[i] = hi<<4 | lo
	}
	return netip.AddrFrom16(a), true
}

// hex and dec are procfile's parsers; plain wrappers (not function
// variables) so that both inline on the per-row path.
func hex(b []byte) (uint64, bool) { return procfile.Hex(b) }
func dec(b []byte) (uint64, bool) { return procfile.Dec(b) }

// Genmask returns the netmask of Dest as an address, what the Genmask
// column of `netstat -rn` shows: 255.255.255.0 for an IPv4 /24,
// ffff:ffff:ffff:ffff:: for an IPv6 /64.
func (e Entry) Genmask() netip.Addr {
	var m [16]byte
	n := max(e.Dest.Bits(), 0)
	for i := range m {
		m[i] = ^byte(0xff >> min(max(n-8*i, 0), 8))
	}
	if e.Dest.Addr().Is4() {
		return netip.AddrFrom4([4]byte(m[:4]))
	}
	return netip.AddrFrom16(m)
}
