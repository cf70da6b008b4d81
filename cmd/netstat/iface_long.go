package main

// -ie: net-tools 2.10's long interface listing (ife_print_long, the
// ifconfig layout). This file only renders: iface reads.
//
// net-tools asks the kernel with ioctls; here every value comes from an
// iface.Entry (iface.Reader.List), read from the live system, a fixture
// tree or a capture alike: flags and mtu as -i, the hardware line from
// Entry.Link, the inet line from Entry.Inet (what SIOCGIFADDR answers),
// its netmask, broadcast and destination from the Entry methods of those
// names, the inet6 lines from Entry.Inet6, RX/TX from the counters. Under
// a root IPv4 addresses are derived from proc/net (iface.Reader.Addrs
// says how, README.md "-ie" what that cannot show).

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/procnet/procnet/iface"
)

// appendLong writes the long listing of list: "Kernel Interface table"
// on the first round only (net-tools prints it once), then one block per
// interface, each ended by a blank line.
func appendLong(b []byte, list []iface.Entry, first bool) []byte {
	if first {
		b = append(b, "Kernel Interface table\n"...)
	}
	for i := range list {
		f := &list[i]
		// net-tools keeps the flags in a short: the bits above 15
		// (LOWER_UP, DORMANT) are lost, bit 15 (DYNAMIC) makes it negative.
		fl := iface.Flags(uint16(f.Flags))
		b = fmt.Appendf(b, "%s: flags=%d%s  mtu %d\n", sanitize(f.Name), int16(fl), bracket(fl.Names(), fl == 0), f.MTU)
		if f.HasInet() {
			b = fmt.Appendf(b, "        inet %s  netmask %s", f.Inet.Prefix.Addr(), f.Netmask())
			if a := f.Broadcast(); a.IsValid() {
				b = fmt.Appendf(b, "  broadcast %s", a)
			}
			if a := f.Destination(); a.IsValid() {
				b = fmt.Appendf(b, "  destination %s", a)
			}
			b = append(b, '\n')
		}
		for _, a := range f.Inet6 {
			b = fmt.Appendf(b, "        inet6 %s  prefixlen %d  scopeid 0x%x%s\n", a.NetToolsText(),
				a.Prefix.Bits(), a.ScopeID(), bracket(a.ScopeNames(), false))
		}

		// Without a link net-tools' ioctls fail: the unspec type, zeros.
		k := cmp.Or(f.Link, &iface.Link{TxQueueLen: -1})
		name, title := k.Type.NetTools()
		b = append(append(b, "        "...), name...)
		if addr, ok := k.NetToolsAddr(); ok {
			b = append(append(b, ' '), addr...)
		}
		if k.TxQueueLen >= 0 {
			b = fmt.Appendf(b, "  txqueuelen %d", k.TxQueueLen)
		}
		b = fmt.Appendf(b, "  (%s)\n", title)
		if f.Alias {
			// An alias of SIOCGIFCONF that proc/net/dev does not list:
			// net-tools has no statistics to print.
			b = append(b, '\n')
			continue
		}

		b = appendBytesLine(b, "RX", f.RxPackets, f.RxBytes)
		compress := k.Type == iface.HWCSLIP || k.Type == iface.HWCSLIP6
		if compress {
			b = fmt.Appendf(b, "        RX compressed:%d\n", f.RxCompressed)
		}
		b = fmt.Appendf(b, "        RX errors %d  dropped %d  overruns %d  frame %d\n",
			f.RxErrs, f.RxDrop, f.RxFifo, f.RxFrame)
		b = appendBytesLine(b, "TX", f.TxPackets, f.TxBytes)
		if compress {
			b = fmt.Appendf(b, "        TX compressed %d\n", f.TxCompressed)
		}
		b = fmt.Appendf(b, "        TX errors %d  dropped %d overruns %d  carrier %d  collisions %d\n\n",
			f.TxErrs, f.TxDrop, f.TxFifo, f.TxCarrier, f.TxColls)
	}
	return b
}

// bracket is how ife_print_long ends a list of names: "<A,B>"; with no
// name "<" when open (net-tools' "flags=0<"), else nothing.
func bracket(names []string, open bool) string {
	switch {
	case len(names) > 0:
		return "<" + strings.Join(names, ",") + ">"
	case open:
		return "<"
	}
	return ""
}

// appendBytesLine writes "        RX packets N  bytes N (1.5 KiB)".
func appendBytesLine(b []byte, dir string, packets, bytes uint64) []byte {
	return fmt.Appendf(b, "        %s packets %d  bytes %d (%s)\n", dir, packets, bytes, iface.NetToolsBytes(bytes))
}
