package flows

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/procnet/procnet/netstat"
)

// A Meter turns successive rounds of TCP socket rows (netstat.Socket read
// with Reader.Traffic) into traffic per connection and per process: the
// totals and the rate since the previous round — TCPView's Sent and
// Received columns and nethogs' per-process bandwidth, from the kernel's
// own counters, exact for TCP.
//
// A round is Begin (with the Close events drained from a Feed since the
// previous round), one Add per socket row with its owner, then End:
//
//	m := flows.NewMeter(feed != nil)
//	for {
//		evs, _ = feed.Drain(evs[:0])        // before the rows are read
//		rows, _ = rd.AppendSockets(rows[:0], f) // rd.Traffic set
//		closed := m.Begin(time.Now(), evs)
//		for i := range rows {
//			c := m.Add(&rows[i], flows.Owner{PID: pid, Program: name})
//			// print rows[i] with c.BytesSent, c.SendBps, …
//		}
//		owners := m.End() // sorted by rate
//	}
//
// # What is counted
//
// A connection is a TCP socket with known counters (Traffic.Known) that
// is not listening, named by its table (tcp or tcp6), local and remote
// address; its inode tells a new socket on the same addresses from the
// old one. Each round counts, per connection, the bytes it moved since the
// previous round: the difference of its counters, or all of them for a
// connection first seen in this round (it opened since, or this is the
// first round) or whose counters went backwards (a new socket). The rate
// is that difference over the time between the two rounds' Begin; the
// first round has totals but no rate (Rate false).
//
// A connection that closed between two rounds is counted from its Close
// event's final counters (Event.Traffic): the final values less those the
// meter last saw, or all of them for a connection no round saw (it opened
// and closed between two rounds). Only a feed tells of those: without one,
// the bytes a connection moved between the last round that saw it and its
// close, and whole connections shorter than a round, are not counted.
// With a feed (NewMeter(true)) a connection missing from a round is kept
// waiting for its Close event (which the tracepoint source delivers up to
// 50 ms late) for one more round and at least Linger; the destroy source's received count includes
// the peer's FIN (one byte). Events given before the first round count
// nothing (there is no previous round to count from); the caller passes
// only the events of connections its rows would show (the same filter).
//
// Not counted: UDP (the kernel keeps no per-socket byte counters for it),
// sockets without counters (rows read from the proc text without a
// traffic file, TIME_WAIT and request sockets: their bytes were counted
// while the connection was full), listeners, headers and retransmitted
// bytes (Traffic counts payload once).
//
// # Owners
//
// Each row is given one owner (the caller's choice for a socket several
// processes share: the one it shows); the bytes a round counts for a
// connection go to the owner it has in that round. An owner's totals are
// the sum of what the rounds counted for it since the first, so the first
// round's totals are the lifetime counters of its connections; its rate
// is this round's bytes over the time since the previous round. An owner
// that holds no connection and moved nothing in a round is forgotten.
// Sockets whose owner is unknown are counted under the zero Owner.
//
// # Memory
//
// The meter keeps one small record per live connection (its key, inode,
// last counters and owner: 160 bytes of heap with its map slot) and one
// per owner, never a copy of the rows; the slices it returns are reused
// by the next round. Connections are told apart by their addresses, so
// rows of several network namespaces need one Meter each (as a Feed sees
// one namespace). A Meter is not safe for concurrent use.
type Meter struct {
	feed   bool
	conns  map[meterKey]meterConn
	owners map[Owner]*meterOwner
	round  uint32
	now    time.Time
	nowNs  int64
	dt     float64 // seconds since the previous round; 0 on the first
	out    []OwnerTraffic
	closed []ClosedTraffic
}

// Owner is who a connection's traffic is counted for: a process, by PID
// and program name as the caller shows them (the zero Owner: unknown).
type Owner struct {
	PID     int
	Program string
}

// ConnTraffic is one connection's traffic in a round.
type ConnTraffic struct {
	// Traffic is the connection's counters (its totals).
	netstat.Traffic
	// DeltaSent and DeltaReceived are the bytes this round counted for it:
	// moved since the previous round (all of them for a connection new in
	// this round).
	DeltaSent, DeltaReceived uint64
	// SendBps and RecvBps are the delta in bytes per second since the
	// previous round; zero when Rate is false.
	SendBps, RecvBps float64
	// New says no earlier round saw the connection (always on the first
	// round).
	New bool
	// Rate says there was a previous round to measure from.
	Rate bool
}

