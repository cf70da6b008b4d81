package promcore

// traffic.go keeps the per-program TCP byte counters of Options.Traffic:
// a ledger of the connections seen, credited with what each moved since
// it was last accounted, so that every counter only ever grows.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
)

// staleAfter is how long a connection that left the tables waits for its
// close event before the ledger forgets it (a lost event; a destroy
// notification of a reset socket its process still holds).
const staleAfter = 10 * time.Minute

// connKey is a connection as the tables and the close events both name it.
type connKey struct {
	proto         netstat.Proto
	local, remote netip.AddrPort
}

// conn is one connection of the ledger.
type conn struct {
	inode      uint64    // the socket; 0 for none
	sent, recv uint64    // bytes already credited
	progs      []string  // its distinct programs when last listed
	first      time.Time // the start of the first scrape that listed it
	seen       time.Time // of the last
	closed     bool      // its close event was credited
	closedGen  uint64    // the scrape generation when it was
}

// ledger turns connections' byte counts into monotonic per-program sums.
// The rule: at every sight of a connection (a scrape listing it, its close
// event) the bytes it moved since the last sight are credited, once, to
// each distinct program among its owners then; a program beyond the
// bound, and a connection with no visible owner, credit the fold instead
// (once per connection). Credits are never negative, so no sum falls:
//   - a connection listed at scrape N and closed before N+1 adds its final
//     bytes less what N credited (not live + final);
//   - a connection whose owner changes keeps what its old program was
//     credited; the new one gets what moves from then on;
//   - the same addresses with another inode (the 4-tuple reused, an inode
//     number reused) are another connection; a close event goes to the
//     oldest open connection of its addresses;
//   - a connection already closed that a table still lists (the close
//     tracepoint fires just before the socket leaves the hash) is ignored
//     until the next scrape forgets it.
//
// Programs keep their series for the ledger's life, the first max to move
// a byte: a counter cannot move into or out of the fold without falling.
type ledger struct {
	max   int
	conns map[connKey][]*conn
	kept  map[string]*[2]uint64 // sent, received per program with a series
	fold  [2]uint64
	gen   uint64    // scrapes begun
	swept time.Time // the last prune that swept
}

func newLedger(max int) *ledger {
	return &ledger{max: max, conns: map[connKey][]*conn{}, kept: map[string]*[2]uint64{}}
}

// credit adds sent and recv to each program of progs (distinct, escaped;
// "" is no program), once to the fold when one of them is folded or
// there is none.
func (l *ledger) credit(progs []string, sent, recv uint64) {
	if sent == 0 && recv == 0 {
		return
	}
	fold := len(progs) == 0
	for _, p := range progs {
		a, ok := l.kept[p]
		if !ok && p != "" && len(l.kept) < l.max {
			a = new([2]uint64)
			l.kept[p] = a
			ok = true
		}
		if !ok {
			fold = true
			continue
		}
		a[0] += sent
		a[1] += recv
	}
	if fold {
		l.fold[0] += sent
		l.fold[1] += recv
	}
}

func since(now, before uint64) uint64 {
	if now > before {
		return now - before
	}
	return 0
}

// live accounts a connection a scrape lists, with its counters and the
// distinct programs holding it.
func (l *ledger) live(k connKey, inode uint64, tr netstat.Traffic, progs []string, now time.Time) {
	cs := l.conns[k]
	var c *conn
	for _, x := range cs {
		if x.inode == inode {
			c = x
			break
		}
	}
	switch {
	case c == nil:
		c = &conn{inode: inode, first: now}
		l.conns[k] = append(cs, c)
	case c.closed:
		return
	}
	l.credit(progs, since(tr.BytesSent, c.sent), since(tr.BytesReceived, c.recv))
	c.sent, c.recv = max(c.sent, tr.BytesSent), max(c.recv, tr.BytesReceived)
	if !slices.Equal(c.progs, progs) {
		c.progs = slices.Clone(progs)
	}
	c.seen = now
}

// closed accounts a connection's close event at time at: its final
// counters, less what was credited, to the programs it was last listed
// with; a connection never listed gets the event's program (prog).
func (l *ledger) closed(k connKey, tr netstat.Traffic, prog string, at time.Time) {
	for _, c := range l.conns[k] {
		if c.closed || c.first.After(at) {
			continue
		}
		l.credit(c.progs, since(tr.BytesSent, c.sent), since(tr.BytesReceived, c.recv))
		c.sent, c.recv = max(c.sent, tr.BytesSent), max(c.recv, tr.BytesReceived)
		c.closed, c.closedGen = true, l.gen
		return
	}
	var progs []string
	if prog != "" {
		progs = []string{prog}
	}
	l.credit(progs, tr.BytesSent, tr.BytesReceived)
}

