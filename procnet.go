package procnet

// procnet.go holds the types, the options and the Reader: one scan of the
// tables of every namespace asked for, joined with one owner pass.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/procnet/procnet/internal/latewant"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Options say what to read.
type Options struct {
	// Root is the directory holding proc/: "" or "/" for the live system,
	// a fixture tree or a container's root otherwise.
	Root string
	// Filter selects the Internet rows; it is applied inside the scan
	// (zero Protos: every table). Its Inodes also select the unix rows;
	// its ports and states do not apply to them.
	Filter netstat.Filter
	// Unix also reads the unix domain sockets (proc/net/unix).
	Unix bool
	// Owners finds the processes holding each socket.
	Owners bool
	// Cmdline reads each owner's argv (procmap.Process.Cmdline), which
	// Process.Name prefers to the kernel's 15-byte comm.
	Cmdline bool
	// PIDs and Programs keep only the sockets held by one of these
	// processes, or by a process whose comm, Name or argv[0]'s base name
	// is one of these programs. Either implies Owners.
	PIDs     []int
	Programs []string
	// AllNamespaces reads the tables of every network namespace a process
	// under Root is in (see netstat.Namespaces); NamespacePID, when
	// positive, reads that process's namespace only. Otherwise the tables
	// are those of proc/net: the caller's own namespace on the live
	// system.
	AllNamespaces bool
	NamespacePID  int
	// TableSource and OwnerSource choose how the tables and the owners
	// are read on the live system (netlink or proc, BPF or the /proc
	// walk); their zero values choose the fastest that works.
	TableSource netstat.Source
	OwnerSource procmap.Source
	// NoRetransmits leaves Socket.Retransmits and Timeout zero, which
	// spares the netlink source a tcp_info per TCP row.
	NoRetransmits bool
	// Traffic reads each TCP socket's byte and segment counters
	// (Socket.Traffic; see netstat.Reader.Traffic): from netlink's
	// tcp_info live, from a fixture's traffic file under a root.
	Traffic bool
	// Show keeps the servers or the connections only, by netstat's -l
	// rule; the zero value keeps every row.
	Show Show
}

// Show selects rows by net-tools netstat's -l/-a rule, which looks at the
// peer rather than at the state: a TCP row has a peer when its remote port
// is set, a UDP, UDP-Lite or raw row when its remote address is, and a
// unix socket is a server when it is an unconnected listener.
type Show uint8

const (
	// ShowAll keeps every row (netstat -a).
	ShowAll Show = iota
	// ShowConnected keeps the rows with a peer and the unix sockets that
	// are not servers (netstat without -l or -a).
	ShowConnected
	// ShowServers keeps the rows without a peer and the unix servers
	// (netstat -l).
	ShowServers
)

// Shows reports whether sh keeps s.
func (sh Show) Shows(s *netstat.Socket) bool {
	if sh == ShowAll {
		return true
	}
	var connected bool
	if s.Proto.IsTCP() {
		connected = s.Remote.Port() != 0
	} else {
		connected = !s.Remote.Addr().IsUnspecified()
	}
	return connected == (sh == ShowConnected)
}

// ShowsUnix reports whether sh keeps u.
func (sh Show) ShowsUnix(u *netstat.UnixSocket) bool {
	if sh == ShowAll {
		return true
	}
	server := u.State == netstat.Unconnected && u.Listening()
	return server == (sh == ShowServers)
}

// Filter narrows f to the rows sh can keep, so that the kernel skips the
// others instead of sending each to be dropped. Only LISTEN (TCP) and
// unconnected (Close: UDP, raw) sockets have no peer, so ShowServers reads
// those states alone. A TCP connect to port 0, in SYN_SENT until its
// reset, is the one row the rule would add (ss -l does not show it
// either). A States set with none of them is kept as it is: its rows all
// fail the rule.
func (sh Show) Filter(f netstat.Filter) netstat.Filter {
	if sh != ShowServers {
		return f
	}
	unconnected := netstat.States(netstat.Listen, netstat.Close)
	switch s := f.States & unconnected; {
	case f.States == 0:
		f.States = unconnected
	case s != 0:
		f.States = s
	}
	return f
}

func (o *Options) owners() bool      { return o.Owners || o.ownerFilter() }
func (o *Options) ownerFilter() bool { return len(o.PIDs) > 0 || len(o.Programs) > 0 }
func (o *Options) nsMode() bool      { return o.AllNamespaces || o.NamespacePID > 0 }

func (o *Options) procmap() procmap.Options {
	return procmap.Options{Root: o.Root, Cmdline: o.Cmdline, Source: o.OwnerSource}
}

