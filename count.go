package procnet

// count.go holds the counts: groups of Internet sockets per process,
// program, remote address, local port or state, with their states tallied.

import (
	"cmp"
	"iter"
	"net/netip"
	"slices"
	"strconv"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// By says how Count groups sockets.
type By uint8

const (
	// ByProcess groups by owning process (Key.PID).
	ByProcess By = iota + 1
	// ByProgram groups by the owner's program name, procmap.Process.Name
	// (Key.Program).
	ByProgram
	// ByRemote groups by remote address, IPv4-mapped addresses unmapped
	// (Key.Remote; the zero Addr for listeners and unconnected sockets).
	ByRemote
	// ByPort groups by protocol and local port, both families together
	// (Key.Proto is the IPv4 table's: tcp for tcp and tcp6; Key.Port).
	ByPort
	// ByState groups by state (Key.State; 0 for unconnected UDP,
	// UDP-Lite and raw sockets).
	ByState
)

var byNames = [...]string{"", "process", "program", "remote", "port", "state"}

// String returns "process", "program", "remote", "port" or "state".
func (b By) String() string {
	if b != 0 && int(b) < len(byNames) {
		return byNames[b]
	}
	return "by(" + strconv.Itoa(int(b)) + ")"
}

// ParseBy returns the By that String spells s.
func ParseBy(s string) (By, bool) {
	for i, n := range byNames {
		if i != 0 && n == s {
			return By(i), true
		}
	}
	return 0, false
}

// Key names a group; only the fields of its By are set.
type Key struct {
	PID     int        // ByProcess: 0 for sockets without a visible owner
	Program string     // ByProgram: "" for sockets without a visible owner
	Remote  netip.Addr // ByRemote
	Proto   netstat.Proto
	Port    uint16
	State   netstat.State // ByState
}

// Unconnected is the slot of Tally.States, and the Key.State of ByState,
// of UDP, UDP-Lite and raw sockets in state Close: not connected, which
// `netstat -l` lists as listening.
const Unconnected netstat.State = 0

// Tally counts sockets by state.
type Tally struct {
	// States counts by netstat.State; for UDP, UDP-Lite and raw sockets
	// Established means connected, and unconnected ones count in
	// States[Unconnected].
	States [netstat.NewSynRecv + 1]int
	// Unknown counts sockets in a state without a name.
	Unknown int
	Total   int
}

// Established is States[netstat.Established].
func (t *Tally) Established() int { return t.States[netstat.Established] }

// Counts yields every count of t, zero or not, named as the
// machine-readable outputs name states (netstat.Socket.StateName): the
// kernel's states in its order (ESTABLISHED … NEW_SYN_RECV), then UNCONN
// (States[Unconnected]) and UNKNOWN (Unknown).
func (t *Tally) Counts() iter.Seq2[string, int] {
	return func(yield func(string, int) bool) {
		for st := netstat.Established; int(st) < len(t.States); st++ {
			if !yield(st.String(), t.States[st]) {
				return
			}
		}
		if yield("UNCONN", t.States[Unconnected]) {
			yield("UNKNOWN", t.Unknown)
		}
	}
}

// slot is where s counts in a Tally: its state, Unconnected, or past
// the States (Unknown).
func slot(s *netstat.Socket) netstat.State {
	if !s.Proto.IsTCP() && s.State == netstat.Close {
		return Unconnected
	}
	return s.State
}

func (t *Tally) add(s *netstat.Socket) {
	if st := slot(s); int(st) < len(t.States) {
		t.States[st]++
	} else {
		t.Unknown++
	}
	t.Total++
}

// Group is one group of sockets and their tally.
type Group struct {
	Key
	Tally
	// Process describes Key.PID (ByProcess), nil if unknown.
	Process *procmap.Process
	// Traffic is what AddTraffic gave the group; zero otherwise.
	Traffic GroupTraffic
}

// GroupTraffic is a group's traffic: the sum of its owners' (AddTraffic).
type GroupTraffic struct {
	// Known says the group held a TCP connection with counters, or one
	// that closed.
	Known                    bool
	BytesSent, BytesReceived uint64
	SendBps, RecvBps         float64
	// Rate says there was a previous round to measure from.
	Rate bool
}

// FirstOwner returns the owner an output of one line per socket names
// (net-tools' PID/Program column, a CSV record, the traffic a connection
// counts once under): the first of owners, which are sorted by PID, and
// how many other processes hold the socket. pid is 0 without owners.
func FirstOwner(owners []procmap.Owner) (pid, others int) {
	if len(owners) == 0 {
		return 0, 0
	}
	pid = owners[0].PID
	last := pid
	for _, o := range owners[1:] {
		if o.PID != last {
			others++
			last = o.PID
		}
	}
	return pid, others
}

// Processes describes owners: a *Snapshot, a *Round or a *procmap.Map.
type Processes interface {
	Process(pid int) *procmap.Process
}

// Counter counts sockets into groups, one at a time: the counts of a
// stream. The zero Counter is not usable; call NewCounter.
type Counter struct {
	by     By
	at     map[Key]int
	groups []Group
	total  Tally
	names  []string // scratch: the distinct programs of one socket
}

// NewCounter returns a Counter grouping by by.
func NewCounter(by By) *Counter {
	return &Counter{by: by, at: map[Key]int{}}
}

// Add counts c, whose owners procs describes (it may be nil for ByRemote,
// ByPort and ByState). Per the package's rule, a socket shared by several
// processes counts once in the group of each distinct PID (or program).
func (k *Counter) Add(c *Conn, procs Processes) {
	k.total.add(&c.Socket)
	switch k.by {
	case ByProcess:
		if len(c.Owners) == 0 {
			k.add(Key{}, c, nil)
			return
		}
		last := -1
		for _, o := range c.Owners { // sorted by PID
			if o.PID != last {
				last = o.PID
				var p *procmap.Process
				if procs != nil {
					p = procs.Process(o.PID)
				}
				k.add(Key{PID: o.PID}, c, p)
			}
		}
	case ByProgram:
		k.names = k.names[:0]
		for _, o := range c.Owners {
			var p *procmap.Process
			if procs != nil {
				p = procs.Process(o.PID)
			}
			name := p.Name()
			if p == nil || slices.Contains(k.names, name) {
				continue
			}
			k.names = append(k.names, name)
			k.add(Key{Program: name}, c, nil)
		}
		if len(k.names) == 0 {
			k.add(Key{}, c, nil)
		}
	case ByRemote:
		var key Key
		if a := c.Remote.Addr().Unmap(); !a.IsUnspecified() {
			key.Remote = a
		}
		k.add(key, c, nil)
	case ByPort:
		k.add(Key{Proto: family(c.Proto), Port: c.Local.Port()}, c, nil)
	case ByState:
		k.add(Key{State: slot(&c.Socket)}, c, nil)
	}
}

func (k *Counter) add(key Key, c *Conn, p *procmap.Process) {
	i, ok := k.at[key]
	if !ok {
		i = len(k.groups)
		k.at[key] = i
		k.groups = append(k.groups, Group{Key: key, Process: p})
	}
	k.groups[i].add(&c.Socket)
}

// Groups returns the groups counted so far, sorted by ESTABLISHED count,
// then total (both descending), then key: PIDs ascending with 0 last,
// programs with "" last, remote addresses with the zero Addr last, ports
// by protocol then number, states by number.
func (k *Counter) Groups() []Group {
	gs := slices.Clone(k.groups)
	slices.SortFunc(gs, func(a, b Group) int {
		if c := cmp.Compare(b.Established(), a.Established()); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Total, a.Total); c != 0 {
			return c
		}
		return compareKeys(&a.Key, &b.Key)
	})
	return gs
}

