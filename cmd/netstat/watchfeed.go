package main

// Watch mode with a connection feed (flows.Feed) and a traffic meter
// (flows.Meter).
//
// On the live system, in the caller's own namespace (not --all-netns,
// --netns or --root), -c starts a feed: the tracepoint when it loads
// (root, BTF; it costs nothing measurable), else, when --traffic asks for
// exact counts, the destroy notifications. Between two rounds the feed
// tells of connections the tables never showed: one that opened and closed
// between two rounds is shown once, marked "*", in state CLOSE with its
// final bytes (or, when it left a TIME_WAIT row, that row is marked "*"
// instead of "+"). Without a feed such connections are missed; with
// --traffic a line on stderr says so.
//
// --traffic under -c: each row's Send-B/s and Recv-B/s are the bytes it
// moved since the last round, per second; --summary --traffic gives each
// process the bytes per second of its connections, those that closed
// between two rounds included (their final counters from the feed), and
// sorts by rate. A shared connection's bytes go to its first owner (the
// lowest PID, as the listing shows it).
//
// A quiet round costs nothing with the tracepoint: --summary -c over TCP
// alone, without --traffic, asks the feed for every state change; when
// none came since the last round, nothing is re-read and the last counts
// are printed again (unmarked). TIME_WAIT's end and a process inheriting a
// socket (fork) make no event, so the tables are read again at least
// every quietMax rounds.

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// quietMax bounds the rounds --summary -c skips on a quiet host.
const quietMax = 10

// watchRing is the tracepoint's ring buffer under -c: 1 MiB, some 7,500
// events, where flows' default is 4 MiB. The feed's reader empties it
// when an eighth is full and every 50 ms, so it holds a burst of some
// 150,000 events a second; the default's pages, mapped twice, were 8 MiB
// of the watch's resident memory (issue 15 item 5).
const watchRing = 1 << 20

// feedState is what the watcher keeps for a feed and a meter.
type feedState struct {
	feed   *flows.Feed
	evs    []flows.Event
	meter  *flows.Meter        // --traffic
	rates  []flows.ConnTraffic // --traffic: the measure of each row of the round
	owners []flows.OwnerTraffic
	// flashes are the connections that opened and closed since the last
	// round (marked '*').
	flashes   []flash
	lastGone  map[eventEnds]bool // the rows marked '-' last round
	skippable bool               // --summary over TCP with the tracepoint: quiet rounds re-read nothing
	skipped   int                // rounds skipped since the last read
}

// feedWanted says whether -c should start a feed for c.
func (c *config) feedWanted() bool {
	return c.continuous && !c.nsMode() && (c.root == "" || c.root == "/") && c.inetWanted() && c.tcp
}

// startFeed starts the feed -c uses, if any: the tracepoint, else the
// destroy notifications when --traffic needs closed connections' counts.
func (w *watcher) startFeed(stderr io.Writer) {
	c := w.l.c
	if !c.feedWanted() {
		return
	}
	onlyTCP := !c.udp && !c.udplite && !c.raw
	f, err := flows.Start(flows.Options{Source: flows.SourceTracepoint, States: c.summary && onlyTCP && !c.traffic, RingSize: watchRing})
	if err != nil && c.traffic {
		f, err = flows.Start(flows.Options{Source: flows.SourceDestroy, Interval: c.interval})
	}
	if err != nil {
		if c.traffic {
			fmt.Fprintf(stderr, "netstat: no connection feed (%s): only polling every %v, so connections shorter than that, and the last bytes of those that close, are not counted\n",
				escape.String(err.Error()), c.interval)
		}
		return
	}
	w.fs.feed = f
	// The feed's PIDs are not the owners' (an accepted connection's, a
	// close in softirq): with --pid or --program every round reads.
	w.fs.skippable = c.summary && onlyTCP && !c.traffic && c.pid < 0 && c.program == "" &&
		f.Source() == flows.SourceTracepoint
	if w.fs.meter != nil {
		w.fs.meter = flows.NewMeter(true)
	}
}

// closeFeed stops the feed.
func (w *watcher) closeFeed() {
	if w.fs.feed != nil {
		w.fs.feed.Close()
	}
}