// Conn is an Internet socket with its owners and namespace.
type Conn struct {
	netstat.Socket
	// Owners lists every (PID, fd) holding the socket, sorted by PID then
	// fd; nil without Options.Owners, for TIME_WAIT and request sockets
	// (inode 0, unless a Poller remembers the connection's owners) and
	// for sockets no readable process holds.
	Owners []procmap.Owner
	// Namespace is the network namespace whose tables hold the row; nil
	// when it cannot be told (a fixture without proc/self).
	Namespace *netstat.Namespace
}

// UnixConn is a unix domain socket with its owners and namespace.
type UnixConn struct {
	netstat.UnixSocket
	Owners    []procmap.Owner
	Namespace *netstat.Namespace
}

// Snapshot is what one read found.
type Snapshot struct {
	Conns []Conn
	Unix  []UnixConn
	// Procs maps the owners' PIDs to their details; nil without owners.
	// Use Snapshot.Process, which also knows the processes a Poller
	// remembered for TIME_WAIT rows.
	Procs *procmap.Map
	// Namespaces are the namespaces read, which the rows point into:
	// every one with AllNamespaces, that of NamespacePID, else the
	// caller's own (PID 0: read through proc/net) when proc/self/ns/net
	// tells it.
	Namespaces []netstat.Namespace
	// Skipped is what AllNamespaces could not read.
	Skipped Skipped

	carried map[int]*procmap.Process // owners a Poller remembered
}

// Skipped is what a read of every namespace (Options.AllNamespaces) left
// out.
type Skipped struct {
	// Denied counts the processes whose namespace the caller may not know
	// (another user's, without root): a namespace only they are in is
	// not read, and how many such there are cannot be told.
	Denied int
	// Unread lists the namespaces none of whose members' tables could be
	// read (all exited, or in a capture only as owners).
	Unread []uint64
}

// Err says what was left out and why: one error per cause (denied
// processes, unread namespaces, the first 8 of them listed), joined with
// errors.Join; nil when nothing was.
func (s Skipped) Err() error {
	var errs []error
	if s.Denied > 0 {
		errs = append(errs, fmt.Errorf("the network namespace of %d processes could not be read "+
			"(permission denied on proc/PID/ns/net: only their owner and root may read it); "+
			"namespaces only they are in are left out: run as root to see every namespace", s.Denied))
	}
	if n := len(s.Unread); n > 0 {
		var inodes []string // the first 8
		for _, ino := range s.Unread[:min(n, 8)] {
			inodes = append(inodes, strconv.FormatUint(ino, 10))
		}
		if n > 8 {
			inodes = append(inodes, "…")
		}
		errs = append(errs, fmt.Errorf("%d network namespaces left out: no member's tables could be read (proc/PID/net): %s",
			n, strings.Join(inodes, ", ")))
	}
	return errors.Join(errs...)
}

// Process returns the details of an owner of one of the snapshot's rows,
// nil if unknown.
func (s *Snapshot) Process(pid int) *procmap.Process {
	if p := s.Procs.Process(pid); p != nil {
		return p
	}
	return s.carried[pid]
}

// inetRows and unixRows make a Snapshot Rows (never nil: see noRows):
// its rows in place.
func (s *Snapshot) inetRows() (int, iter.Seq2[int, *Conn]) {
	return len(s.Conns), func(yield func(int, *Conn) bool) {
		for i := range s.Conns {
			if !yield(i, &s.Conns[i]) {
				return
			}
		}
	}
}

func (s *Snapshot) unixRows() (int, iter.Seq2[int, *UnixConn]) {
	return len(s.Unix), func(yield func(int, *UnixConn) bool) {
		for i := range s.Unix {
			if !yield(i, &s.Unix[i]) {
				return
			}
		}
	}
}

// ErrNoTables is the cause of the error that stops a read of
// NamespacePID's namespace when the process is gone, or has no tables of
// its own under the root.
var ErrNoTables = errors.New("the process is gone, or it has no tables here")

// Reader reads snapshots and streams for one set of Options, keeping its
// buffers between calls. It is not safe for concurrent use.
type Reader struct {
	opts   Options
	tables netstat.Reader
}

// NewReader returns a Reader for opts. The options are copied.
func NewReader(opts Options) *Reader {
	opts.PIDs = slices.Clone(opts.PIDs)
	opts.Programs = slices.Clone(opts.Programs)
	opts.Filter = opts.Show.Filter(opts.Filter)
	return &Reader{opts: opts, tables: netstat.Reader{Root: opts.Root, Source: opts.TableSource, NoRetransmits: opts.NoRetransmits, Traffic: opts.Traffic}}
}

