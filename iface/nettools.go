package iface

// nettools.go holds the rows and order of net-tools' interface listing.

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// AppendAliases appends to list, as net-tools lists interfaces
// (if_readlist: /proc/net/dev, then SIOCGIFCONF), a row for every label of
// an IPv4 address of addrs (eth0:1) that names no row of list, and
// returns the names it added: rows without counters. Then every row
// without link attributes whose name is an alias of a row with them
// (eth0:1 of eth0) gets that row's MTU and flags: what SIOCGIFFLAGS and
// SIOCGIFMTU answer for an alias. Labels are known on the live system
// only (see Addr).
func AppendAliases(list []Interface, addrs []Addr) ([]Interface, []string) {
	var added []string
	for _, a := range addrs {
		if !a.Prefix.Addr().Is4() || a.Label == "" || a.Label == a.Iface ||
			slices.ContainsFunc(list, func(i Interface) bool { return i.Name == a.Label }) {
			continue
		}
		added = append(added, a.Label)
		list = append(list, Interface{Name: a.Label})
	}
	inheritAliases(list)
	return list, added
}

func inheritAliases(list []Interface) {
	for i := range list {
		a := &list[i]
		if a.HasLink {
			continue
		}
		parent, _, ok := strings.Cut(a.Name, ":")
		if !ok {
			continue
		}
		for j := range list {
			if list[j].Name == parent && list[j].HasLink {
				a.MTU, a.Flags = list[j].MTU, list[j].Flags
				break
			}
		}
	}
}

// Sort returns list in the order net-tools lists interfaces
// (add_interface): each name inserted after the last one that net-tools'
// nstrcmp puts before it, so eth2 before eth10 and eth2:1 right after
// eth2, duplicates dropped. It works in a new slice.
func Sort(list []Interface) []Interface {
	out := make([]Interface, 0, len(list))
	for _, ifc := range list {
		i := len(out)
		dup := false
		for i > 0 {
			n := nstrcmp(out[i-1].Name, ifc.Name)
			if n == 0 {
				dup = true
				break
			}
			if n < 0 {
				break
			}
			i--
		}
		if dup {
			continue
		}
		out = append(out, Interface{})
		copy(out[i+1:], out[i:])
		out[i] = ifc
	}
	return out
}

// nstrcmp is net-tools 2.10's "strcmp that knows about numbers and ':'
// alias suffix" (lib/nstrcmp.c): a numeric alias suffix (":1") is cut off
// and compared last (none before any); of the rest, the part before the
// trailing digits is compared first, then its length, then the trailing
// number, then the whole. So eth1 < eth2 < eth10, eth2 < eth2:1 < eth2:10,
// and eth2:x (no numeric alias, no trailing digits) comes after eth10.
// Only the sign of the result counts.
func nstrcmp(ap, bp string) int {
	a, aalias, aok := cutAlias(ap)
	b, balias, bok := cutAlias(bp)
	ai, bi := rindexNondigit(a), rindexNondigit(b)
	if r := strings.Compare(a[:min(ai, bi)], b[:min(ai, bi)]); r != 0 {
		return r
	}
	switch {
	case ai > bi:
		return 1
	case ai < bi:
		return -1
	}
	if av, bv := atoi(a[ai:]), atoi(b[bi:]); av != bv {
		return cmpUint(av, bv)
	}
	if r := strings.Compare(a, b); r != 0 {
		return r
	}
	switch {
	case aok && bok:
		if av, bv := atoi(aalias), atoi(balias); av != bv {
			return cmpUint(av, bv)
		}
		return strings.Compare(aalias, balias)
	case aok:
		return 1
	case bok:
		return -1
	}
	return 0
}

// cutAlias splits "eth0:12" into "eth0" and "12"; ok is false when the
// name does not end in ':' and digits.
func cutAlias(name string) (base, alias string, ok bool) {
	digit := false
	for pos := len(name); pos > 0; pos-- {
		if name[pos-1] == ':' && digit {
			return name[:pos-1], name[pos:], true
		}
		if !isDigit(name[pos-1]) {
			break
		}
		digit = true
	}
	return name, "", false
}

// rindexNondigit is the length of name without its trailing digits.
func rindexNondigit(name string) int {
	for pos := len(name); pos > 0; pos-- {
		if !isDigit(name[pos-1]) {
			return pos
		}
	}
	return 0
}

