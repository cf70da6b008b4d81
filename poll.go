package procnet

// poll.go holds the Poller: a snapshot each poll and what changed since
// the last, keeping of the last round only what the next compares with;
// round.go reads and compares the rounds compact.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/procfile"
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
// keeps a procmap.Tracker and, of the last snapshot, what the next poll
// needs (see last): each row's key and state, and the rest of the row
// (owners, queues, timers, counters, a unix socket's path) coded in a few
// bytes for the rows that will have closed — about 70 bytes per Internet
// row, where a Conn and its index are 196. The snapshots Poll returns are
// the caller's: the Poller does not hold them.
//
// A Poller is not safe for concurrent use.
type Poller struct {
	r       *Reader
	fd      feedState        // the feed and the meter (feed.go)
	tracker *procmap.Tracker // nil without owners
	last    *last            // nil before the first poll
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
// Poll fails (ctx done, proc unreadable) the Poller keeps what it knew of
// the last snapshot, to compare the next poll with.
func (p *Poller) Poll(ctx context.Context) (*Snapshot, Changes, error) {
	rd, ch, errs, err := p.poll(ctx)
	if err != nil {
		return nil, Changes{}, err
	}
	if ch.Quiet {
		return nil, ch, errors.Join(errs...)
	}
	snap := &Snapshot{Procs: rd.Procs, Namespaces: rd.Namespaces, Skipped: rd.Skipped, carried: rd.carried}
	l := rd.rows
	// Owners as the Map has them (shared), a TIME_WAIT row's remembered
	// ones decoded.
	var buf []procmap.Owner
	snap.Conns = make([]Conn, len(l.conns))
	for i := range snap.Conns {
		c := &snap.Conns[i]
		buf = l.decodeConn(c, i, buf[:0])
		if c.Inode != 0 {
			c.Owners = rd.Procs.Lookup(c.Inode)
		} else {
			c.Owners = slices.Clone(c.Owners)
		}
	}
	if len(l.unix) > 0 {
		snap.Unix = make([]UnixConn, len(l.unix))
	}
	for i := range snap.Unix {
		u := &snap.Unix[i]
		buf = l.decodeUnix(u, i, buf[:0])
		u.Owners = rd.Procs.Lookup(u.Inode)
	}
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

func (c *Changes) carry(owners []procmap.Owner, from *last) {
	for _, o := range owners {
		if p := from.process(o.PID); p != nil {
			if c.procs == nil {
				c.procs = map[int]*procmap.Process{}
			}
			c.procs[o.PID] = p
		}
	}
}

// A connection's key is its namespace, protocol and ends; among rows with
// the same ends (SO_REUSEPORT listeners) the inode tells them apart. An
// end compares as netip.AddrPort.Compare does, less the zone (the tables
// have none): the kind of address, its 16 bytes, the port.
type ends struct {
	ns           uint64
	proto        netstat.Proto
	lkind, rkind uint8
	lport, rport uint16
	lhi, llo     uint64
	rhi, rlo     uint64
}

// addrKey is an address as a key: its kind (0 none, 1 IPv4, 2 IPv6,
// ordered as netip orders them) and its 16 bytes.
func addrKey(a netip.Addr) (kind uint8, hi, lo uint64) {
	switch {
	case a.Is4():
		kind = 1
	case a.Is6():
		kind = 2
	default:
		return 0, 0, 0
	}
	b := a.As16()
	return kind, binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// keyAddr is the address addrKey made a key of.
func keyAddr(kind uint8, hi, lo uint64) netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	switch kind {
	case 1:
		return netip.AddrFrom4([4]byte(b[12:]))
	case 2:
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

func endsOf(c *Conn) ends {
	e := ends{ns: nsInode(c.Namespace), proto: c.Proto, lport: c.Local.Port(), rport: c.Remote.Port()}
	e.lkind, e.lhi, e.llo = addrKey(c.Local.Addr())
	e.rkind, e.rhi, e.rlo = addrKey(c.Remote.Addr())
	return e
}

func compareEnds(a, b ends) int {
	if a.ns != b.ns {
		return cmp.Compare(a.ns, b.ns)
	}
	if a.proto != b.proto {
		return cmp.Compare(a.proto, b.proto)
	}
	if c := compareEnd(a.lkind, a.lhi, a.llo, a.lport, b.lkind, b.lhi, b.llo, b.lport); c != 0 {
		return c
	}
	return compareEnd(a.rkind, a.rhi, a.rlo, a.rport, b.rkind, b.rhi, b.rlo, b.rport)
}

func compareEnd(k uint8, hi, lo uint64, port uint16, k2 uint8, hi2, lo2 uint64, port2 uint16) int {
	switch {
	case k != k2:
		return cmp.Compare(k, k2)
	case hi != hi2:
		return cmp.Compare(hi, hi2)
	case lo != lo2:
		return cmp.Compare(lo, lo2)
	}
	return cmp.Compare(port, port2)
}

func nsInode(ns *netstat.Namespace) uint64 {
	if ns == nil {
		return 0
	}
	return ns.Inode
}

// last is what a Poller keeps of the last snapshot. Its rows are in the
// snapshot's order, order and uorder list them by key. Each row keeps
// its key and state (what matching and the state changes read, 40 bytes
// for an Internet row, 24 for a unix one); the rest — owners, queues,
// timers, counters, a unix path — is coded in detail, read back only for
// a TIME_WAIT row's owners and for the rows that closed.
type last struct {
	conns         []lastConn
	unix          []lastUnix
	order, uorder []int32
	detail        []byte
	// spaces are the rows' namespaces (lastConn.ns - 1 indexes it): the
	// last snapshot's, which its closed rows point into again.
	spaces []*netstat.Namespace
	// procs and carried describe the rows' owners (Snapshot.Process).
	procs, carried map[int]*procmap.Process
}

// lastConn is a kept Internet row. Of its addresses (addrKey) it holds
// the low halves; a high half is 0 but for an IPv6 address outside
// ::/64 (IPv4 is kept as ::ffff:a.b.c.d, loopback is ::1). A high half
// that is not 0 starts the row's detail (8 bytes big endian, the local
// one first), and wide says which: 16 bytes a row fewer for most rows.
type lastConn struct {
	llo, rlo     uint64
	inode        uint64
	detail       uint32 // the offset of the rest in last.detail
	ns           uint32 // 1 + the index of the namespace in last.spaces, 0: none
	lport, rport uint16
	proto        netstat.Proto
	state        netstat.State
	kinds        uint8 // the local address's kind in the low nibble, the remote's in the high
	wide         uint8 // wideLocal, wideRemote: which high halves detail starts with
}

// The bits of lastConn.wide.
const (
	wideLocal = 1 << iota
	wideRemote
)

// his returns c's high halves, which l.detail holds at c.detail when
// not 0.
func (l *last) his(c *lastConn) (lhi, rhi uint64) {
	if c.wide == 0 {
		return 0, 0
	}
	d := l.detail[c.detail:]
	if c.wide&wideLocal != 0 {
		lhi, d = binary.BigEndian.Uint64(d), d[8:]
	}
	if c.wide&wideRemote != 0 {
		rhi = binary.BigEndian.Uint64(d)
	}
	return lhi, rhi
}

// wideLen is how many bytes of high halves c's detail starts with.
func (c *lastConn) wideLen() int {
	return 8 * bits.OnesCount8(c.wide)
}

// keepConn appends s, read in the namespace ns (last.spaceIndex), to
// conns, and to raw its high halves and appendSocketDetail's coding: a
// row as a poll reads it, its owners still to come.
func keepConn(conns []lastConn, raw []byte, s *netstat.Socket, ns uint32) ([]lastConn, []byte) {
	lkind, lhi, llo := addrKey(s.Local.Addr())
	rkind, rhi, rlo := addrKey(s.Remote.Addr())
	c := lastConn{llo: llo, rlo: rlo, inode: s.Inode, detail: uint32(len(raw)), ns: ns,
		lport: s.Local.Port(), rport: s.Remote.Port(), proto: s.Proto, state: s.State, kinds: lkind | rkind<<4}
	if lhi != 0 {
		c.wide |= wideLocal
		raw = binary.BigEndian.AppendUint64(raw, lhi)
	}
	if rhi != 0 {
		c.wide |= wideRemote
		raw = binary.BigEndian.AppendUint64(raw, rhi)
	}
	return append(conns, c), appendSocketDetail(raw, s)
}

// lastUnix is a kept unix row.
type lastUnix struct {
	inode  uint64
	detail uint32
	ns     uint32
	state  netstat.UnixState
}

func (l *last) nsInode(ns uint32) uint64 {
	if ns == 0 {
		return 0
	}
	return l.spaces[ns-1].Inode
}

func (l *last) namespace(ns uint32) *netstat.Namespace {
	if ns == 0 {
		return nil
	}
	return l.spaces[ns-1]
}

func (l *last) ends(i int) ends {
	c := &l.conns[i]
	lhi, rhi := l.his(c)
	return ends{ns: l.nsInode(c.ns), proto: c.proto, lport: c.lport, rport: c.rport,
		lkind: c.kinds & 0xf, lhi: lhi, llo: c.llo, rkind: c.kinds >> 4, rhi: rhi, rlo: c.rlo}
}

func (l *last) process(pid int) *procmap.Process {
	if p := l.procs[pid]; p != nil {
		return p
	}
	return l.carried[pid]
}

// The fields of a Socket that a lastConn leaves out, in the order of the
// bits that say which are not zero.
const (
	dTxQueue = 1 << iota
	dRxQueue
	dTimer
	dTimerTicks
	dRetransmits
	dTimeout
	dUID
	dDrops
	dBytesSent
	dBytesReceived
	dSegsOut
	dSegsIn
	dKnown // Traffic.Known, no value
)

// appendOwners codes owners: their number, then each PID and fd as
// varints.
func appendOwners(b []byte, owners []procmap.Owner) []byte {
	b = binary.AppendUvarint(b, uint64(len(owners)))
	for _, o := range owners {
		b = binary.AppendVarint(b, int64(o.PID))
		b = binary.AppendVarint(b, int64(o.FD))
	}
	return b
}

// detail reads what appendConnDetail and friends coded; the Poller wrote
// it, so it is not checked.
type detail []byte

func (d *detail) uvarint() uint64 {
	v, n := binary.Uvarint(*d)
	*d = (*d)[n:]
	return v
}

func (d *detail) varint() int64 {
	v, n := binary.Varint(*d)
	*d = (*d)[n:]
	return v
}

// owners appends the coded owners to dst.
func (d *detail) owners(dst []procmap.Owner) []procmap.Owner {
	for n := d.uvarint(); n > 0; n-- {
		pid := d.varint()
		dst = append(dst, procmap.Owner{PID: int(pid), FD: int(d.varint())})
	}
	return dst
}

// connOwners appends the owners of the last poll's Internet row i to
// *dst and returns how many it had.
func (l *last) connOwners(dst *[]procmap.Owner, i int) int {
	c := &l.conns[i]
	d := detail(l.detail[int(c.detail)+c.wideLen():])
	d.uvarint()
	n := len(*dst)
	*dst = d.owners(*dst)
	return len(*dst) - n
}

// conn returns the last poll's Internet row i whole.
func (l *last) conn(i int) Conn {
	var c Conn
	l.decodeConn(&c, i, nil)
	return c
}

// unixConn returns the last poll's unix row i whole.
func (l *last) unixConn(i int) UnixConn {
	var u UnixConn
	l.decodeUnix(&u, i, nil)
	return u
}

// kernelRows returns how many rows of the tables f selects the kernel
// counts in the namespaces to read (proc/net/sockstat and sockstat6:
// each table's inuse, and TCP's tw), 0 when f narrows the rows (states,
// ports, inodes) or nothing could be read: the size of a first poll.
func (r *Reader) kernelRows(spaces []netstat.Namespace, f netstat.Filter) int {
	if f.States != 0 || len(f.Ports)+len(f.LocalPorts)+len(f.RemotePorts) > 0 || f.Inodes != nil {
		return 0
	}
	dirs := []string{"proc/net"}
	if r.opts.nsMode() {
		dirs = dirs[:0]
		for i := range spaces {
			if len(spaces[i].PIDs) > 0 {
				dirs = append(dirs, "proc/"+strconv.Itoa(spaces[i].PIDs[0])+"/net")
			}
		}
	}
	var n [numCounts]int
	for _, dir := range dirs {
		for _, name := range [...]string{dir + "/sockstat", dir + "/sockstat6"} {
			if fh, err := procfile.Open(r.opts.Root, name); err == nil {
				data, _ := io.ReadAll(io.LimitReader(fh, 1<<16))
				fh.Close()
				parseSockstat(name, data, &n) // a bad line only sizes less
			}
		}
	}
	rows := 0
	for p := netstat.TCP; p <= netstat.Raw6; p++ {
		if f.Protos.Has(p) {
			rows += n[p]
		}
	}
	if f.Protos.Has(netstat.TCP) || f.Protos.Has(netstat.TCP6) {
		rows += n[timeWaits]
	}
	return rows
}

// The counts parseSockstat adds up: sockets in use by netstat.Proto, and
// TCP's TIME_WAIT sockets (IPv4 and IPv6).
const (
	timeWaits = iota + int(netstat.Raw6) + 1
	numCounts
)

// parseSockstat adds the counts of a sockstat or sockstat6 file to n:
// each line "NAME: key value key value ...", of which it reads the inuse
// of TCP, UDP, UDPLITE, RAW and their 6 forms, and TCP's tw. A malformed
// line is an error naming name and the line; the other lines still count.
func parseSockstat(name string, data []byte, n *[numCounts]int) error {
	var errs []error
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		head, rest, ok := bytes.Cut(line, []byte(":"))
		fields := bytes.Fields(rest)
		if !ok || len(fields)%2 != 0 {
			errs = append(errs, fmt.Errorf("%s:%d: not a name and key-value pairs", name, i+1))
			continue
		}
		p, _ := netstat.ParseProto(strings.ToLower(string(head)))
		for k := 0; k < len(fields); k += 2 {
			key := string(fields[k])
			slot := -1
			switch {
			case key == "inuse" && p != 0:
				slot = int(p)
			case key == "tw" && p == netstat.TCP:
				slot = timeWaits
			default:
				continue
			}
			v, err := strconv.ParseUint(string(fields[k+1]), 10, 31)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %s %q: %w", name, i+1, key, fields[k+1], err))
				continue
			}
			n[slot] = min(n[slot]+int(v), 1<<31)
		}
	}
	return errors.Join(errs...)
}

// sizeofConn is the size of one row in a Snapshot.
const sizeofConn = unsafe.Sizeof(Conn{})