// Read reads one snapshot with opts: NewReader(opts).Snapshot(ctx).
func Read(ctx context.Context, opts Options) (*Snapshot, error) {
	return NewReader(opts).Snapshot(ctx)
}

// namespaces lists the namespaces to read (outside the namespace modes,
// the caller's own when proc/self tells it) and, for AllNamespaces, how
// many processes' namespaces were denied.
func (r *Reader) namespaces() ([]netstat.Namespace, int, error) {
	o := &r.opts
	switch {
	case o.AllNamespaces:
		return netstat.NamespacesDenied(o.Root)
	case o.NamespacePID > 0:
		ns, err := netstat.NamespaceOf(o.Root, o.NamespacePID)
		if err != nil {
			return nil, 0, err
		}
		return []netstat.Namespace{ns}, 0, nil
	}
	if ino, ok := selfNetNS(o.Root); ok {
		return []netstat.Namespace{{Inode: ino}}, 0, nil
	}
	return nil, 0, nil
}

// selfNetNS reads proc/self/ns/net under root.
func selfNetNS(root string) (uint64, bool) {
	if root == "" {
		root = "/"
	}
	link, err := os.Readlink(filepath.Join(root, "proc/self/ns/net"))
	if err != nil {
		return 0, false
	}
	return netstat.ParseNetNSLink(link)
}

// hasTables reports whether proc/PID/net is a directory under root: a
// member that is gone, or in a capture only as an owner, has none.
func hasTables(root string, pid int) bool {
	if root == "" {
		root = "/"
	}
	fi, err := os.Stat(filepath.Join(root, "proc", strconv.Itoa(pid), "net"))
	return err == nil && fi.IsDir()
}

// stillIn reports whether pid is still in ns once its tables were read:
// if it exited (or left) meanwhile, what was read may be another's.
func stillIn(root string, pid int, ns *netstat.Namespace) bool {
	now, err := netstat.NamespaceOf(root, pid)
	return err == nil && now.Inode == ns.Inode
}

// each calls scan once for every namespace to read, with r.tables reading
// its tables through its first live member (ns nil: proc/net, outside the
// namespace modes). scan returns how to undo what it kept, or nil when it
// cannot be undone (a stream): the member is then checked before the read
// rather than after. each stops when scan returns false.
// The namespaces none of whose members could be read are added to
// unread, once each.
func (r *Reader) each(ctx context.Context, spaces []netstat.Namespace, unread *[]uint64, scan func(ns *netstat.Namespace) (undo func(), more bool)) error {
	defer func() { r.tables.PID = 0 }()
	if !r.opts.nsMode() {
		r.tables.PID = 0
		var ns *netstat.Namespace
		if len(spaces) == 1 {
			ns = &spaces[0]
		}
		scan(ns)
		return ctx.Err()
	}
	root := r.opts.Root
	for i := range spaces {
		ns := &spaces[i]
		read := false
		for _, pid := range ns.PIDs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !hasTables(root, pid) {
				continue
			}
			r.tables.PID = pid
			undo, more := scan(ns)
			if undo != nil && !stillIn(root, pid, ns) {
				undo()
				continue
			}
			ns.PID, read = pid, true
			if !more {
				return ctx.Err()
			}
			break
		}
		if !read && r.opts.NamespacePID > 0 {
			return fmt.Errorf("cannot read proc/%d/net: %w", r.opts.NamespacePID, ErrNoTables)
		}
		if !read && !slices.Contains(*unread, ns.Inode) {
			*unread = append(*unread, ns.Inode)
		}
	}
	return ctx.Err()
}

// ownedBy reports whether owners include one of opts.PIDs or Programs.
func (o *Options) ownedBy(owners []procmap.Owner, procs interface {
	Process(int) *procmap.Process
}) bool {
	if !o.ownerFilter() {
		return true
	}
	for _, w := range owners {
		if slices.Contains(o.PIDs, w.PID) {
			return true
		}
		if len(o.Programs) > 0 {
			p := procs.Process(w.PID)
			if slices.ContainsFunc(o.Programs, p.Runs) {
				return true
			}
		}
	}
	return false
}

// ownedInodes returns the inodes m records as held by the processes of
// the owner filter, within want when want is not nil.
func (o *Options) ownedInodes(m *procmap.Map, want map[uint64]bool) map[uint64]bool {
	set := map[uint64]bool{}
	for ino, owners := range m.Owners {
		if (want == nil || want[ino]) && o.ownedBy(owners, m) {
			set[ino] = true
		}
	}
	return set
}

