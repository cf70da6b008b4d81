package procnet

// poll.go holds the Poller: a snapshot each poll and what changed since
// the last, keeping one copy of the rows.

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"unsafe"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Changes says what changed between two polls.
type Changes struct {
	// New and Changed index the new snapshot's Conns: sockets not there
	// at the last poll, and sockets whose state changed (a connection
	// that fell to TIME_WAIT among them).
	New     []int
	Changed []StateChange
	// Closed are the rows of the last snapshot that are gone, in its
	// order, with the owners they had (Changes.Process describes them).
	// ClosedAfter places them among the new rows, for a listing that
	// shows a closed row where it was: ClosedAfter[k] is the index in the
	// new snapshot's Conns of the row that preceded Closed[k] in the last
	// snapshot (the nearest one still there), -1 if none did.
	Closed      []Conn
	ClosedAfter []int
	// The same for unix sockets, known by inode.
	NewUnix         []int
	ChangedUnix     []UnixStateChange
	ClosedUnix      []UnixConn
	ClosedUnixAfter []int

	// With a feed (Poller.StartFeed, SetFeed; feed.go):
	//
	// Brief are the connections that opened and closed since the last
	// poll, which no poll saw, sorted by protocol and ends; NewClosed
	// indexes the rows of New whose connection closed too (the TIME_WAIT
	// row such a connection left). Both are empty at the first poll.
	Brief     []BriefConn
	NewClosed []int
	// Traffic is each row's traffic (indexed like Conns; zero for rows
	// FeedOptions.Rows leaves out) and Owners each owner's, sorted by
	// rate, with FeedOptions.Traffic: see flows.Meter. Both are valid
	// until the next Poll.
	Traffic []flows.ConnTraffic
	Owners  []flows.OwnerTraffic
	// Quiet says nothing was read (FeedOptions.SkipQuiet): no event came
	// since the last poll, and Poll returned no snapshot.
	Quiet bool

	procs map[int]*procmap.Process // the owners of Closed and ClosedUnix
}

// StateChange is a socket of the new snapshot whose state changed.
type StateChange struct {
	Index int // in Snapshot.Conns
	Was   netstat.State
}

// UnixStateChange is a unix socket of the new snapshot whose state changed.
type UnixStateChange struct {
	Index int // in Snapshot.Unix
	Was   netstat.UnixState
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.New)+len(c.Changed)+len(c.Closed)+len(c.NewUnix)+len(c.ChangedUnix)+len(c.ClosedUnix)+len(c.Brief) == 0
}

// Process describes an owner of a closed row, nil if unknown.
func (c *Changes) Process(pid int) *procmap.Process { return c.procs[pid] }

// Poller reads a snapshot at each Poll and compares it with the last. It
// keeps the last snapshot (its rows, sorted by key through an index of
// 4 bytes per row) and a procmap.Tracker, nothing else between polls.
//
// A Poller is not safe for concurrent use.
type Poller struct {
	r       *Reader
	fd      feedState        // the feed and the meter (feed.go)
	tracker *procmap.Tracker // nil without owners
	prev    *Snapshot
	order   []int32 // prev.Conns by key
	uorder  []int32 // prev.Unix by key
}

// NewPoller returns a Poller reading with opts. Owners come from a
// procmap.Tracker (see its staleness bounds); set opts.Owners (or PIDs or
// Programs) to have them.
func NewPoller(opts Options) *Poller {
	p := &Poller{r: NewReader(opts)}
	if p.r.opts.owners() {
		p.tracker = procmap.NewTracker(p.r.opts.procmap())
	}
	return p
}

