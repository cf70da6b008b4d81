package iface

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"slices"
	"strconv"

	"github.com/procnet/procnet/internal/procfile"
	"github.com/procnet/procnet/route"
)

// rootAddrs reads the addresses of a root (or of proc/PID/net): see
// Reader.Addrs.
func (r *Reader) rootAddrs() ([]Addr, error) {
	dir := "proc/net/"
	if r.PID > 0 {
		dir = "proc/" + strconv.Itoa(r.PID) + "/net/"
	}
	var errs []error
	add := func(err error) { errs = appendErr(errs, err) }
	fib, err := readIfPresent(r.root(), dir+"fib_trie", parseFibTrie)
	add(err)
	var routes []route.Entry
	if len(fib) > 0 {
		routes, err = (&route.Reader{Root: r.Root, PID: r.PID}).AppendIPv4(nil)
		add(err)
	}
	v6, err := readIfPresent(r.root(), dir+"if_inet6", parseIfInet6)
	add(err)
	loopback := ""
	if len(fib) > 0 {
		// Only the flags are needed; the errors of proc/net/dev and sysfs
		// are Interfaces' and Links' to report.
		ifs, _ := r.Interfaces()
		for i := range ifs {
			if ifs[i].Flags.Has(FlagLoopback) {
				loopback = ifs[i].Name
				break
			}
		}
	}
	return append(derive4(fib, routes, loopback), v6...), errors.Join(errs...)
}

// readIfPresent parses the file name under root; a file the kernel does
// not have gives the zero T and no error.
func readIfPresent[T any](root, name string, parse func(io.Reader, string) (T, error)) (T, error) {
	f, err := procfile.Open(root, name)
	if err != nil {
		var zero T
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		return zero, err
	}
	defer f.Close()
	return parse(f, name)
}

// fibEntry is one alias of a leaf of proc/net/fib_trie: "/32 host LOCAL".
type fibEntry struct {
	addr netip.Addr
	bits int
	typ  string // LOCAL, BROADCAST, UNICAST, …
}

// parseFibTrie reads the leaves of fib_trie (net/ipv4/fib_trie.c,
// fib_trie_seq_show): a table title ("Main:", "Local:", "Id 100:"),
// nodes "+-- 10.0.0.0/8 2 0 2", leaves "|-- 10.1.2.3" each followed by
// one line per alias, "/32 host LOCAL" (and " tos=N" when set).
func parseFibTrie(r io.Reader, name string) ([]fibEntry, error) {
	var lr procfile.Lines
	lr.Reset(r, name, make([]byte, procfile.BufSize))
	var out []fibEntry
	var errs []error
	var leaf netip.Addr
	for line, err := range lr.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t := bytes.TrimLeft(line, " ")
		bad := func(field string) {
			errs = append(errs, &ParseError{File: name, Line: lr.Line(), Field: field, Err: ErrSyntax})
		}
		switch {
		case len(t) == 0, len(t) == len(line) && bytes.HasSuffix(t, []byte(":")):
			leaf = netip.Addr{} // a blank line, a table title
		case bytes.HasPrefix(t, []byte("+-- ")):
			leaf = netip.Addr{} // an inner node
		case bytes.HasPrefix(t, []byte("|-- ")):
			a, err := netip.ParseAddr(string(t[4:]))
			if err != nil || !a.Is4() {
				leaf = netip.Addr{}
				bad("leaf")
				continue
			}
			leaf = a
		case t[0] == '/':
			cols := bytes.Fields(t[1:])
			if !leaf.IsValid() || len(cols) < 3 {
				bad("alias")
				continue
			}
			bits, ok := procfile.Dec(cols[0])
			if !ok || bits > 32 {
				bad("alias")
				continue
			}
			out = append(out, fibEntry{addr: leaf, bits: int(bits), typ: string(cols[2])})
		default:
			bad("")
		}
	}
	return out, errors.Join(errs...)
}