// Snapshot reads every row the options select, joined with its owners.
//
// With owners and no owner filter, the process walk runs beside the table
// scan; a narrow filter (ports, inodes) lets it stop once the listed
// sockets are found, so a socket shared by several processes may then
// show only the first found (with the BPF owner source, which reads every
// fd in one pass anyway, all of them). With PIDs or
// Programs the walk runs first and only the rows of their sockets are
// parsed.
func (r *Reader) Snapshot(ctx context.Context) (*Snapshot, error) {
	o := &r.opts
	spaces, denied, err := r.namespaces()
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Namespaces: spaces, Skipped: Skipped{Denied: denied}}
	f := o.Filter

	// The owners: first (to narrow the scan), beside it, or not at all.
	type result struct {
		m   *procmap.Map
		err error
	}
	var walk chan result
	var found chan map[uint64]bool
	switch {
	case o.ownerFilter():
		m, err := procmap.Build(ctx, o.procmap())
		if err != nil {
			return nil, err
		}
		snap.Procs = m
		f.Inodes = o.ownedInodes(m, f.Inodes)
	case o.owners():
		few := len(f.Ports) > 0 || len(f.LocalPorts) > 0 || len(f.RemotePorts) > 0 || f.Inodes != nil
		bctx := ctx
		if few || f.States != 0 {
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
		walk = make(chan result, 1)
		go func() {
			m, err := procmap.Build(bctx, o.procmap())
			walk <- result{m, err}
		}()
	}

	errs, err := r.readRows(ctx, snap, f, o.Unix)
	if found != nil {
		// The unix rows are listed whole: their owners are wanted too.
		want := make(map[uint64]bool, len(snap.Conns)+len(snap.Unix))
		for i := range snap.Conns {
			if ino := snap.Conns[i].Inode; ino != 0 {
				want[ino] = true
			}
		}
		for i := range snap.Unix {
			want[snap.Unix[i].Inode] = true
		}
		found <- want
	}
	if walk != nil {
		res := <-walk
		if err == nil {
			err = res.err
		}
		snap.Procs = res.m
	}
	if err != nil {
		return nil, err
	}
	if snap.Procs != nil {
		for i := range snap.Conns {
			snap.Conns[i].Owners = snap.Procs.Lookup(snap.Conns[i].Inode)
		}
		for i := range snap.Unix {
			snap.Unix[i].Owners = snap.Procs.Lookup(snap.Unix[i].Inode)
		}
	}
	return snap, errors.Join(errs...)
}

// Stream is one pass over the tables with the owners read beforehand:
// its iterators join each row with them as it is read, so memory stays
// flat whatever the number of rows (a `netstat -tanpx` listing walks the
// processes once for both kinds of socket). Take a new Stream for each
// round: the owners are those of the moment it was made.
type Stream struct {
	// Procs describes the owners of the rows; nil without owners.
	Procs *procmap.Map
	// Namespaces are the namespaces the iterators read, which the rows
	// point into (see Snapshot.Namespaces).
	Namespaces []netstat.Namespace
	// Skipped is what AllNamespaces could not read: its Unread is
	// complete once the iterators have run.
	Skipped Skipped

	r   *Reader
	ctx context.Context
	f   netstat.Filter
}

// Stream reads the owners (one walk, when the options ask for owners) and
// returns a Stream over the tables. The Reader must not be used for
// anything else while the Stream's iterators run.
func (r *Reader) Stream(ctx context.Context) (*Stream, error) {
	o := &r.opts
	spaces, denied, err := r.namespaces()
	if err != nil {
		return nil, err
	}
	st := &Stream{Namespaces: spaces, Skipped: Skipped{Denied: denied}, r: r, ctx: ctx, f: o.Filter}
	if o.owners() {
		if st.Procs, err = procmap.Build(ctx, o.procmap()); err != nil {
			return nil, err
		}
		if o.ownerFilter() {
			st.f.Inodes = o.ownedInodes(st.Procs, st.f.Inodes)
		}
	}
	return st, nil
}

// Process describes an owner of the stream's rows, nil if unknown.
func (st *Stream) Process(pid int) *procmap.Process { return st.Procs.Process(pid) }

