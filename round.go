package procnet

// round.go holds a Poller's round kept compact: the rows coded as they
// are read, compared compact against compact, and decoded one at a time
// for whoever shows them (Poller.PollRound); Poll decodes them all.

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"iter"
	"net/netip"
	"slices"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Round is one poll's rows kept compact, as the Poller keeps the last
// one: about 70 bytes an Internet row where a Conn takes 192. Its rows
// are in the order read (the order Poll's Snapshot has them in, which
// Changes index); Conns and Unix decode them one at a time. A Round does
// not change once returned and may be kept.
type Round struct {
	// Procs maps the owners' PIDs to their details; nil without owners.
	// Use Round.Process, which also knows the processes the Poller
	// remembered for TIME_WAIT rows.
	Procs *procmap.Map
	// Namespaces and Skipped are as in Snapshot.
	Namespaces []netstat.Namespace
	Skipped    Skipped

	rows    *last
	carried map[int]*procmap.Process
}

// Len returns how many Internet rows the round has.
func (r *Round) Len() int { return len(r.rows.conns) }

// UnixLen returns how many unix rows the round has.
func (r *Round) UnixLen() int { return len(r.rows.unix) }

// Process returns the details of an owner of one of the round's rows,
// nil if unknown.
func (r *Round) Process(pid int) *procmap.Process {
	if p := r.Procs.Process(pid); p != nil {
		return p
	}
	return r.carried[pid]
}

// inetRows and unixRows make a Round Rows (never nil: see noRows): its
// rows decoded one at a time.
func (r *Round) inetRows() (int, iter.Seq2[int, *Conn]) {
	return r.Len(), r.Conns()
}

func (r *Round) unixRows() (int, iter.Seq2[int, *UnixConn]) {
	return r.UnixLen(), r.Unix()
}

// Conns yields the Internet rows in order with their index. The Conn and
// its Owners are reused: they are valid until the loop goes on.
func (r *Round) Conns() iter.Seq2[int, *Conn] {
	return func(yield func(int, *Conn) bool) {
		var c Conn
		var owners []procmap.Owner
		for i := range r.rows.conns {
			owners = r.rows.decodeConn(&c, i, owners[:0])
			if !yield(i, &c) {
				return
			}
		}
	}
}

// Unix yields the unix rows in order with their index. The UnixConn and
// its Owners are reused: they are valid until the loop goes on.
func (r *Round) Unix() iter.Seq2[int, *UnixConn] {
	return func(yield func(int, *UnixConn) bool) {
		var u UnixConn
		var owners []procmap.Owner
		for i := range r.rows.unix {
			owners = r.rows.decodeUnix(&u, i, owners[:0])
			if !yield(i, &u) {
				return
			}
		}
	}
}

// PollRound is Poll without the Snapshot: the rows are coded compact as
// they are read and compared compact against the last round's, and the
// Round returned decodes them one at a time. A watch that renders each
// row once holds about a third of what a Snapshot's rows take. Changes
// index the Round's rows as they would a Snapshot's; a quiet poll
// (Changes.Quiet) returns no Round.
func (p *Poller) PollRound(ctx context.Context) (*Round, Changes, error) {
	rd, ch, errs, err := p.poll(ctx)
	if err != nil {
		return nil, Changes{}, err
	}
	return rd, ch, errors.Join(errs...)
}

