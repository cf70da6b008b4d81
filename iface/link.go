package iface

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
)

// Link is one network interface's link attributes: what `ip link` shows.
//
// On the live system (Reader.Root "" or "/", PID 0) they come from an
// rtnetlink RTM_GETLINK dump of the caller's own network namespace; under
// a root, from proc/net/dev and sys/class/net/NAME (see Reader.Links).
type Link struct {
	// Index is the interface index (sysfs: ifindex; 0 when unknown).
	Index int
	// Name is the interface name.
	Name string
	// MTU is the link's MTU.
	MTU int
	// Flags are the IFF_* flags as SIOCGIFFLAGS reports them (see
	// Interface.Flags).
	Flags Flags
	// Type is the hardware type (ARPHRD_*).
	Type HWType
	// HardwareAddr is the link-layer address (nil when the link has
	// none, as loopback's zero address is kept: 6 zero bytes).
	HardwareAddr net.HardwareAddr
	// Broadcast is the link-layer broadcast address (nil when none).
	Broadcast net.HardwareAddr
	// TxQueueLen is the transmit queue length; -1 when unknown.
	TxQueueLen int
	// Counters are the link's statistics, with the meaning of the
	// columns of /proc/net/dev (rtnetlink's 64-bit IFLA_STATS64 summed
	// as the kernel sums them for that file).
	Counters
}

// HWType is a link's hardware type, an ARPHRD_* value of
// linux/if_arp.h.
type HWType uint16

// The hardware types this package names.
const (
	HWEther      HWType = 1     // ARPHRD_ETHER
	HWInfiniBand HWType = 32    // ARPHRD_INFINIBAND
	HWSLIP       HWType = 256   // ARPHRD_SLIP
	HWCSLIP      HWType = 257   // ARPHRD_CSLIP
	HWSLIP6      HWType = 258   // ARPHRD_SLIP6
	HWCSLIP6     HWType = 259   // ARPHRD_CSLIP6
	HWAdaptive   HWType = 264   // ARPHRD_ADAPT
	HWPPP        HWType = 512   // ARPHRD_PPP
	HWTunnel     HWType = 768   // ARPHRD_TUNNEL (IPIP)
	HWTunnel6    HWType = 769   // ARPHRD_TUNNEL6
	HWLoopback   HWType = 772   // ARPHRD_LOOPBACK
	HWSIT        HWType = 776   // ARPHRD_SIT
	HWIPGRE      HWType = 778   // ARPHRD_IPGRE
	HWNone       HWType = 65534 // ARPHRD_NONE (tun, wireguard)
	HWVoid       HWType = 65535 // ARPHRD_VOID
)

var hwNames = map[HWType]string{
	HWEther: "ether", HWInfiniBand: "infiniband", HWSLIP: "slip", HWCSLIP: "cslip",
	HWSLIP6: "slip6", HWCSLIP6: "cslip6", HWAdaptive: "adaptive", HWPPP: "ppp",
	HWTunnel: "ipip", HWTunnel6: "tunnel6", HWLoopback: "loopback", HWSIT: "sit",
	HWIPGRE: "gre", HWNone: "none", HWVoid: "void",
}

// String returns the name `ip link` gives the type ("ether",
// "loopback", "none", …) or "hw(N)".
func (t HWType) String() string {
	if s, ok := hwNames[t]; ok {
		return s
	}
	return "hw(" + strconv.Itoa(int(t)) + ")"
}

// Addr is one address of an interface: what `ip addr` shows.
//
// On the live system every address comes from an rtnetlink RTM_GETADDR
// dump of the caller's own network namespace: an interface's IPv4
// addresses in the kernel's order (primary before secondary, as
// SIOCGIFADDR finds them), its IPv6 ones in proc/net/if_inet6's order (as
// ifconfig lists them). Under a root, IPv6 addresses come from
// proc/net/if_inet6 and IPv4 ones are derived from proc/net/fib_trie and
// proc/net/route (see Reader.Addrs): there an IPv4 address's Label is the
// interface name and its Index and Flags are 0.
type Addr struct {
	// Index is the interface's index.
	Index int
	// Iface is the interface's name.
	Iface string
	// Label is an IPv4 address's label: the interface name, or an alias
	// such as "eth0:1" (what ifconfig lists as an interface). For IPv6
	// it is the interface name.
	Label string
	// Prefix is the local address and its prefix length.
	Prefix netip.Prefix
	// Peer is the other end of a point-to-point address (IFA_ADDRESS
	// when it differs from the local one); the zero Addr otherwise.
	Peer netip.Addr
	// Broadcast is an IPv4 address's broadcast address; the zero Addr
	// when none was set.
	Broadcast netip.Addr
	// Scope is the address's scope.
	Scope Scope
	// Flags are the IFA_F_* flags.
	Flags AddrFlags
}

// Scope is an address's scope, an RT_SCOPE_* value of linux/rtnetlink.h.
type Scope uint8

// The scopes.
const (
	ScopeUniverse Scope = 0   // RT_SCOPE_UNIVERSE: global
	ScopeSite     Scope = 200 // RT_SCOPE_SITE
	ScopeLink     Scope = 253 // RT_SCOPE_LINK
	ScopeHost     Scope = 254 // RT_SCOPE_HOST
	ScopeNowhere  Scope = 255 // RT_SCOPE_NOWHERE
)

// String returns the name `ip addr` gives the scope ("global", "link",
// "host", …) or the number.
func (s Scope) String() string {
	switch s {
	case ScopeUniverse:
		return "global"
	case ScopeSite:
		return "site"
	case ScopeLink:
		return "link"
	case ScopeHost:
		return "host"
	case ScopeNowhere:
		return "nowhere"
	}
	return strconv.Itoa(int(s))
}

