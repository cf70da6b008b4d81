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
// or on a terminal whose TERM is "dumb", rounds are appended, each after a
// line "=== <time> ===", with the plain markers and no escape sequence. --summary -c marks whole groups the same way. With
// --all-netns each round reads every namespace and shows the NetNS column
// after the marker (--netns PID: that namespace's tables); a connection
// is then known by its namespace too.
// --json and --csv with -c print the full listing each round, unmarked:
// every JSON object has the round's "time", CSV has its header once and
// the round's time as the first column.
//
// Owners come from a procmap.Tracker: a round re-reads one stat file per
// owning process and walks fds only for sockets it has not seen, instead
// of every fd of every process.
//
// SIGINT, SIGTERM, SIGHUP, SIGQUIT or a reader that went away end the
// watch with status 0, promptly even mid-round: the round stops at its
// next row or stage, and the watch does not wait for it (a library call
// that cannot be interrupted yet finishes unseen while the process
// exits). On a terminal the cursor and colours are restored first.
// Ctrl-Z (SIGTSTP) restores them before the process stops; SIGCONT hides
// the cursor again and redraws the last round.

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

const (
	sgrReset   = "\x1b[0m"
	sgrGreen   = "\x1b[32m"
	sgrRed     = "\x1b[31m"
	sgrYellow  = "\x1b[33m"
	sgrMagenta = "\x1b[35m"
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
	rate int32              // --traffic: the index of its measure in fs.rates, -1 for none
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
	nsWarned           bool         // the namespaces --all-netns could not read were reported
	fs                 feedState    // the connection feed and traffic meter (watchfeed.go)
	roundMap           *procmap.Map // the owners of the last round read
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
	if c.traffic {
		w.fs.meter = flows.NewMeter(false)
	}
	return w
}