// ClosedTraffic is a connection a Close event reported between two
// rounds, as the round counted it.
type ClosedTraffic struct {
	// Event is the index of the Close event in the events given to Begin.
	Event int
	// Owner is who its bytes were counted for: the owner rounds last
	// gave it, or the event's PID and Program for one no round saw.
	Owner Owner
	// ConnTraffic holds the event's final counters, and the bytes moved
	// since the last round that saw it (New: all of them, no round did).
	ConnTraffic
}

// OwnerTraffic is one owner's traffic in a round.
type OwnerTraffic struct {
	Owner
	// BytesSent and BytesReceived are the bytes counted for the owner
	// since the meter's first round (which counts the lifetime counters
	// of the connections it found).
	BytesSent, BytesReceived uint64
	// DeltaSent and DeltaReceived are what this round counted;
	// SendBps and RecvBps the same per second (zero when Rate is false).
	DeltaSent, DeltaReceived uint64
	SendBps, RecvBps         float64
	// Conns is the number of connections it held in this round's rows.
	Conns int
	Rate  bool
}

// meterKey names a connection compactly: the addresses as 16 bytes
// (IPv4 as IPv4-mapped; the table in proto keeps tcp and tcp6 apart).
type meterKey struct {
	local, remote [16]byte
	lport, rport  uint16
	proto         netstat.Proto
}

func keyOf(p netstat.Proto, local, remote netip.AddrPort) meterKey {
	return meterKey{
		local: local.Addr().As16(), remote: remote.Addr().As16(),
		lport: local.Port(), rport: remote.Port(), proto: p,
	}
}

// meterConn is what the meter keeps of a live connection.
type meterConn struct {
	inode      uint64
	sent, recv uint64 // the counters last seen
	owner      *meterOwner
	seen       int64  // when the last round that saw it began (UnixNano)
	round      uint32 // the last round that saw it
}

// Linger is how long a Meter with a feed keeps a connection missing from
// the rows (and at least one round) for its Close event to arrive.
const Linger = time.Second

type meterOwner struct {
	OwnerTraffic
	refs int // connection records that point here
}

// NewMeter returns a Meter. withFeed says Begin will be given a feed's
// Close events: a connection missing from a round is then kept one round
// longer for its event.
func NewMeter(withFeed bool) *Meter {
	return &Meter{feed: withFeed, conns: map[meterKey]meterConn{}, owners: map[Owner]*meterOwner{}}
}

// Round returns the number of rounds begun.
func (m *Meter) Round() int { return int(m.round) }

// Begin starts a round at time now, counting the Close events among
// events (drained from a feed since the previous round; other kinds are
// ignored). It returns what it counted for each of them, valid until the
// next Begin.
func (m *Meter) Begin(now time.Time, events []Event) []ClosedTraffic {
	m.dt = 0
	if m.round > 0 {
		if d := now.Sub(m.now).Seconds(); d > 0 {
			m.dt = d
		}
	}
	first := m.round == 0
	m.round++
	m.now = now
	m.nowNs = now.UnixNano()
	for _, o := range m.owners {
		o.DeltaSent, o.DeltaReceived, o.SendBps, o.RecvBps, o.Conns = 0, 0, 0, 0, 0
		o.Rate = !first
	}
	m.closed = m.closed[:0]
	if first {
		return m.closed
	}
	for i := range events {
		ev := &events[i]
		if ev.Kind != Close {
			continue
		}
		k := keyOf(ev.Proto, ev.Local, ev.Remote)
		c, seen := m.conns[k]
		ct := ClosedTraffic{Event: i, ConnTraffic: ConnTraffic{Traffic: ev.Traffic, New: !seen, Rate: true}}
		var o *meterOwner
		if seen {
			delete(m.conns, k)
			o = c.owner
			o.refs--
			ct.Owner = o.Owner
			if ev.Traffic.Known && ev.Traffic.BytesSent >= c.sent && ev.Traffic.BytesReceived >= c.recv {
				ct.DeltaSent, ct.DeltaReceived = ev.Traffic.BytesSent-c.sent, ev.Traffic.BytesReceived-c.recv
			}
		} else {
			ct.Owner = Owner{PID: ev.PID, Program: ev.Program}
			if ev.Traffic.Known {
				ct.DeltaSent, ct.DeltaReceived = ev.Traffic.BytesSent, ev.Traffic.BytesReceived
			}
			if ct.DeltaSent == 0 && ct.DeltaReceived == 0 {
				m.closed = append(m.closed, ct)
				continue // nothing to count: no owner record for it
			}
			o = m.owner(ct.Owner)
		}
		ct.SendBps, ct.RecvBps = m.rate(ct.DeltaSent), m.rate(ct.DeltaReceived)
		o.count(ct.DeltaSent, ct.DeltaReceived)
		m.closed = append(m.closed, ct)
	}
	return m.closed
}