// AddrFlags are an address's IFA_F_* flags (linux/if_addr.h).
type AddrFlags uint32

// The address flags.
const (
	AddrSecondary     AddrFlags = 0x01 // IFA_F_SECONDARY (IFA_F_TEMPORARY for IPv6)
	AddrNoDAD         AddrFlags = 0x02
	AddrOptimistic    AddrFlags = 0x04
	AddrDADFailed     AddrFlags = 0x08
	AddrHomeAddress   AddrFlags = 0x10
	AddrDeprecated    AddrFlags = 0x20
	AddrTentative     AddrFlags = 0x40
	AddrPermanent     AddrFlags = 0x80
	AddrManageTemp    AddrFlags = 0x100
	AddrNoPrefixRoute AddrFlags = 0x200
	AddrMCAutoJoin    AddrFlags = 0x400
	AddrStablePrivacy AddrFlags = 0x800
)

var addrFlagNames = [...]string{
	"secondary", "nodad", "optimistic", "dadfailed", "home", "deprecated",
	"tentative", "permanent", "mngtmpaddr", "noprefixroute", "autojoin", "stable-privacy",
}

// Has reports whether every bit of g is set in f.
func (f AddrFlags) Has(g AddrFlags) bool { return f&g == g }

// String returns the flags as `ip addr` words, space-separated
// ("secondary nodad"); unknown bits as "0x…".
func (f AddrFlags) String() string {
	var b []byte
	for i, n := range addrFlagNames {
		if f&(1<<i) != 0 {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = append(b, n...)
		}
	}
	if rest := f &^ (1<<len(addrFlagNames) - 1); rest != 0 {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, uint64(rest), 16)
	}
	return string(b)
}

// ErrNotSupported is the error of a live read over rtnetlink on a system
// other than Linux; a root's files are read anywhere.
var ErrNotSupported = errors.New("iface: rtnetlink is available on Linux only")

// NetlinkError reports an rtnetlink dump that failed or whose reply could
// not be decoded.
type NetlinkError struct {
	Op  string // "RTM_GETLINK" or "RTM_GETADDR"
	Err error
}

func (e *NetlinkError) Error() string { return "rtnetlink " + e.Op + ": " + e.Err.Error() }
func (e *NetlinkError) Unwrap() error { return e.Err }

// The live reads; a test replaces them to see the fallbacks.
var dumpLinksFunc, dumpAddrsFunc = dumpLinks, dumpAddrs

func (r *Reader) live() bool { return (r.Root == "" || r.Root == "/") && r.PID <= 0 }

// Links returns every interface's link attributes.
//
// On the live system (Root "" or "/", PID 0) they come from one rtnetlink
// RTM_GETLINK dump of the caller's network namespace, in the kernel's
// order: correct under `unshare -n` or `nsenter -n` too, where
// /sys/class/net shows the namespace sysfs was mounted in. Elsewhere (a
// root, or PID > 0) the interfaces are those of proc/net/dev (or
// proc/PID/net/dev), with their counters, each with the attributes of
// sys/class/net/NAME (mtu, flags as Interface.Flags, type, address,
// broadcast, tx_queue_len, ifindex); an interface without a sysfs
// directory is left out, and a missing attribute leaves its field zero
// (TxQueueLen -1). Errors are as Interfaces'. Where no rtnetlink socket
// can be opened on Linux, the live system is read as a root is; on other
// systems a live read gives ErrNotSupported.
func (r *Reader) Links() ([]Link, error) {
	if r.live() {
		links, err := dumpLinksFunc()
		if links != nil || err == nil || errors.Is(err, ErrNotSupported) {
			return links, err
		}
		// No rtnetlink (a sandbox that forbids it): sysfs, as under a root.
	}
	ifs, err := r.Interfaces()
	errs := appendErr(nil, err)
	out := make([]Link, 0, len(ifs))
	for i := range ifs {
		ifc := &ifs[i]
		if !ifc.HasLink {
			continue
		}
		l := Link{Name: ifc.Name, MTU: ifc.MTU, Flags: ifc.Flags, Counters: ifc.Counters, TxQueueLen: -1}
		errs = appendErr(errs, r.readSysHW(&l))
		out = append(out, l)
	}
	return out, errors.Join(errs...)
}

// Addrs returns every IPv4 and IPv6 address of every interface.
//
// On the live system (Root "" or "/", PID 0) they come from one rtnetlink
// RTM_GETADDR dump (and one RTM_GETLINK for the names) of the caller's
// network namespace. Elsewhere the kernel's files are read:
// proc/net/if_inet6 for IPv6 (in file order) and, for IPv4, whose
// addresses the kernel publishes per interface in no file, a derivation:
// each "/32 host LOCAL" entry of proc/net/fib_trie belongs to the
// interface of the longest gateway-less route of proc/net/route that
// holds it, with that route's prefix length, and its broadcast address is
// the subnet's "/32 link BROADCAST" entry. So under a root an IPv4
// address without a subnet route (a /32, a peer address, noprefixroute,
// an interface that is down) is not found, and labels are the interface
// names. A bad row is a *ParseError naming file and line, the rows around
// it are kept; a missing file gives no addresses of that kind. Where no
// rtnetlink socket can be opened on Linux, the live system is read as a
// root is; on other systems a live read gives ErrNotSupported.
func (r *Reader) Addrs() ([]Addr, error) {
	if r.live() {
		addrs, err := dumpAddrsFunc()
		if addrs != nil || err == nil || errors.Is(err, ErrNotSupported) {
			return addrs, err
		}
		// No rtnetlink (a sandbox that forbids it): the files, as under a
		// root.
	}
	return r.rootAddrs()
}