// begin starts a scrape.
func (l *ledger) begin() { l.gen++ }

// sweepEvery spaces the ledger's sweeps: a closed connection is kept
// (ignored if listed again) until the first sweep after the scrape that
// followed its close, an unlisted one staleAfter.
const sweepEvery = 30 * time.Second

// prune ends a scrape: at most every sweepEvery, it forgets the
// connections closed before the scrape began and those unlisted for
// staleAfter.
func (l *ledger) prune(now time.Time) {
	if now.Sub(l.swept) < sweepEvery {
		return
	}
	l.swept = now
	gen := l.gen
	for k, cs := range l.conns {
		n := len(cs)
		for i := 0; i < len(cs); {
			c := cs[i]
			if c.closed && c.closedGen < gen || !c.closed && now.Sub(c.seen) > staleAfter {
				cs[i] = cs[len(cs)-1]
				cs[len(cs)-1] = nil
				cs = cs[:len(cs)-1]
				continue
			}
			i++
		}
		switch {
		case len(cs) == 0:
			delete(l.conns, k)
		case len(cs) != n:
			slices.SortFunc(cs, func(a, b *conn) int { return a.first.Compare(b.first) })
			l.conns[k] = cs
		}
	}
}

// traffic is a Collector's close feed and ledger (Options.Traffic).
type traffic struct {
	sent, received, lostDesc *Desc

	mu    sync.Mutex // held by a scrape, and to credit close events
	spare []closeEvent

	pmu     sync.Mutex // guards pending, dropped, errs
	pending []closeEvent
	dropped uint64
	errs    []error // bad records met by the feed, for the next scrape

	l      *ledger // guarded by mu
	filter netstat.Filter

	src    flows.Source
	lost   func() uint64
	stop   func() error
	done   chan struct{}
	cancel context.CancelFunc
}

// events is what the collector reads of a flows.Feed.
type events interface {
	Next(ctx context.Context) (flows.Event, error)
	Source() flows.Source
	Lost() uint64
	Close() error
}

// startFeed starts the close feed; tests replace it.
var startFeed = func(o flows.Options) (events, error) {
	f, err := flows.Start(o)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// errNoCloseFeed says why the traffic counters are off.
var errNoCloseFeed = errors.New("metrics: no TCP traffic counters")

// startTraffic starts the feed for opts, or says why there are no
// traffic counters.
func startTraffic(opts *Options) (*traffic, error) {
	switch {
	case opts.NoOwners:
		return nil, fmt.Errorf("%w: NoOwners (the counters are per program)", errNoCloseFeed)
	case opts.AllNetns || opts.PID > 0 || (opts.Root != "" && opts.Root != "/"):
		return nil, fmt.Errorf("%w: tcp_info and the close feed are the live system's own network namespace only", errNoCloseFeed)
	case opts.Filter.States != 0:
		return nil, fmt.Errorf("%w: a state filter (the counters count connections in every state)", errNoCloseFeed)
	case opts.Filter.Protos != 0 && !opts.Filter.Protos.Has(netstat.TCP) && !opts.Filter.Protos.Has(netstat.TCP6):
		return nil, fmt.Errorf("%w: no TCP table read", errNoCloseFeed)
	}
	src := opts.TrafficSource
	if src == flows.SourcePoll {
		return nil, fmt.Errorf("%w: the poll source misses the final bytes of closed connections", errNoCloseFeed)
	}
	f, err := startFeed(flows.Options{Source: src})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoCloseFeed, err)
	}
	if f.Source() != flows.SourceTracepoint && f.Source() != flows.SourceDestroy {
		f.Close()
		return nil, fmt.Errorf("%w: only the %v source works here, and it misses the final bytes of closed connections", errNoCloseFeed, f.Source())
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &traffic{
		sent: &Desc{Name: "procnet_program_tcp_sent_bytes_total", Type: Counter,
			Help:   "TCP payload bytes sent by each program's connections: those open now and those closed since the collector started. program=\"\" counts the programs beyond the bound and connections with no visible owner.",
			Labels: []string{"program"}},
		received: &Desc{Name: "procnet_program_tcp_received_bytes_total", Type: Counter,
			Help:   "TCP payload bytes received by each program's connections: those open now and those closed since the collector started. program=\"\" counts the programs beyond the bound and connections with no visible owner.",
			Labels: []string{"program"}},
		lostDesc: &Desc{Name: "procnet_traffic_lost_events_total", Type: Counter,
			Help:  "Connection events the close feed (source: tracepoint or destroy) dropped since the collector started; a lost close leaves that connection's last bytes uncounted.",
			Const: map[string]string{"source": f.Source().String()}},
		l:      newLedger(opts.MaxPrograms),
		filter: opts.Filter,
		src:    f.Source(),
		lost:   f.Lost,
		stop:   f.Close,
		done:   make(chan struct{}),
		cancel: cancel,
	}
	go t.run(ctx, f)
	return t, nil
}

