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
//	"* " opened and closed since the last round (with a feed: watchfeed.go)
//
// The rounds come from a procnet.Poller, which keeps the last snapshot —
// the one copy of the rows; the watcher adds a mark byte per row. A
// connection is known by its namespace, protocol and ends (the inode
// tells SO_REUSEPORT twins apart): a socket that falls to TIME_WAIT keeps
// its identity, and keeps the owner it had (the kernel no longer says;
// net-tools shows "-"). Closed rows stay where they were, after their
// nearest surviving predecessor. Unix sockets are known by inode.
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
// Owners come from the Poller's procmap.Tracker: a round re-reads one
// stat file per owning process and walks fds only for sockets it has not
// seen, instead of every fd of every process. --summary -c counts with
// procnet.Counter (the counting rule: a shared socket counts once in each
// distinct owner's group).
//
// Memory (issue 15 item 5): a piped table is rendered as it is written,
// 64 KiB at a time; a terminal's frame is kept whole for the SIGCONT
// redraw. The Poller keeps the last round compact, not its rows; the
// watcher drops the rows it rendered and runs the collector before the
// next poll allocates its own, which would otherwise pile onto the
// uncollected ones (a few ms a round); and the watch runs with GOGC=25
// (watchGC) unless GOGC is set. bench/run-watch at 100k sockets: peak
// RSS 101 → 71 MiB (BENCHMARKS.md).
//
// SIGINT, SIGTERM, SIGHUP, SIGQUIT or a reader that went away end the
// watch with status 0, promptly even mid-round: the round stops at its
// next row or stage, and the watch does not wait for it (a library call
// that cannot be interrupted yet finishes unseen while the process
// exits). On a terminal the cursor and colours are restored first.
// Ctrl-Z (SIGTSTP) restores them before the process stops; SIGCONT hides
// the cursor again and redraws the last round.

