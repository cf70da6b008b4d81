package promcore

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeFeed is a close feed whose events a test sends.
type fakeFeed struct {
	src    flows.Source
	events chan flows.Event
	closed chan struct{}
}

func (f *fakeFeed) Next(ctx context.Context) (flows.Event, error) {
	select {
	case ev := <-f.events:
		return ev, nil
	case <-f.closed:
		return flows.Event{}, io.EOF
	case <-ctx.Done():
		return flows.Event{}, ctx.Err()
	}
}
func (f *fakeFeed) Source() flows.Source { return f.src }
func (f *fakeFeed) Lost() uint64         { return 3 }
func (f *fakeFeed) Close() error         { close(f.closed); return nil }

// withFeed makes New's close feed f (or err) for the test.
func withFeed(t *testing.T, f *fakeFeed, err error) {
	was := startFeed
	startFeed = func(flows.Options) (events, error) {
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	t.Cleanup(func() { startFeed = was })
}

var tcpOnly = Options{NoUnix: true, Traffic: true, Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP, netstat.TCP6)}}

// TestTrafficNoCloseFeed: without a feed that sees every close (the poll
// source, forced or the only one that works; a feed that cannot start;
// options the counters cannot follow), there is no traffic family, and
// TrafficSource says why.
func TestTrafficNoCloseFeed(t *testing.T) {
	poll := &fakeFeed{src: flows.SourcePoll, events: make(chan flows.Event), closed: make(chan struct{})}
	cases := []struct {
		name string
		feed *fakeFeed
		err  error
		opts func(*Options)
	}{
		{"forced poll", nil, errors.New("unused"), func(o *Options) { o.TrafficSource = flows.SourcePoll }},
		{"auto fell back to poll", poll, nil, func(*Options) {}},
		{"no source", nil, flows.ErrUnavailable, func(*Options) {}},
		{"all netns", nil, errors.New("unused"), func(o *Options) { o.AllNetns = true }},
		{"fixture root", nil, errors.New("unused"), func(o *Options) { o.Root = t.TempDir() }},
		{"no owners", nil, errors.New("unused"), func(o *Options) { o.NoOwners = true }},
		{"state filter", nil, errors.New("unused"), func(o *Options) { o.Filter.States = netstat.States(netstat.Listen) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			withFeed(t, tc.feed, tc.err)
			o := tcpOnly
			tc.opts(&o)
			c := New(o)
			defer c.Close()
			_, err := c.TrafficSource()
			if !errors.Is(err, errNoCloseFeed) || tc.err == flows.ErrUnavailable && !errors.Is(err, flows.ErrUnavailable) {
				t.Errorf("TrafficSource: %v, want errNoCloseFeed", err)
			}
			if o.Root != "" {
				return // nothing to read there
			}
			fams := collect(t, c)
			for _, name := range []string{"procnet_program_tcp_sent_bytes_total", "procnet_program_tcp_received_bytes_total"} {
				if fams[name] != nil {
					t.Errorf("%s sent without a close feed", name)
				}
			}
		})
	}
	select {
	case <-poll.closed:
	default:
		t.Error("the poll feed New passed over was not closed")
	}
}

// TestTrafficFeedEvents: a close event of a connection no scrape listed
// reaches its program's counters, lint-clean, and Close stops the feed.
func TestTrafficFeedEvents(t *testing.T) {
	f := &fakeFeed{src: flows.SourceDestroy, events: make(chan flows.Event), closed: make(chan struct{})}
	withFeed(t, f, nil)
	c := New(tcpOnly)
	if src, err := c.TrafficSource(); err != nil || src != flows.SourceDestroy {
		t.Fatalf("TrafficSource: %v, %v", src, err)
	}
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 9})
	ev := flows.Event{Kind: flows.Close, Time: time.Now(), Proto: netstat.TCP,
		Local: netip.AddrPortFrom(lo, 1), Remote: netip.AddrPortFrom(lo, 2),
		Program: "evil\x1b[2Jprog", Traffic: tr(1234, 56)}
	f.events <- ev
	ev.Program = "other"
	ev.Kind = flows.Open
	f.events <- ev                             // opens count nothing
	f.events <- flows.Event{Kind: flows.Close} // unblocks once the two above are credited
	fams := collect(t, c)
	prog := `program=evil\x1b[2Jprog`
	if v, _ := value(fams, "procnet_program_tcp_sent_bytes_total", prog); v != 1234 {
		t.Errorf("sent: %v, want 1234", v)
	}
	if v, _ := value(fams, "procnet_program_tcp_received_bytes_total", prog); v != 56 {
		t.Errorf("received: %v, want 56", v)
	}
	if v, _ := value(fams, "procnet_traffic_lost_events_total", "source=destroy"); v != 3 {
		t.Errorf("lost events: %v, want the feed's 3", v)
	}
	if _, ok := value(fams, "procnet_program_tcp_sent_bytes_total", "program=other"); ok {
		t.Error("an open event was counted")
	}
	problems, err := testutil.CollectAndLint(adapt(c))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.closed:
	default:
		t.Error("Close left the feed open")
	}
}

// TestTrafficPendingBound: with no scrape, the close events do not pile
// up: once maxPending wait, the feed's reader credits them itself.
func TestTrafficPendingBound(t *testing.T) {
	f := &fakeFeed{src: flows.SourceTracepoint, events: make(chan flows.Event), closed: make(chan struct{})}
	withFeed(t, f, nil)
	c := New(tcpOnly)
	defer c.Close()
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 9})
	for i := range maxPending {
		f.events <- flows.Event{Kind: flows.Close, Time: time.Now(), Proto: netstat.TCP,
			Local: netip.AddrPortFrom(lo, uint16(i)), Remote: netip.AddrPortFrom(lo, 2),
			Program: "burst", Traffic: tr(1, 2)}
	}
	f.events <- flows.Event{} // the reader is done with the last close
	tf := c.traffic
	tf.pmu.Lock()
	n := len(tf.pending)
	tf.pmu.Unlock()
	tf.mu.Lock()
	a := tf.l.kept["burst"]
	tf.mu.Unlock()
	if n != 0 || a == nil || *a != [2]uint64{maxPending, 2 * maxPending} {
		t.Errorf("%d events still queued, burst credited %v; want 0 and [%d %d]", n, a, maxPending, 2*maxPending)
	}
}
