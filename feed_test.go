package procnet

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	fixture "github.com/procnet/procnet/procnettest"
)

// fakeFeed is a Drainer that gives one list of events per Drain, as a
// feed drained once a poll would.
type fakeFeed struct{ rounds [][]flows.Event }

func (f *fakeFeed) Drain(dst []flows.Event) ([]flows.Event, error) {
	if len(f.rounds) == 0 {
		return dst, nil
	}
	evs := f.rounds[0]
	f.rounds = f.rounds[1:]
	return append(dst, evs...), nil
}

func (f *fakeFeed) next(evs ...flows.Event) { f.rounds = append(f.rounds, evs) }

// closeEv is a Close event of the IPv4 TCP connection local→remote.
func closeEv(local, remote string, pid int, program string, sent uint64) flows.Event {
	return flows.Event{Kind: flows.Close, Proto: netstat.TCP,
		Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote),
		PID: pid, Program: program,
		Traffic: netstat.Traffic{Known: true, BytesSent: sent, BytesReceived: 1}}
}

// feedPoller is a Poller of feed.txtar's TCP table with feed attached.
func feedPoller(t *testing.T, feed Drainer, o FeedOptions) (*Poller, string) {
	root := fixture.Root(t, "testdata/feed.txtar")
	p := NewPoller(Options{Root: root, Owners: true, Traffic: true,
		Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP)}})
	p.SetFeed(feed, o)
	return p, root
}

// marks lists the rows of a round as Changes.All gives them: mark and
// ends.
func marks(rows Rows, ch *Changes) []string {
	var out []string
	for r := range ch.All(rows) {
		out = append(out, string(rune(r.Mark))+" "+r.Local.String()+" "+r.Remote.String()+" "+r.State.String())
	}
	return out
}

// TestPollFeedBrief: a Close event of a connection no poll saw is a brief
// connection, with the event's process and counters; one whose TIME_WAIT
// row is new marks that row instead; the Close of a row still there, of
// a row closed at this poll or at the last, and any before the first
// poll are none; FeedOptions.Events drops what the caller does not show.
func TestPollFeedBrief(t *testing.T) {
	feed := &fakeFeed{}
	p, root := feedPoller(t, feed, FeedOptions{Events: func(ev *flows.Event) bool { return ev.Remote.Port() != 9999 }})
	ctx := context.Background()

	feed.next(closeEv("127.0.0.1:4000", "127.0.0.1:80", 5, "early", 1)) // before the first poll
	_, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Brief)+len(ch.NewClosed) != 0 || !ch.Empty() {
		t.Fatalf("first poll: %+v", ch)
	}

	// 5002 closes (its row goes, its event comes now), 5003 opened and
	// closed leaving a TIME_WAIT row, 6000 opened and closed leaving
	// nothing; 5001's event comes while its row is still listed.
	writeFile(t, root, "proc/net/tcp", tcpHeader+
		tcpRow(0, "127.0.0.1:80", "0.0.0.0:0", netstat.Listen, 10)+
		tcpRow(1, "127.0.0.1:5001", "127.0.0.1:80", netstat.Established, 11)+
		tcpRow(2, "127.0.0.1:5003", "127.0.0.1:80", netstat.TimeWait, 0))
	feed.next(
		closeEv("127.0.0.1:5002", "127.0.0.1:80", 77, "client", 50),
		closeEv("127.0.0.1:5003", "127.0.0.1:80", 77, "client", 7),
		closeEv("127.0.0.1:80", "127.0.0.1:6000", 42, "curl", 400),
		closeEv("127.0.0.1:5001", "127.0.0.1:80", 77, "client", 1000),
		closeEv("127.0.0.1:80", "127.0.0.1:9999", 42, "curl", 9), // not shown
	)
	snap, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Brief) != 1 {
		t.Fatalf("brief %+v", ch.Brief)
	}
	b := &ch.Brief[0]
	if b.Local.Port() != 80 || b.Remote.Port() != 6000 || b.State != netstat.Close || b.Traffic.BytesSent != 400 ||
		len(b.Owners) != 1 || b.Owners[0].PID != 42 || b.Process(42).Comm != "curl" || b.Process(77) != nil {
		t.Errorf("brief connection %+v, process %+v", b.Conn, b.Process(42))
	}
	if len(ch.NewClosed) != 1 || snap.Conns[ch.NewClosed[0]].Local.Port() != 5003 {
		t.Errorf("NewClosed %v", ch.NewClosed)
	}
	want := []string{
		"  127.0.0.1:80 0.0.0.0:0 LISTEN",
		"  127.0.0.1:5001 127.0.0.1:80 ESTABLISHED",
		"- 127.0.0.1:5002 127.0.0.1:80 ESTABLISHED",
		"* 127.0.0.1:5003 127.0.0.1:80 TIME_WAIT",
		"* 127.0.0.1:80 127.0.0.1:6000 CLOSE",
	}
	if got := marks(snap, &ch); !slices.Equal(got, want) {
		t.Errorf("round:\n%q\nwant\n%q", got, want)
	}

	// 5002's event comes one poll late: no brief connection; 7000's,
	// without a process, is one.
	feed.next(
		closeEv("127.0.0.1:5002", "127.0.0.1:80", 0, "", 50),
		closeEv("127.0.0.1:80", "127.0.0.1:7000", 0, "", 3),
	)
	snap, ch, err = p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Brief) != 1 || ch.Brief[0].Remote.Port() != 7000 || ch.Brief[0].Owners != nil || ch.Brief[0].Process(0) != nil {
		t.Errorf("third poll's brief %+v", ch.Brief)
	}
	if ch.Empty() {
		t.Error("a brief connection is a change")
	}
	if len(snap.Conns) != 3 {
		t.Errorf("rows %d", len(snap.Conns))
	}
}

