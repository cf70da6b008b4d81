package main

// Watch mode: -c [SECS] on the socket listing, as Sysinternals TCPView.
// What it shows — the markers ("+ ", "- ", "~ ", "* ") and their colours,
// the screen or the appended "=== <time> ===" rounds, --summary -c, --json
// and --csv -c with each row's change, the connection feed and
// --traffic's rates, the quiet round — is docs/tcpview.md's "What just
// changed?"; README has the JSON and CSV schema.
//
// The work is procnet's: a Poller reads each round compact (PollRound:
// about 70 bytes a row, decoded one at a time for the counts and the
// table), keeps the last one to compare the next with, keeps the owner
// tracker (procmap.Tracker: a round re-reads one stat file per owning
// process and walks fds only for sockets it has not seen), starts the connection feed (Poller.StartFeed: the live
// system's own namespace only) and meters traffic (FeedOptions);
// Changes.All gives a round's rows in the order shown, marked, each
// closed row after its nearest surviving predecessor, then the brief
// connections; a GroupWatch makes --summary -c's marked groups. The
// watcher applies the -l/-a rule and renders.
//
// Memory (issue 15 item 5): a piped table is rendered as it is written,
// 64 KiB at a time; a terminal's frame is kept whole for the SIGCONT
// redraw. The rows are read, compared and kept compact (PollRound) and
// decoded one at a time, never held as Conns; the watcher drops the
// round it rendered and runs the collector before the next poll, which
// would otherwise pile onto the uncollected one (a few ms a round); the
// feed's ring buffer is 1 MiB (watchRing); and the watch runs with
// GOGC=25 (watchGC) unless GOGC is set. bench/run-watch at 100k sockets:
// peak RSS 101 → 36 → 32 MiB, 1.85× a one-shot listing (BENCHMARKS.md).
//
// SIGINT, SIGTERM, SIGHUP, SIGQUIT or a reader that went away end the
// watch with status 0, promptly even mid-round: the round stops at its
// next row or stage, and the watch does not wait for it (a library call
// that cannot be interrupted yet finishes unseen while the process
// exits). On a terminal the cursor and colours are restored first.
// Ctrl-Z (SIGTSTP) restores them before the process stops; SIGCONT hides
// the cursor again and redraws the last round.

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
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
// procnet.Poller holds the last round (compact), the owner tracker, the
// connection feed and the traffic meter, and marks the rows.
type watcher struct {
	l      *lister
	poller *procnet.Poller
	feed   *flows.Feed    // the connection feed, if one started
	snap   *procnet.Round // the last round's rows, compact
	ch     procnet.Changes

	rounds int // the rounds that read the tables
	// --summary: the rounds' groups, the last round's, and as shown.
	gw          *procnet.GroupWatch
	groups      []procnet.Group
	shownGroups []group
	warned      bool
	nsWarned    bool // the namespaces --all-netns could not read were reported
}

// pollOptions are the listing's options with the Poller's Tracker for
// owners. The Poller applies --pid and --program after a TIME_WAIT row
// took its connection's remembered owner.
func (c *config) pollOptions() procnet.Options {
	o := c.options()
	o.OwnerSource = 0
	return o
}

func newWatcher(c *config) *watcher {
	w := &watcher{l: newLister(c), poller: procnet.NewPoller(c.pollOptions())}
	w.poller.SetFeed(nil, w.feedOptions()) // --traffic's meter
	w.gw = procnet.NewGroupWatch(c.countBy(), nil, c.traffic)
	return w
}

// feedOptions say what the Poller does with the feed and the meter.
func (w *watcher) feedOptions() procnet.FeedOptions {
	c := w.l.c
	return procnet.FeedOptions{
		Traffic:   c.traffic,
		SkipQuiet: c.summary && !c.traffic && c.pid < 0 && c.program == "",
		Interval:  c.interval,
		RingSize:  watchRing,
		Events:    c.eventFilter.Match,
	}
}

// watchRing is the tracepoint's ring buffer under -c: 1 MiB, some 7,500
// events, where flows' default is 4 MiB. The feed's reader empties it
// when an eighth is full and every 50 ms, so it holds a burst of some
// 150,000 events a second; the default's pages, mapped twice, were 8 MiB
// of the watch's resident memory (issue 15 item 5).
const watchRing = 1 << 20

// startFeed starts the feed -c uses, if any (see the file's comment).
func (w *watcher) startFeed(stderr io.Writer) {
	c := w.l.c
	if !c.continuous || c.nsMode() || c.root != "" && c.root != "/" || !c.tcp {
		return
	}
	f, err := w.poller.StartFeed(w.feedOptions())
	if err != nil && c.traffic {
		fmt.Fprintf(stderr, "netstat: no connection feed (%s): only polling every %v, so connections shorter than that, and the last bytes of those that close, are not counted\n",
			escape.String(err.Error()), c.interval)
	}
	w.feed = f
}

