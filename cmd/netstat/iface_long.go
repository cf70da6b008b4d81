package main

// -ie: net-tools 2.10's long interface listing (ife_print_long, the
// ifconfig layout). This file only renders: iface reads.
//
// net-tools asks the kernel with ioctls; here the values come from the
// iface package, which reads the live system, a fixture tree and a
// capture alike:
//
//	flags, mtu           Interface (as -i)
//	hardware line        Link: type, address, tx queue length
//	inet line            the first IPv4 Addr labelled with the name (what
//	                     SIOCGIFADDR answers: the primary address)
//	inet6 lines          the IPv6 Addrs of the interface, in
//	                     proc/net/if_inet6's order (as net-tools)
//	RX/TX lines          Interface's counters (proc/net/dev)
//
// On the live system links and addresses come from rtnetlink, so every
// IPv4 address is known; under a root they are derived from proc/net
// (iface.Reader.Addrs says how, README.md "-ie" what that cannot show).

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/procnet/procnet/iface"
)

// longDetails is what the long listing needs beyond iface.Interface.
type longDetails struct {
	links map[string]*iface.Link
}

// readLong reads the link attributes. Bad rows are reported as
// *iface.ParseError (the listing goes on); a file that cannot be read is
// returned as an error.
func (l *ifLister) readLong() (*longDetails, error) {
	links, err := l.r.Links()
	d := &longDetails{links: make(map[string]*iface.Link, len(links))}
	for i := range links {
		d.links[links[i].Name] = &links[i]
	}
	var errs []error
	if err != nil {
		errs = append(errs, splitJoined(err)...) // one level: report splits once
	}
	return d, errors.Join(errs...)
}

// link returns the link of name, or of its parent for an alias (eth0:1):
// SIOCGIFHWADDR and SIOCGIFTXQLEN answer the parent's for an alias.
func (d *longDetails) link(name string) *iface.Link {
	if k, ok := d.links[name]; ok {
		return k
	}
	if parent, _, ok := strings.Cut(name, ":"); ok {
		return d.links[parent]
	}
	return nil
}

// inet4Of is the address SIOCGIFADDR gives net-tools for name: the first
// IPv4 address whose label is name.
func inet4Of(addrs []iface.Addr, name string) (iface.Addr, bool) {
	for _, a := range addrs {
		if a.Label == name && a.Prefix.Addr().Is4() {
			return a, true
		}
	}
	return iface.Addr{}, false
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
var hwTypes = map[iface.HWType]hwType{
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

		if a, ok := inet4Of(l.addrs, f.Name); ok {
			b = append(b, "        inet "...)
			b = a.Prefix.Addr().AppendTo(b)
			b = append(b, "  netmask "...)
			b = append(b, mask4(a.Prefix.Bits())...)
			if f.Flags.Has(iface.FlagBroadcast) {
				b = append(b, "  broadcast "...)
				if a.Broadcast.IsValid() {
					b = a.Broadcast.AppendTo(b)
				} else {
					b = append(b, "0.0.0.0"...)
				}
			}
			if f.Flags.Has(iface.FlagPointToPoint) {
				// SIOCGIFDSTADDR: the peer, or without one the address
				// itself.
				b = append(b, "  destination "...)
				if a.Peer.IsValid() {
					b = a.Peer.AppendTo(b)
				} else {
					b = a.Prefix.Addr().AppendTo(b)
				}
			}
			b = append(b, '\n')
		}
		for _, a := range l.addrs {
			if a.Iface != f.Name || !a.Prefix.Addr().Is6() {
				continue
			}
			b = append(b, "        inet6 "...)
			b = append(b, ntop6(a.Prefix.Addr())...)
			b = append(b, "  prefixlen "...)
			b = strconv.AppendInt(b, int64(a.Prefix.Bits()), 10)
			b = append(b, "  scopeid 0x"...)
			scope := a.ScopeID()
			b = strconv.AppendInt(b, int64(scope), 16)
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

		t := unspecHW
		var hwAddr []byte
		txq := -1
		if k := d.link(f.Name); k != nil {
			if ht, ok := hwTypes[k.Type]; ok {
				t = ht
			}
			hwAddr, txq = k.HardwareAddr, k.TxQueueLen
		}
		b = append(b, "        "...)
		b = append(b, t.name...)
		switch t.print {
		case "ether":
			b = append(b, ' ')
			b = appendHW(b, hwAddr, 6, "%02x", ':')
		case "ib":
			b = append(b, ' ')
			b = appendHW(b, hwAddr, 20, "%02X", ':')
		case "unspec":
			// net-tools copies 8 bytes of the address and prints 16.
			b = append(b, ' ')
			b = appendHW(b, hwAddr[:min(len(hwAddr), 8)], 16, "%02X", '-')
		case "empty":
			b = append(b, ' ')
		}
		if txq >= 0 {
			b = append(b, "  txqueuelen "...)
			b = strconv.AppendInt(b, int64(txq), 10)
		}
		b = append(b, "  ("...)
		b = append(b, t.title...)
		b = append(b, ")\n"...)
		if l.noStats[f.Name] {
			// An alias of SIOCGIFCONF that proc/net/dev does not list:
			// net-tools has no statistics to print.
			b = append(b, '\n')
			continue
		}

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
