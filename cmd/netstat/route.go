package main

// -r: the kernel routing tables, as net-tools 2.10 prints them.
//
// --json and --csv write one object or record per route the table shows;
// the keys are listed in README.md ("-r --json"). Names are never
// resolved there: addresses stay numeric. In CSV the IPv4-only columns
// are empty in an IPv6 row, "source" in an IPv4 one.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/procnet/procnet/names"
	"github.com/procnet/procnet/route"
)

// routeFamilies lists the tables -r prints, as net-tools' route_info
// walks its afname list: one table per family named, in command-line
// order, repeats included (-r -6 -4 prints IPv6 first; -r -4 -4 prints
// IPv4 twice); "inet" when none was named. "unix" has no table.
func (c *config) routeFamilies() []string {
	if len(c.families) == 0 {
		return []string{"inet"}
	}
	return c.families
}

func routes(c *config, stdout, stderr io.Writer) error {
	var failed error
	tables := 0
	for _, f := range c.routeFamilies() {
		if f == "unix" {
			// net-tools says so, and prints the other families' tables.
			fmt.Fprintf(stderr, "netstat: no routing for address family `unix'\n")
			failed = exitError{1}
			continue
		}
		tables++
	}
	if tables == 0 {
		return failed // -r -x: nothing but the message
	}
	rt := &router{c: c, r: route.Reader{Root: c.root}, names: newNames(c.root, c.resolver, c.dnsTimeout)}
	return c.every(func() (bool, error) {
		b, err := rt.round(stderr)
		if _, werr := stdout.Write(b); werr != nil {
			return true, werr
		}
		return false, cmp.Or(err, failed)
	})
}

// every runs round once or, with -c, every interval until it says stop,
// and returns its last error: the -c loop of -r, -i, -s and -gc (the
// socket listing's, which signals end, is watch.go's).
func (c *config) every(round func() (stop bool, err error)) error {
	for {
		stop, err := round()
		if stop || !c.continuous {
			return err
		}
		sleep(c.interval)
	}
}

// sleep waits between rounds of -c; tests replace it.
var sleep = time.Sleep

// router keeps the reader, buffers and names between rounds of -c.
type router struct {
	c      *config
	r      route.Reader
	v4, v6 []route.Entry
	names  *names.Resolver
	buf    []byte
}

// round reads the tables and returns what this round prints.
func (rt *router) round(stderr io.Writer) ([]byte, error) {
	c := rt.c
	var failed, err error
	rt.v4 = rt.v4[:0]
	if slices.Contains(c.routeFamilies(), "inet") && !c.cache { // -C: the IPv4 cache has no rows (appendTable4)
		rt.v4, err = rt.r.AppendIPv4(rt.v4[:0])
		failed = report(stderr, err)
		rt.v4 = slices.DeleteFunc(rt.v4, func(e route.Entry) bool { return !e.Flags.Has(route.FlagUp) })
	}
	if slices.Contains(c.routeFamilies(), "inet6") {
		rt.v6, err = rt.r.AppendIPv6(rt.v6[:0])
		failed = cmp.Or(report(stderr, err), failed)
		// -C lists the cached routes, the FIB the others.
		rt.v6 = slices.DeleteFunc(rt.v6, func(e route.Entry) bool { return e.Flags.Has(route.FlagCache) != c.cache })
	}
	b := rt.buf[:0]
	switch {
	case c.csv || c.json:
		b = appendRecords(b, c.csv, rt.inOrder(), routeFields)
	default:
		if !c.numHosts {
			rt.prefetch()
		}
		for _, f := range c.routeFamilies() {
			switch f {
			case "inet":
				b = rt.appendTable4(b)
			case "inet6":
				b = rt.appendTable6(b)
			}
		}
	}
	rt.buf = b
	return b, failed
}

// inOrder returns the routes read, each family once, in the order the
// families were first named: the rows of --json and --csv.
func (rt *router) inOrder() []route.Entry {
	var out []route.Entry
	fams := rt.c.routeFamilies()
	for i, f := range fams {
		switch {
		case slices.Index(fams, f) < i: // named before
		case f == "inet":
			out = append(out, rt.v4...)
		case f == "inet6":
			out = append(out, rt.v6...)
		}
	}
	return out
}

// prefetch resolves, within the DNS budget, every address net-tools would
// look up as a host: gateways, host routes' destinations and every IPv6
// address. Network destinations are named from etc/networks only. The
// resolver skips repeats and unspecified addresses.
func (rt *router) prefetch() {
	var addrs []netip.Addr
	for _, e := range rt.v4 {
		if e.Flags.Has(route.FlagHost) {
			addrs = append(addrs, e.Dest.Addr())
		}
		addrs = append(addrs, e.Gateway)
	}
	for _, e := range rt.v6 {
		addrs = append(addrs, e.Dest.Addr(), e.Gateway)
	}
	rt.names.Resolve(context.Background(), addrs)
}

// host is a gateway, a host route's destination or an IPv6 address as
// net-tools' -r names it: as hostName (the resolver names no unspecified
// address), but the IPv6 unspecified address as "[::]" unless -n.
func (rt *router) host(a netip.Addr) string {
	if a == netip.IPv6Unspecified() && !rt.c.numHosts {
		return "[::]"
	}
	return hostName(rt.names, rt.c.numHosts, a)
}

