package flows

import (
	"context"
	"iter"
	"net/netip"
	"time"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// connKey names a connection in one network namespace: the addresses as
// the socket tables show them (a dual-stack socket's IPv4 peers stay
// IPv4-mapped, so a tcp and a tcp6 row never share a key).
type connKey struct{ local, remote netip.AddrPort }

// owner is a process, as the fd tables showed it.
type owner struct {
	pid     int
	program string
}

// seenConn is what the scans know of a connection.
type seenConn struct {
	proto   netstat.Proto
	owner   owner
	first   time.Time // the first scan that saw it
	traffic netstat.Traffic
}

// scanner reads the TCP tables and their owners: the polling source's
// whole work, and the destroy and tracepoint sources' memory of who owns
// what.
type scanner struct {
	rd        netstat.Reader
	tr        *procmap.Tracker
	rows      []netstat.Socket
	conns     map[connKey]seenConn
	listeners map[netip.AddrPort]owner
	scans     int
	// owners, when not nil, replaces conns: the tracepoint source needs
	// of a connection only its owner (attribute), and keeps only those
	// (ownersOnly) in 64 bytes a row instead of 152; its scans keep no
	// rows between them.
	owners map[ownKey]owner
	// listenersOnly (with owners) reads the listeners alone: no owner of
	// a connection is kept (Options.NoOldOwners).
	listenersOnly bool
}

// ownKey is a connKey without netip.AddrPort's zone pointer (the socket
// tables and the tracepoint give none): 40 bytes instead of 64. is4 keeps
// an IPv4 address apart from its IPv4-mapped form.
type ownKey struct {
	local, remote [16]byte
	lport, rport  uint16
	l4, r4        bool
}

func ownKeyOf(local, remote netip.AddrPort) ownKey {
	return ownKey{
		local: local.Addr().As16(), remote: remote.Addr().As16(),
		lport: local.Port(), rport: remote.Port(),
		l4: local.Addr().Is4(), r4: remote.Addr().Is4(),
	}
}

// localAddrPort is the local end k was made of.
func (k *ownKey) localAddrPort() netip.AddrPort {
	a := netip.AddrFrom16(k.local)
	if k.l4 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, k.lport)
}

// newOwnerScanner returns a scanner that remembers connections' owners
// only: the tracepoint source's.
func newOwnerScanner() *scanner {
	s := newScanner()
	s.conns, s.owners = nil, map[ownKey]owner{}
	s.rd = netstat.Reader{NoRetransmits: true} // state, ends and inode are all it reads
	return s
}

// ownerOf returns the owner the scans saw of the connection between
// local and remote, if any.
func (s *scanner) ownerOf(local, remote netip.AddrPort) (owner, bool) {
	if s.owners != nil {
		o, ok := s.owners[ownKeyOf(local, remote)]
		return o, ok
	}
	c, ok := s.conns[connKey{local, remote}]
	return c.owner, ok && c.owner.pid != 0
}

// forget drops what the scans know of a closed connection.
func (s *scanner) forget(local, remote netip.AddrPort) {
	if s.owners != nil {
		delete(s.owners, ownKeyOf(local, remote))
		return
	}
	delete(s.conns, connKey{local, remote})
}

func newScanner() *scanner {
	return &scanner{
		rd:        netstat.Reader{Traffic: true},
		tr:        procmap.NewTracker(procmap.Options{}),
		conns:     map[connKey]seenConn{},
		listeners: map[netip.AddrPort]owner{},
	}
}

// live reports whether a row is a connection the feed reports: a full
// TCP socket with a peer, not a listener and not yet closed.
func live(s *netstat.Socket) bool {
	switch s.State {
	case netstat.Listen, netstat.TimeWait, netstat.Close, netstat.SynRecv, netstat.NewSynRecv:
		return false
	}
	return s.Remote.Port() != 0
}

