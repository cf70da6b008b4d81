package main

// Watch mode: -c [SECS] on the socket listing, as Sysinternals TCPView.
//
// Each round is compared with the one before, and each row gets a
// 2-column prefix before Proto (the header has two blanks there):
//
//	"+ " new since the last round          green on a terminal
//	"- " gone: shown this round, then no more   red
//	"~ " its state changed                 yellow
//	"  " as before (and every row of the first round)
//
// A connection is known by (proto, local, remote), not by inode: a
// socket that falls to TIME_WAIT keeps its identity, and keeps the owner
// it had (the kernel no longer says; net-tools shows "-"). Closed rows
// stay where they were, after their nearest surviving predecessor. Unix
// sockets are known by inode.
//
// On a terminal every round replaces the screen (cursor home, clear)
// under a one-line header, the cursor is hidden while watching and shown
// again, colours reset, when it ends; NO_COLOR drops the colours. Piped,
// rounds are appended, each after a line "=== <time> ===", with the
// plain markers. --summary -c marks whole groups the same way. With
// --all-netns each round reads every namespace and shows the NetNS column
// after the marker (--netns PID: that namespace's tables); a connection
// is then known by its namespace too.
// --json and --csv with -c print the full listing each round, unmarked.
//
// Owners come from a procmap.Tracker: a round re-reads one stat file per
// owning process and walks fds only for sockets it has not seen, instead
// of every fd of every process. SIGINT, SIGTERM or a reader that went
// away end the watch with status 0.