// poll reads a round compact and compares it with the last. With a feed
// it first drains its events (a quiet poll returns no Round, Changes.Quiet
// and the feed's error among errs), and last meters the round and finds
// its brief connections (feed.go).
func (p *Poller) poll(ctx context.Context) (*Round, Changes, []error, error) {
	r, o := p.r, &p.r.opts
	quiet, feedErr := p.drain() // feed.go
	if quiet {
		return nil, Changes{Quiet: true}, []error{feedErr}, nil
	}
	spaces, denied, err := r.namespaces()
	if err != nil {
		return nil, Changes{}, nil, err
	}
	rd := &Round{Namespaces: spaces, Skipped: Skipped{Denied: denied}}
	f := o.Filter
	cur := &last{}
	// About as many rows as last time (the first time, as many as the
	// kernel counts): one allocation, not the append growth's.
	if l := p.last; l != nil {
		cur.conns = make([]lastConn, 0, len(l.conns)+len(l.conns)/16+16)
		if o.Unix {
			cur.unix = make([]lastUnix, 0, len(l.unix)+len(l.unix)/16+16)
		}
	} else if n := r.kernelRows(spaces, f); n > 0 {
		cur.conns = make([]lastConn, 0, n+n/16+16)
	}
	// The rows' details less their owners, which come after the reading.
	var raw, uraw []byte
	if l := p.last; l != nil {
		raw = make([]byte, 0, len(l.detail)/2+64)
	}
	errs, err := r.readCompact(ctx, rd, cur, &raw, &uraw, f, o.Unix)
	if err != nil {
		return nil, Changes{}, nil, err
	}
	errs = append([]error{feedErr}, errs...)
	// Until the details with owners are made below, the rows' offsets
	// point into raw: comparing rows reads their high halves there.
	cur.detail = raw
	var m *procmap.Map
	if p.tracker != nil {
		// Straight from the rows: the Tracker copies them into its own
		// set, kept from round to round (no map of them each round).
		inodes := func(yield func(uint64) bool) {
			for i := range cur.conns {
				if ino := cur.conns[i].inode; ino != 0 && !yield(ino) {
					return
				}
			}
			for i := range cur.unix {
				if !yield(cur.unix[i].inode) {
					return
				}
			}
		}
		if m, err = p.tracker.Refresh(ctx, inodes); err != nil {
			return nil, Changes{}, nil, err
		}
		rd.Procs = m
	}

	order := cur.sortConns()
	// A row without owners and inode (TIME_WAIT) takes those its
	// connection had at the last poll, decoded into one array. Without
	// such a row this match (the diff below makes its own) is skipped.
	var carried map[int32][]procmap.Owner
	if l := p.last; l != nil && m != nil && slices.ContainsFunc(cur.conns, func(c lastConn) bool { return c.inode == 0 }) {
		var pool []procmap.Owner
		var took, from []int32 // rows of cur, where their owners start in pool
		matchCompact(l, cur, order, func(i, j int) {
			if i >= 0 && j >= 0 && cur.conns[j].inode == 0 {
				if n := len(pool); l.connOwners(&pool, i) > 0 {
					took, from = append(took, int32(j)), append(from, int32(n))
				}
			}
		})
		for k, j := range took {
			end := len(pool)
			if k+1 < len(took) {
				end = int(from[k+1])
			}
			if carried == nil {
				carried = map[int32][]procmap.Owner{}
			}
			carried[j] = pool[from[k]:end:end]
			rd.carried = carryProcs(rd.carried, m, carried[j], l)
		}
	}
	owners := func(ino uint64, j int) []procmap.Owner {
		if ow := carried[int32(j)]; ow != nil {
			return ow
		}
		return m.Lookup(ino)
	}
	// The details with their owners, in the form last.store writes; rows
	// the process filters drop go.
	filter := o.ownerFilter()
	cur.detail = make([]byte, 0, len(raw)+len(uraw)+4*(len(cur.conns)+len(cur.unix)))
	kept := 0
	for j := range cur.conns {
		c := cur.conns[j]
		ow := owners(c.inode, j)
		if filter && !o.ownedBy(ow, rd) {
			continue
		}
		d := raw[c.detail:]
		if j+1 < len(cur.conns) {
			d = raw[c.detail:cur.conns[j+1].detail]
		}
		// The high halves and the bits, then the owners, then the rest.
		h := c.wideLen()
		_, n := binary.Uvarint(d[h:])
		c.detail = uint32(len(cur.detail))
		cur.detail = append(cur.detail, d[:h+n]...)
		cur.detail = appendOwners(cur.detail, ow)
		cur.detail = append(cur.detail, d[h+n:]...)
		cur.conns[kept] = c
		kept++
	}
	cur.conns = cur.conns[:kept]
	kept = 0
	for j := range cur.unix {
		u := cur.unix[j]
		ow := m.Lookup(u.inode)
		if filter && !o.ownedBy(ow, rd) {
			continue
		}
		d := uraw[u.detail:]
		if j+1 < len(cur.unix) {
			d = uraw[u.detail:cur.unix[j+1].detail]
		}
		u.detail = uint32(len(cur.detail))
		cur.detail = appendOwners(cur.detail, ow)
		cur.detail = append(cur.detail, d...)
		cur.unix[kept] = u
		kept++
	}
	cur.unix = cur.unix[:kept]
	if filter {
		order = cur.sortConns()
	}
	uorder := cur.sortUnix()
	cur.order, cur.uorder = order, uorder
	if m != nil {
		cur.procs = m.Procs
	}
	cur.carried = rd.carried

	var ch Changes
	if l := p.last; l != nil {
		at := make([]int32, max(len(l.conns), len(l.unix))) // a last row's new index, -1: closed
		matchCompact(l, cur, order, func(i, j int) {
			if i < 0 {
				ch.New = append(ch.New, j)
				return
			}
			if at[i] = int32(j); j >= 0 && l.conns[i].state != cur.conns[j].state {
				ch.Changed = append(ch.Changed, StateChange{Index: j, Was: l.conns[i].state})
			}
		})
		placeClosed(at[:len(l.conns)], func(i, after int) {
			c := l.conn(i)
			ch.Closed = append(ch.Closed, c)
			ch.ClosedAfter = append(ch.ClosedAfter, after)
			ch.carry(c.Owners, l)
		})
		matchUnixCompact(l, cur, func(i, j int) {
			if i < 0 {
				ch.NewUnix = append(ch.NewUnix, j)
				return
			}
			if at[i] = int32(j); j >= 0 && l.unix[i].state != cur.unix[j].state {
				ch.ChangedUnix = append(ch.ChangedUnix, UnixStateChange{Index: j, Was: l.unix[i].state})
			}
		})
		placeClosed(at[:len(l.unix)], func(i, after int) {
			u := l.unixConn(i)
			ch.ClosedUnix = append(ch.ClosedUnix, u)
			ch.ClosedUnixAfter = append(ch.ClosedUnixAfter, after)
			ch.carry(u.Owners, l)
		})
		slices.Sort(ch.New)
		slices.SortFunc(ch.Changed, func(a, b StateChange) int { return cmp.Compare(a.Index, b.Index) })
		slices.Sort(ch.NewUnix)
		slices.SortFunc(ch.ChangedUnix, func(a, b UnixStateChange) int { return cmp.Compare(a.Index, b.Index) })
	}
	// What closed is out: the new round is the last.
	p.last = cur
	rd.rows = cur
	p.afterPoll(rd.Len(), rd.Conns(), rd, &ch) // feed.go
	return rd, ch, errs, nil
}