// Add counts one socket row of the round, owned by o, and returns its
// traffic. A row that is not a TCP connection with known counters (UDP,
// a listener, TIME_WAIT, proc text) counts nothing and returns its
// Traffic as it is.
func (m *Meter) Add(s *netstat.Socket, o Owner) ConnTraffic {
	t := s.Traffic
	if !t.Known || !s.Proto.IsTCP() || s.State == netstat.Listen {
		return ConnTraffic{Traffic: t}
	}
	k := keyOf(s.Proto, s.Local, s.Remote)
	c, seen := m.conns[k]
	ct := ConnTraffic{Traffic: t, Rate: m.round > 1}
	if seen && c.round == m.round {
		return ct // the same row twice in one round: counted once
	}
	if seen && c.inode == s.Inode && t.BytesSent >= c.sent && t.BytesReceived >= c.recv {
		ct.DeltaSent, ct.DeltaReceived = t.BytesSent-c.sent, t.BytesReceived-c.recv
	} else {
		ct.New = true // new, or a new socket on the same addresses
		ct.DeltaSent, ct.DeltaReceived = t.BytesSent, t.BytesReceived
	}
	ow := m.owner(o)
	if seen && c.owner != ow {
		c.owner.refs--
		seen = false
	}
	if !seen {
		ow.refs++
	}
	m.conns[k] = meterConn{inode: s.Inode, sent: t.BytesSent, recv: t.BytesReceived, owner: ow, seen: m.nowNs, round: m.round}
	ow.Conns++
	ct.SendBps, ct.RecvBps = m.rate(ct.DeltaSent), m.rate(ct.DeltaReceived)
	ow.count(ct.DeltaSent, ct.DeltaReceived)
	return ct
}

// End closes the round: it forgets the connections the round did not
// see (with a feed, after one more round and Linger) and the
// owners left with nothing, and returns the owners sorted by rate (sent
// plus received per second, then total bytes, then PID), valid until the
// next End.
func (m *Meter) End() []OwnerTraffic {
	for k, c := range m.conns {
		if c.round == m.round || m.feed && (c.round+1 == m.round || m.nowNs-c.seen < int64(Linger)) {
			continue
		}
		c.owner.refs--
		delete(m.conns, k)
	}
	m.out = m.out[:0]
	for key, o := range m.owners {
		if o.refs == 0 && o.Conns == 0 && o.DeltaSent == 0 && o.DeltaReceived == 0 {
			delete(m.owners, key)
			continue
		}
		o.SendBps, o.RecvBps = m.rate(o.DeltaSent), m.rate(o.DeltaReceived)
		m.out = append(m.out, o.OwnerTraffic)
	}
	slices.SortFunc(m.out, func(a, b OwnerTraffic) int {
		if c := cmp.Compare(b.SendBps+b.RecvBps, a.SendBps+a.RecvBps); c != 0 {
			return c
		}
		if c := cmp.Compare(b.BytesSent+b.BytesReceived, a.BytesSent+a.BytesReceived); c != 0 {
			return c
		}
		if c := cmp.Compare(a.PID, b.PID); c != 0 {
			return c
		}
		return cmp.Compare(a.Program, b.Program)
	})
	return m.out
}

// Conns returns the number of connections the meter keeps a record of.
func (m *Meter) Conns() int { return len(m.conns) }

func (m *Meter) owner(o Owner) *meterOwner {
	ow := m.owners[o]
	if ow == nil {
		ow = &meterOwner{OwnerTraffic: OwnerTraffic{Owner: o, Rate: m.round > 1}}
		m.owners[o] = ow
	}
	return ow
}

func (o *meterOwner) count(sent, recv uint64) {
	o.BytesSent += sent
	o.BytesReceived += recv
	o.DeltaSent += sent
	o.DeltaReceived += recv
}

func (m *Meter) rate(n uint64) float64 {
	if m.dt == 0 {
		return 0
	}
	return float64(n) / m.dt
}