// read takes one round through the Poller (a quiet one, w.ch.Quiet, read
// nothing and leaves w.snap nil: --summary shows the last counts). Only an
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
	// After a quiet round there is nothing to let go: no collection.
	if w.snap != nil {
		w.snap = nil
		runtime.GC()
	}
	w.ch = procnet.Changes{}
	snap, ch, err := w.poller.PollRound(ctx)
	if snap == nil && !ch.Quiet {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	report(stderr, err) // rows that could not be read: the round goes on
	if w.ch = ch; ch.Quiet {
		return nil
	}
	if c.allNetns && !w.nsWarned {
		w.nsWarned = true
		reportSkipped(stderr, snap.Skipped)
	}
	if c.programs && !w.warned {
		w.warned = warnDenied(stderr, snap.Procs)
	}
	w.snap = snap
	w.rounds++
	return nil
}

// markColour is each mark's colour on a terminal.
var markColour = map[procnet.Mark]string{
	procnet.MarkNew:     sgrGreen,
	procnet.MarkClosed:  sgrRed,
	procnet.MarkChanged: sgrYellow,
	procnet.MarkBrief:   sgrMagenta,
}

// markStart opens a marked row: its colour on a terminal, the marker and
// a blank.
func markStart(b []byte, mark procnet.Mark, colour bool) []byte {
	if colour {
		b = append(b, markColour[mark]...)
	}
	return append(b, byte(mark), ' ')
}

// markEnd ends a row begun by markStart, whose last byte is '\n'.
func markEnd(b []byte, mark procnet.Mark, colour bool) []byte {
	if !colour || mark == procnet.MarkNone {
		return b
	}
	b = append(b[:len(b)-1], sgrReset...)
	return append(b, '\n')
}

// appendTable is writeTable with the marker column: the rows of the
// round in procnet.Changes.All's order, appended to b. With out (a
// streamed round: piped, not a terminal's screen) b is written there
// whenever it holds spillSize bytes, so that a round is not built whole
// (10 MiB at 100k sockets; issue 15 item 5); a failed write stops it.
func (w *watcher) appendTable(out io.Writer, b []byte, colour bool) ([]byte, error) {
	l, c := w.l, w.l.c
	var err error
	spill := func(b []byte) []byte {
		if out != nil && len(b) >= spillSize {
			_, err = out.Write(b)
			return b[:0]
		}
		return b
	}
	if c.inetWanted() {
		l.prefetch(func(yield func(*row) bool) {
			for r := range w.ch.All(w.snap) {
				if r.Mark != procnet.MarkBrief && !yield(r.Conn) {
					return
				}
			}
		})
		b = l.appendHeading(b, false, "  ")
		for r := range w.ch.All(w.snap) {
			l.at.rate = r.Traffic
			b = markStart(b, r.Mark, colour)
			b = l.nsCellOf(b, r.Namespace)
			b = l.appendRow(b, r.Conn, r.Procs)
			if b = spill(markEnd(b, r.Mark, colour)); err != nil {
				break // the reader went away or the watch ends
			}
		}
		l.at.rate = nil
	}
	if c.unix && err == nil {
		b = l.appendHeading(b, true, "  ")
		for u := range w.ch.AllUnix(w.snap) {
			b = markStart(b, u.Mark, colour)
			b = l.nsCellOf(b, u.Namespace)
			b = l.appendUnix(b, &u.UnixSocket, u.Owners, u.Procs)
			if b = spill(markEnd(b, u.Mark, colour)); err != nil {
				break
			}
		}
	}
	return b, err
}

// watchRow is what a round says of the row being written (lister.at):
// set while a round's row is written, zero otherwise.
type watchRow struct {
	on    bool // the row is a JSON or CSV round's
	mark  procnet.Mark
	rate  *flows.ConnTraffic // --traffic: its measure (the table's too)
	procs procnet.Processes  // describes its owners
}