// Poll reads a snapshot and reports what changed since the last call. The
// first call reports no changes: there is nothing to compare with. A
// connection keeps its identity when it falls to TIME_WAIT (see the
// package documentation), and keeps the owners it had: its row in the new
// snapshot lists them, and Snapshot.Process describes them.
//
// With a feed (StartFeed, SetFeed) Poll first drains its events, whose
// bad records it reports beside the rows'; see FeedOptions. A quiet poll
// (Changes.Quiet) returns no snapshot and no error but the feed's.
//
// Rows that cannot be parsed are reported as for Reader.Snapshot. When
// Poll fails (ctx done, proc unreadable) the Poller keeps the last
// snapshot, to compare the next poll with.
func (p *Poller) Poll(ctx context.Context) (*Snapshot, Changes, error) {
	r, o := p.r, &p.r.opts
	quiet, feedErr := p.drain() // feed.go
	if quiet {
		return nil, Changes{Quiet: true}, feedErr
	}
	spaces, denied, err := r.namespaces()
	if err != nil {
		return nil, Changes{}, err
	}
	snap := &Snapshot{Namespaces: spaces, Skipped: Skipped{Denied: denied}}
	if p.prev != nil {
		// About as many rows as last time: one allocation instead of the
		// append growth's (1.25× steps at this size), whose garbage was
		// four times the rows and whose last step held them twice.
		snap.Conns = make([]Conn, 0, len(p.prev.Conns)+len(p.prev.Conns)/16+16)
		if o.Unix {
			snap.Unix = make([]UnixConn, 0, len(p.prev.Unix)+len(p.prev.Unix)/16+16)
		}
	}
	f := o.Filter
	errs, err := r.readRows(ctx, snap, f, o.Unix)
	if err != nil {
		return nil, Changes{}, err
	}
	errs = append([]error{feedErr}, errs...)
	if p.tracker != nil {
		inodes := make(map[uint64]bool, len(snap.Conns)+len(snap.Unix))
		for i := range snap.Conns {
			if ino := snap.Conns[i].Inode; ino != 0 {
				inodes[ino] = true
			}
		}
		for i := range snap.Unix {
			inodes[snap.Unix[i].Inode] = true
		}
		m, err := p.tracker.Refresh(ctx, inodes)
		if err != nil {
			return nil, Changes{}, err
		}
		snap.Procs = m
		for i := range snap.Conns {
			snap.Conns[i].Owners = m.Lookup(snap.Conns[i].Inode)
		}
		for i := range snap.Unix {
			snap.Unix[i].Owners = m.Lookup(snap.Unix[i].Inode)
		}
	}

	order := sortConns(snap.Conns)
	if p.prev != nil && p.tracker != nil {
		// A row without owners and inode (TIME_WAIT) takes those its
		// connection had at the last poll.
		prev := p.prev
		matchConns(prev.Conns, p.order, snap.Conns, order, func(i, j int) {
			if i < 0 || j < 0 {
				return
			}
			c, was := &snap.Conns[j], &prev.Conns[i]
			if c.Inode == 0 && len(c.Owners) == 0 && len(was.Owners) > 0 {
				c.Owners = was.Owners
				snap.carry(was.Owners, prev)
			}
		})
	}
	if o.ownerFilter() {
		snap.Conns = slices.DeleteFunc(snap.Conns, func(c Conn) bool { return !o.ownedBy(c.Owners, snap) })
		snap.Unix = slices.DeleteFunc(snap.Unix, func(c UnixConn) bool { return !o.ownedBy(c.Owners, snap) })
		order = sortConns(snap.Conns)
	}
	uorder := sortUnix(snap.Unix)

	var ch Changes
	if p.prev != nil {
		prev := p.prev
		at := make([]int32, max(len(prev.Conns), len(prev.Unix))) // a last row's new index, -1: closed
		matchConns(prev.Conns, p.order, snap.Conns, order, func(i, j int) {
			if i < 0 {
				ch.New = append(ch.New, j)
				return
			}
			if at[i] = int32(j); j >= 0 && prev.Conns[i].State != snap.Conns[j].State {
				ch.Changed = append(ch.Changed, StateChange{Index: j, Was: prev.Conns[i].State})
			}
		})
		placeClosed(at[:len(prev.Conns)], func(i, after int) {
			ch.Closed = append(ch.Closed, prev.Conns[i])
			ch.ClosedAfter = append(ch.ClosedAfter, after)
			ch.carry(prev.Conns[i].Owners, prev)
		})
		matchUnix(prev.Unix, p.uorder, snap.Unix, uorder, func(i, j int) {
			if i < 0 {
				ch.NewUnix = append(ch.NewUnix, j)
				return
			}
			if at[i] = int32(j); j >= 0 && prev.Unix[i].State != snap.Unix[j].State {
				ch.ChangedUnix = append(ch.ChangedUnix, UnixStateChange{Index: j, Was: prev.Unix[i].State})
			}
		})
		placeClosed(at[:len(prev.Unix)], func(i, after int) {
			ch.ClosedUnix = append(ch.ClosedUnix, prev.Unix[i])
			ch.ClosedUnixAfter = append(ch.ClosedUnixAfter, after)
			ch.carry(prev.Unix[i].Owners, prev)
		})
		slices.Sort(ch.New)
		slices.SortFunc(ch.Changed, func(a, b StateChange) int { return cmp.Compare(a.Index, b.Index) })
		slices.Sort(ch.NewUnix)
		slices.SortFunc(ch.ChangedUnix, func(a, b UnixStateChange) int { return cmp.Compare(a.Index, b.Index) })
	}
	p.afterPoll(snap, &ch) // feed.go
	p.prev, p.order, p.uorder = snap, order, uorder
	return snap, ch, errors.Join(errs...)
}

// placeClosed calls closed(i, after) for each last row i that at marks
// closed (-1), in the last snapshot's order, with after the new index of
// the nearest row before it still there (-1: none).
func placeClosed(at []int32, closed func(i, after int)) {
	after := -1
	for i, j := range at {
		if j >= 0 {
			after = int(j)
			continue
		}
		closed(i, after)
	}
}

// carry remembers the details of owners that snap's Procs may lack.
func (s *Snapshot) carry(owners []procmap.Owner, from *Snapshot) {
	for _, o := range owners {
		if s.Procs.Process(o.PID) != nil {
			continue
		}
		if p := from.Process(o.PID); p != nil {
			if s.carried == nil {
				s.carried = map[int]*procmap.Process{}
			}
			s.carried[o.PID] = p
		}
	}
}