// scan reads the tables and their owners at time now, and calls opened
// for each connection not seen by the previous scan (none on the first
// scan) and closed for each one the previous scan saw that is gone (or in
// TIME_WAIT) now, with what was last known of it.
func (s *scanner) scan(now time.Time, opened, closed func(connKey, seenConn)) {
	// A scan is short and the feed's Close waits for it: no context to stop it.
	if s.tr == nil {
		s.tr = procmap.NewTracker(procmap.Options{})
	}
	if s.owners != nil {
		s.scanOwners()
		return
	}
	rows, _ := s.rd.AppendSockets(context.Background(), s.rows[:0], tcpOnly)
	s.rows = rows
	ownerOf := ownersIn(s.tr, func(yield func(uint64) bool) {
		for i := range rows {
			if !yield(rows[i].Inode) {
				return
			}
		}
	})
	clear(s.listeners)
	present := make(map[connKey]bool, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.State == netstat.Listen {
			if o := ownerOf(r.Inode); o.pid != 0 {
				s.listeners[r.Local] = o
			}
			continue
		}
		if !live(r) {
			continue
		}
		k := connKey{r.Local, r.Remote}
		present[k] = true
		c, ok := s.conns[k]
		if !ok {
			c = seenConn{proto: r.Proto, first: now}
		}
		if o := ownerOf(r.Inode); o.pid != 0 {
			c.owner = o
		}
		if r.Traffic.Known {
			c.traffic = r.Traffic
		}
		s.conns[k] = c
		if !ok && s.scans > 0 && opened != nil {
			opened(k, c)
		}
	}
	for k, c := range s.conns {
		if !present[k] {
			delete(s.conns, k)
			if closed != nil {
				closed(k, c)
			}
		}
	}
	s.scans++
}

var tcpOnly = netstat.Filter{Protos: netstat.Protos(netstat.TCP, netstat.TCP6)}

// ownersIn refreshes tr with inodes (0 ignored) and returns the owner of
// an inode (the zero owner if none).
func ownersIn(tr *procmap.Tracker, inodes iter.Seq[uint64]) func(inode uint64) owner {
	m, _ := tr.Refresh(context.Background(), inodes)
	return func(inode uint64) owner {
		if m == nil {
			return owner{}
		}
		os := m.Lookup(inode)
		if len(os) == 0 {
			return owner{}
		}
		o := owner{pid: os[0].PID}
		if p := m.Process(o.pid); p != nil {
			o.program = p.Comm
		}
		return o
	}
}

// scanOwners is scan for an owners-only scanner: the listeners, and the
// owners of live connections (an owner seen before stays while its
// connection does, as in scan). It streams the tables, keeping of each
// row it needs its key and inode (56 bytes, not a 160-byte row).
func (s *scanner) scanOwners() {
	type seen struct {
		k      ownKey
		inode  uint64
		listen bool
	}
	var rows []seen
	f := tcpOnly
	if s.listenersOnly {
		f.States = netstat.States(netstat.Listen)
	}
	for r, err := range s.rd.Sockets(context.Background(), f) {
		if err != nil {
			continue // a bad row: the others still count
		}
		listen := r.State == netstat.Listen
		if !listen && (s.listenersOnly || !live(&r)) {
			continue
		}
		rows = append(rows, seen{ownKeyOf(r.Local, r.Remote), r.Inode, listen})
	}
	ownerOf := ownersIn(s.tr, func(yield func(uint64) bool) {
		for i := range rows {
			if !yield(rows[i].inode) {
				return
			}
		}
	})
	clear(s.listeners)
	present := make(map[ownKey]struct{}, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.listen {
			if o := ownerOf(r.inode); o.pid != 0 {
				s.listeners[r.k.localAddrPort()] = o
			}
			continue
		}
		present[r.k] = struct{}{}
		if o := ownerOf(r.inode); o.pid != 0 {
			s.owners[r.k] = o
		}
	}
	for k := range s.owners {
		if _, ok := present[k]; !ok {
			delete(s.owners, k)
		}
	}
	s.scans++
}

// listener returns the owner of the listener that a connection with local
// address a was accepted from, or ok false: the listener bound to a's
// address, else to the wildcard of its family, else (IPv4 or
// IPv4-mapped) to the IPv6 wildcard.
func listener(ls map[netip.AddrPort]owner, a netip.AddrPort) (owner, bool) {
	port := a.Port()
	for _, addr := range []netip.Addr{a.Addr(), a.Addr().Unmap()} {
		if o, ok := ls[netip.AddrPortFrom(addr, port)]; ok {
			return o, true
		}
	}
	if a.Addr().Unmap().Is4() {
		if o, ok := ls[netip.AddrPortFrom(netip.IPv4Unspecified(), port)]; ok {
			return o, true
		}
	}
	o, ok := ls[netip.AddrPortFrom(netip.IPv6Unspecified(), port)]
	return o, ok
}