// run reads the feed for the collector's life, queueing its close events.
func (t *traffic) run(ctx context.Context, f events) {
	defer close(t.done)
	for {
		ev, err := f.Next(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
				return
			}
			t.pmu.Lock()
			if len(t.errs) < 100 {
				t.errs = append(t.errs, err)
			}
			t.pmu.Unlock()
			continue
		}
		t.event(&ev)
	}
}

// event credits one event: a close of a connection the filter keeps.
// It is queued, never blocking the feed's reader behind a scrape, and
// credited at the next scrape's start (before its read, so that no read
// can list a connection whose close is credited later than that read),
// or here once maxPending wait and no scrape runs.
func (t *traffic) event(ev *flows.Event) {
	if ev.Kind != flows.Close || !ev.Traffic.Known || !t.keeps(ev) {
		return
	}
	t.pmu.Lock()
	if len(t.pending) >= 2*maxPending {
		t.dropped++ // a scrape stuck for that long: lose, and say so
		t.pmu.Unlock()
		return
	}
	t.pending = append(t.pending, closeEvent{connKey{ev.Proto, ev.Local, ev.Remote}, ev.Traffic, escape.String(ev.Program), ev.Time})
	n := len(t.pending)
	t.pmu.Unlock()
	if n >= maxPending && t.mu.TryLock() {
		t.credit()
		t.mu.Unlock()
	}
}

// maxPending is how many close events wait for a scrape before the
// feed's reader credits them itself.
const maxPending = 1 << 14

// closeEvent is a close waiting to be credited.
type closeEvent struct {
	k    connKey
	tr   netstat.Traffic
	prog string
	at   time.Time
}

// credit credits the close events waiting; t.mu is held.
func (t *traffic) credit() {
	t.pmu.Lock()
	evs := t.pending
	t.pending = t.spare[:0]
	t.pmu.Unlock()
	for i := range evs {
		e := &evs[i]
		t.l.closed(e.k, e.tr, e.prog, e.at)
	}
	clear(evs)
	t.spare = evs[:0]
}

// keeps applies the collector's Filter (tables, ports) to a close event.
func (t *traffic) keeps(ev *flows.Event) bool {
	f := &t.filter
	if f.Protos != 0 && !f.Protos.Has(ev.Proto) {
		return false
	}
	has := func(ps []uint16, p uint16) bool { return len(ps) == 0 || slices.Contains(ps, p) }
	lp, rp := ev.Local.Port(), ev.Remote.Port()
	if len(f.Ports) > 0 && !slices.Contains(f.Ports, lp) && !slices.Contains(f.Ports, rp) {
		return false
	}
	return has(f.LocalPorts, lp) && has(f.RemotePorts, rp)
}

// send sends the counters: every program with a series, and the fold.
func (t *traffic) send(emit Emit) {
	counter := func(d *Desc, v uint64, p string) { emit(d, float64(v), p) }
	for p, a := range t.l.kept {
		counter(t.sent, a[0], p)
		counter(t.received, a[1], p)
	}
	counter(t.sent, t.l.fold[0], "")
	counter(t.received, t.l.fold[1], "")
	if t.lost != nil {
		t.pmu.Lock()
		dropped := t.dropped
		t.pmu.Unlock()
		emit(t.lostDesc, float64(t.lost()+dropped))
	}
}

func (t *traffic) close() error {
	t.cancel()
	err := t.stop()
	<-t.done
	return err
}