// writeListing writes the round as --json or --csv: every row shown, in
// procnet.Changes.All's order, with its change (lister.at).
func (w *watcher) writeListing(out io.Writer) error {
	l, c := w.l, w.l.c
	if w.snap == nil {
		return nil
	}
	snap := &snapshot{owners: w.snap.Procs, inet: func(func(*row) bool) {}, unix: func(func(*procnet.UnixConn) bool) {}}
	defer func() { l.at = watchRow{} }()
	if c.inetWanted() {
		snap.inet = func(yield func(*row) bool) {
			for r := range w.ch.All(w.snap) {
				l.at = watchRow{on: true, mark: r.Mark, rate: r.Traffic, procs: r.Procs}
				if !yield(r.Conn) {
					return
				}
			}
		}
	}
	if c.unix {
		snap.unix = func(yield func(*procnet.UnixConn) bool) {
			for u := range w.ch.AllUnix(w.snap) {
				l.at = watchRow{on: true, mark: u.Mark, procs: u.Procs}
				if !yield(u.UnixConn) {
					return
				}
			}
		}
	}
	if c.json {
		return l.writeJSON(out, snap)
	}
	return l.writeCSV(out, snap)
}

// procs describes the owners of the row being written: a round's row's,
// else snap's; nil when owners were not read.
func (l *lister) procs(snap *snapshot) procnet.Processes {
	switch {
	case snap.owners == nil:
		return nil
	case l.at.on:
		return l.at.procs
	}
	return snap.owners
}

// change is the change of a round's row being written, as JSON's
// "change" and CSV's Change give it: "new", "changed", "closed", "brief"
// (opened and closed since the last round), or "" (null: unchanged).
func (l *lister) change() string {
	if l.at.mark == procnet.MarkNone {
		return ""
	}
	return l.at.mark.String()
}

// appendChange appends a round's row's "change".
func (l *lister) appendChange(b []byte) []byte {
	if !l.at.on {
		return b
	}
	if ch := l.change(); ch != "" {
		return jsonText(b, "change", ch)
	}
	return append(appendKey(b, false, "change"), "null"...)
}

// round reads, marks and renders one round of the table or summary.
func (w *watcher) round(ctx context.Context, b []byte, stderr io.Writer, colour bool) ([]byte, error) {
	if err := w.update(ctx, stderr); err != nil {
		return b, err
	}
	return w.render(b, colour), nil
}

// update reads and marks one round of the table or summary (a quiet
// round: the last counts, unmarked).
func (w *watcher) update(ctx context.Context, stderr io.Writer) error {
	if err := w.read(ctx, stderr); err != nil {
		return err
	}
	if w.l.c.summary {
		w.groups, w.shownGroups = w.gw.Round(w.snap, &w.ch)
	}
	return nil
}

// render appends the round that update made.
func (w *watcher) render(b []byte, colour bool) []byte {
	c := w.l.c
	if c.summary {
		if c.json || c.csv {
			return w.l.appendSummaryFields(b, groupsOf(w.groups), c.csv)
		}
		return w.l.appendSummary(b, w.shownGroups, true, colour)
	}
	if w.snap == nil {
		return b
	}
	b, _ = w.appendTable(nil, b, colour)
	return b
}

// spillSize is how much of a streamed round appendTable holds before it
// writes it.
const spillSize = 64 << 10

// stream renders the round that update made to out, in pieces of about
// spillSize, after head (the round's "===" line), in b's array, which it
// returns for the next round; JSON and CSV through their writers.
func (w *watcher) stream(out io.Writer, head, b []byte) ([]byte, error) {
	c := w.l.c
	if c.json || c.csv {
		return b[:0], w.writeListing(out)
	}
	b = append(b[:0], head...)
	var err error
	if w.snap != nil {
		b, err = w.appendTable(out, b, false)
	}
	if err == nil {
		_, err = out.Write(b)
	}
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
	defer w.poller.Close()
	legend := "   + new  - closed  ~ state changed   (Ctrl-C quits)\n\n"
	if w.feed != nil {
		legend = "   + new  - closed  ~ state changed  * opened and closed   (Ctrl-C quits)\n\n"
	}
	out := cutWriter{ctx: ctx, w: stdout} // the rounds: a signal cuts a long write short
	timer := time.NewTimer(c.interval)
	timer.Stop()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	// A piped table, JSON and CSV are streamed: rendered as they are
	// written, in pieces, by this goroutine after the round's goroutine
	// has read them. A screen keeps its whole frame for a redraw after
	// SIGCONT.
	streamed := !screen && !c.summary
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
			if streamed {
				r.b, r.err = b, w.update(ctx, errw) // rendered as written, below
			} else {
				r.b, r.err = w.round(ctx, b, errw, colour)
			}
			done <- r
		}(b)
		r, ok := await(ctx, done, jobs, job)
		if !ok || ctx.Err() != nil {
			return nil // the round stops at its next check, unwaited for
		}
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
	n := 0
	for len(p) > 0 {
		if err := c.ctx.Err(); err != nil {
			return n, err
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
