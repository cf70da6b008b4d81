package procnet

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/procnet/procnet/netstat"
	fixture "github.com/procnet/procnet/procnettest"
)

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// tcpRow formats a proc/net/tcp row.
func tcpRow(i int, local, remote string, st netstat.State, inode uint64) string {
	hex := func(s string) string {
		ap := netip.MustParseAddrPort(s)
		a := ap.Addr().As4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], ap.Port())
	}
	return fmt.Sprintf("%4d: %s %s %02X 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n",
		i, hex(local), hex(remote), int(st), inode)
}

func writeFile(t testing.TB, root, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// renderChanges prints what Poll reported, for golden files.
func renderChanges(s *Snapshot, ch *Changes) []byte {
	var b bytes.Buffer
	line := func(mark string, c *Conn, owners string) {
		fmt.Fprintf(&b, "%s %d %s %s %s %s %d %s\n", mark, nsInode(c.Namespace), c.Proto, c.Local, c.Remote, c.State, c.Inode, owners)
	}
	who := func(c *Conn, procs Processes) string {
		out := "-"
		for i, o := range c.Owners {
			if i == 0 {
				out = ""
			} else {
				out += ","
			}
			out += fmt.Sprintf("%d/%s", o.PID, procs.Process(o.PID).Name())
		}
		return out
	}
	for _, j := range ch.New {
		line("+", &s.Conns[j], who(&s.Conns[j], s))
	}
	for _, c := range ch.Changed {
		line("~"+c.Was.String()+"->", &s.Conns[c.Index], who(&s.Conns[c.Index], s))
	}
	for i := range ch.Closed {
		line("-", &ch.Closed[i], who(&ch.Closed[i], ch))
	}
	for _, j := range ch.NewUnix {
		fmt.Fprintf(&b, "+ unix %d %q\n", s.Unix[j].Inode, s.Unix[j].Path)
	}
	for _, c := range ch.ChangedUnix {
		fmt.Fprintf(&b, "~ unix %d %s->%s\n", s.Unix[c.Index].Inode, c.Was, s.Unix[c.Index].State)
	}
	for _, u := range ch.ClosedUnix {
		fmt.Fprintf(&b, "- unix %d %q\n", u.Inode, u.Path)
	}
	return b.Bytes()
}

// TestPoll: between two polls a connection falls to TIME_WAIT (and keeps
// its owner), an old TIME_WAIT row goes, a connection and a unix socket
// appear and one unix socket closes.
func TestPoll(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	p := NewPoller(Options{Root: root, Owners: true, Cmdline: true, Unix: true, AllNamespaces: true})
	ctx := context.Background()
	snap, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Empty() || len(snap.Conns) != 7 {
		t.Fatalf("first poll: %d rows, changes %+v", len(snap.Conns), ch)
	}
	// Nothing changed: nothing reported.
	if _, ch, err := p.Poll(ctx); err != nil || !ch.Empty() {
		t.Fatalf("second poll, nothing changed: %+v, %v", ch, err)
	}

	writeFile(t, root, "proc/400/net/tcp", tcpHeader+
		tcpRow(0, "0.0.0.0:6379", "0.0.0.0:0", netstat.Listen, 6001)+
		tcpRow(1, "127.0.0.1:6379", "127.0.0.1:40000", netstat.TimeWait, 0))
	writeFile(t, root, "proc/1/net/tcp", tcpHeader+
		tcpRow(0, "0.0.0.0:80", "0.0.0.0:0", netstat.Listen, 3001)+
		tcpRow(1, "127.0.0.1:631", "0.0.0.0:0", netstat.Listen, 3002)+
		tcpRow(2, "10.0.0.1:80", "10.0.0.9:5555", netstat.Established, 3003))
	if err := os.Symlink("socket:[3003]", filepath.Join(root, "proc/120/fd/7")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "proc/300/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n"+
		"0000000000000000: 00000002 00000000 00010000 0001 01 5200 /var/run/other.sock\n")

	snap, ch, err = p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fixture.Golden(t, "testdata/poll.golden", renderChanges(snap, &ch))
	// The TIME_WAIT row lists the owner its connection had.
	for _, c := range snap.Conns {
		if c.State == netstat.TimeWait && (len(c.Owners) != 1 || snap.Process(c.Owners[0].PID).Comm != "redis-server") {
			t.Errorf("TIME_WAIT row %v: owners %v", c.Local, c.Owners)
		}
	}
	// It keeps them at the next poll too, and nothing else changed.
	snap, ch, err = p.Poll(ctx)
	if err != nil || !ch.Empty() {
		t.Fatalf("third poll: %+v, %v", ch, err)
	}
	for _, c := range snap.Conns {
		if c.State == netstat.TimeWait && len(c.Owners) != 1 {
			t.Errorf("TIME_WAIT row at the next poll: owners %v", c.Owners)
		}
	}
}

// TestMatchReusePort: listeners with the same ends are told apart by
// inode; a row with inode 0 pairs with the connection it was.
func TestMatchReusePort(t *testing.T) {
	ap := netip.MustParseAddrPort
	l := func(ino uint64) Conn {
		return Conn{Socket: netstat.Socket{Proto: netstat.TCP, Local: ap("0.0.0.0:80"), Remote: ap("0.0.0.0:0"), State: netstat.Listen, Inode: ino}}
	}
	e := func(ino uint64, st netstat.State) Conn {
		return Conn{Socket: netstat.Socket{Proto: netstat.TCP, Local: ap("10.0.0.1:80"), Remote: ap("10.0.0.2:999"), State: st, Inode: ino}}
	}
	prev := []Conn{l(10), l(11), l(12), e(20, netstat.Established)}
	cur := []Conn{l(12), l(13), l(10), e(0, netstat.TimeWait)}
	var got []string
	matchConns(prev, sortConns(prev), cur, sortConns(cur), func(i, j int) {
		switch {
		case i < 0:
			got = append(got, fmt.Sprintf("+%d", cur[j].Inode))
		case j < 0:
			got = append(got, fmt.Sprintf("-%d", prev[i].Inode))
		default:
			got = append(got, fmt.Sprintf("%d=%d", prev[i].Inode, cur[j].Inode))
		}
	})
	want := "[10=10 12=12 +13 -11 20=0]" // leftovers of a group come after its pairs
	if s := fmt.Sprint(got); s != want {
		t.Errorf("matches %s, want %s", s, want)
	}
}

// retained measures the heap a Poller keeps between polls of n rows.
func retained(tb testing.TB, n int) float64 {
	root := bigRoot(tb, n, 0)
	p := NewPoller(Options{Root: root})
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC() // twice: what a sync.Pool kept through the first goes too
	runtime.ReadMemStats(&before)
	for range 3 {
		if _, _, err := p.Poll(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(p)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestPollRetains: between polls a Poller keeps one copy of the rows:
// about a Conn and its 4-byte index per socket, not three copies.
func TestPollRetains(t *testing.T) {
	const n = 20000
	per := retained(t, n)
	one := float64(sizeofConn + 4)
	t.Logf("%.0f bytes retained per socket; a Conn and its index are %.0f", per, one)
	if per > 1.5*one {
		t.Errorf("%.0f bytes retained per socket, more than one copy of the rows (%.0f)", per, one)
	}
}

func BenchmarkPollRetained(b *testing.B) {
	const n = 100000
	root := bigRoot(b, n, 0)
	p := NewPoller(Options{Root: root})
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := p.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(retained(b, n), "retained-B/socket")
}

// TestPollPrograms: with a program filter, a connection that fell to
// TIME_WAIT stays listed, through the owner it had.
func TestPollPrograms(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	p := NewPoller(Options{Root: root, Programs: []string{"redis-server"}, AllNamespaces: true})
	ctx := context.Background()
	snap, _, err := p.Poll(ctx)
	if err != nil || len(snap.Conns) != 2 {
		t.Fatalf("first poll: %d rows, %v", len(snap.Conns), err)
	}
	writeFile(t, root, "proc/400/net/tcp", tcpHeader+
		tcpRow(0, "0.0.0.0:6379", "0.0.0.0:0", netstat.Listen, 6001)+
		tcpRow(1, "127.0.0.1:6379", "127.0.0.1:40000", netstat.TimeWait, 0))
	snap, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Conns) != 2 || len(ch.Changed) != 1 || len(ch.New)+len(ch.Closed) != 0 {
		t.Errorf("second poll: %s", renderChanges(snap, &ch))
	}
}

// TestPollClosedAfter: closed rows come in the last snapshot's order,
// each placed after the new index of the nearest earlier row still there.
func TestPollClosedAfter(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	row := func(i int, port uint16, inode uint64) string {
		return tcpRow(i, fmt.Sprintf("127.0.0.1:%d", port), "127.0.0.1:9", netstat.Established, inode)
	}
	// Ports (and inodes) 5 4 2 1 3, then 4 and 1 close and the rest
	// reorder: 3 2 5.
	writeFile(t, root, "proc/net/tcp", tcpHeader+row(0, 5, 5)+row(1, 4, 4)+row(2, 2, 2)+row(3, 1, 1)+row(4, 3, 3))
	p := NewPoller(Options{Root: root})
	ctx := context.Background()
	if _, _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "proc/net/tcp", tcpHeader+row(0, 3, 3)+row(1, 2, 2)+row(2, 5, 5))
	_, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for k, c := range ch.Closed {
		got = append(got, fmt.Sprintf("%d after %d", c.Inode, ch.ClosedAfter[k]))
	}
	want := []string{"4 after 2", "1 after 1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("closed %v, want %v", got, want)
	}
}