// Conns yields the Internet rows, each with its owners and namespace.
//
// A bad row yields its error and the stream goes on; an error that stops
// the reading (ctx done, a NamespacePID whose process is gone) is yielded
// last. Namespace members are checked before their tables are read, not
// after as Snapshot does.
func (st *Stream) Conns() iter.Seq2[Conn, error] {
	return func(yield func(Conn, error) bool) {
		r, ctx := st.r, st.ctx
		stopped := false
		err := r.each(ctx, st.Namespaces, &st.Skipped.Unread, func(ns *netstat.Namespace) (func(), bool) {
			for s, err := range r.sockets(ctx, st.f) {
				c := Conn{Socket: s, Namespace: ns}
				if err == nil && st.Procs != nil {
					c.Owners = st.Procs.Lookup(s.Inode)
				}
				if err != nil && errors.Is(err, ctx.Err()) {
					stopped = true // ctx's error, yielded once
				}
				if !yield(c, err) || stopped {
					stopped = true
					return nil, false
				}
			}
			return nil, true
		})
		if err != nil && !stopped {
			yield(Conn{}, err)
		}
	}
}

// Unix yields the unix domain sockets, whatever Options.Unix says, as
// Conns yields the Internet rows.
func (st *Stream) Unix() iter.Seq2[UnixConn, error] {
	return func(yield func(UnixConn, error) bool) {
		r, ctx := st.r, st.ctx
		stopped := false
		err := r.each(ctx, st.Namespaces, &st.Skipped.Unread, func(ns *netstat.Namespace) (func(), bool) {
			for u, err := range r.unixSockets(ctx, st.f) {
				c := UnixConn{UnixSocket: u, Namespace: ns}
				if err == nil && st.Procs != nil {
					c.Owners = st.Procs.Lookup(u.Inode)
				}
				if err != nil && errors.Is(err, ctx.Err()) {
					stopped = true
				}
				if !yield(c, err) || stopped {
					stopped = true
					return nil, false
				}
			}
			return nil, true
		})
		if err != nil && !stopped {
			yield(UnixConn{}, err)
		}
	}
}

// Conns is Stream(ctx) then its Conns, in one iterator: an error of
// Stream is yielded first and ends it. Use Stream to read unix sockets
// too, or the owners' details, with the same walk.
func (r *Reader) Conns(ctx context.Context) iter.Seq2[Conn, error] {
	return func(yield func(Conn, error) bool) {
		st, err := r.Stream(ctx)
		if err != nil {
			yield(Conn{}, err)
			return
		}
		st.Conns()(yield)
	}
}

// sockets yields the Internet rows of the namespace r.tables reads that
// f and Options.Show keep, and the bad rows' errors: the one rule of
// Snapshot, Stream and the Poller's rounds.
func (r *Reader) sockets(ctx context.Context, f netstat.Filter) iter.Seq2[netstat.Socket, error] {
	return func(yield func(netstat.Socket, error) bool) {
		for s, err := range r.tables.Sockets(ctx, f) {
			if err == nil && !r.opts.Show.Shows(&s) {
				continue
			}
			if !yield(s, err) {
				return
			}
		}
	}
}

// unixSockets is sockets for the unix rows: those f.Inodes selects (all
// when nil) and Options.Show keeps.
func (r *Reader) unixSockets(ctx context.Context, f netstat.Filter) iter.Seq2[netstat.UnixSocket, error] {
	return func(yield func(netstat.UnixSocket, error) bool) {
		for u, err := range r.tables.UnixSockets(ctx) {
			if err == nil && (f.Inodes != nil && !f.Inodes[u.Inode] || !r.opts.Show.ShowsUnix(&u)) {
				continue
			}
			if !yield(u, err) {
				return
			}
		}
	}
}

// readRows appends the rows of every namespace of snap (or of the Reader's
// own) that pass f to snap, with their namespace, and returns the rows
// that could not be parsed. A namespace whose member left it meanwhile
// has its rows taken back (each). The owners are the caller's to join.
func (r *Reader) readRows(ctx context.Context, snap *Snapshot, f netstat.Filter, unix bool) ([]error, error) {
	var errs []error
	err := r.each(ctx, snap.Namespaces, &snap.Skipped.Unread, func(ns *netstat.Namespace) (func(), bool) {
		n, nu := len(snap.Conns), len(snap.Unix)
		for s, err := range r.sockets(ctx, f) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			snap.Conns = append(snap.Conns, Conn{Socket: s, Namespace: ns})
		}
		if unix {
			for u, err := range r.unixSockets(ctx, f) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				snap.Unix = append(snap.Unix, UnixConn{UnixSocket: u, Namespace: ns})
			}
		}
		return func() { snap.Conns, snap.Unix = snap.Conns[:n], snap.Unix[:nu] }, true
	})
	return errs, err
}
