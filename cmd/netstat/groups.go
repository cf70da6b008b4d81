package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"

	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/internal/escape"
)

// readGroups reads -g's memberships (the library parses proc/net/igmp
// and igmp6) and reports its errors as net-tools would: a missing igmp
// is "no support" and exit status 1; a bad row is reported and skipped.
func (l *lister) readGroups(stderr io.Writer) ([]iface.Group, error) {
	r := iface.Reader{Root: l.c.root}
	gs, err := r.Groups()
	var failed error
	for _, e := range splitJoined(err) {
		if !errors.Is(e, fs.ErrNotExist) {
			failed = cmp.Or(report(stderr, e), failed)
		} else if l.c.groups4 { // a missing igmp6 is no IPv6
			fmt.Fprintln(stderr, "netstat: no support for `AF INET (igmp)' on this system.")
			failed = exitError{1}
		}
	}
	kept := gs[:0]
	for _, g := range gs {
		if g.Addr.Is4() && l.c.groups4 || g.Addr.Is6() && l.c.groups6 {
			kept = append(kept, g)
		}
	}
	if !l.c.numHosts {
		addrs := make([]netip.Addr, 0, len(kept))
		for _, g := range kept {
			addrs = append(addrs, g.Addr)
		}
		l.names.Resolve(context.Background(), addrs)
	}
	return kept, failed
}

// appendGroups appends net-tools' -g table: "%-15s %-6d %s", the group
// named as a host unless -n.
func (l *lister) appendGroups(b []byte, gs []iface.Group) []byte {
	b = append(b, "IPv6/IPv4 Group Memberships\n"+
		"Interface       RefCnt Group\n"+
		"--------------- ------ ---------------------\n"...)
	for _, g := range gs {
		name := g.Addr.String()
		if !l.c.numHosts {
			if n := l.names.Host(g.Addr); n != "" {
				name = escape.String(n)
			}
		}
		b = pad(b, escape.String(g.Interface), 15)
		b = fmt.Appendf(b, " %-6d %s\n", g.Users, name)
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