func cmpUint(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func atoi(s string) uint64 {
	var v uint64
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}

// hwFormat is how ifconfig prints a hardware type's address.
type hwFormat uint8

const (
	hwNone   hwFormat = iota // no address
	hwEther                  // 6 bytes, "52:54:00:12:34:56"
	hwIB                     // 20 bytes, "80:00:00:48:FE:80:…"
	hwEmpty                  // an empty address: the name and a space
	hwUnspec                 // 8 bytes of the address printed as 16, "00-11-22-…"
)

// netToolsHW are the ARPHRD_* types net-tools 2.10 names on Linux (the
// hwtypes table of lib/hw.c), with ifconfig's title and address format.
var netToolsHW = map[HWType]struct {
	name, title string
	addr        hwFormat
}{
	HWEther:      {"ether", "Ethernet", hwEther},
	HWInfiniBand: {"infiniband", "InfiniBand", hwIB},
	HWSLIP:       {"slip", "Serial Line IP", hwNone},
	HWCSLIP:      {"cslip", "VJ Serial Line IP", hwNone},
	HWSLIP6:      {"slip6", "6-bit Serial Line IP", hwNone},
	HWCSLIP6:     {"cslip6", "VJ 6-bit Serial Line IP", hwNone},
	HWAdaptive:   {"adaptive", "Adaptive Serial Line IP", hwNone},
	HWPPP:        {"ppp", "Point-to-Point Protocol", hwNone},
	HWTunnel:     {"tunnel", "IPIP Tunnel", hwEmpty},
	HWLoopback:   {"loop", "Local Loopback", hwNone},
	HWSIT:        {"sit", "IPv6-in-IPv4", hwNone},
}

// NetTools returns the name and title ifconfig (net-tools 2.10 on Linux,
// lib/hw.c) gives the type: "ether" and "Ethernet", "loop" and "Local
// Loopback", …; "unspec" and "UNSPEC" for a type it does not name
// (ARPHRD_NONE of tun and wireguard, GRE, …).
func (t HWType) NetTools() (name, title string) {
	if h, ok := netToolsHW[t]; ok {
		return h.name, h.title
	}
	return "unspec", "UNSPEC"
}

// NetToolsAddr returns l's hardware address as ifconfig prints it after
// the type's name, and whether it prints one: Ethernet's six bytes
// ("52:54:00:12:34:56"), InfiniBand's twenty in capitals (net-tools 2.10
// cuts it to eight and warns), an empty one for an IPIP tunnel, and for a
// type net-tools does not name the first eight bytes of the address
// zero-padded to sixteen ("00-00-00-00-00-00-00-00-00-…", its unspec
// type). The other types it names (loop, ppp, sit, …) show none.
func (l *Link) NetToolsAddr() (string, bool) {
	format := hwUnspec
	if h, ok := netToolsHW[l.Type]; ok {
		format = h.addr
	}
	switch format {
	case hwEther:
		return hwString(l.HardwareAddr, 6, "%02x", ':'), true
	case hwIB:
		return hwString(l.HardwareAddr, 20, "%02X", ':'), true
	case hwUnspec:
		return hwString(l.HardwareAddr[:min(len(l.HardwareAddr), 8)], 16, "%02X", '-'), true
	case hwEmpty:
		return "", true
	}
	return "", false
}

// hwString formats n bytes of addr (zeros past its end), each as format,
// separated by sep.
func hwString(addr []byte, n int, format string, sep byte) string {
	var b []byte
	for i := range n {
		var v byte
		if i < len(addr) {
			v = addr[i]
		}
		if i > 0 {
			b = append(b, sep)
		}
		b = fmt.Appendf(b, format, v)
	}
	return string(b)
}

// NetToolsText returns a's address as ifconfig prints it (glibc's
// inet_ntop): as netip.Addr.String, but an IPv4-compatible IPv6 address
// (::1.2.3.4) keeps its dotted tail.
func (a Addr) NetToolsText() string {
	ip := a.Prefix.Addr()
	b := ip.As16()
	if ip.Is6() && [12]byte(b[:12]) == [12]byte{} && (b[12] != 0 || b[13] != 0) {
		return "::" + netip.AddrFrom4([4]byte(b[12:])).String()
	}
	return ip.String()
}

// NetToolsBytes returns n bytes as ifconfig prints them in brackets after
// the count (ife_print_long): "1.5 KiB", in tenths, truncated, the unit
// the largest of KiB, MiB, GiB, TiB, PiB that n is greater than, else B.
// Above math.MaxInt64/10 bytes (PiB only) it divides before it
// multiplies by ten, as net-tools does, so that nothing overflows.
func NetToolsBytes(n uint64) string {
	short, unit := n*10, "B"
	for i, u := range [...]string{"PiB", "TiB", "GiB", "MiB", "KiB"} {
		if div := uint64(1) << (50 - 10*i); n > div {
			short, unit = short/div, u
			if n > math.MaxInt64/10 { // n*10 overflowed
				short = n / (div / 10)
			}
			break
		}
	}
	return strconv.FormatUint(short/10, 10) + "." + strconv.FormatUint(short%10, 10) + " " + unit
}
