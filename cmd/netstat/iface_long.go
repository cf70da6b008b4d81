package main

// -ie: net-tools 2.10's long interface listing (ife_print_long, the
// ifconfig layout), from proc and sysfs only.
//
// net-tools asks the kernel with ioctls; here every value comes from a
// file under the root, so a fixture tree or a capture prints the same:
//
//	flags, mtu           sys/class/net/NAME/{flags,mtu,operstate,carrier}
//	                     (as -i), the flags number as net-tools' short
//	hardware line        sys/class/net/NAME/{type,address,tx_queue_len}
//	inet6 lines          proc/net/if_inet6, in file order (as net-tools)
//	RX/TX lines          proc/net/dev
//	inet line            derived: see ipv4Addrs
//
// The kernel publishes no per-interface IPv4 address in proc or sysfs, so
// the inet line is derived from the local addresses of proc/net/fib_trie
// and the interface of the subnet route that holds each one in
// proc/net/route. What that cannot show, and net-tools does, is listed in
// README.md ("-ie").

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"

	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/internal/procfile"
	"github.com/procnet/procnet/route"
)

// inet4 is the IPv4 address net-tools would show for an interface.
type inet4 struct {
	addr      netip.Addr
	bits      int        // the netmask's length
	broadcast netip.Addr // zero: 0.0.0.0
}

// inet6 is one row of proc/net/if_inet6.
type inet6 struct {
	addr  netip.Addr
	plen  int
	scope int
	dev   string
}

// fibEntry is one alias of a leaf of proc/net/fib_trie: "/32 host LOCAL".
type fibEntry struct {
	addr netip.Addr
	bits int
	typ  string // LOCAL, BROADCAST, UNICAST, …
}

// longDetails is what the long listing needs beyond iface.Interface.
type longDetails struct {
	inet4 map[string]inet4 // by interface name
	inet6 []inet6
}

// readLong reads fib_trie, route and if_inet6 under the root for the
// interfaces of list. Bad rows are reported as *iface.ParseError (the
// listing goes on); a file that cannot be read is returned as an error.
func (l *ifLister) readLong(list []iface.Interface) (*longDetails, error) {
	root := l.c.root
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, splitJoined(err)...) // one level: report splits once
		}
	}
	fib, err := readFibTrie(root)
	add(err)
	routes, err := (&route.Reader{Root: root}).AppendIPv4(nil)
	add(err)
	v6, err := readIfInet6(root)
	add(err)
	return &longDetails{inet4: ipv4Addrs(fib, routes, list), inet6: v6}, errors.Join(errs...)
}