// Total tallies every socket counted, each once.
func (k *Counter) Total() Tally { return k.total }

func compareKeys(a, b *Key) int {
	if c := cmp.Compare(uint(a.PID-1), uint(b.PID-1)); c != 0 { // 0 sorts last
		return c
	}
	if (a.Program == "") != (b.Program == "") {
		if a.Program == "" {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(a.Program, b.Program); c != 0 {
		return c
	}
	if a.Remote.IsValid() != b.Remote.IsValid() {
		if a.Remote.IsValid() {
			return -1
		}
		return 1
	}
	if c := a.Remote.Compare(b.Remote); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	return cmp.Compare(a.State, b.State)
}

// family folds an IPv6 table into its IPv4 twin.
func family(p netstat.Proto) netstat.Proto {
	switch p {
	case netstat.TCP6:
		return netstat.TCP
	case netstat.UDP6:
		return netstat.UDP
	case netstat.UDPLite6:
		return netstat.UDPLite
	case netstat.Raw6:
		return netstat.Raw
	}
	return p
}

// Count groups the snapshot's Internet sockets (see By and the package's
// rule for shared sockets).
func (s *Snapshot) Count(by By) []Group {
	k := NewCounter(by)
	for i := range s.Conns {
		k.Add(&s.Conns[i], s)
	}
	return k.Groups()
}

// Total tallies the snapshot's Internet sockets, each once.
func (s *Snapshot) Total() Tally {
	var t Tally
	for i := range s.Conns {
		t.add(&s.Conns[i].Socket)
	}
	return t
}

// AddTraffic gives groups counted ByProcess their owners' traffic
// (flows.Meter's, Changes.Owners): an owner's bytes go to the group of
// its PID (0: the sockets without a visible owner). An owner with no
// group, all its connections closed since the last round, gets a group
// of its own, which procs describes or, if it does not know the PID, the
// owner's program as its comm. With traffic the groups are sorted by
// rate (sent plus received per second), then by bytes, both descending,
// then as they were.
func AddTraffic(gs []Group, owners []flows.OwnerTraffic, procs Processes) []Group {
	at := make(map[int]int, len(gs))
	for i := range gs {
		at[gs[i].PID] = i
	}
	for _, o := range owners {
		pid := o.PID
		j, ok := at[pid]
		if !ok {
			j = len(gs)
			at[pid] = j
			var p *procmap.Process
			if procs != nil {
				p = procs.Process(pid)
			}
			if p == nil && pid > 0 {
				p = &procmap.Process{PID: pid, Comm: o.Program}
			}
			gs = append(gs, Group{Key: Key{PID: pid}, Process: p})
		}
		t := &gs[j].Traffic
		t.Known = true
		t.BytesSent += o.BytesSent
		t.BytesReceived += o.BytesReceived
		t.SendBps += o.SendBps
		t.RecvBps += o.RecvBps
		t.Rate = t.Rate || o.Rate
	}
	slices.SortStableFunc(gs, func(a, b Group) int {
		ta, tb := &a.Traffic, &b.Traffic
		if c := cmp.Compare(tb.SendBps+tb.RecvBps, ta.SendBps+ta.RecvBps); c != 0 {
			return c
		}
		return cmp.Compare(tb.BytesSent+tb.BytesReceived, ta.BytesSent+ta.BytesReceived)
	})
	return gs
}

// MarkedGroup is a group as a watch shows it.
type MarkedGroup struct {
	Group
	Mark Mark
}

// CompareGroups appends to dst the groups of a round, cur, each marked
// MarkNew (no group of the last round, prev, had its key), MarkChanged
// (its Tally differs) or MarkNone, with the groups of prev that are gone,
// marked MarkClosed, each after its nearest predecessor in prev still
// there (first if none), and returns it. Traffic is not compared. For a
// first round, which marks nothing, pass cur as prev.
func CompareGroups(dst []MarkedGroup, prev, cur []Group) []MarkedGroup {
	was := make(map[Key]*Tally, len(prev))
	for j := range prev {
		was[prev[j].Key] = &prev[j].Tally
	}
	at := make(map[Key]int, len(cur))
	for i := range cur {
		at[cur[i].Key] = i
	}
	var gone map[int][]Group // by the index in cur of the group they follow
	anchor := -1
	for _, g := range prev {
		if i, ok := at[g.Key]; ok {
			anchor = i
			continue
		}
		if gone == nil {
			gone = map[int][]Group{}
		}
		gone[anchor] = append(gone[anchor], g)
	}
	closed := func(dst []MarkedGroup, after int) []MarkedGroup {
		for _, g := range gone[after] {
			dst = append(dst, MarkedGroup{g, MarkClosed})
		}
		return dst
	}
	dst = closed(dst, -1)
	for i := range cur {
		m := MarkNone
		if t, ok := was[cur[i].Key]; !ok {
			m = MarkNew
		} else if *t != cur[i].Tally {
			m = MarkChanged
		}
		dst = closed(append(dst, MarkedGroup{cur[i], m}), i)
	}
	return dst
}

// GroupWatch counts each round of a watch (the snapshots and changes a
// Poller returns) into groups and marks them against the last round's:
// what `netstat --summary -c` shows. The zero GroupWatch is not usable;
// call NewGroupWatch. It is not safe for concurrent use.
type GroupWatch struct {
	by      By
	keep    func(*Conn) bool
	traffic bool
	rounds  int
	groups  []Group
	shown   []MarkedGroup
}

// NewGroupWatch returns a GroupWatch grouping by by the rows keep keeps
// (nil: every row); with traffic, the groups get their owners' traffic
// (AddTraffic of Changes.Owners: ByProcess, with a meter).
func NewGroupWatch(by By, keep func(*Conn) bool, traffic bool) *GroupWatch {
	return &GroupWatch{by: by, keep: keep, traffic: traffic}
}

// Round counts a round, rows and ch as Poll or PollRound returned them
// (rows may be nil: no rows), by the package's counting rule. It returns the round's
// groups (sorted as Counter.Groups, with traffic as AddTraffic sorts
// them) and the same as a watch shows them, marked against the last
// round's (CompareGroups: gone groups included); the first round marks
// nothing, and a quiet round (Changes.Quiet) shows the last round's
// groups again, unmarked. Both are valid until the next Round.
func (g *GroupWatch) Round(rows Rows, ch *Changes) (groups []Group, shown []MarkedGroup) {
	if ch.Quiet {
		g.shown = CompareGroups(g.shown[:0], g.groups, g.groups)
		return g.groups, g.shown
	}
	k := NewCounter(g.by)
	_, conns := inetRows(rows)
	for _, c := range conns {
		if g.keep == nil || g.keep(c) {
			k.Add(c, rows)
		}
	}
	prev := g.groups
	g.groups = k.Groups()
	if g.traffic && !noRows(rows) {
		g.groups = AddTraffic(g.groups, ch.Owners, rows)
	}
	if g.rounds++; g.rounds == 1 {
		prev = g.groups
	}
	g.shown = CompareGroups(g.shown[:0], prev, g.groups)
	return g.groups, g.shown
}
