package netstat

import (
	"errors"

	"github.com/procnet/procnet/procmap"
)

// Owned is a socket and the processes holding it.
type Owned struct {
	Socket
	// Owners lists every (PID, fd) that refers to the socket, sorted by
	// PID then fd; empty for TIME_WAIT and request sockets (inode 0) and
	// for sockets no readable process holds.
	Owners []procmap.Owner
}

// ListOwned lists the sockets that pass f, each with its owners, and
// returns the owner map for the processes' details (m.Process(pid)).
//
// Finding owners means reading every process's fd table, which costs
// more than reading the socket tables; that is why it is a separate call.
// When f narrows the listing (ports or inodes), opts.Inodes is nil and
// owners come from the /proc walk, the walk stops as soon as every listed
// socket has an owner (a socket shared by several processes may then show
// only the first found); otherwise (procmap.Exhaustive) the owners are
// found concurrently with the table scan.
// opts.Root defaults to the Reader's Root. Reading another namespace
// (PID set) still walks every process of the root's proc.
func (r *Reader) ListOwned(f Filter, opts procmap.Options) ([]Owned, *procmap.Map, error) {
	if opts.Root == "" {
		opts.Root = r.Root
	}
	narrow := len(f.Ports) > 0 || len(f.LocalPorts) > 0 || len(f.RemotePorts) > 0 || f.Inodes != nil
	type result struct {
		m   *procmap.Map
		err error
	}
	// The owners are found beside the scan, except for a narrowed query
	// on the /proc walk, which waits for the scan's inodes to stop early
	// (m nil below). A source that finds every owner in one pass anyway
	// (BPF, procmap.Exhaustive) runs beside the scan, its load included.
	early := narrow && opts.Inodes == nil
	var walk chan result
	if !early || opts.Source != procmap.SourceProc {
		walk = make(chan result, 1)
		go func() {
			if early && !procmap.Exhaustive(opts) {
				walk <- result{}
				return
			}
			m, err := procmap.Build(opts)
			walk <- result{m, err}
		}()
	}
	// Rows go straight into the result: one copy of the listing, not two.
	var out []Owned
	var errs []error
	for s, err := range r.Sockets(f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Owned{Socket: s})
	}
	scanErr := errors.Join(errs...)
	var m *procmap.Map
	var err error
	if walk != nil {
		res := <-walk
		m, err = res.m, res.err
	}
	if m == nil && err == nil {
		opts.Inodes = make(map[uint64]bool, len(out))
		for i := range out {
			if out[i].Inode != 0 {
				opts.Inodes[out[i].Inode] = true
			}
		}
		m, err = procmap.Build(opts)
	}
	if err != nil {
		return nil, nil, err
	}
	for i := range out {
		out[i].Owners = m.Lookup(out[i].Inode)
	}
	return out, m, scanErr
}
