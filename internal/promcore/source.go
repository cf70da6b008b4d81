package promcore

// source.go is the one place the collector meets the library: read hands
// one scrape's sockets, each with its owners and namespace, to a sink.
// When the root package's streaming Conns lands, only this file changes.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// sink receives what read reads. Rows come between begin and end, one
// namespace at a time; end(false) drops that namespace's rows (its member
// left it while they were read).
type sink interface {
	owners(m *procmap.Map) // once, before any row; never with NoOwners
	begin(ns *netstat.Namespace)
	inet(s *netstat.Socket, owners []procmap.Owner)
	unix(u *netstat.UnixSocket, owners []procmap.Owner)
	end(keep bool)
}

// read reads the sockets of one scrape through r (the collector's, for its
// buffers) and streams them to k: the owners first (one walk of every
// process, socket inodes being unique across namespaces), then each
// namespace's tables row by row, so that no listing of the rows is held.
// Each error met (a table that cannot be read, a bad row) goes to report
// and the read goes on; when proc itself cannot be read, nothing is sent.
func read(ctx context.Context, r *netstat.Reader, o *Options, report func(error), k sink) {
	r.Root, r.PID, r.NoRetransmits = o.Root, 0, true
	defer func() { r.PID = 0 }()
	var list []netstat.Namespace
	if o.AllNetns {
		var err error
		if list, err = netstat.Namespaces(o.Root); err != nil {
			report(err)
			return
		}
	}
	var m *procmap.Map
	if !o.NoOwners {
		var err error
		if m, err = procmap.Build(ctx, procmap.Options{Root: o.Root, Cmdline: o.Cmdline}); err != nil {
			report(err)
			return
		}
		k.owners(m)
	}
	lookup := func(inode uint64) []procmap.Owner {
		if m == nil {
			return nil
		}
		return m.Lookup(inode)
	}
	scan := func(ns *netstat.Namespace, report func(error)) {
		k.begin(ns)
		for s, err := range r.Sockets(ctx, o.Filter) {
			if err != nil {
				report(err)
				continue
			}
			k.inet(&s, lookup(s.Inode))
		}
		f := &o.Filter
		if o.NoUnix || f.States != 0 || len(f.Ports) > 0 || len(f.LocalPorts) > 0 || len(f.RemotePorts) > 0 {
			return
		}
		for u, err := range r.UnixSockets(ctx) {
			if err != nil {
				report(err)
				continue
			}
			if f.Inodes == nil || f.Inodes[u.Inode] {
				k.unix(&u, lookup(u.Inode))
			}
		}
	}
	if !o.AllNetns {
		r.PID = o.PID
		scan(nil, report)
		k.end(true)
		return
	}
	root := o.Root
	if root == "" {
		root = "/"
	}
	for i := range list {
		ns := &list[i]
		// Through the first member still alive, and still in the
		// namespace once its tables are read.
		for _, pid := range ns.PIDs {
			if fi, err := os.Stat(filepath.Join(root, "proc", strconv.Itoa(pid), "net")); err != nil || !fi.IsDir() {
				continue
			}
			r.PID = pid
			var errs []error
			scan(ns, func(err error) { errs = append(errs, err) })
			now, err := netstat.NamespaceOf(o.Root, pid)
			keep := err == nil && now.Inode == ns.Inode
			k.end(keep)
			if !keep {
				continue // exited (or left) while we read
			}
			for _, err := range errs {
				report(err)
			}
			ns.PID = pid
			break
		}
	}
}
