package metrics

// source.go is the one place the collector meets the library: read
// returns one scrape's sockets with their owners and namespaces. When the
// root package's Snapshot lands, only this file changes.

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// space is one network namespace's sockets, as the library gave them.
type space struct {
	ns   *netstat.Namespace // nil unless Options.AllNetns
	inet []netstat.Owned
	unix []netstat.UnixSocket
}

// scan is what one scrape read.
type scan struct {
	spaces []space
	procs  *procmap.Map // nil with Options.NoOwners
}

// unixOwners returns the owners of a unix socket.
func (s *scan) unixOwners(u *netstat.UnixSocket) []procmap.Owner {
	if s.procs == nil {
		return nil
	}
	return s.procs.Lookup(u.Inode)
}

// read reads the sockets of one scrape through r (the collector's, for
// its buffers). Each error met (a table that cannot be read, a bad row)
// is passed to report; the scan goes on. A nil scan means nothing could
// be read at all.
func read(r *netstat.Reader, o *Options, report func(error)) *scan {
	r.Root, r.PID, r.NoRetransmits = o.Root, 0, true
	popts := procmap.Options{Root: o.Root, Cmdline: o.Cmdline}
	if !o.AllNetns {
		r.PID = o.PID
		sp := space{}
		s := &scan{}
		if o.NoOwners {
			for sk, err := range r.Sockets(o.Filter) {
				if err != nil {
					report(err)
					continue
				}
				sp.inet = append(sp.inet, netstat.Owned{Socket: sk})
			}
		} else {
			owned, m, err := r.ListOwned(o.Filter, popts)
			if m == nil {
				report(err)
				return nil
			}
			eachError(err, report)
			sp.inet, s.procs = owned, m
		}
		sp.unix = readUnix(r, o, report)
		s.spaces = []space{sp}
		return s
	}

	list, err := netstat.Namespaces(o.Root)
	if err != nil {
		report(err)
		return nil
	}
	s := &scan{}
	if !o.NoOwners {
		// One walk for every namespace: socket inodes are unique
		// across namespaces.
		m, err := procmap.Build(popts)
		if err != nil {
			report(err)
			return nil
		}
		s.procs = m
	}
	defer func() { r.PID = 0 }()
	for i := range list {
		ns := &list[i]
		// Read through the first member still alive, and still in the
		// namespace once its tables are read.
		for _, pid := range ns.PIDs {
			if fi, err := os.Stat(filepath.Join(rootDir(o.Root), "proc", strconv.Itoa(pid), "net")); err != nil || !fi.IsDir() {
				continue
			}
			r.PID = pid
			sp := space{ns: ns}
			var errs []error
			for sk, err := range r.Sockets(o.Filter) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				sp.inet = append(sp.inet, netstat.Owned{Socket: sk, Owners: s.lookup(sk.Inode)})
			}
			sp.unix = readUnix(r, o, func(err error) { errs = append(errs, err) })
			if now, err := netstat.NamespaceOf(o.Root, pid); err != nil || now.Inode != ns.Inode {
				continue // exited (or left) while we read
			}
			for _, err := range errs {
				report(err)
			}
			ns.PID = pid
			s.spaces = append(s.spaces, sp)
			break
		}
	}
	return s
}

func (s *scan) lookup(inode uint64) []procmap.Owner {
	if s.procs == nil {
		return nil
	}
	return s.procs.Lookup(inode)
}

// readUnix reads the unix table unless the options leave it out (NoUnix,
// or a filter on ports or states, which unix sockets have none of).
func readUnix(r *netstat.Reader, o *Options, report func(error)) []netstat.UnixSocket {
	f := &o.Filter
	if o.NoUnix || f.States != 0 || len(f.Ports) > 0 || len(f.LocalPorts) > 0 || len(f.RemotePorts) > 0 {
		return nil
	}
	var out []netstat.UnixSocket
	for u, err := range r.UnixSockets() {
		if err != nil {
			report(err)
			continue
		}
		if f.Inodes == nil || f.Inodes[u.Inode] {
			out = append(out, u)
		}
	}
	return out
}

func rootDir(root string) string {
	if root == "" {
		return "/"
	}
	return root
}

// eachError calls fn for each error joined in err.
func eachError(err error, fn func(error)) {
	if err == nil {
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			fn(e)
		}
		return
	}
	fn(err)
}