// drain reads the events that came since the last round, those the
// command line would show, and says whether the round may skip reading
// (nothing happened).
func (w *watcher) drain(stderr io.Writer) (quiet bool) {
	fs := &w.fs
	fs.evs = fs.evs[:0]
	if fs.feed == nil {
		return false
	}
	evs, err := fs.feed.Drain(fs.evs)
	if err != nil && err != io.EOF {
		report(stderr, err)
	}
	fs.evs = slices.DeleteFunc(evs, func(ev flows.Event) bool { return !w.l.c.eventFilter(&ev) })
	if fs.skippable && len(fs.evs) == 0 && w.rounds > 0 && fs.skipped < quietMax-1 {
		fs.skipped++
		return true
	}
	fs.skipped = 0
	return false
}

// flash is a connection that opened and closed since the last round,
// with a Map naming the process the feed gave.
type flash struct {
	procnet.Conn
	m *procmap.Map
}

// eventEnds is the key of an event's connection, and evEndsOf that of a
// row, without the namespace (a feed sees the caller's only).
type eventEnds struct {
	proto         netstat.Proto
	local, remote netip.AddrPort
}

func evEndsOf(c *procnet.Conn) eventEnds {
	return eventEnds{c.Proto, c.Local, c.Remote}
}

// afterRead measures the round's traffic and finds the connections that
// opened and closed since the last round.
func (w *watcher) afterRead(now time.Time) {
	fs := &w.fs
	snap := w.snap
	if snap == nil {
		return
	}
	m := snap
	if fs.meter != nil {
		fs.meter.Begin(now, fs.evs)
		fs.rates = slices.Grow(fs.rates[:0], snap.Len())[:snap.Len()]
		for i, cn := range snap.Conns() {
			if !w.shows(cn, m) {
				fs.rates[i] = flows.ConnTraffic{}
				continue
			}
			var o flows.Owner
			if len(cn.Owners) > 0 {
				// One owner per connection, the one the listing shows:
				// its bytes count once.
				o.PID = cn.Owners[0].PID
				if p := m.Process(o.PID); p != nil {
					o.Program = p.Comm
				}
			}
			fs.rates[i] = fs.meter.Add(&cn.Socket, o)
		}
		fs.owners = fs.meter.End()
	}
	fs.flashes = fs.flashes[:0]
	if fs.feed == nil {
		return
	}
	closes := map[eventEnds]int{}
	for i := range fs.evs {
		if ev := &fs.evs[i]; ev.Kind == flows.Close {
			closes[eventEnds{ev.Proto, ev.Local, ev.Remote}] = i
		}
	}
	if len(closes) > 0 && w.rounds > 1 {
		// A close of a row this round shows: new, it is marked '*' (its
		// TIME_WAIT row); else it is no flash.
		for i, cn := range snap.Conns() {
			k := evEndsOf(cn)
			if _, ok := closes[k]; ok {
				if w.marks[i] == '+' {
					w.marks[i] = '*'
				}
				delete(closes, k)
			}
		}
		for j := range w.ch.Closed {
			delete(closes, evEndsOf(&w.ch.Closed[j]))
		}
		for k := range fs.lastGone {
			delete(closes, k)
		}
	} else {
		clear(closes)
	}
	for _, i := range closes {
		ev := &fs.evs[i]
		f := flash{Conn: procnet.Conn{Socket: netstat.Socket{Proto: ev.Proto, Local: ev.Local, Remote: ev.Remote,
			State: netstat.Close, Traffic: ev.Traffic}}}
		if ev.PID > 0 {
			f.Owners = []procmap.Owner{{PID: ev.PID}}
			f.m = &procmap.Map{Procs: map[int]*procmap.Process{ev.PID: {PID: ev.PID, Comm: ev.Program}}}
		}
		fs.flashes = append(fs.flashes, f)
	}
	slices.SortFunc(fs.flashes, func(a, b flash) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), a.Local.Compare(b.Local), a.Remote.Compare(b.Remote))
	})
}

// noteGone remembers the ends of the rows this round marked '-': their
// Close event, drained next round, is no connection that opened and
// closed.
func (w *watcher) noteGone() {
	fs := &w.fs
	if fs.feed == nil {
		return
	}
	if fs.lastGone == nil {
		fs.lastGone = map[eventEnds]bool{}
	}
	clear(fs.lastGone)
	for j := range w.ch.Closed {
		fs.lastGone[evEndsOf(&w.ch.Closed[j])] = true
	}
}

// rateOf is the measure of row i of the round, valid until the next
// round; nil without --traffic.
func (w *watcher) rateOf(i int) *flows.ConnTraffic {
	if i >= len(w.fs.rates) {
		return nil
	}
	return &w.fs.rates[i]
}