// derive4 gives the IPv4 addresses that proc tells, in fib_trie's
// (ascending) order, each with its interface:
//
//   - The local addresses are the "/32 host LOCAL" entries of fib_trie.
//   - An address belongs to the interface of the longest usable subnet
//     route without a gateway (prefix length 1 to 32) of proc/net/route
//     that holds it; the prefix length is that route's. An address in a
//     "host LOCAL" prefix shorter than /32 (127.0.0.0/8) belongs to the
//     loopback interface, with that prefix's length.
//   - The broadcast address is the "/32 link BROADCAST" entry inside the
//     subnet other than the subnet's own address, preferring one that is
//     not the all-ones address (an explicit "brd"); none otherwise.
//
// An address with no such route (a /32, a peer address, noprefixroute,
// an interface that is down) is not found.
func derive4(fib []fibEntry, routes []route.Entry, loopback string) []Addr {
	var out []Addr
	var broadcasts []netip.Addr
	for _, f := range fib {
		if f.typ == "BROADCAST" && f.bits == 32 {
			broadcasts = append(broadcasts, f.addr)
		}
	}
	seen := map[netip.Addr]bool{}
	for _, f := range fib {
		if f.typ != "LOCAL" || f.bits != 32 || seen[f.addr] {
			continue
		}
		seen[f.addr] = true
		name, bits := "", -1
		for i := range routes {
			e := &routes[i]
			b := e.Dest.Bits()
			if !e.Flags.Has(route.FlagUp) || e.Flags.Has(route.FlagGateway) || e.Flags.Has(route.FlagReject) ||
				e.Iface == "" || b < 1 || b <= bits || !e.Dest.Masked().Contains(f.addr) {
				continue
			}
			name, bits = e.Iface, b
		}
		if name == "" && loopback != "" {
			for _, g := range fib {
				if g.typ == "LOCAL" && g.bits < 32 && g.bits > bits && netip.PrefixFrom(g.addr, g.bits).Masked().Contains(f.addr) {
					name, bits = loopback, g.bits
				}
			}
		}
		if name == "" {
			continue
		}
		a := Addr{Iface: name, Label: name, Prefix: netip.PrefixFrom(f.addr, bits)}
		if f.addr.IsLoopback() {
			a.Scope = ScopeHost
		}
		subnet := a.Prefix.Masked()
		allOnes := lastAddr(subnet)
		for _, bc := range broadcasts {
			if !subnet.Contains(bc) || bc == subnet.Addr() && bits < 31 {
				continue
			}
			if !a.Broadcast.IsValid() || a.Broadcast == allOnes {
				a.Broadcast = bc
			}
		}
		out = append(out, a)
	}
	return out
}

// lastAddr is the highest address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if p.Bits() < 32 {
		v |= ^uint32(0) >> p.Bits()
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// The IPV6_ADDR_* scope bits of proc/net/if_inet6's scope column
// (include/net/ipv6.h): what ifconfig prints as "scopeid 0x…".
const (
	v6ScopeHost   = 0x10 // IPV6_ADDR_LOOPBACK
	v6ScopeLink   = 0x20 // IPV6_ADDR_LINKLOCAL
	v6ScopeSite   = 0x40 // IPV6_ADDR_SITELOCAL
	v6ScopeCompat = 0x80 // IPV6_ADDR_COMPATv4
)

// scopeOf6 is the kernel's rt_scope (net/ipv6/addrconf.c): the RT_SCOPE
// of an if_inet6 scope column.
func scopeOf6(bits uint64) Scope {
	switch {
	case bits&v6ScopeHost != 0:
		return ScopeHost
	case bits&v6ScopeLink != 0:
		return ScopeLink
	case bits&v6ScopeSite != 0:
		return ScopeSite
	}
	return ScopeUniverse
}