func (c *Changes) carry(owners []procmap.Owner, from *Snapshot) {
	for _, o := range owners {
		if p := from.Process(o.PID); p != nil {
			if c.procs == nil {
				c.procs = map[int]*procmap.Process{}
			}
			c.procs[o.PID] = p
		}
	}
}

// A connection's key is its namespace, protocol and ends; among rows with
// the same ends (SO_REUSEPORT listeners) the inode tells them apart.
func compareEnds(a, b *Conn) int {
	if c := cmp.Compare(nsInode(a.Namespace), nsInode(b.Namespace)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
		return c
	}
	if c := a.Local.Compare(b.Local); c != 0 {
		return c
	}
	return a.Remote.Compare(b.Remote)
}

func nsInode(ns *netstat.Namespace) uint64 {
	if ns == nil {
		return 0
	}
	return ns.Inode
}

// sortConns returns the indices of conns sorted by ends, then inode.
func sortConns(conns []Conn) []int32 {
	order := make([]int32, len(conns))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		a, b := &conns[x], &conns[y]
		return cmp.Or(compareEnds(a, b), cmp.Compare(a.Inode, b.Inode))
	})
	return order
}

// matchConns walks prev and cur in key order and calls fn(i, j) for each
// pair of rows that are one connection (i in prev, j in cur), fn(-1, j)
// for a new row and fn(i, -1) for a closed one. Among rows with the same
// ends, equal inodes pair first; then each remaining current row with
// inode 0 (TIME_WAIT) pairs with a remaining previous row, in inode order:
// the connection it was.
func matchConns(prev []Conn, prevOrder []int32, cur []Conn, curOrder []int32, fn func(i, j int)) {
	a, b := 0, 0
	var ra, rb []int32 // leftovers within one group of equal ends
	for a < len(prevOrder) || b < len(curOrder) {
		var c int
		switch {
		case a == len(prevOrder):
			c = 1
		case b == len(curOrder):
			c = -1
		default:
			c = compareEnds(&prev[prevOrder[a]], &cur[curOrder[b]])
		}
		if c < 0 {
			fn(int(prevOrder[a]), -1)
			a++
			continue
		}
		if c > 0 {
			fn(-1, int(curOrder[b]))
			b++
			continue
		}
		// One group of equal ends on each side.
		ea, eb := a+1, b+1
		for ea < len(prevOrder) && compareEnds(&prev[prevOrder[a]], &prev[prevOrder[ea]]) == 0 {
			ea++
		}
		for eb < len(curOrder) && compareEnds(&cur[curOrder[b]], &cur[curOrder[eb]]) == 0 {
			eb++
		}
		ra, rb = ra[:0], rb[:0]
		for a < ea || b < eb {
			switch {
			case a == ea:
				rb = append(rb, curOrder[b])
				b++
			case b == eb:
				ra = append(ra, prevOrder[a])
				a++
			default:
				x, y := prev[prevOrder[a]].Inode, cur[curOrder[b]].Inode
				switch {
				case x == y:
					fn(int(prevOrder[a]), int(curOrder[b]))
					a++
					b++
				case x < y:
					ra = append(ra, prevOrder[a])
					a++
				default:
					rb = append(rb, curOrder[b])
					b++
				}
			}
		}
		k := 0
		for _, j := range rb {
			if cur[j].Inode == 0 && k < len(ra) {
				fn(int(ra[k]), int(j))
				k++
				continue
			}
			fn(-1, int(j))
		}
		for _, i := range ra[k:] {
			fn(int(i), -1)
		}
	}
}

// sortUnix returns the indices of conns sorted by namespace, then inode.
func sortUnix(conns []UnixConn) []int32 {
	order := make([]int32, len(conns))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return compareUnix(&conns[x], &conns[y]) })
	return order
}

func compareUnix(a, b *UnixConn) int {
	return cmp.Or(cmp.Compare(nsInode(a.Namespace), nsInode(b.Namespace)), cmp.Compare(a.Inode, b.Inode))
}

// matchUnix is matchConns for unix sockets, known by inode.
func matchUnix(prev []UnixConn, prevOrder []int32, cur []UnixConn, curOrder []int32, fn func(i, j int)) {
	a, b := 0, 0
	for a < len(prevOrder) || b < len(curOrder) {
		var c int
		switch {
		case a == len(prevOrder):
			c = 1
		case b == len(curOrder):
			c = -1
		default:
			c = compareUnix(&prev[prevOrder[a]], &cur[curOrder[b]])
		}
		switch {
		case c < 0:
			fn(int(prevOrder[a]), -1)
			a++
		case c > 0:
			fn(-1, int(curOrder[b]))
			b++
		default:
			fn(int(prevOrder[a]), int(curOrder[b]))
			a++
			b++
		}
	}
}

// sizeofConn is the size of one row in a Snapshot.
const sizeofConn = unsafe.Sizeof(Conn{})
