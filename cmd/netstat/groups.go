package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"slices"

	"github.com/procnet/procnet/iface"
)

// readGroups reads -g's memberships of the families asked for (the
// library parses proc/net/igmp and igmp6) and reports its errors as
// net-tools would: a missing igmp is "no support" and exit status 1; a
// bad row is reported and skipped.
func (l *lister) readGroups(stderr io.Writer) ([]iface.Group, error) {
	gs, err := iface.Groups(l.c.root)
	var failed error
	for _, e := range splitJoined(err) {
		if !errors.Is(e, fs.ErrNotExist) {
			failed = cmp.Or(report(stderr, e), failed)
		} else if l.c.groups4 { // a missing igmp6 is no IPv6
			fmt.Fprintln(stderr, "netstat: no support for `AF INET (igmp)' on this system.")
			failed = exitError{1}
		}
	}
	gs = slices.DeleteFunc(gs, func(g iface.Group) bool { return !l.c.groups4 && g.Addr.Is4() || !l.c.groups6 && g.Addr.Is6() })
	if !l.c.numHosts {
		addrs := make([]netip.Addr, len(gs))
		for i, g := range gs {
			addrs[i] = g.Addr
		}
		l.names.Resolve(context.Background(), addrs)
	}
	return gs, failed
}

// appendGroups appends net-tools' -g table: "%-15s %-6d %s", the group
// named as a host unless -n (names are escaped by the library).
func (l *lister) appendGroups(b []byte, gs []iface.Group) []byte {
	b = append(b, "IPv6/IPv4 Group Memberships\n"+
		"Interface       RefCnt Group\n"+
		"--------------- ------ ---------------------\n"...)
	for _, g := range gs {
		b = pad(b, sanitize(g.Interface), 15)
		b = fmt.Appendf(b, " %-6d %s\n", g.Users, hostName(l.names, l.c.numHosts, g.Addr))
	}
	return b
}

// groupsEvery is -g -c: the table, then again every interval, until a
// write fails or a table does.
func groupsEvery(c *config, stdout, stderr io.Writer) error {
	l := newLister(c)
	return c.every(func() (bool, error) {
		gs, err := l.readGroups(stderr)
		if _, werr := stdout.Write(l.appendGroups(nil, gs)); werr != nil {
			return true, werr
		}
		return err != nil, err
	})
}