// read takes one round: the tables, their owners from the tracker (or
// the memo), the process filters. Only an unreadable proc is an error,
// and ctx's: it is checked between rows and between stages.
func (w *watcher) read(ctx context.Context, stderr io.Writer) error {
	l, c := w.l, w.l.c
	f := c.filter()
	done := ctx.Done()
	report := func(err error) { io.WriteString(stderr, "netstat: "+escape.String(err.Error())+"\n") }
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
			for s, err := range l.reader.Sockets(ctx, f) {
				if stopped(done) {
					break // ends the library's scan between rows
				}
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
		if c.unix && f.Ports == nil && f.LocalPorts == nil && f.RemotePorts == nil && c.states == 0 && !stopped(done) {
			for u, err := range l.reader.UnixSockets(ctx) {
				if stopped(done) {
					break
				}
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
		skipped, err := l.forNamespaces(ctx, scan) // netns.go
		if err != nil {
			return err
		}
		if !w.nsWarned && skipped.any() {
			skipped.report(stderr)
			w.nsWarned = true
		}
	} else {
		scan(nil)
	}
	if err := ctx.Err(); err != nil {
		return err
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
		if m, err = w.tracker.Refresh(ctx, w.inodes); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if m.Denied > 0 && c.programs && !w.warned {
			warnDenied(stderr, m)
			w.warned = true
		}
	}

	w.roundMap = m
	w.prevRows, w.rows = w.rows, w.prevRows[:0]
	w.prevKeys, w.keys = w.keys, w.prevKeys[:0]
	w.prevAt, w.at = w.at, w.prevAt
	clear(w.at)
	for i, s := range l.socks {
		if i&1023 == 0 && stopped(done) {
			return ctx.Err()
		}
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
		func(r *wrow, m byte) {
			r.mark = m
			if m == '-' {
				r.rate = -1
			}
		})
	w.shownUnix = diff(w.shownUnix[:0], w.prevUnix, w.prevUkeys, w.unix, w.ukeys, first,
		func(a, b *wunix) bool { return a.State != b.State },
		func(r *wunix, m byte) { r.mark = m })
}

// markGroups counts the round into groups and compares them with the
// groups of the round before.
func (w *watcher) markGroups() {
	w.prevGroups, w.prevGkeys = w.groups, w.gkeys
	w.groups = w.l.groups(w.rows)
	if w.l.c.traffic {
		w.groups = addTraffic(w.groups, w.fs.owners, w.roundMap.Process)
	}
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
		case '*':
			b = append(b, sgrMagenta...)
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
		for _, rows := range [][]wrow{w.shownRows, w.fs.flashes} {
			for i := range rows {
				r := &rows[i]
				if c.traffic {
					l.rate = w.rateOf(r)
				}
				b = markStart(b, r.mark, colour)
				b = l.nsCellOf(b, r.ns)
				b = l.appendRow(b, &r.row, r.m)
				b = markEnd(b, r.mark, colour)
			}
		}
		l.rate = nil
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
func (w *watcher) round(ctx context.Context, b []byte, stderr io.Writer, colour bool) ([]byte, error) {
	c := w.l.c
	if w.drain(stderr) && c.summary {
		// Nothing happened since the last round: its counts, unmarked.
		w.shownGroups = append(w.shownGroups[:0], w.groups...)
		for i := range w.shownGroups {
			w.shownGroups[i].mark = ' '
		}
	} else {
		if err := w.read(ctx, stderr); err != nil {
			return b, err
		}
		w.afterRead(time.Now())
		if c.summary {
			w.markGroups()
		} else {
			w.mark()
		}
		w.noteGone()
	}
	if c.summary {
		switch {
		case c.json:
			return w.l.appendSummaryJSON(b, w.groups), nil
		case c.csv:
			buf := bytes.NewBuffer(b)
			err := w.l.writeSummaryCSV(buf, w.groups)
			return buf.Bytes(), err
		}
		return w.l.appendSummary(b, w.shownGroups, true, colour), nil
	}
	return w.appendTable(b, colour), nil
}

// stampLayout is the time of a round: the piped table's "=== … ===" line,
// JSON's "time" and CSV's "Time" under -c.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// watch runs -c until ctx ends (a signal) or output fails.
//
// Each round is read and rendered by a goroutine while watch waits for
// it, for ctx and, on a terminal, for job control: the end of ctx ends
// the watch at once, whatever the round is doing; only watch writes to
// stdout.
func watch(ctx context.Context, c *config, stdout, stderr io.Writer, now func() time.Time) error {
	structured := c.json || c.csv
	screen := c.isTerminal && !structured && os.Getenv("TERM") != "dumb"
	colour := screen && os.Getenv("NO_COLOR") == ""
	// A round given up on may still report: nothing reaches stderr once
	// watch has returned.
	errw := &gate{w: stderr}
	defer errw.close()
	var jobs chan os.Signal
	if screen {
		if _, err := io.WriteString(stdout, hideCursor); err != nil {
			return err
		}
		defer io.WriteString(stdout, sgrReset+showCursor)
		jobs = make(chan os.Signal, 4)
		if !signal.Ignored(syscall.SIGTSTP) {
			signal.Notify(jobs, syscall.SIGTSTP, syscall.SIGCONT)
			defer signal.Stop(jobs)
		}
	}
	w := newWatcher(c)
	w.startFeed(errw)
	defer w.closeFeed()
	legend := "   + new  - closed  ~ state changed   (Ctrl-C quits)\n\n"
	if w.fs.feed != nil {
		legend = "   + new  - closed  ~ state changed  * opened and closed   (Ctrl-C quits)\n\n"
	}
	out := cutWriter{ctx: ctx, w: stdout} // the rounds: a signal cuts a long write short
	timer := time.NewTimer(c.interval)
	timer.Stop()
	type result struct {
		b    []byte
		snap *snapshot // structured: written here, not by the round
		err  error
	}
	done := make(chan result, 1)
	var b, shown []byte // the round being made, the last one written
	// awaitRound waits for the round, awaitTick for the next one; both
	// obey job control meanwhile and give up (false) when ctx ends.
	awaitRound := func() (result, bool) {
		for {
			select {
			case <-ctx.Done():
				return result{}, false
			case sig := <-jobs:
				jobControl(sig, stdout, shown)
			case r := <-done:
				return r, true
			}
		}
	}
	awaitTick := func() bool {
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return false
			case sig := <-jobs:
				jobControl(sig, stdout, shown)
			case <-timer.C:
				return true
			}
		}
	}
	for {
		b = b[:0]
		switch {
		case screen:
			b = append(b, clearHome...)
			b = append(b, "Every "...)
			b = append(b, c.interval.String()...)
			b = append(b, ": netstat   "...)
			b = now().AppendFormat(b, "2006-01-02 15:04:05")
			b = append(b, legend...)
		case !structured:
			b = append(b, "=== "...)
			b = now().AppendFormat(b, stampLayout)
			b = append(b, " ===\n"...)
		default:
			// Every JSON object and CSV record carries its round's time.
			w.l.stamp = now().Format(stampLayout)
		}
		go func(b []byte) {
			var r result
			if structured && !c.summary {
				r.snap, r.err = w.l.read(ctx, errw)
			} else {
				r.b, r.err = w.round(ctx, b, errw, colour)
			}
			done <- r
		}(b)
		r, ok := awaitRound()
		if !ok || ctx.Err() != nil {
			return nil // the round stops at its next check, unwaited for
		}
		if structured && !c.summary {
			if r.snap == nil {
				return r.err
			}
			var err error
			if c.json {
				err = w.l.writeJSON(out, r.snap)
			} else {
				err = w.l.writeCSV(out, r.snap)
			}
			if err != nil {
				return ignoreEnd(ctx, err)
			}
		} else {
			if r.err != nil {
				return r.err
			}
			if _, err := out.Write(r.b); err != nil {
				return ignoreEnd(ctx, err)
			}
			if screen { // kept for a redraw after SIGCONT
				b, shown = shown, r.b
			} else {
				b = r.b
			}
		}
		timer.Reset(c.interval)
		if !awaitTick() {
			return nil
		}
	}
}

// jobControl obeys SIGTSTP and SIGCONT on a terminal: before stopping,
// the cursor is shown and the colours reset, as a shell expects its
// terminal back; once continued, the cursor is hidden again and the last
// round redrawn (the shell may have written over it).
func jobControl(sig os.Signal, stdout io.Writer, shown []byte) {
	switch sig {
	case syscall.SIGTSTP:
		io.WriteString(stdout, sgrReset+showCursor)
		suspend() // suspend_linux.go: here until SIGCONT
	case syscall.SIGCONT:
		io.WriteString(stdout, hideCursor)
		stdout.Write(shown)
	}
}

// cutWriter writes to w in pieces of at most 64 KiB and fails with ctx's
// error once ctx has ended: a round being written (a large table to a
// slow terminal or pipe) stops within one piece.
type cutWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c cutWriter) Write(p []byte) (int, error) {
	done := c.ctx.Done()
	n := 0
	for len(p) > 0 {
		if stopped(done) {
			return n, c.ctx.Err()
		}
		m, err := c.w.Write(p[:min(len(p), 64<<10)])
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// ignoreEnd is err, or nil when ctx ended: the watch ends quietly.
func ignoreEnd(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// gate passes writes on until closed, then drops them.
type gate struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

// quiet passes --quiet on (cli.go).
func (g *gate) quiet() bool { return quiet(g.w) }

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// stopped reports whether done (a context's Done channel) is closed,
// without blocking: cheap enough to ask between rows. A nil done, from a
// context that is never cancelled, never is.
func stopped(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// watchSignals is watch until SIGINT, SIGTERM, SIGHUP or SIGQUIT, or
// until ctx ends. A signal that was ignored when we started (nohup, a
// background job of a shell without job control) stays ignored.
func watchSignals(ctx context.Context, c *config, stdout, stderr io.Writer) error {
	var sigs []os.Signal
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		if !signal.Ignored(sig) {
			sigs = append(sigs, sig)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, sigs...)
	defer stop()
	return watch(ctx, c, stdout, stderr, time.Now)
}
