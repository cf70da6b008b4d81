package netstat

import (
	"context"
	"errors"

	"github.com/procnet/procnet/internal/latewant"
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
// The owners are found beside the table scan. When f narrows the listing
// and opts names no inodes, the scan's inodes are handed to procmap.Build
// as they become known: the BPF source reads every
// fd beside the scan, then keeps those sockets and reads only their
// owners' details (ports, inodes or states narrow); the /proc walk waits
// for them and stops as soon as each has an owner, so that a socket shared
// by several processes may then show only the first found (ports or
// inodes narrow; a state filter alone leaves the walk whole).
// opts.Root defaults to the Reader's Root. Reading another namespace
// (PID set) still walks every process of the root's proc.
//
// When ctx is done, ListOwned stops both passes and returns ctx.Err().
func (r *Reader) ListOwned(ctx context.Context, f Filter, opts procmap.Options) ([]Owned, *procmap.Map, error) {
	return r.ListOwnedAlso(ctx, f, opts, nil)
}

// ListOwnedAlso is ListOwned whose map also holds the owners of the
// inodes in also: sockets the caller lists beside the rows, such as the
// unix sockets of UnixSockets. When ListOwned narrows the owner pass to
// the scan's inodes it keeps these too; without also, m.Lookup of a
// socket that is not one of the rows may find no owner.
func (r *Reader) ListOwnedAlso(ctx context.Context, f Filter, opts procmap.Options, also map[uint64]bool) ([]Owned, *procmap.Map, error) {
	if opts.Root == "" {
		opts.Root = r.Root
	}
	// Few rows (ports, inodes) are worth a walk that stops early; a
	// state filter (listeners) only saves the BPF source the details
	// of the other sockets' owners, and the walk keeps every owner.
	few := len(f.Ports) > 0 || len(f.LocalPorts) > 0 || len(f.RemotePorts) > 0 || f.Inodes != nil
	var found chan map[uint64]bool
	bctx := ctx
	if (few || f.States != 0) && opts.Inodes == nil {
		found = make(chan map[uint64]bool, 1) // Build may never ask
		bctx = latewant.NewContext(ctx, latewant.Want{
			Inodes: func() map[uint64]bool {
				select {
				case w := <-found:
					return w
				case <-ctx.Done():
					return nil
				}
			},
			BPFOnly: !few,
		})
	}
	type result struct {
		m   *procmap.Map
		err error
	}
	walk := make(chan result, 1)
	go func() {
		m, err := procmap.Build(bctx, opts)
		walk <- result{m, err}
	}()
	// Rows go straight into the result: one copy of the listing, not two.
	var out []Owned
	var errs []error
	for s, err := range r.Sockets(ctx, f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Owned{Socket: s})
	}
	scanErr := errors.Join(errs...)
	if found != nil {
		want := make(map[uint64]bool, len(out)+len(also))
		for ino, ok := range also {
			if ok && ino != 0 {
				want[ino] = true
			}
		}
		for i := range out {
			if out[i].Inode != 0 {
				want[out[i].Inode] = true
			}
		}
		found <- want
	}
	res := <-walk
	m, err := res.m, res.err
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, nil, err
	}
	for i := range out {
		out[i].Owners = m.Lookup(out[i].Inode)
	}
	return out, m, scanErr
}