// ipv4Addrs gives each interface the IPv4 address net-tools would show,
// as far as proc tells:
//
//   - The local addresses are the "/32 host LOCAL" entries of fib_trie.
//   - An address belongs to the interface of the longest usable subnet
//     route without a gateway (prefix length 1 to 32) of proc/net/route
//     that holds it; the netmask is that route's. An address in a
//     "host LOCAL" prefix shorter than /32 (127.0.0.0/8) belongs to the
//     loopback interface, with that prefix's netmask.
//   - Of several addresses of one interface the lowest is shown
//     (net-tools shows the first one assigned).
//   - The broadcast address is the "/32 link BROADCAST" entry inside the
//     subnet other than the subnet's own address, preferring one that is
//     not the all-ones address (an explicit "brd"), else 0.0.0.0.
//
// An address with no such route (a /32, a peer address, noprefixroute,
// an interface that is down) is not shown.
func ipv4Addrs(fib []fibEntry, routes []route.Entry, list []iface.Interface) map[string]inet4 {
	out := map[string]inet4{}
	loopback := ""
	for i := range list {
		if list[i].Flags.Has(iface.FlagLoopback) {
			loopback = list[i].Name
			break
		}
	}
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
		if cur, ok := out[name]; ok && cur.addr.Less(f.addr) {
			continue
		}
		a := inet4{addr: f.addr, bits: bits}
		subnet := netip.PrefixFrom(f.addr, bits).Masked()
		allOnes := lastAddr(subnet)
		for _, bc := range broadcasts {
			if !subnet.Contains(bc) || bc == subnet.Addr() && bits < 31 {
				continue
			}
			if !a.broadcast.IsValid() || a.broadcast == allOnes {
				a.broadcast = bc
			}
		}
		out[name] = a
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

// readFibTrie reads proc/net/fib_trie; a kernel without it gives nothing.
func readFibTrie(root string) ([]fibEntry, error) {
	return readIfPresent(root, "proc/net/fib_trie", parseFibTrie)
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
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t := bytes.TrimLeft(line, " ")
		bad := func(field string) {
			errs = append(errs, &iface.ParseError{File: name, Line: lr.Line(), Field: field, Err: iface.ErrSyntax})
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

// readIfInet6 reads proc/net/if_inet6; a kernel without IPv6 lacks it.
func readIfInet6(root string) ([]inet6, error) {
	return readIfPresent(root, "proc/net/if_inet6", parseIfInet6)
}

// parseIfInet6 reads the rows of if_inet6 (net/ipv6/addrconf.c,
// if6_seq_show): "%pi6 %02x %02x %02x %02x %8s", address, ifindex, prefix
// length, scope, flags, device.
func parseIfInet6(r io.Reader, name string) ([]inet6, error) {
	var lr procfile.Lines
	lr.Reset(r, name, make([]byte, procfile.BufSize))
	var out []inet6
	var errs []error
	var cols [][]byte
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cols = procfile.Fields(cols, line, 7)
		if len(cols) == 0 {
			continue
		}
		bad := func(field string, e error) {
			errs = append(errs, &iface.ParseError{File: name, Line: lr.Line(), Field: field, Err: e})
		}
		if len(cols) != 6 {
			bad("", iface.ErrFieldCount)
			continue
		}
		var a [16]byte
		ok := len(cols[0]) == 32
		for i := 0; ok && i < 16; i++ {
			v, okh := procfile.Hex(cols[0][2*i : 2*i+2])
			a[i], ok = byte(v), okh
		}
		if !ok {
			bad("address", iface.ErrSyntax)
			continue
		}
		plen, ok1 := procfile.Hex(cols[2])
		scope, ok2 := procfile.Hex(cols[3])
		if !ok1 || !ok2 || plen > 128 || scope > 0xff {
			bad("prefix length or scope", iface.ErrSyntax)
			continue
		}
		out = append(out, inet6{addr: netip.AddrFrom16(a), plen: int(plen), scope: int(scope), dev: string(cols[5])})
	}
	return out, errors.Join(errs...)
}

// ntop6 is glibc's inet_ntop for IPv6, which net-tools prints with: as
// netip.Addr.String, but an IPv4-compatible address (::1.2.3.4) keeps
// its dotted tail.
func ntop6(a netip.Addr) string {
	b := a.As16()
	if [12]byte(b[:12]) == [12]byte{} && (b[12] != 0 || b[13] != 0) {
		return "::" + netip.AddrFrom4([4]byte(b[12:])).String()
	}
	return a.String()
}

// hwType is an entry of net-tools' hwtypes table (lib/hw.c).
type hwType struct {
	name, title string
	print       string // "": name alone; "ether": aa:bb:…; "empty": "name "; "unspec": 16 bytes AA-BB-…; "ib": 20 bytes AA:BB:…
	compress    bool   // CSLIP: RX/TX compressed lines
}

// hwTypes are the ARPHRD_* types net-tools 2.10 names on Linux; any
// other is "unspec".
var hwTypes = map[int]hwType{
	1:   {"ether", "Ethernet", "ether", false},
	32:  {"infiniband", "InfiniBand", "ib", false},
	256: {"slip", "Serial Line IP", "", false},
	257: {"cslip", "VJ Serial Line IP", "", true},
	258: {"slip6", "6-bit Serial Line IP", "", false},
	259: {"cslip6", "VJ 6-bit Serial Line IP", "", true},
	264: {"adaptive", "Adaptive Serial Line IP", "", false},
	512: {"ppp", "Point-to-Point Protocol", "", false},
	768: {"tunnel", "IPIP Tunnel", "empty", false},
	772: {"loop", "Local Loopback", "", false},
	776: {"sit", "IPv6-in-IPv4", "", false},
}

var unspecHW = hwType{"unspec", "UNSPEC", "unspec", false}

// sysHW is an interface's hardware attributes from sysfs.
type sysHW struct {
	typ    int
	hasTyp bool
	addr   []byte
	txq    int
	hasTxq bool
}

// readSysHW reads sys/class/net/NAME/{type,address,tx_queue_len}; an
// alias (eth0:1) reads its parent's, as SIOCGIFHWADDR answers for it.
func readSysHW(root, name string) sysHW {
	if parent, _, ok := strings.Cut(name, ":"); ok {
		name = parent
	}
	var hw sysHW
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return hw
	}
	attr := func(a string) (string, bool) {
		f, err := procfile.Open(root, "sys/class/net/"+name+"/"+a)
		if err != nil {
			return "", false
		}
		defer f.Close()
		var buf [256]byte
		n, _ := io.ReadFull(f, buf[:])
		return strings.TrimSpace(string(buf[:n])), true
	}
	if s, ok := attr("type"); ok {
		v, err := strconv.Atoi(s)
		hw.typ, hw.hasTyp = v, err == nil
	}
	if s, ok := attr("tx_queue_len"); ok {
		v, err := strconv.Atoi(s)
		hw.txq, hw.hasTxq = v, err == nil
	}
	if s, ok := attr("address"); ok && s != "" {
		for _, p := range strings.Split(s, ":") {
			v, err := strconv.ParseUint(p, 16, 8)
			if err != nil {
				hw.addr = nil
				break
			}
			hw.addr = append(hw.addr, byte(v))
		}
	}
	return hw
}

// ifFlagNames are ife_print_long's flag names, in its order.
var ifFlagNames = [...]struct {
	bit  iface.Flags
	name string
}{
	{iface.FlagUp, "UP"}, {iface.FlagBroadcast, "BROADCAST"}, {iface.FlagDebug, "DEBUG"},
	{iface.FlagLoopback, "LOOPBACK"}, {iface.FlagPointToPoint, "POINTOPOINT"},
	{iface.FlagNoTrailers, "NOTRAILERS"}, {iface.FlagRunning, "RUNNING"}, {iface.FlagNoARP, "NOARP"},
	{iface.FlagPromisc, "PROMISC"}, {iface.FlagAllMulti, "ALLMULTI"}, {iface.FlagSlave, "SLAVE"},
	{iface.FlagMaster, "MASTER"}, {iface.FlagMulticast, "MULTICAST"}, {iface.FlagDynamic, "DYNAMIC"},
}

// appendLong writes the long listing of list: "Kernel Interface table"
// on the first round only (net-tools prints it once), then one block per
// interface, each ended by a blank line.
func (l *ifLister) appendLong(b []byte, list []iface.Interface, d *longDetails, first bool) []byte {
	if first {
		b = append(b, "Kernel Interface table\n"...)
	}
	for i := range list {
		f := &list[i]
		name := sanitize(f.Name)
		// net-tools keeps the flags in a short: the bits above 15
		// (LOWER_UP, DORMANT) are lost, bit 15 (DYNAMIC) makes it negative.
		fl := iface.Flags(uint16(f.Flags))
		s := "flags=" + strconv.Itoa(int(int16(fl))) + "<"
		if fl == 0 {
			s += ">"
		}
		for _, n := range ifFlagNames {
			if fl&n.bit != 0 {
				s += n.name + ","
			}
		}
		if strings.HasSuffix(s, ",") {
			s = s[:len(s)-1] + ">"
		} else {
			s = s[:len(s)-1]
		}
		b = append(b, name...)
		b = append(b, ": "...)
		b = append(b, s...)
		b = append(b, "  mtu "...)
		b = strconv.AppendInt(b, int64(f.MTU), 10)
		b = append(b, '\n')

		if a, ok := d.inet4[f.Name]; ok {
			b = append(b, "        inet "...)
			b = a.addr.AppendTo(b)
			b = append(b, "  netmask "...)
			b = append(b, mask4(a.bits)...)
			if f.Flags.Has(iface.FlagBroadcast) {
				b = append(b, "  broadcast "...)
				if a.broadcast.IsValid() {
					b = a.broadcast.AppendTo(b)
				} else {
					b = append(b, "0.0.0.0"...)
				}
			}
			if f.Flags.Has(iface.FlagPointToPoint) {
				// Without a peer the kernel answers SIOCGIFDSTADDR with the
				// address itself; a peer's address never reaches here.
				b = append(b, "  destination "...)
				b = a.addr.AppendTo(b)
			}
			b = append(b, '\n')
		}
		for _, a := range d.inet6 {
			if a.dev != f.Name {
				continue
			}
			b = append(b, "        inet6 "...)
			b = append(b, ntop6(a.addr)...)
			b = append(b, "  prefixlen "...)
			b = strconv.AppendInt(b, int64(a.plen), 10)
			b = append(b, "  scopeid 0x"...)
			b = strconv.AppendInt(b, int64(a.scope), 16)
			scope := a.scope
			sf := "<"
			if scope&0x80 != 0 {
				sf += "compat,"
				scope -= 0x80
			}
			if scope == 0 {
				sf += "global,"
			}
			if scope&0x20 != 0 {
				sf += "link,"
			}
			if scope&0x40 != 0 {
				sf += "site,"
			}
			if scope&0x10 != 0 {
				sf += "host,"
			}
			if strings.HasSuffix(sf, ",") {
				sf = sf[:len(sf)-1] + ">"
			} else {
				sf = sf[:len(sf)-1]
			}
			b = append(b, sf...)
			b = append(b, '\n')
		}

		hw := readSysHW(l.c.root, f.Name)
		t, ok := hwTypes[hw.typ]
		if !ok || !hw.hasTyp {
			t = unspecHW
		}
		b = append(b, "        "...)
		b = append(b, t.name...)
		switch t.print {
		case "ether":
			b = append(b, ' ')
			b = appendHW(b, hw.addr, 6, "%02x", ':')
		case "ib":
			b = append(b, ' ')
			b = appendHW(b, hw.addr, 20, "%02X", ':')
		case "unspec":
			// net-tools copies 8 bytes of the address and prints 16.
			b = append(b, ' ')
			b = appendHW(b, hw.addr[:min(len(hw.addr), 8)], 16, "%02X", '-')
		case "empty":
			b = append(b, ' ')
		}
		if hw.hasTxq {
			b = append(b, "  txqueuelen "...)
			b = strconv.AppendInt(b, int64(hw.txq), 10)
		}
		b = append(b, "  ("...)
		b = append(b, t.title...)
		b = append(b, ")\n"...)

		b = appendBytesLine(b, "RX", f.RxPackets, f.RxBytes)
		if t.compress {
			b = append(b, "        RX compressed:"...)
			b = strconv.AppendUint(b, f.RxCompressed, 10)
			b = append(b, '\n')
		}
		b = append(b, "        RX errors "...)
		b = strconv.AppendUint(b, f.RxErrs, 10)
		b = append(b, "  dropped "...)
		b = strconv.AppendUint(b, f.RxDrop, 10)
		b = append(b, "  overruns "...)
		b = strconv.AppendUint(b, f.RxFifo, 10)
		b = append(b, "  frame "...)
		b = strconv.AppendUint(b, f.RxFrame, 10)
		b = append(b, '\n')
		b = appendBytesLine(b, "TX", f.TxPackets, f.TxBytes)
		if t.compress {
			b = append(b, "        TX compressed "...)
			b = strconv.AppendUint(b, f.TxCompressed, 10)
			b = append(b, '\n')
		}
		b = append(b, "        TX errors "...)
		b = strconv.AppendUint(b, f.TxErrs, 10)
		b = append(b, "  dropped "...)
		b = strconv.AppendUint(b, f.TxDrop, 10)
		b = append(b, " overruns "...)
		b = strconv.AppendUint(b, f.TxFifo, 10)
		b = append(b, "  carrier "...)
		b = strconv.AppendUint(b, f.TxCarrier, 10)
		b = append(b, "  collisions "...)
		b = strconv.AppendUint(b, f.TxColls, 10)
		b = append(b, "\n\n"...)
	}
	return b
}

// appendHW appends n bytes of addr (zeros past its end), each as format
// ("%02x" or "%02X"), separated by sep.
func appendHW(b []byte, addr []byte, n int, format string, sep byte) []byte {
	digits := "0123456789abcdef"
	if format == "%02X" {
		digits = "0123456789ABCDEF"
	}
	for i := range n {
		var v byte
		if i < len(addr) {
			v = addr[i]
		}
		if i > 0 {
			b = append(b, sep)
		}
		b = append(b, digits[v>>4], digits[v&15])
	}
	return b
}

// appendBytesLine writes "        RX packets N  bytes N (1.5 KiB)" with
// net-tools' rounding: tenths, truncated, the unit chosen by "greater
// than" 1 KiB, 1 MiB, ….
func appendBytesLine(b []byte, dir string, packets, bytes uint64) []byte {
	short, unit := bytes*10, "B"
	switch {
	case bytes > 1125899906842624:
		if bytes > 9223372036854775807/10 {
			short = bytes / 112589990684262
		} else {
			short /= 1125899906842624
		}
		unit = "PiB"
	case bytes > 1099511627776:
		short, unit = short/1099511627776, "TiB"
	case bytes > 1073741824:
		short, unit = short/1073741824, "GiB"
	case bytes > 1048576:
		short, unit = short/1048576, "MiB"
	case bytes > 1024:
		short, unit = short/1024, "KiB"
	}
	b = append(b, "        "...)
	b = append(b, dir...)
	b = append(b, " packets "...)
	b = strconv.AppendUint(b, packets, 10)
	b = append(b, "  bytes "...)
	b = strconv.AppendUint(b, bytes, 10)
	b = append(b, " ("...)
	b = strconv.AppendUint(b, short/10, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, short%10, 10)
	b = append(b, ' ')
	b = append(b, unit...)
	return append(b, ")\n"...)
}