// TestPollFeedQuiet: with SkipQuiet a poll that no event came before
// reads nothing (a row written meanwhile is seen only by the next poll
// that reads) and returns no snapshot, up to QuietMax-1 polls in a row; an event makes the
// next poll read. A Poller that reads more than TCP never skips.
func TestPollFeedQuiet(t *testing.T) {
	feed := &fakeFeed{}
	p, root := feedPoller(t, feed, FeedOptions{SkipQuiet: true})
	ctx := context.Background()
	if _, _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "proc/net/tcp", tcpHeader+tcpRow(0, "127.0.0.1:80", "0.0.0.0:0", netstat.Listen, 10))
	for i := 1; i < QuietMax; i++ {
		snap, ch, err := p.Poll(ctx)
		if err != nil || !ch.Quiet || snap != nil || !ch.Empty() {
			t.Fatalf("poll %d: quiet %v, a snapshot %v, %v", i+1, ch.Quiet, snap != nil, err)
		}
	}
	snap, ch, err := p.Poll(ctx)
	if err != nil || ch.Quiet || len(snap.Conns) != 1 || len(ch.Closed) != 2 {
		t.Fatalf("poll %d: quiet %v, %d rows, %d closed, %v", QuietMax+1, ch.Quiet, len(snap.Conns), len(ch.Closed), err)
	}
	if _, ch, _ = p.Poll(ctx); !ch.Quiet {
		t.Error("a quiet poll after a read read")
	}
	feed.next(flows.Event{Kind: flows.StateChange, Proto: netstat.TCP})
	if _, ch, _ = p.Poll(ctx); ch.Quiet {
		t.Error("a poll after an event skipped")
	}

	// Unix sockets too: nothing says when they change.
	root = fixture.Root(t, "testdata/feed.txtar")
	p = NewPoller(Options{Root: root, Unix: true, Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP)}})
	p.SetFeed(&fakeFeed{}, FeedOptions{SkipQuiet: true})
	for i := range 3 {
		if _, ch, _ := p.Poll(ctx); ch.Quiet {
			t.Fatalf("poll %d with unix sockets skipped", i+1)
		}
	}
}