// ScopeID returns an IPv6 address's scope as proc/net/if_inet6 shows it
// and ifconfig prints it ("scopeid 0x20" for link-local): the IPV6_ADDR_*
// bits 0x10 host, 0x20 link, 0x40 site, and 0x80 for an IPv4-compatible
// address (::a.b.c.d). It is rebuilt from Scope and the address, as
// rtnetlink reports only Scope; for an IPv4 address it is 0.
func (a Addr) ScopeID() int {
	ip := a.Prefix.Addr()
	if !ip.Is6() || ip.Is4In6() {
		return 0
	}
	var id int
	switch a.Scope {
	case ScopeHost:
		id = v6ScopeHost
	case ScopeLink:
		id = v6ScopeLink
	case ScopeSite:
		id = v6ScopeSite
	}
	b := ip.As16()
	if [12]byte(b[:12]) == [12]byte{} && ip != netip.IPv6Unspecified() && ip != netip.IPv6Loopback() {
		id |= v6ScopeCompat
	}
	return id
}

// parseIfInet6 reads the rows of if_inet6 (net/ipv6/addrconf.c,
// if6_seq_show): "%pi6 %02x %02x %02x %02x %8s", address, ifindex, prefix
// length, scope, flags, device.
func parseIfInet6(r io.Reader, name string) ([]Addr, error) {
	var lr procfile.Lines
	lr.Reset(r, name, make([]byte, procfile.BufSize))
	var out []Addr
	var errs []error
	var cols [][]byte
	for line, err := range lr.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cols = procfile.Fields(cols, line, 7)
		if len(cols) == 0 {
			continue
		}
		bad := func(field string, e error) {
			errs = append(errs, &ParseError{File: name, Line: lr.Line(), Field: field, Err: e})
		}
		if len(cols) != 6 {
			bad("", ErrFieldCount)
			continue
		}
		var a [16]byte
		ok := len(cols[0]) == 32
		for i := 0; ok && i < 16; i++ {
			v, okh := procfile.Hex(cols[0][2*i : 2*i+2])
			a[i], ok = byte(v), okh
		}
		if !ok {
			bad("address", ErrSyntax)
			continue
		}
		index, ok0 := procfile.Hex(cols[1])
		plen, ok1 := procfile.Hex(cols[2])
		scope, ok2 := procfile.Hex(cols[3])
		flags, ok3 := procfile.Hex(cols[4])
		if !ok0 || index > 1<<31-1 {
			bad("ifindex", ErrSyntax)
			continue
		}
		if !ok1 || !ok2 || plen > 128 || scope > 0xff {
			bad("prefix length or scope", ErrSyntax)
			continue
		}
		if !ok3 || flags > 0xffffffff {
			bad("flags", ErrSyntax)
			continue
		}
		dev := string(cols[5])
		out = append(out, Addr{
			Index: int(index), Iface: dev, Label: dev,
			Prefix: netip.PrefixFrom(netip.AddrFrom16(a), int(plen)),
			Scope:  scopeOf6(scope), Flags: AddrFlags(flags),
		})
	}
	return out, errors.Join(errs...)
}

// orderLike6 puts the IPv6 addresses of each interface in addrs in the
// order file (the rows of proc/net/if_inet6) lists them, leaving the IPv4
// addresses, and the order of the interfaces, as they are; an address the
// file does not list goes after those it does. The kernel dumps an
// interface's IPv6 addresses in its own list's order, while if_inet6 (and
// so ifconfig) walks a hash table.
func orderLike6(addrs, file []Addr) {
	type key struct {
		index int
		ip    netip.Addr
	}
	pos := make(map[key]int, len(file))
	for i, a := range file {
		pos[key{a.Index, a.Prefix.Addr()}] = i
	}
	group := map[int]int{} // interface index → its rank in the dump
	var slots []int
	var v6 []Addr
	for i, a := range addrs {
		if a.Prefix.Addr().Is6() {
			if _, ok := group[a.Index]; !ok {
				group[a.Index] = len(group)
			}
			slots = append(slots, i)
			v6 = append(v6, a)
		}
	}
	rank := func(a Addr) int {
		if p, ok := pos[key{a.Index, a.Prefix.Addr()}]; ok {
			return p
		}
		return len(file)
	}
	slices.SortStableFunc(v6, func(a, b Addr) int {
		if g := group[a.Index] - group[b.Index]; g != 0 {
			return g
		}
		return rank(a) - rank(b)
	})
	for i, s := range slots {
		addrs[s] = v6[i]
	}
}
