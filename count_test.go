package procnet

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// group is a ByProcess group of pid with n ESTABLISHED sockets.
func group(pid, n int) Group {
	g := Group{Key: Key{PID: pid}}
	g.States[netstat.Established], g.Total = n, n
	return g
}

func shown(gs []MarkedGroup) []string {
	var out []string
	for _, g := range gs {
		out = append(out, string(rune(g.Mark))+strconv.Itoa(g.PID))
	}
	return out
}

// TestCompareGroups: new groups '+', changed tallies '~', gone groups '-'
// after their nearest predecessor still there (first if none); a first
// round (prev = cur) marks nothing.
func TestCompareGroups(t *testing.T) {
	prev := []Group{group(1, 1), group(2, 1), group(3, 1), group(4, 1), group(5, 1)}
	cur := []Group{group(6, 3), group(3, 2), group(1, 1)}
	got := shown(CompareGroups(nil, prev, cur))
	// 2 followed 1, 4 and 5 followed 3; none precedes 1 in prev.
	want := []string{"+6", "~3", "-4", "-5", " 1", "-2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	prev = []Group{group(9, 1), group(1, 1)}
	if got := shown(CompareGroups(nil, prev, []Group{group(1, 1)})); !slices.Equal(got, []string{"-9", " 1"}) {
		t.Errorf("gone first: %q", got)
	}
	if got := shown(CompareGroups(nil, cur, cur)); !slices.Equal(got, []string{" 6", " 3", " 1"}) {
		t.Errorf("first round: %q", got)
	}
	// Traffic is not compared.
	moved := slices.Clone(cur)
	moved[0].Traffic = GroupTraffic{Known: true, BytesSent: 1}
	if got := shown(CompareGroups(nil, cur, moved)); !slices.Equal(got, []string{" 6", " 3", " 1"}) {
		t.Errorf("traffic compared: %q", got)
	}
}

// TestAddTraffic: owners' traffic goes to their PID's group (summed, a
// rate if any has one); an owner without a group gets one, described by
// procs or by its program; the groups sort by rate, then bytes, then as
// they were.
func TestAddTraffic(t *testing.T) {
	gs := []Group{group(1, 5), group(2, 4), group(3, 3), group(0, 2)}
	procs := &procmap.Map{Procs: map[int]*procmap.Process{7: {PID: 7, Comm: "known"}}}
	owners := []flows.OwnerTraffic{
		{Owner: flows.Owner{PID: 2}, BytesSent: 10, SendBps: 1, Rate: true},
		{Owner: flows.Owner{PID: 3}, BytesSent: 100, BytesReceived: 1},
		{Owner: flows.Owner{PID: 8, Program: "gone"}, BytesSent: 5, RecvBps: 50, Rate: true},
		{Owner: flows.Owner{PID: 7}, BytesReceived: 1},
		{Owner: flows.Owner{PID: 2}, BytesReceived: 20, RecvBps: 2},
	}
	out := AddTraffic(gs, owners, procs)
	var order []int
	for _, g := range out {
		order = append(order, g.PID)
	}
	// 8 (50 B/s), 2 (3 B/s), then by bytes: 3 (101), 7 (1); then 1, 0 as
	// they were (no traffic).
	if want := []int{8, 2, 3, 7, 1, 0}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	two := out[1].Traffic
	if two != (GroupTraffic{Known: true, BytesSent: 10, BytesReceived: 20, SendBps: 1, RecvBps: 2, Rate: true}) {
		t.Errorf("PID 2: %+v", two)
	}
	if out[0].Process == nil || out[0].Process.Comm != "gone" || out[0].Total != 0 {
		t.Errorf("PID 8's group: %+v", out[0])
	}
	if out[3].Process != procs.Procs[7] {
		t.Errorf("PID 7 not described by procs: %+v", out[3].Process)
	}
	if out[4].Traffic.Known || out[5].Traffic.Known {
		t.Errorf("groups without traffic: %+v %+v", out[4].Traffic, out[5].Traffic)
	}
}

// TestMarkString: the names --json and --csv print.
func TestMarkString(t *testing.T) {
	for m, want := range map[Mark]string{MarkNone: "none", MarkNew: "new", MarkChanged: "changed",
		MarkClosed: "closed", MarkBrief: "brief", Mark('x'): "mark(120)"} {
		if got := m.String(); got != want {
			t.Errorf("%q: %q, want %q", byte(m), got, want)
		}
	}
}

// TestGroupWatch: rounds of feed.txtar counted per process: the first
// marks nothing, a changed tally is '~', a gone process '-' one round, a
// quiet round repeats the last groups unmarked; keep leaves rows out;
// with traffic the owners' bytes reach their groups.
func TestGroupWatch(t *testing.T) {
	feed := &fakeFeed{}
	p, root := feedPoller(t, feed, FeedOptions{Traffic: true, SkipQuiet: true})
	gw := NewGroupWatch(ByProcess, func(c *Conn) bool { return c.State != netstat.Listen }, true)
	round := func() ([]Group, []string) {
		t.Helper()
		snap, ch, err := p.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		gs, sh := gw.Round(snap, &ch)
		return gs, shown(sh)
	}
	gs, sh := round()
	if !slices.Equal(sh, []string{" 77"}) || gs[0].Established() != 2 || gs[0].Traffic.BytesSent != 1050 {
		t.Fatalf("round 1: %q %+v", sh, gs)
	}
	// Quiet: nothing read, the same groups unmarked.
	writeFile(t, root, "proc/net/tcp", tcpHeader+tcpRow(0, "127.0.0.1:5001", "127.0.0.1:80", netstat.Established, 11))
	if _, sh = round(); !slices.Equal(sh, []string{" 77"}) {
		t.Fatalf("quiet round: %q", sh)
	}
	feed.next(closeEv("127.0.0.1:5002", "127.0.0.1:80", 77, "client", 50))
	if gs, sh = round(); !slices.Equal(sh, []string{"~77"}) || gs[0].Established() != 1 {
		t.Fatalf("round 3: %q %+v", sh, gs)
	}
	writeFile(t, root, "proc/net/tcp", tcpHeader)
	last := closeEv("127.0.0.1:5001", "127.0.0.1:80", 77, "client", 1500)
	last.Traffic.BytesReceived = 2000
	feed.next(last)
	// 77's connection closed, but the 500 bytes it moved since keep its
	// group (with no sockets).
	if gs, sh = round(); !slices.Equal(sh, []string{"~77"}) || gs[0].Total != 0 || gs[0].Traffic.BytesSent != 1550 {
		t.Fatalf("round 4: %q %+v", sh, gs)
	}
	feed.next(flows.Event{Kind: flows.StateChange, Proto: netstat.TCP})
	if gs, sh = round(); !slices.Equal(sh, []string{"-77"}) || len(gs) != 0 {
		t.Fatalf("round 5: %q %+v", sh, gs)
	}
}