import (
	"context"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

const (
	sgrReset   = "\x1b[0m"
	sgrGreen   = "\x1b[32m"
	sgrRed     = "\x1b[31m"
	sgrYellow  = "\x1b[33m"
	clearHome  = "\x1b[H\x1b[2J"
	hideCursor = "\x1b[?25l"
	showCursor = "\x1b[?25h"
)

// wrow is a socket row as a round shows it: with the Map that describes
// its owners (an older one for a remembered owner) and its marker.
type wrow struct {
	row
	m    *procmap.Map
	mark byte
	ns   *netstat.Namespace // with --all-netns and --netns
}

type wunix struct {
	netstat.UnixSocket
	m    *procmap.Map
	mark byte
	ns   *netstat.Namespace
}

// connKey names a connection across rounds; n tells apart rows with the
// same ends (SO_REUSEPORT listeners). With --all-netns the same ends may
// be in two namespaces (a container's :80 and the host's): netns tells
// them apart.
type connKey struct {
	proto         netstat.Proto
	local, remote netip.AddrPort
	netns         uint64
	n             int
}

// watcher keeps what one round needs of the round before.
type watcher struct {
	l       *lister
	tracker *procmap.Tracker // nil when owners are not needed
	inodes  map[uint64]bool
	// at and prevAt index this round's and the last round's rows by key.
	// They tell duplicate keys apart while a round is read, give a
	// TIME_WAIT row (inode 0) the owners its connection had the round
	// before, and are the maps mark compares the rounds with: one map
	// built per round, not one per use.
	at, prevAt map[connKey]int

	rounds             int
	rows, prevRows     []wrow
	keys, prevKeys     []connKey
	unix, prevUnix     []wunix
	ukeys, prevUkeys   []uint64
	groups, prevGroups []group
	gkeys, prevGkeys   []groupKey
	shownRows          []wrow
	shownUnix          []wunix
	shownGroups        []group
	sockNS             []*netstat.Namespace // the namespace of each of l.socks
	warned             bool
}

func newWatcher(c *config) *watcher {
	w := &watcher{
		l:      newLister(c),
		inodes: map[uint64]bool{},
		at:     map[connKey]int{},
		prevAt: map[connKey]int{},
	}
	if c.needOwners() {
		w.tracker = procmap.NewTracker(procmap.Options{Root: c.root, Cmdline: !c.noCmdline})
	}
	return w
}

// read takes one round: the tables, their owners from the tracker (or
// the memo), the process filters. Only an unreadable proc is an error.
func (w *watcher) read(stderr io.Writer) error {
	l, c := w.l, w.l.c
	f := c.filter()
	report := func(err error) { io.WriteString(stderr, "netstat: "+sanitize(err.Error())+"\n") }
	l.socks = l.socks[:0]
	w.sockNS = w.sockNS[:0]
	w.prevUnix, w.unix = w.unix, w.prevUnix[:0]
	w.prevUkeys, w.ukeys = w.ukeys, w.prevUkeys[:0]
	var socksUnix []netstat.UnixSocket
	var unixNS []*netstat.Namespace
	// scan reads the tables l.reader points at (one namespace's with
	// --all-netns and --netns); undo drops what it read.
	scan := func(ns *netstat.Namespace) (undo func()) {
		n, nu := len(l.socks), len(socksUnix)
		if c.inetWanted() {
			for s, err := range l.reader.Sockets(context.Background(), f) {
				if err != nil {
					report(err)
					continue
				}
				if c.shown(&s) {
					l.socks = append(l.socks, s)
					w.sockNS = append(w.sockNS, ns)
				}
			}
		}
		if c.unix && f.Ports == nil && f.LocalPorts == nil && f.RemotePorts == nil && c.states == 0 {
			for u, err := range l.reader.UnixSockets(context.Background()) {
				if err != nil {
					report(err)
					continue
				}
				if c.unixShown(&u) {
					socksUnix = append(socksUnix, u)
					unixNS = append(unixNS, ns)
				}
			}
		}
		return func() {
			l.socks, w.sockNS = l.socks[:n], w.sockNS[:n]
			socksUnix, unixNS = socksUnix[:nu], unixNS[:nu]
		}
	}
	if c.nsMode() {
		if err := l.forNamespaces(scan); err != nil { // netns.go
			return err
		}
	} else {
		scan(nil)
	}

	var m *procmap.Map
	if w.tracker != nil {
		clear(w.inodes)
		for i := range l.socks {
			if l.socks[i].Inode != 0 {
				w.inodes[l.socks[i].Inode] = true
			}
		}
		for i := range socksUnix {
			w.inodes[socksUnix[i].Inode] = true
		}
		var err error
		if m, err = w.tracker.Refresh(context.Background(), w.inodes); err != nil {
			return err
		}
		if m.Denied > 0 && c.programs && !w.warned {
			warnDenied(stderr, m)
			w.warned = true
		}
	}

	w.prevRows, w.rows = w.rows, w.prevRows[:0]
	w.prevKeys, w.keys = w.keys, w.prevKeys[:0]
	w.prevAt, w.at = w.at, w.prevAt
	clear(w.at)
	for i, s := range l.socks {
		ns := w.sockNS[i]
		k := connKey{proto: s.Proto, local: s.Local, remote: s.Remote}
		if ns != nil {
			k.netns = ns.Inode
		}
		r := wrow{row: row{Socket: s}, m: m, mark: ' ', ns: ns}
		if m != nil {
			r.Owners = m.Lookup(s.Inode)
		}
		if len(r.Owners) == 0 && s.Inode == 0 {
			// TIME_WAIT: the owners the connection had (or inherited)
			// the round before.
			if j, ok := w.prevAt[k]; ok {
				r.Owners, r.m = w.prevRows[j].Owners, w.prevRows[j].m
			}
		}
		if !c.ownedBy(r.Owners, r.m) {
			continue
		}
		for { // the same key twice (SO_REUSEPORT listeners): number them
			if _, dup := w.at[k]; !dup {
				break
			}
			k.n++
		}
		w.at[k] = len(w.rows)
		w.rows = append(w.rows, r)
		w.keys = append(w.keys, k)
	}
	for i, u := range socksUnix {
		var owners []procmap.Owner
		if m != nil {
			owners = m.Lookup(u.Inode)
		}
		if !c.ownedBy(owners, m) {
			continue
		}
		w.unix = append(w.unix, wunix{UnixSocket: u, m: m, mark: ' ', ns: unixNS[i]})
		w.ukeys = append(w.ukeys, u.Inode)
	}
	w.rounds++
	return nil
}

// ownedBy applies --pid and --program (either may match).
func (c *config) ownedBy(owners []procmap.Owner, m *procmap.Map) bool {
	if c.pid < 0 && c.program == "" {
		return true
	}
	for _, o := range owners {
		if c.pid >= 0 && o.PID == c.pid || c.program != "" && progMatches(m.Process(o.PID), c.program) {
			return true
		}
	}
	return false
}

// mark compares the round just read with the one before.
func (w *watcher) mark() {
	first := w.rounds == 1
	w.shownRows = diffAt(w.shownRows[:0], w.prevRows, w.prevKeys, w.prevAt, w.rows, w.keys, w.at, first,
		func(a, b *wrow) bool { return a.State != b.State },
		func(r *wrow, m byte) { r.mark = m })
	w.shownUnix = diff(w.shownUnix[:0], w.prevUnix, w.prevUkeys, w.unix, w.ukeys, first,
		func(a, b *wunix) bool { return a.State != b.State },
		func(r *wunix, m byte) { r.mark = m })
}

// markGroups counts the round into groups and compares them with the
// groups of the round before.
func (w *watcher) markGroups() {
	w.prevGroups, w.prevGkeys = w.groups, w.gkeys
	w.groups = w.l.groups(w.rows)
	w.gkeys = make([]groupKey, len(w.groups))
	for i := range w.groups {
		w.gkeys[i] = w.groups[i].key
	}
	w.shownGroups = diff(w.shownGroups[:0], w.prevGroups, w.prevGkeys, w.groups, w.gkeys, w.rounds == 1,
		func(a, b *group) bool { return a.counts != b.counts },
		func(g *group, m byte) { g.mark = m })
}

// diff marks cur against prev and appends to out what a round shows: cur
// in order, each row "+" (new), "~" (changed) or " ", and the rows of
// prev that are gone, marked "-", after their nearest predecessor that
// is still there. The first round marks nothing.
func diff[K comparable, R any](out, prev []R, prevKeys []K, cur []R, curKeys []K, first bool,
	changed func(a, b *R) bool, setMark func(*R, byte)) []R {
	if first {
		return diffAt(out, prev, prevKeys, nil, cur, curKeys, nil, true, changed, setMark)
	}
	prevAt := make(map[K]int, len(prevKeys))
	for j, k := range prevKeys {
		prevAt[k] = j
	}
	curAt := make(map[K]int, len(curKeys))
	for i, k := range curKeys {
		curAt[k] = i
	}
	return diffAt(out, prev, prevKeys, prevAt, cur, curKeys, curAt, false, changed, setMark)
}

// diffAt is diff with prevAt and curAt, the index of each key in prev
// and cur, given.
func diffAt[K comparable, R any](out, prev []R, prevKeys []K, prevAt map[K]int, cur []R, curKeys []K, curAt map[K]int, first bool,
	changed func(a, b *R) bool, setMark func(*R, byte)) []R {
	if first {
		for i := range cur {
			setMark(&cur[i], ' ')
		}
		return append(out, cur...)
	}
	for i, k := range curKeys {
		m := byte(' ')
		if j, ok := prevAt[k]; !ok {
			m = '+'
		} else if changed(&prev[j], &cur[i]) {
			m = '~'
		}
		setMark(&cur[i], m)
	}
	var gone map[int][]R // by the index in cur of the row they follow
	anchor := -1
	for j, k := range prevKeys {
		if i, ok := curAt[k]; ok {
			anchor = i
			continue
		}
		if gone == nil {
			gone = map[int][]R{}
		}
		r := prev[j]
		setMark(&r, '-')
		gone[anchor] = append(gone[anchor], r)
	}
	out = append(out, gone[-1]...)
	for i := range cur {
		out = append(out, cur[i])
		out = append(out, gone[i]...)
	}
	return out
}

// markStart opens a marked row: its colour on a terminal, the marker and
// a blank.
func markStart(b []byte, mark byte, colour bool) []byte {
	if colour {
		switch mark {
		case '+':
			b = append(b, sgrGreen...)
		case '-':
			b = append(b, sgrRed...)
		case '~':
			b = append(b, sgrYellow...)
		}
	}
	return append(b, mark, ' ')
}

// markEnd ends a row begun by markStart, whose last byte is '\n'.
func markEnd(b []byte, mark byte, colour bool) []byte {
	if !colour || mark == ' ' {
		return b
	}
	b = append(b[:len(b)-1], sgrReset...)
	return append(b, '\n')
}

// appendTable is writeTable with the marker column.
func (w *watcher) appendTable(b []byte, colour bool) []byte {
	l, c := w.l, w.l.c
	if c.inetWanted() {
		if !c.numHosts {
			var addrs []netip.Addr
			for i := range w.shownRows {
				for _, a := range []netip.Addr{w.shownRows[i].Local.Addr(), w.shownRows[i].Remote.Addr()} {
					if !a.Is4In6() {
						addrs = append(addrs, a)
					}
				}
			}
			l.names.prefetch(addrs)
		}
		b = l.appendInetHeader(b, "  ")
		for i := range w.shownRows {
			r := &w.shownRows[i]
			b = markStart(b, r.mark, colour)
			b = l.nsCellOf(b, r.ns)
			b = l.appendRow(b, &r.row, r.m)
			b = markEnd(b, r.mark, colour)
		}
	}
	if c.unix {
		b = l.appendUnixHeader(b, "  ")
		for i := range w.shownUnix {
			u := &w.shownUnix[i]
			b = markStart(b, u.mark, colour)
			b = l.nsCellOf(b, u.ns)
			b = l.appendUnix(b, &u.UnixSocket, u.m)
			b = markEnd(b, u.mark, colour)
		}
	}
	return b
}

// round reads, marks and renders one round of the table or summary.
func (w *watcher) round(b []byte, stderr io.Writer, colour bool) ([]byte, error) {
	if err := w.read(stderr); err != nil {
		return b, err
	}
	c := w.l.c
	if c.summary {
		w.markGroups()
		if c.json {
			return w.l.appendSummaryJSON(b, w.groups), nil
		}
		return w.l.appendSummary(b, w.shownGroups, true, colour), nil
	}
	w.mark()
	return w.appendTable(b, colour), nil
}

// watch runs -c until ctx ends (a signal) or output fails.
func watch(ctx context.Context, c *config, stdout, stderr io.Writer, now func() time.Time) error {
	structured := c.json || c.csv
	screen := c.isTerminal && !structured
	colour := screen && os.Getenv("NO_COLOR") == ""
	if screen {
		if _, err := io.WriteString(stdout, hideCursor); err != nil {
			return err
		}
		defer io.WriteString(stdout, sgrReset+showCursor)
	}
	w := newWatcher(c)
	timer := time.NewTimer(c.interval)
	timer.Stop()
	var b []byte
	for {
		b = b[:0]
		switch {
		case screen:
			b = append(b, clearHome...)
			b = append(b, "Every "...)
			b = append(b, c.interval.String()...)
			b = append(b, ": netstat   "...)
			b = now().AppendFormat(b, "2006-01-02 15:04:05")
			b = append(b, "   + new  - closed  ~ state changed   (Ctrl-C quits)\n\n"...)
		case !structured:
			b = append(b, "=== "...)
			b = now().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
			b = append(b, " ===\n"...)
		}
		if structured && !c.summary {
			snap, err := w.l.read(stderr)
			if snap == nil {
				return err
			}
			if c.json {
				err = w.l.writeJSON(stdout, snap)
			} else {
				err = w.l.writeCSV(stdout, snap)
			}
			if err != nil {
				return err
			}
		} else {
			var err error
			if b, err = w.round(b, stderr, colour); err != nil {
				return err
			}
			if _, err := stdout.Write(b); err != nil {
				return err
			}
		}
		timer.Reset(c.interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// watchSignals is watch until SIGINT or SIGTERM.
func watchSignals(c *config, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return watch(ctx, c, stdout, stderr, time.Now)
}