import (
	"cmp"
	"context"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
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

// watcher keeps what one round needs of the round before: a
// procnet.Poller holds the last snapshot (the one copy of the rows) and
// the owner tracker; the watcher adds one mark byte per row.
type watcher struct {
	l      *lister
	poller *procnet.Poller
	snap   *procnet.Snapshot // the last round's
	ch     procnet.Changes
	// marks and umarks are the marker of each row of snap.Conns and
	// snap.Unix: ' ', '+', '~' or '*' (opened and closed: see watchfeed.go).
	marks, umarks []byte
	// gone and ugone index ch.Closed and ch.ClosedUnix by the row of snap
	// they follow (ClosedAfter, ClosedUnixAfter).
	gone, ugone []int

	rounds              int
	groups, shownGroups []group
	warned              bool
	nsWarned            bool      // the namespaces --all-netns could not read were reported
	fs                  feedState // the connection feed and traffic meter (watchfeed.go)

	// spillTo, while a round is streamed, takes its pieces (spill).
	spillTo  io.Writer
	spillErr error
}

// pollOptions are the listing's options less the process filters, which
// the watcher applies (the Poller keeps a TIME_WAIT row's remembered
// owner, which --pid must see), with the Poller's Tracker for owners.
func (c *config) pollOptions() procnet.Options {
	o := c.options()
	o.PIDs, o.Programs, o.OwnerSource = nil, nil, 0
	return o
}

func newWatcher(c *config) *watcher {
	w := &watcher{l: newLister(c), poller: procnet.NewPoller(c.pollOptions())}
	if c.traffic {
		w.fs.meter = flows.NewMeter(false)
	}
	return w
}

// read takes one round through the Poller and marks it. Only an
// unreadable proc is an error, and ctx's.
func (w *watcher) read(ctx context.Context, stderr io.Writer) error {
	c := w.l.c
	if !c.inetWanted() && !c.unix {
		return nil
	}
	// The last round's rows are rendered: let them go, and collect them
	// before the poll allocates the new ones in one piece (the Poller
	// keeps what it needs of them). Without the collection the heap
	// reached both rounds' rows before the collector ran.
	w.snap, w.ch = nil, procnet.Changes{}
	runtime.GC()
	snap, ch, err := w.poller.Poll(ctx)
	if snap == nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	report(stderr, err) // rows that could not be read: the round goes on
	if c.allNetns && !w.nsWarned {
		w.nsWarned = true
		reportSkipped(stderr, snap.Skipped)
	}
	if c.programs && !w.warned {
		w.warned = warnDenied(stderr, snap.Procs)
	}
	w.snap, w.ch = snap, ch
	w.rounds++

	// The marks: one byte per row.
	w.marks = slices.Grow(w.marks[:0], len(snap.Conns))[:len(snap.Conns)]
	for i := range w.marks {
		w.marks[i] = ' '
	}
	for _, i := range ch.New {
		w.marks[i] = '+'
	}
	for _, s := range ch.Changed {
		w.marks[s.Index] = '~'
	}
	w.umarks = slices.Grow(w.umarks[:0], len(snap.Unix))[:len(snap.Unix)]
	for i := range w.umarks {
		w.umarks[i] = ' '
	}
	for _, i := range ch.NewUnix {
		w.umarks[i] = '+'
	}
	for _, s := range ch.ChangedUnix {
		w.umarks[s.Index] = '~'
	}

	// Closed rows follow the nearest row of the last round still there.
	w.gone, w.ugone = byAfter(w.gone[:0], ch.ClosedAfter), byAfter(w.ugone[:0], ch.ClosedUnixAfter)
	return nil
}

// byAfter appends the indices of after, ordered by their value (stably).
func byAfter(out, after []int) []int {
	for k := range after {
		out = append(out, k)
	}
	slices.SortStableFunc(out, func(x, y int) int { return cmp.Compare(after[x], after[y]) })
	return out
}

// shows says whether the round shows an Internet row: --pid and
// --program (the Poller applied the -l/-a rule).
func (w *watcher) shows(cn *procnet.Conn, m procnet.Processes) bool {
	c := w.l.c
	return c.ownedBy(cn.Owners, m)
}

func (w *watcher) showsUnix(u *procnet.UnixConn, m procnet.Processes) bool {
	c := w.l.c
	return c.ownedBy(u.Owners, m)
}

// ownedBy applies --pid and --program (either may match).
func (c *config) ownedBy(owners []procmap.Owner, m procnet.Processes) bool {
	if c.pid < 0 && c.program == "" {
		return true
	}
	for _, o := range owners {
		if c.pid >= 0 && o.PID == c.pid || c.program != "" && m.Process(o.PID).Runs(c.program) {
			return true
		}
	}
	return false
}

// markGroups counts the round into groups and compares them with the
// groups of the round before: shownGroups are the round's groups in
// order, each '+' (new), '~' (counts changed) or ' ', and the last
// round's groups that are gone, marked '-', after their nearest
// predecessor still there. The first round marks nothing.
func (w *watcher) markGroups() {
	prev, m := w.groups, w.snap
	k := procnet.NewCounter(w.l.c.countBy())
	if m != nil {
		for i := range m.Conns {
			if cn := &m.Conns[i]; w.shows(cn, m) {
				k.Add(cn, m)
			}
		}
	}
	w.groups = groupsOf(k.Groups())
	if w.l.c.traffic {
		w.groups = addTraffic(w.groups, w.fs.owners, m.Process)
	}
	w.shownGroups = w.shownGroups[:0]
	if w.rounds <= 1 {
		w.shownGroups = append(w.shownGroups, w.groups...)
		return
	}
	was := make(map[procnet.Key]procnet.Tally, len(prev))
	for j := range prev {
		was[prev[j].Key] = prev[j].Tally
	}
	at := make(map[procnet.Key]int, len(w.groups))
	for i := range w.groups {
		g := &w.groups[i]
		at[g.Key] = i
		if t, ok := was[g.Key]; !ok {
			g.mark = '+'
		} else if t != g.Tally {
			g.mark = '~'
		}
	}
	var gone map[int][]group // by the index in w.groups of the group they follow
	anchor := -1
	for _, g := range prev {
		if i, ok := at[g.Key]; ok {
			anchor = i
			continue
		}
		if gone == nil {
			gone = map[int][]group{}
		}
		g.mark = '-'
		gone[anchor] = append(gone[anchor], g)
	}
	w.shownGroups = append(w.shownGroups, gone[-1]...)
	for i := range w.groups {
		w.shownGroups = append(append(w.shownGroups, w.groups[i]), gone[i]...)
	}
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

// appendTable is writeTable with the marker column: the rows of the
// round, each closed row after the row it followed, then the connections
// that opened and closed since the last round.
func (w *watcher) appendTable(b []byte, colour bool) []byte {
	l, c := w.l, w.l.c
	snap := w.snap // describes the owners of its rows; w.ch those of the closed
	var r row
	emit := func(b []byte, cn *procnet.Conn, mark byte, m procnet.Processes, rate *flows.ConnTraffic) []byte {
		r.Socket, r.Owners = cn.Socket, cn.Owners
		l.rate = rate
		b = markStart(b, mark, colour)
		b = l.nsCellOf(b, cn.Namespace)
		b = l.appendRow(b, &r, m)
		return markEnd(b, mark, colour)
	}
	if c.inetWanted() {
		l.prefetch(func(yield func(*row) bool) {
			for i := range snap.Conns {
				if cn := &snap.Conns[i]; w.shows(cn, snap) && !yield(cn) {
					return
				}
			}
			for j := range w.ch.Closed {
				if !yield(&w.ch.Closed[j]) {
					return
				}
			}
		})
		b = l.appendHeading(b, false, "  ")
		g := 0 // the next of w.gone
		closed := func(b []byte, after int) []byte {
			for ; g < len(w.gone) && w.ch.ClosedAfter[w.gone[g]] == after; g++ {
				if cn := &w.ch.Closed[w.gone[g]]; w.shows(cn, &w.ch) {
					b = emit(b, cn, '-', &w.ch, nil)
				}
			}
			return b
		}
		b = closed(b, -1)
		for i := range snap.Conns {
			if cn := &snap.Conns[i]; w.shows(cn, snap) {
				b = emit(b, cn, w.marks[i], snap, w.rateOf(i))
			}
			if b = w.spill(closed(b, i)); w.spillErr != nil {
				return b // the reader went away or the watch ends
			}
		}
		for i := range w.fs.flashes {
			f := &w.fs.flashes[i]
			b = emit(b, &f.Conn, '*', f.m, nil)
		}
		l.rate = nil
	}
	if c.unix {
		b = l.appendHeading(b, true, "  ")
		g := 0
		closed := func(b []byte, after int) []byte {
			for ; g < len(w.ugone) && w.ch.ClosedUnixAfter[w.ugone[g]] == after; g++ {
				if u := &w.ch.ClosedUnix[w.ugone[g]]; w.showsUnix(u, &w.ch) {
					b = markStart(b, '-', colour)
					b = l.nsCellOf(b, u.Namespace)
					b = l.appendUnix(b, &u.UnixSocket, u.Owners, &w.ch)
					b = markEnd(b, '-', colour)
				}
			}
			return b
		}
		b = closed(b, -1)
		for i := range snap.Unix {
			u := &snap.Unix[i]
			if w.showsUnix(u, snap) {
				b = markStart(b, w.umarks[i], colour)
				b = l.nsCellOf(b, u.Namespace)
				b = l.appendUnix(b, &u.UnixSocket, u.Owners, snap)
				b = markEnd(b, w.umarks[i], colour)
			}
			if b = w.spill(closed(b, i)); w.spillErr != nil {
				return b // the reader went away or the watch ends
			}
		}
	}
	return b
}

// round reads, marks and renders one round of the table or summary.
func (w *watcher) round(ctx context.Context, b []byte, stderr io.Writer, colour bool) ([]byte, error) {
	if err := w.update(ctx, stderr); err != nil {
		return b, err
	}
	return w.render(b, colour), nil
}

// update reads and marks one round of the table or summary.
func (w *watcher) update(ctx context.Context, stderr io.Writer) error {
	c := w.l.c
	if w.drain(stderr) && c.summary {
		// Nothing happened since the last round: its counts, unmarked.
		w.shownGroups = append(w.shownGroups[:0], w.groups...)
		for i := range w.shownGroups {
			w.shownGroups[i].mark = ' '
		}
	} else {
		if err := w.read(ctx, stderr); err != nil {
			return err
		}
		w.afterRead(time.Now())
		w.noteGone()
		if c.summary {
			w.markGroups()
		}
	}
	return nil
}

// render appends the round that update made.
func (w *watcher) render(b []byte, colour bool) []byte {
	c := w.l.c
	if c.summary {
		if c.json || c.csv {
			return w.l.appendSummaryFields(b, w.groups, c.csv)
		}
		return w.l.appendSummary(b, w.shownGroups, true, colour)
	}
	if w.snap == nil {
		return b
	}
	return w.appendTable(b, colour)
}

// spillSize is how much of a streamed round (see watcher.spill) is held
// before it is written.
const spillSize = 64 << 10

// spill writes b to w.spillTo once it holds spillSize bytes and returns
// it emptied, when the round is streamed (piped, not a terminal's
// screen): the round is written in bounded pieces instead of being built
// whole (10 MiB at 100k sockets; issue 15 item 5). Otherwise it returns
// b as it is. Once a write failed (w.spillErr) it returns b emptied, and
// appendTable stops.
func (w *watcher) spill(b []byte) []byte {
	if w.spillErr != nil {
		return b[:0]
	}
	if w.spillTo == nil || len(b) < spillSize {
		return b
	}
	if _, err := w.spillTo.Write(b); err != nil {
		w.spillErr = err
	}
	return b[:0]
}

// stream renders the round that update made to out, in pieces of about
// spillSize, after head (the round's "===" line), in b's array, which it
// returns for the next round.
func (w *watcher) stream(out io.Writer, head, b []byte) ([]byte, error) {
	w.spillTo, w.spillErr = out, nil
	defer func() { w.spillTo = nil }()
	b = w.render(append(b[:0], head...), false)
	if w.spillErr != nil {
		return b[:0], w.spillErr
	}
	_, err := out.Write(b)
	return b[:0], err
}

// stampLayout is the time of a round: the piped table's "=== … ===" line,
// JSON's "time" and CSV's "Time" under -c.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// watchGCPercent is the collector's GOGC during a watch: see the package
// comment's Memory.
const watchGCPercent = 25

// watchGC sets the collector for a watch, unless the user chose with
// GOGC, and returns what undoes it.
func watchGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	was := debug.SetGCPercent(watchGCPercent)
	return func() { debug.SetGCPercent(was) }
}

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
		if notifyJobs(jobs) { // jobs_unix.go
			defer signal.Stop(jobs)
		}
	}
	defer watchGC()()
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
	// A piped table is streamed: rendered as it is written, in pieces, by
	// this goroutine after the round's goroutine has read it. A screen
	// keeps its whole frame for a redraw after SIGCONT.
	streamed := !screen && !structured && !c.summary
	var b, shown []byte // the round being made, the last one written
	var body []byte     // a streamed round's pieces
	job := func(sig os.Signal) { jobControl(sig, stdout, shown) }
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
			switch {
			case structured && !c.summary:
				r.snap, r.err = w.l.read(ctx, errw)
			case streamed:
				r.b, r.err = b, w.update(ctx, errw) // rendered as written, below
			default:
				r.b, r.err = w.round(ctx, b, errw, colour)
			}
			done <- r
		}(b)
		r, ok := await(ctx, done, jobs, job)
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
			if streamed {
				// The "===" line in r.b, the rows after it in body's array.
				var err error
				if body, err = w.stream(out, r.b, body); err != nil {
					return ignoreEnd(ctx, err)
				}
			} else if _, err := out.Write(r.b); err != nil {
				return ignoreEnd(ctx, err)
			}
			if screen { // kept for a redraw after SIGCONT
				b, shown = shown, r.b
			} else {
				b = r.b
			}
		}
		timer.Reset(c.interval)
		if _, ok := await(ctx, timer.C, jobs, job); !ok {
			return nil
		}
	}
}

// await waits for ch (the round, the next tick) and obeys job control
// meanwhile; it gives up (false) when ctx ends.
func await[T any](ctx context.Context, ch <-chan T, jobs <-chan os.Signal, job func(os.Signal)) (T, bool) {
	for {
		select {
		case <-ctx.Done():
			var zero T
			return zero, false
		case sig := <-jobs:
			job(sig)
		case v := <-ch:
			return v, true
		}
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