// carryProcs adds to carried the details of owners that m lacks, from the
// last round.
func carryProcs(carried map[int]*procmap.Process, m *procmap.Map, owners []procmap.Owner, from *last) map[int]*procmap.Process {
	for _, o := range owners {
		if m.Process(o.PID) != nil {
			continue
		}
		if p := from.process(o.PID); p != nil {
			if carried == nil {
				carried = map[int]*procmap.Process{}
			}
			carried[o.PID] = p
		}
	}
	return carried
}

// readCompact reads the tables as readRows does into cur's rows, their
// details less owners in *raw and *uraw (the offsets in the rows').
func (r *Reader) readCompact(ctx context.Context, rd *Round, cur *last, raw, uraw *[]byte, f netstat.Filter, unix bool) ([]error, error) {
	var errs []error
	err := r.each(ctx, rd.Namespaces, &rd.Skipped.Unread, func(ns *netstat.Namespace) (func(), bool) {
		n, nu, nr, nur := len(cur.conns), len(cur.unix), len(*raw), len(*uraw)
		k := cur.spaceIndex(ns)
		for s, err := range r.sockets(ctx, f) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cur.conns, *raw = keepConn(cur.conns, *raw, &s, k)
		}
		if unix {
			for u, err := range r.unixSockets(ctx, f) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				cur.unix = append(cur.unix, lastUnix{inode: u.Inode, detail: uint32(len(*uraw)), ns: k, state: u.State})
				*uraw = appendUnixFields(*uraw, &u)
			}
		}
		return func() {
			cur.conns, cur.unix, *raw, *uraw = cur.conns[:n], cur.unix[:nu], (*raw)[:nr], (*uraw)[:nur]
		}, true
	})
	return errs, err
}