// TestPollFeedTraffic: the meter gives each row its counters and, from
// the second poll, its rate; each owner its bytes, a connection that
// opened and closed between two polls included (its Close event's
// counters, its event's process); rows FeedOptions.Rows leaves out count
// nothing.
func TestPollFeedTraffic(t *testing.T) {
	feed := &fakeFeed{}
	p, root := feedPoller(t, feed, FeedOptions{Traffic: true,
		Rows: func(c *Conn, _ Processes) bool { return c.Local.Port() != 5002 }})
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := t0
	p.fd.now = func() time.Time { return now }
	ctx := context.Background()
	snap, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	row := func(snap *Snapshot, ch *Changes, port uint16) *flows.ConnTraffic {
		for i := range snap.Conns {
			if snap.Conns[i].Local.Port() == port {
				return &ch.Traffic[i]
			}
		}
		t.Fatalf("no row of port %d", port)
		return nil
	}
	if r := row(snap, &ch, 5001); r.BytesSent != 1000 || r.Rate || !r.New {
		t.Errorf("first poll, 5001: %+v", r)
	}
	if r := row(snap, &ch, 5002); *r != (flows.ConnTraffic{}) {
		t.Errorf("first poll, 5002 (left out): %+v", r)
	}
	if len(ch.Owners) != 1 || ch.Owners[0].PID != 77 || ch.Owners[0].Program != "client" || ch.Owners[0].BytesSent != 1000 {
		t.Errorf("first poll's owners %+v", ch.Owners)
	}

	now = t0.Add(2 * time.Second)
	writeFile(t, root, "proc/net/procnet-traffic",
		"tcp 127.0.0.1:5001 127.0.0.1:80 11 3000 2000 30 20\ntcp 127.0.0.1:5002 127.0.0.1:80 12 5000 60 1 1\n")
	feed.next(closeEv("127.0.0.1:80", "127.0.0.1:6000", 42, "curl", 400))
	snap, ch, err = p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := row(snap, &ch, 5001); r.DeltaSent != 2000 || !r.Rate || r.SendBps != 1000 || r.RecvBps != 0 {
		t.Errorf("second poll, 5001: %+v", r)
	}
	got := map[int]flows.OwnerTraffic{}
	for _, o := range ch.Owners {
		got[o.PID] = o
	}
	if o := got[77]; o.BytesSent != 3000 || o.SendBps != 1000 || !o.Rate {
		t.Errorf("client: %+v", o)
	}
	if o := got[42]; o.Program != "curl" || o.BytesSent != 400 || o.SendBps != 200 {
		t.Errorf("curl, whose connection no poll saw: %+v", o)
	}
	if len(got) != 2 {
		t.Errorf("owners %+v", ch.Owners)
	}
}

