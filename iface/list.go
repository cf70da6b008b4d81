package iface

// list.go holds the rows net-tools lists (netstat -i, -ie, ifconfig -a)
// and what ifconfig shows of each: the addresses, and the link of an
// alias.

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
)

// Entry is one row of net-tools' interface listing: an interface of
// proc/net/dev, or an alias, a label of an IPv4 address (eth0:1) that
// proc/net/dev does not list; with the addresses ifconfig shows of it.
type Entry struct {
	// Interface holds the name, counters, MTU and flags. An alias has no
	// counters and its parent's MTU and flags: what SIOCGIFMTU and
	// SIOCGIFFLAGS answer for it.
	Interface
	// Alias reports a row that is an address's label and no interface of
	// proc/net/dev: it has no statistics (net-tools prints "no statistics
	// available").
	Alias bool
	// Link holds the link attributes of the interface, or of its parent
	// for an alias (eth0 for eth0:1: SIOCGIFHWADDR and SIOCGIFTXQLEN
	// answer the parent's). It is nil when unknown, and unless
	// ListOptions.Links asked for it.
	Link *Link
	// Inet is the IPv4 address ifconfig shows on its inet line, the one
	// SIOCGIFADDR answers: the first address labelled with the row's
	// name (the primary one). Its Prefix is invalid when there is none.
	Inet Addr
	// Inet6 are the IPv6 addresses of the interface (none for an alias),
	// in proc/net/if_inet6's order, as ifconfig lists them.
	Inet6 []Addr
}

// HasInet reports whether the row has an IPv4 address (an inet line).
func (e *Entry) HasInet() bool { return e.Inet.Prefix.IsValid() }

// Netmask returns the netmask of Inet (255.255.255.0 for a /24): what
// SIOCGIFNETMASK answers. It is the zero Addr without Inet.
func (e *Entry) Netmask() netip.Addr {
	if !e.HasInet() {
		return netip.Addr{}
	}
	return mask4(e.Inet.Prefix.Bits())
}

// Broadcast returns, for an interface with FlagBroadcast and an Inet
// address, what SIOCGIFBRDADDR answers: the broadcast address set on Inet
// (`ip addr add … brd …`), or 0.0.0.0 when none was. Otherwise it returns
// the zero Addr: ifconfig prints no broadcast.
func (e *Entry) Broadcast() netip.Addr {
	if !e.HasInet() || !e.Flags.Has(FlagBroadcast) {
		return netip.Addr{}
	}
	if e.Inet.Broadcast.IsValid() {
		return e.Inet.Broadcast
	}
	return netip.IPv4Unspecified()
}

// Destination returns, for a point-to-point interface with an Inet
// address, what SIOCGIFDSTADDR answers: the peer, or without one the
// address itself. Otherwise it returns the zero Addr: ifconfig prints no
// destination.
func (e *Entry) Destination() netip.Addr {
	if !e.HasInet() || !e.Flags.Has(FlagPointToPoint) {
		return netip.Addr{}
	}
	if e.Inet.Peer.IsValid() {
		return e.Inet.Peer
	}
	return e.Inet.Prefix.Addr()
}

// mask4 returns the IPv4 netmask of a prefix length, 255.255.255.0 for
// 24; a length out of 0..32 is clamped.
func mask4(bits int) netip.Addr {
	m := ^uint32(0) << (32 - min(max(bits, 0), 32))
	return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, m)))
}

// ListOptions say which rows Reader.List returns and what it reads.
type ListOptions struct {
	// All keeps the interfaces that are not up (netstat -ia); without it
	// only those with FlagUp are listed, as netstat -i does.
	All bool
	// Links reads each row's link attributes into Entry.Link: one more
	// rtnetlink dump on the live system, sysfs reads under a root.
	Links bool
}

// List returns the interfaces as net-tools 2.10 lists them (if_readlist:
// /proc/net/dev, then SIOCGIFCONF): the interfaces of Interfaces, then an
// alias row for every label of an IPv4 address that names none of them
// (see AppendAliases), in net-tools' order (see Sort), each with its
// addresses (Addrs) and, with opts.Links, its link (Links).
//
// Both results may be non-empty: rows that cannot be parsed are reported
// as *ParseError and the others are listed; the errors of the three
// reads are joined in that order, an error that a later read repeats
// (under a root Links reads proc/net/dev again) only once. When no
// interface could be read and proc/net/dev itself failed (not a bad row),
// List returns nil and that error without reading addresses.
func (r *Reader) List(opts ListOptions) ([]Entry, error) {
	ifs, err := r.AppendInterfaces(nil)
	errs := appendErr(nil, err)
	if len(ifs) == 0 && slices.ContainsFunc(errs, isFailure) {
		return nil, errors.Join(errs...)
	}
	addrs, err := r.Addrs()
	errs = appendErr(errs, err)
	var links []Link
	if opts.Links {
		links, err = r.Links()
		for _, e := range appendErr(nil, err) {
			if !slices.ContainsFunc(errs, func(p error) bool { return p.Error() == e.Error() }) {
				errs = append(errs, e)
			}
		}
	}
	return entries(ifs, addrs, links, opts.All), errors.Join(errs...)
}

// entries builds List's rows from what it read.
func entries(ifs []Interface, addrs []Addr, links []Link, all bool) []Entry {
	ifs, added := AppendAliases(ifs, addrs)
	byName := make(map[string]*Link, len(links))
	for i := range links {
		byName[links[i].Name] = &links[i]
	}
	out := make([]Entry, 0, len(ifs))
	for _, ifc := range Sort(ifs) {
		if !all && !ifc.Flags.Has(FlagUp) {
			continue
		}
		e := Entry{Interface: ifc, Alias: slices.Contains(added, ifc.Name), Link: byName[ifc.Name]}
		if parent, _, ok := strings.Cut(ifc.Name, ":"); ok && e.Link == nil {
			e.Link = byName[parent]
		}
		for _, a := range addrs {
			switch {
			case a.Prefix.Addr().Is4() && a.Label == ifc.Name && !e.HasInet():
				e.Inet = a
			case a.Prefix.Addr().Is6() && a.Iface == ifc.Name:
				e.Inet6 = append(e.Inet6, a)
			}
		}
		out = append(out, e)
	}
	return out
}

// isFailure reports whether err is a failure to read rather than a row
// that could not be parsed.
func isFailure(err error) bool {
	var pe *ParseError
	return !errors.As(err, &pe)
}

// ScopeNames returns the names ifconfig prints for an IPv6 address's
// ScopeID, in its order (ife_print_long): "compat" for an
// IPv4-compatible address, then "global" for scope 0, "link", "site",
// "host". For an IPv4 address it returns ["global"].
func (a Addr) ScopeNames() []string {
	scope := a.ScopeID()
	var names []string
	if scope&v6ScopeCompat != 0 {
		names = append(names, "compat")
		scope &^= v6ScopeCompat
	}
	if scope == 0 {
		names = append(names, "global")
	}
	for _, s := range [...]struct {
		bit  int
		name string
	}{{v6ScopeLink, "link"}, {v6ScopeSite, "site"}, {v6ScopeHost, "host"}} {
		if scope&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	return names
}
