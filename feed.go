package procnet

// feed.go lets a Poller use a connection feed (package flows) and a
// traffic meter (flows.Meter): the connections that opened and closed
// between two polls, each row's traffic rate, each owner's traffic, and
// the quiet poll that re-reads nothing.

import (
	"cmp"
	"errors"
	"io"
	"iter"
	"net/netip"
	"slices"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Drainer gives a Poller the connection events that came since its last
// poll, without blocking: a *flows.Feed, or a list a test makes.
type Drainer interface {
	Drain(dst []flows.Event) ([]flows.Event, error)
}

// FeedOptions say what a Poller does with a connection feed and a
// traffic meter (Poller.StartFeed, Poller.SetFeed).
type FeedOptions struct {
	// Traffic meters the rows each poll: Changes.Traffic and
	// Changes.Owners (set Options.Traffic too, for the counters). With a
	// feed, the connections that closed between two polls count by their
	// final counters; without one, their last bytes and the connections
	// shorter than a poll are not counted (see flows.Meter).
	Traffic bool
	// SkipQuiet lets a poll that no event came before re-read nothing:
	// Poll returns no snapshot and Changes.Quiet. It needs a feed
	// that reports every TCP state change (StartFeed asks the tracepoint
	// for them, and keeps SkipQuiet only with it) and a Poller reading
	// the TCP tables alone. A TIME_WAIT row's end and a process inheriting
	// a socket (fork) make no event, so at least every QuietMax-th poll
	// reads. An event's PID is not the socket's owner (an accepted
	// connection's, a close in softirq): leave it off when the caller
	// keeps only some owners' rows.
	SkipQuiet bool
	// Interval is the destroy source's scan interval, StartFeed's
	// fallback (flows.Options.Interval).
	Interval time.Duration
	// RingSize is the tracepoint's ring buffer in bytes
	// (flows.Options.RingSize; zero: flows' default, 4 MiB).
	RingSize int
	// Events keeps the events of the connections the caller shows (its
	// ports, PIDs, families); nil keeps every event.
	Events func(*flows.Event) bool
	// Rows keeps the rows the caller shows: only their traffic is
	// metered; nil meters every row.
	Rows func(*Conn, Processes) bool
}

// QuietMax bounds the polls in a row that FeedOptions.SkipQuiet skips:
// the QuietMax-th reads the tables again.
const QuietMax = 10

// BriefConn is a connection that opened and closed between two polls: no
// poll saw it, a feed told of it (Changes.Brief).
type BriefConn struct {
	// Conn is the connection as its Close event gave it: state Close,
	// its final counters in Traffic, Owners the event's PID (nil when
	// the feed gave none), no inode and no namespace.
	Conn
	proc procmap.Process // the event's PID and Program (comm)
}

// Process describes the owner the feed named: its PID and the event's
// program as its comm, nothing more (the process may be gone). It is nil
// for any other PID.
func (b *BriefConn) Process(pid int) *procmap.Process {
	if pid == 0 || pid != b.proc.PID {
		return nil
	}
	return &b.proc
}

// feedState is what a Poller keeps for a feed and a meter.
type feedState struct {
	opts      FeedOptions
	feed      Drainer
	started   *flows.Feed // the feed StartFeed started, which Close stops
	evs       []flows.Event
	meter     *flows.Meter
	rates     []flows.ConnTraffic
	lastGone  map[feedKey]bool // the ends of the last poll's Changes.Closed
	skippable bool
	polls     int              // the polls that read
	skipped   int              // polls skipped since the last read
	now       func() time.Time // the meter's clock (tests set it)
}

// StartFeed starts the feed a watch of the Poller's rows uses and
// attaches it (SetFeed): the tracepoint (root, kernel BTF), else, with
// o.Traffic, the destroy notifications, whose counters the meter needs.
// A feed sees the live system's own namespace only: StartFeed fails for
// a Poller of a root, of one or all namespaces. When it fails (the error
// wraps flows.ErrUnavailable when no source works here) the Poller still
// meters with o.Traffic, without a feed. Close stops the feed.
func (p *Poller) StartFeed(o FeedOptions) (*flows.Feed, error) {
	ro := &p.r.opts
	if ro.nsMode() || ro.Root != "" && ro.Root != "/" {
		p.SetFeed(nil, o)
		return nil, errors.New("procnet: a connection feed sees the live system's own namespace only")
	}
	states := o.SkipQuiet && p.tcpOnly()
	// The owners of the connections already open are in the last round:
	// the feed need not keep its own copy (9 MB at 100k connections).
	f, err := flows.Start(flows.Options{Source: flows.SourceTracepoint, States: states, RingSize: o.RingSize, NoOldOwners: true})
	if err != nil && o.Traffic {
		f, err = flows.Start(flows.Options{Source: flows.SourceDestroy, Interval: o.Interval})
	}
	if err != nil {
		p.SetFeed(nil, o)
		return nil, err
	}
	o.SkipQuiet = states && f.Source() == flows.SourceTracepoint
	p.SetFeed(f, o)
	p.fd.started = f
	return f, nil
}

// SetFeed makes each Poll drain feed (nil: none) and use its events as o
// says. The events a feed gives are of the caller's own namespace: give
// one only to a Poller of the live system's own tables.
func (p *Poller) SetFeed(feed Drainer, o FeedOptions) {
	p.fd = feedState{opts: o, feed: feed, now: time.Now}
	if o.Traffic {
		p.fd.meter = flows.NewMeter(feed != nil)
	}
	p.fd.skippable = o.SkipQuiet && feed != nil && p.tcpOnly()
}

// Close stops the feed StartFeed started, if any.
func (p *Poller) Close() error {
	if f := p.fd.started; f != nil {
		p.fd.started = nil
		return f.Close()
	}
	return nil
}

// tcpOnly reports whether the Poller reads the TCP tables alone.
func (p *Poller) tcpOnly() bool {
	o := &p.r.opts
	return !o.Unix && o.Filter.Protos != 0 && o.Filter.Protos&^netstat.Protos(netstat.TCP, netstat.TCP6) == 0
}

// drain reads the events that came since the last poll, those
// FeedOptions.Events keeps, and says whether the poll may skip reading
// (SkipQuiet, and nothing happened).
func (p *Poller) drain() (quiet bool, err error) {
	fs := &p.fd
	fs.evs = fs.evs[:0]
	if fs.feed == nil {
		return false, nil
	}
	evs, err := fs.feed.Drain(fs.evs)
	if err == io.EOF {
		err = nil
	}
	if keep := fs.opts.Events; keep != nil {
		evs = slices.DeleteFunc(evs, func(ev flows.Event) bool { return !keep(&ev) })
	}
	fs.evs = evs
	if fs.skippable && len(fs.evs) == 0 && fs.polls > 0 && fs.skipped < QuietMax-1 {
		fs.skipped++
		return true, err
	}
	fs.skipped = 0
	return false, err
}

// feedKey is the key of an event's connection, and feedKeyOf that of a
// row, without the namespace (a feed sees the caller's only).
type feedKey struct {
	proto         netstat.Proto
	local, remote netip.AddrPort
}

func feedKeyOf(c *Conn) feedKey { return feedKey{c.Proto, c.Local, c.Remote} }

// meter measures row cn (zero when FeedOptions.Rows leaves it out),
// counted for its first owner, the one a listing shows: a shared
// connection's bytes count once.
func (p *Poller) meter(cn *Conn, procs Processes) flows.ConnTraffic {
	if rows := p.fd.opts.Rows; rows != nil && !rows(cn, procs) {
		return flows.ConnTraffic{}
	}
	var o flows.Owner
	if len(cn.Owners) > 0 {
		o.PID = cn.Owners[0].PID
		if pr := procs.Process(o.PID); pr != nil {
			o.Program = pr.Comm
		}
	}
	return p.fd.meter.Add(&cn.Socket, o)
}

// afterPoll meters the poll's n rows, which conns yields in order and
// procs describes the owners of, and finds the connections that opened
// and closed since the last poll, into ch.
func (p *Poller) afterPoll(n int, conns iter.Seq2[int, *Conn], procs Processes, ch *Changes) {
	fs := &p.fd
	first := fs.polls == 0
	fs.polls++
	// The Close events, by connection: of a row this poll holds, new, it
	// left a TIME_WAIT row (Changes.NewClosed); else it is no brief
	// connection. The first poll has no brief connection.
	var closes map[feedKey]int
	if fs.feed != nil && !first {
		for i := range fs.evs {
			if ev := &fs.evs[i]; ev.Kind == flows.Close {
				if closes == nil {
					closes = map[feedKey]int{}
				}
				closes[feedKey{ev.Proto, ev.Local, ev.Remote}] = i
			}
		}
	}
	if fs.meter != nil {
		fs.meter.Begin(fs.now(), fs.evs)
		fs.rates = slices.Grow(fs.rates[:0], n)[:n]
	}
	if fs.meter != nil || len(closes) > 0 {
		// One pass over the rows (a Round decodes each as it goes).
		for i, cn := range conns {
			if fs.meter != nil {
				fs.rates[i] = p.meter(cn, procs)
			}
			if len(closes) == 0 {
				continue
			}
			k := feedKeyOf(cn)
			if _, ok := closes[k]; ok {
				if _, isNew := slices.BinarySearch(ch.New, i); isNew {
					ch.NewClosed = append(ch.NewClosed, i)
				}
				delete(closes, k)
			}
		}
	}
	if fs.meter != nil {
		ch.Traffic = fs.rates
		ch.Owners = fs.meter.End()
	}
	if fs.feed == nil {
		return
	}
	// Rows closed this poll or the last: their Close event came late (the
	// tracepoint's up to 50 ms), or comes next poll.
	for j := range ch.Closed {
		delete(closes, feedKeyOf(&ch.Closed[j]))
	}
	for k := range fs.lastGone {
		delete(closes, k)
	}
	for _, i := range closes {
		ev := &fs.evs[i]
		b := BriefConn{Conn: Conn{Socket: netstat.Socket{Proto: ev.Proto, Local: ev.Local, Remote: ev.Remote,
			State: netstat.Close, Traffic: ev.Traffic}}}
		if ev.PID > 0 {
			b.Owners = []procmap.Owner{{PID: ev.PID}}
			b.proc = procmap.Process{PID: ev.PID, Comm: ev.Program}
		}
		if !p.r.opts.Show.Shows(&b.Socket) {
			continue // as the round's own rows: Options.Show
		}
		ch.Brief = append(ch.Brief, b)
	}
	slices.SortFunc(ch.Brief, func(a, b BriefConn) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), a.Local.Compare(b.Local), a.Remote.Compare(b.Remote))
	})
	if fs.lastGone == nil {
		fs.lastGone = map[feedKey]bool{}
	}
	clear(fs.lastGone)
	for j := range ch.Closed {
		fs.lastGone[feedKeyOf(&ch.Closed[j])] = true
	}
}