// TestPollRoundFeed: PollRound drains the feed, meters its rows and
// finds the brief connections as Poll does, and Changes.All and
// GroupWatch.Round give the same of its Round as of Poll's Snapshot: two
// Pollers over the same tree and events, polled in step.
func TestPollRoundFeed(t *testing.T) {
	o := FeedOptions{Traffic: true, Events: func(ev *flows.Event) bool { return ev.Remote.Port() != 9999 }}
	feeds, feedr := &fakeFeed{}, &fakeFeed{}
	ps, roots := feedPoller(t, feeds, o)
	pr, rootr := feedPoller(t, feedr, o)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	ps.fd.now, pr.fd.now = clock, clock
	gws, gwr := NewGroupWatch(ByProcess, nil, true), NewGroupWatch(ByProcess, nil, true)
	ctx := context.Background()
	step := func(name string, evs ...flows.Event) (Changes, Changes) {
		t.Helper()
		feeds.next(evs...)
		feedr.next(evs...)
		snap, want, err := ps.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rd, got, err := pr.PollRound(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := marks(rd, &got), marks(snap, &want); !slices.Equal(g, w) {
			t.Errorf("%s: round\n%q\nwant\n%q", name, g, w)
		}
		if fmt.Sprint(got.Brief, got.NewClosed) != fmt.Sprint(want.Brief, want.NewClosed) ||
			!reflect.DeepEqual(got.Traffic, want.Traffic) || !reflect.DeepEqual(got.Owners, want.Owners) {
			t.Errorf("%s: brief %v %v, traffic %+v, owners %+v; want %v %v, %+v, %+v", name,
				got.Brief, got.NewClosed, got.Traffic, got.Owners, want.Brief, want.NewClosed, want.Traffic, want.Owners)
		}
		gg, gs := gwr.Round(rd, &got)
		wg, ws := gws.Round(snap, &want)
		if !reflect.DeepEqual(gg, wg) || !reflect.DeepEqual(gs, ws) {
			t.Errorf("%s: groups %+v %+v, want %+v %+v", name, gg, gs, wg, ws)
		}
		return got, want
	}
	step("first", closeEv("127.0.0.1:4000", "127.0.0.1:80", 5, "early", 1))

	now = now.Add(2 * time.Second)
	for _, root := range []string{roots, rootr} {
		writeFile(t, root, "proc/net/tcp", tcpHeader+
			tcpRow(0, "127.0.0.1:80", "0.0.0.0:0", netstat.Listen, 10)+
			tcpRow(1, "127.0.0.1:5001", "127.0.0.1:80", netstat.Established, 11)+
			tcpRow(2, "127.0.0.1:5003", "127.0.0.1:80", netstat.TimeWait, 0))
		writeFile(t, root, "proc/net/procnet-traffic", "tcp 127.0.0.1:5001 127.0.0.1:80 11 3000 2000 30 20\n")
	}
	got, _ := step("second",
		closeEv("127.0.0.1:5002", "127.0.0.1:80", 77, "client", 50),
		closeEv("127.0.0.1:5003", "127.0.0.1:80", 77, "client", 7),
		closeEv("127.0.0.1:80", "127.0.0.1:6000", 42, "curl", 400),
		closeEv("127.0.0.1:80", "127.0.0.1:9999", 42, "curl", 9), // not shown
	)
	if len(got.Brief) != 1 || len(got.NewClosed) != 1 || len(got.Traffic) != 3 || len(got.Owners) != 2 {
		t.Errorf("PollRound: %d brief, %d new closed, %d rows' traffic, %d owners; want 1, 1, 3, 2",
			len(got.Brief), len(got.NewClosed), len(got.Traffic), len(got.Owners))
	}
}

// TestStartFeedRefusesRoot: a feed sees the live system's own namespace:
// StartFeed refuses a Poller of a root, and the meter still works.
func TestStartFeedRefusesRoot(t *testing.T) {
	root := fixture.Root(t, "testdata/feed.txtar")
	p := NewPoller(Options{Root: root, Traffic: true, Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP)}})
	if f, err := p.StartFeed(FeedOptions{Traffic: true}); f != nil || err == nil {
		t.Fatalf("StartFeed over a root: %v, %v", f, err)
	}
	defer p.Close()
	_, ch, err := p.Poll(context.Background())
	if err != nil || len(ch.Owners) != 1 {
		t.Fatalf("metered without a feed: %+v, %v", ch.Owners, err)
	}
}

// TestPollFeedBriefShow: a brief connection is shown as the round's own
// rows are, under Options.Show: a Poller of the servers alone has none.
func TestPollFeedBriefShow(t *testing.T) {
	for _, tc := range []struct {
		show Show
		want int
	}{{ShowAll, 1}, {ShowConnected, 1}, {ShowServers, 0}} {
		feed := &fakeFeed{}
		root := fixture.Root(t, "testdata/feed.txtar")
		p := NewPoller(Options{Root: root, Owners: true, Show: tc.show,
			Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP)}})
		p.SetFeed(feed, FeedOptions{})
		ctx := context.Background()
		if _, _, err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		feed.next(closeEv("127.0.0.1:80", "127.0.0.1:6000", 42, "curl", 400))
		_, ch, err := p.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch.Brief) != tc.want {
			t.Errorf("Show %v: %d brief connections, want %d", tc.show, len(ch.Brief), tc.want)
		}
	}
}