// spaceIndex returns 1 + the index of ns in l.spaces, adding it, 0 for
// nil.
func (l *last) spaceIndex(ns *netstat.Namespace) uint32 {
	if ns == nil {
		return 0
	}
	i := slices.Index(l.spaces, ns)
	if i < 0 {
		i = len(l.spaces)
		l.spaces = append(l.spaces, ns)
	}
	return uint32(i) + 1
}

// compareRows orders two kept rows as compareEnds orders their ends, then
// by inode.
func (l *last) compareRows(a, b *lastConn) int {
	if a.ns != b.ns {
		if c := cmp.Compare(l.nsInode(a.ns), l.nsInode(b.ns)); c != 0 {
			return c
		}
	}
	alhi, arhi := l.his(a)
	blhi, brhi := l.his(b)
	return cmp.Or(cmp.Compare(a.proto, b.proto),
		compareEnd(a.kinds&0xf, alhi, a.llo, a.lport, b.kinds&0xf, blhi, b.llo, b.lport),
		compareEnd(a.kinds>>4, arhi, a.rlo, a.rport, b.kinds>>4, brhi, b.rlo, b.rport),
		cmp.Compare(a.inode, b.inode))
}

// sortConns returns the indices of l's Internet rows by ends, then inode.
func (l *last) sortConns() []int32 {
	order := make([]int32, len(l.conns))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return l.compareRows(&l.conns[x], &l.conns[y]) })
	return order
}

// sortUnix returns the indices of l's unix rows by namespace, then inode.
func (l *last) sortUnix() []int32 {
	order := make([]int32, len(l.unix))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		a, b := &l.unix[x], &l.unix[y]
		return cmp.Or(cmp.Compare(l.nsInode(a.ns), l.nsInode(b.ns)), cmp.Compare(a.inode, b.inode))
	})
	return order
}