// dest4 is the Destination column: "default" for 0.0.0.0 (without -n),
// a host name for a host route, a network name from etc/networks for a
// network route.
func (rt *router) dest4(e *route.Entry) string {
	a := e.Dest.Addr()
	switch {
	case rt.c.numHosts:
	case a.IsUnspecified():
		return "default"
	case e.Flags.Has(route.FlagHost):
		return rt.host(a)
	default:
		if n, _ := rt.names.Network(a); n != "" { // getnetbyaddr
			return n
		}
	}
	return a.String()
}

// columns4 are the columns after the addresses of the IPv4 table and
// cache, by the count of -e: the MSS layout by default, Metric/Ref/Use
// with -e, both with -ee (net-tools' ext 2, 1 and 3).
var columns4 = [...]string{
	"Flags   MSS Window  irtt Iface",
	"Flags Metric Ref    Use Iface",
	"Flags Metric Ref    Use Iface    MSS   Window irtt",
}

// appendTable4 writes `netstat -r` for IPv4.
func (rt *router) appendTable4(b []byte) []byte {
	columns := columns4[min(rt.c.extend, 2)]
	if rt.c.cache {
		// net-tools prints the rows of proc/net/rt_cache under this
		// header; the kernel has printed none there since Linux 3.6
		// removed the IPv4 routing cache (the file holds its header
		// alone).
		b = append(b, "Kernel IP routing cache\nSource          Destination     Gateway         "+columns...)
		if rt.c.extend > 1 {
			b = append(b, "  TOS HHRef HHUptod     SpecDst"...)
		}
		return append(b, '\n')
	}
	b = append(b, "Kernel IP routing table\nDestination     Gateway         Genmask         "+columns+"\n"...)
	for i := range rt.v4 {
		e := &rt.v4[i]
		reject := e.Flags.Has(route.FlagReject)
		gateway := "-"
		if !reject {
			gateway = cut(rt.host(e.Gateway), 15)
		}
		b = pad(b, cut(rt.dest4(e), 15), 15)
		b = append(b, ' ')
		b = pad(b, gateway, 15)
		b = append(b, ' ')
		b = pad(b, e.Genmask().String(), 15)
		b = append(b, ' ')
		b = pad(b, e.Flags.String(), 5)
		// net-tools prints the kernel's unsigned words with %d.
		metric, ref, use := int32(e.Metric), int32(e.RefCnt), int32(e.Use)
		mss, window, irtt := int32(e.MTU), int32(e.Window), int32(e.IRTT)
		iface := sanitize(cmp.Or(e.Iface, "*"))
		switch {
		case rt.c.extend == 0 && reject:
			b = append(b, "     - -          - -\n"...)
		case rt.c.extend == 0:
			b = fmt.Appendf(b, " %5d %-5d %6d %s\n", mss, window, irtt, iface)
		case reject:
			b = fmt.Appendf(b, " %-6d -  %7d -", metric, use)
			if rt.c.extend > 1 {
				b = append(b, "        -     -      -"...)
			}
			b = append(b, '\n')
		case rt.c.extend == 1:
			b = fmt.Appendf(b, " %-6d %-2d %7d %s\n", metric, ref, use, iface)
		default:
			b = fmt.Appendf(b, " %-6d %-3d %6d ", metric, ref, use)
			b = pad(b, cut(iface, 6), 6)
			b = fmt.Appendf(b, "   %-5d %-6d %d\n", mss, window, irtt)
		}
	}
	return b
}

// appendTable6 writes `netstat -r -6`: one layout whatever -e says.
func (rt *router) appendTable6(b []byte) []byte {
	title := "Kernel IPv6 routing table\n"
	if rt.c.cache {
		title = "Kernel IPv6 routing cache\n"
	}
	b = append(b, title+
		"Destination                    Next Hop                   Flag Met Ref  Use If\n"...)
	for i := range rt.v6 {
		e := &rt.v6[i]
		b = pad(b, rt.host(e.Dest.Addr())+"/"+strconv.Itoa(e.Dest.Bits()), 30)
		b = append(b, ' ')
		b = pad(b, rt.host(e.Gateway), 26)
		b = append(b, ' ')
		b = pad(b, e.Flags.String6(), 4)
		b = fmt.Appendf(b, " %-3d %-1d %6d %s\n", int32(e.Metric), int32(e.RefCnt), int32(e.Use), sanitize(e.Iface))
	}
	return b
}

// routeFields are a route's --json and --csv fields: the IPv4-only
// columns are left out of an IPv6 object, "source" out of an IPv4 one
// (empty CSV fields).
func routeFields(e *route.Entry) []field {
	v4, family := !e.Dest.Addr().Is6(), "inet6"
	if v4 {
		family = "inet"
	}
	num := func(key string, v uint32) field { return uintField(key, uint64(v)) }
	only := func(f field, keep bool) field {
		if !keep {
			f.val, f.kind = "", fAbsent
		}
		return f
	}
	return []field{
		textField("family", family), textField("destination", e.Dest.String()),
		textField("gateway", e.Gateway.String()), textField("flags", e.FlagString()),
		num("flag_bits", uint32(e.Flags)), num("metric", e.Metric),
		num("ref", e.RefCnt), num("use", e.Use), textField("iface", e.Iface),
		only(num("mss", e.MTU), v4), only(num("window", e.Window), v4), only(num("irtt", e.IRTT), v4),
		only(textField("source", e.Source.String()), !v4),
	}
}
