package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"strconv"

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
		if e == nil {
			continue
		}
		var pe *iface.ParseError
		switch {
		case errors.Is(e, fs.ErrNotExist) && l.c.groups4:
			fmt.Fprintln(stderr, "netstat: no support for `AF INET (igmp)' on this system.")
			failed = exitError{1}
		case errors.As(e, &pe):
			fmt.Fprintf(stderr, "netstat: %s\n", escape.String(e.Error()))
		case errors.Is(e, fs.ErrNotExist):
		default:
			fmt.Fprintf(stderr, "netstat: %s\n", escape.String(e.Error()))
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
		l.names.prefetch(addrs)
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
		b = pad(b, escape.String(g.Interface), 15)
		b = append(b, ' ')
		b = pad(b, strconv.FormatUint(uint64(g.Users), 10), 6)
		b = append(b, ' ')
		name := ""
		if !l.c.numHosts {
			name = l.names.host(g.Addr)
		}
		if name == "" {
			b = g.Addr.AppendTo(b)
		} else {
			b = escape.Append(b, name)
		}
		b = append(b, '\n')
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