// matchCompact is matchConns with the current rows kept compact too.
func matchCompact(prev, cur *last, curOrder []int32, fn func(i, j int)) {
	prevOrder := prev.order
	a, b := 0, 0
	var ra, rb []int32 // leftovers within one group of equal ends
	for a < len(prevOrder) || b < len(curOrder) {
		var c int
		var ea, eb ends
		if a < len(prevOrder) {
			ea = prev.ends(int(prevOrder[a]))
		}
		if b < len(curOrder) {
			eb = cur.ends(int(curOrder[b]))
		}
		switch {
		case a == len(prevOrder):
			c = 1
		case b == len(curOrder):
			c = -1
		default:
			c = compareEnds(ea, eb)
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
		za, zb := a+1, b+1
		for za < len(prevOrder) && compareEnds(ea, prev.ends(int(prevOrder[za]))) == 0 {
			za++
		}
		for zb < len(curOrder) && compareEnds(eb, cur.ends(int(curOrder[zb]))) == 0 {
			zb++
		}
		ra, rb = ra[:0], rb[:0]
		for a < za || b < zb {
			switch {
			case a == za:
				rb = append(rb, curOrder[b])
				b++
			case b == zb:
				ra = append(ra, prevOrder[a])
				a++
			default:
				x, y := prev.conns[prevOrder[a]].inode, cur.conns[curOrder[b]].inode
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
			if cur.conns[j].inode == 0 && k < len(ra) {
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

// matchUnixCompact is matchUnix with the current rows kept compact too.
func matchUnixCompact(prev, cur *last, fn func(i, j int)) {
	prevOrder, curOrder := prev.uorder, cur.uorder
	a, b := 0, 0
	for a < len(prevOrder) || b < len(curOrder) {
		var c int
		switch {
		case a == len(prevOrder):
			c = 1
		case b == len(curOrder):
			c = -1
		default:
			u, v := &prev.unix[prevOrder[a]], &cur.unix[curOrder[b]]
			c = cmp.Or(cmp.Compare(prev.nsInode(u.ns), cur.nsInode(v.ns)), cmp.Compare(u.inode, v.inode))
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

// appendSocketDetail is appendConnDetail less the owners, which poll
// puts after the bits once the Tracker has told them.
func appendSocketDetail(b []byte, s *netstat.Socket) []byte {
	vals := socketVals(s)
	var bits uint64
	for k, v := range vals {
		if v != 0 {
			bits |= 1 << k
		}
	}
	if s.Traffic.Known {
		bits |= dKnown
	}
	b = binary.AppendUvarint(b, bits)
	for _, v := range vals {
		if v != 0 {
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

// socketVals are the fields a lastConn leaves out, in the order of the
// d bits.
func socketVals(s *netstat.Socket) [12]uint64 {
	return [...]uint64{uint64(s.TxQueue), uint64(s.RxQueue), uint64(s.Timer), s.TimerTicks, uint64(s.Retransmits),
		uint64(s.Timeout), uint64(s.UID), s.Drops, s.Traffic.BytesSent, s.Traffic.BytesReceived,
		uint64(s.Traffic.SegsOut), uint64(s.Traffic.SegsIn)}
}

// appendUnixFields is appendUnixDetail less the owners, which come first.
func appendUnixFields(b []byte, u *netstat.UnixSocket) []byte {
	for _, v := range [...]uint64{uint64(u.RefCount), uint64(u.Protocol), uint64(u.Flags), uint64(u.Type), uint64(len(u.Path))} {
		b = binary.AppendUvarint(b, v)
	}
	return append(b, u.Path...)
}

// decodeConn sets *c to the kept Internet row i, its owners appended to
// owners (c.Owners, capped; nil if none), and returns owners.
func (l *last) decodeConn(c *Conn, i int, owners []procmap.Owner) []procmap.Owner {
	k := &l.conns[i]
	lhi, rhi := l.his(k)
	*c = Conn{Socket: netstat.Socket{Proto: k.proto, State: k.state, Inode: k.inode,
		Local:  netip.AddrPortFrom(keyAddr(k.kinds&0xf, lhi, k.llo), k.lport),
		Remote: netip.AddrPortFrom(keyAddr(k.kinds>>4, rhi, k.rlo), k.rport)},
		Namespace: l.namespace(k.ns)}
	d := detail(l.detail[int(k.detail)+k.wideLen():])
	bits := d.uvarint()
	n := len(owners)
	owners = d.owners(owners)
	if len(owners) > n {
		c.Owners = owners[n:len(owners):len(owners)]
	}
	var vals [12]uint64
	for j := range vals {
		if bits&(1<<j) != 0 {
			vals[j] = d.uvarint()
		}
	}
	s := &c.Socket
	s.TxQueue, s.RxQueue, s.Timer, s.TimerTicks = uint32(vals[0]), uint32(vals[1]), netstat.Timer(vals[2]), vals[3]
	s.Retransmits, s.Timeout, s.UID, s.Drops = uint32(vals[4]), uint32(vals[5]), uint32(vals[6]), vals[7]
	s.Traffic = netstat.Traffic{BytesSent: vals[8], BytesReceived: vals[9], SegsOut: uint32(vals[10]), SegsIn: uint32(vals[11]),
		Known: bits&dKnown != 0}
	return owners
}

// decodeUnix is decodeConn for a kept unix row.
func (l *last) decodeUnix(c *UnixConn, i int, owners []procmap.Owner) []procmap.Owner {
	k := &l.unix[i]
	*c = UnixConn{UnixSocket: netstat.UnixSocket{State: k.state, Inode: k.inode}, Namespace: l.namespace(k.ns)}
	d := detail(l.detail[k.detail:])
	n := len(owners)
	owners = d.owners(owners)
	if len(owners) > n {
		c.Owners = owners[n:len(owners):len(owners)]
	}
	u := &c.UnixSocket
	u.RefCount, u.Protocol, u.Flags, u.Type = uint32(d.uvarint()), uint32(d.uvarint()), netstat.UnixFlags(d.uvarint()), netstat.UnixType(d.uvarint())
	p := d.uvarint()
	u.Path = string(d[:p])
	return owners
}
