package promcore

// count.go counts the rows read streams to it, one namespace (a part) at a
// time, and turns the sums into metrics, folding what lies beyond the
// bounds.

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

const unixIndex = int(netstat.Raw6) + 1

// programs gives each program of a scrape an index, looking each process
// up once.
type programs struct {
	m      *procmap.Map // nil: owners not read
	byPID  map[int]int32
	byName map[string]int32
	names  []string
}

// of returns the index of pid's program, -1 for a process with no name.
func (p *programs) of(pid int) int32 {
	if i, ok := p.byPID[pid]; ok {
		return i
	}
	name := programName(p.m.Process(pid))
	i := int32(-1)
	if name != "" {
		var ok bool
		if i, ok = p.byName[name]; !ok {
			i = int32(len(p.names))
			p.byName[name] = i
			p.names = append(p.names, name)
		}
	}
	p.byPID[pid] = i
	return i
}

func (p *programs) name(i int32) string {
	if i < 0 {
		return ""
	}
	return p.names[i]
}

// shared is a socket counted for several programs, kept to fold them
// right: it counts once in the folded group.
type shared struct {
	slot  int
	progs []int32
}

type listenerKey struct {
	proto            netstat.Proto
	port             uint16
	address, program string
	netns            uint64
	container        string
}

// part is the counts of one namespace's tables (or of the only read).
type part struct {
	sockets   [unixIndex + 1][nSlots]uint64 // by Proto; unix last
	progs     [][nSlots]uint64              // by program index
	unowned   [nSlots]uint64
	shared    []shared
	listeners [][]listenerKey // listeners on listed ports, each with its keys
	others    uint64          // listeners on other ports
}

func (p *part) reset() {
	progs, sh, ls := p.progs[:0], p.shared[:0], p.listeners[:0]
	*p = part{progs: progs, shared: sh, listeners: ls}
}

// add adds q's counts to p.
func (p *part) add(q *part) {
	for i := range q.sockets {
		for s, v := range q.sockets[i] {
			p.sockets[i][s] += v
		}
	}
	for len(p.progs) < len(q.progs) {
		p.progs = append(p.progs, [nSlots]uint64{})
	}
	for i := range q.progs {
		for s, v := range q.progs[i] {
			p.progs[i][s] += v
		}
	}
	for s, v := range q.unowned {
		p.unowned[s] += v
	}
	p.shared = append(p.shared, q.shared...)
	p.listeners = append(p.listeners, q.listeners...)
	p.others += q.others
}

// group is one program's or namespace's counts.
type group struct {
	name, extra string // program; or netns inode and container
	n           [nSlots]uint64
	total       uint64
}

// tally is one scrape's counts. It is read's sink: rows arrive one
// namespace at a time, into part, which is added to the sums when read
// keeps it.
type tally struct {
	c      *Collector
	sum    part
	cur    part
	ns     *netstat.Namespace
	progs  programs
	denied int
	spaces []group  // with AllNetns
	pbuf   []int32  // countOwners' distinct programs of the last socket
	names  []string // their names, for the traffic ledger
	now    time.Time
}

func (t *tally) owners(m *procmap.Map) {
	t.progs = programs{m: m, byPID: map[int]int32{}, byName: map[string]int32{}}
	t.denied = m.Denied
}

func (t *tally) begin(ns *netstat.Namespace) {
	t.ns = ns
	t.cur.reset()
}

func (t *tally) end(keep bool) {
	if !keep {
		return
	}
	if t.ns != nil {
		g := group{name: strconv.FormatUint(t.ns.Inode, 10), extra: escape.String(t.ns.Container)}
		for i := range t.cur.sockets {
			for s, v := range t.cur.sockets[i] {
				g.n[s] += v
				g.total += v
			}
		}
		t.spaces = append(t.spaces, g)
	}
	t.sum.add(&t.cur)
}

func (t *tally) inet(s *netstat.Socket, owners []procmap.Owner) {
	slot := inetSlot(s)
	t.cur.sockets[s.Proto][slot]++
	t.countOwners(owners, slot)
	if tr := t.c.traffic; tr != nil && s.Traffic.Known && s.Proto.IsTCP() && s.State != netstat.Listen {
		t.names = t.names[:0]
		for _, i := range t.pbuf {
			t.names = append(t.names, t.progs.name(i))
		}
		tr.l.live(connKey{s.Proto, s.Local, s.Remote}, s.Inode, s.Traffic, t.names, t.now)
	}
	if isListener(s) {
		t.listener(s, owners)
	}
}

func (t *tally) unix(u *netstat.UnixSocket, owners []procmap.Owner) {
	slot := unixSlot(u)
	t.cur.sockets[unixIndex][slot]++
	t.countOwners(owners, slot)
}

// countOwners counts a socket for each distinct program of its owners
// (sorted by PID), or as unowned.
func (t *tally) countOwners(owners []procmap.Owner, slot int) {
	if t.progs.m == nil {
		return
	}
	progs := t.pbuf[:0]
	defer func() { t.pbuf = progs }()
	last := -1
	for _, o := range owners {
		if o.PID == last {
			continue
		}
		last = o.PID
		i := t.progs.of(o.PID)
		if i < 0 || slices.Contains(progs, i) {
			continue
		}
		progs = append(progs, i)
		for int(i) >= len(t.cur.progs) {
			t.cur.progs = append(t.cur.progs, [nSlots]uint64{})
		}
		t.cur.progs[i][slot]++
	}
	switch {
	case len(progs) == 0:
		t.cur.unowned[slot]++
	case len(progs) > 1:
		t.cur.shared = append(t.cur.shared, shared{slot, slices.Clone(progs)})
	}
}

// listener records a listener: on a listed port with its keys (one per
// distinct program), else in the aggregate.
func (t *tally) listener(s *netstat.Socket, owners []procmap.Owner) {
	port := s.Local.Port()
	if !t.c.listed(port) {
		t.cur.others++
		return
	}
	k := listenerKey{proto: s.Proto, port: port, address: s.Local.Addr().Unmap().String()}
	if t.ns != nil {
		k.netns, k.container = t.ns.Inode, escape.String(t.ns.Container)
	}
	if t.progs.m == nil || len(owners) == 0 {
		t.cur.listeners = append(t.cur.listeners, []listenerKey{k})
		return
	}
	var keys []listenerKey
	last := -1
	for _, o := range owners {
		if o.PID == last {
			continue
		}
		last = o.PID
		k.program = t.progs.name(t.progs.of(o.PID))
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	t.cur.listeners = append(t.cur.listeners, keys)
}

// send turns the sums into metrics, folding the groups beyond the bounds.
func (t *tally) send(emit Emit) {
	c := t.c
	o := &c.opts
	sum := &t.sum
	gauge := func(d *Desc, v uint64, lv ...string) { emit(d, float64(v), lv...) }
	// procnet_sockets: zeros for the usual states, so that a series is
	// there before it counts.
	for _, p := range netstat.AllProtos {
		if !o.Filter.Protos.Has(p) {
			continue
		}
		for slot := range nSlots {
			v := sum.sockets[p][slot]
			usual := false
			switch {
			case p.IsTCP():
				usual = slot >= int(netstat.Established) && slot <= int(netstat.NewSynRecv) && o.Filter.States.Has(netstat.State(slot))
			case p == netstat.UDP || p == netstat.UDP6:
				usual = slot == slotUnconn && o.Filter.States.Has(netstat.Close) ||
					slot == int(netstat.Established) && o.Filter.States.Has(netstat.Established)
			}
			if v > 0 || usual {
				gauge(c.sockets, v, p.String(), slotNames[slot])
			}
		}
	}
	for slot := range nSlots {
		if v := sum.sockets[unixIndex][slot]; v > 0 {
			gauge(c.sockets, v, "unix", slotNames[slot])
		}
	}

	if t.progs.m != nil {
		gauge(c.denied, uint64(t.denied))
		groups := make([]group, len(t.progs.names))
		for i := range groups {
			groups[i].name = t.progs.names[i]
			if i < len(sum.progs) {
				groups[i].n = sum.progs[i]
			}
			for _, v := range groups[i].n {
				groups[i].total += v
			}
		}
		other := sum.unowned
		folded := foldGroups(groups, o.MaxPrograms)
		for i := range groups {
			for slot, v := range groups[i].n {
				switch {
				case folded[i]:
					other[slot] += v
				case v > 0:
					gauge(c.programs, v, groups[i].name, slotNames[slot])
				}
			}
		}
		// A socket of several folded programs counts once in the fold.
		for _, sh := range sum.shared {
			n := 0
			for _, i := range sh.progs {
				if folded[i] {
					n++
				}
			}
			if n > 1 {
				other[sh.slot] -= uint64(n - 1)
			}
		}
		for slot, v := range other {
			if v > 0 {
				gauge(c.programs, v, "", slotNames[slot])
			}
		}
	}

	if o.AllNetns {
		var other [nSlots]uint64
		folded := foldGroups(t.spaces, o.MaxNamespaces)
		for i := range t.spaces {
			g := &t.spaces[i]
			for slot, v := range g.n {
				switch {
				case folded[i]:
					other[slot] += v
				case v > 0:
					gauge(c.netns, v, g.name, g.extra, slotNames[slot])
				}
			}
		}
		for slot, v := range other {
			if v > 0 {
				gauge(c.netns, v, "", "", slotNames[slot])
			}
		}
	}

	// Listeners: the lowest ports (then protocol, address, program,
	// namespace) keep their series.
	seen := map[listenerKey]bool{}
	var keys []listenerKey
	for _, ks := range sum.listeners {
		for _, k := range ks {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.SortFunc(keys, func(a, b listenerKey) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.proto, b.proto),
			cmp.Compare(a.address, b.address), cmp.Compare(a.program, b.program),
			cmp.Compare(a.netns, b.netns))
	})
	if len(keys) > o.MaxListeners {
		for _, k := range keys[o.MaxListeners:] {
			seen[k] = false
		}
		keys = keys[:o.MaxListeners]
	}
	for _, k := range keys {
		lv := []string{k.proto.String(), k.address, strconv.Itoa(int(k.port))}
		if !o.NoOwners {
			lv = append(lv, k.program)
		}
		if o.AllNetns {
			lv = append(lv, strconv.FormatUint(k.netns, 10), k.container)
		}
		gauge(c.listener, 1, lv...)
	}
	other := sum.others
	for _, ks := range sum.listeners {
		if !slices.ContainsFunc(ks, func(k listenerKey) bool { return seen[k] }) {
			other++
		}
	}
	gauge(c.otherListening, other)
}

// foldGroups reports which groups lose their series: all but the max
// with the most sockets (ties: by name).
func foldGroups(gs []group, max int) []bool {
	folded := make([]bool, len(gs))
	if len(gs) <= max {
		return folded
	}
	order := make([]int, len(gs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(gs[b].total, gs[a].total), cmp.Compare(gs[a].name, gs[b].name))
	})
	for _, i := range order[max:] {
		folded[i] = true
	}
	return folded
}
