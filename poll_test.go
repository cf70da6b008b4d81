package procnet

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
	fixture "github.com/procnet/procnet/procnettest"
)

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// tcpRow formats a proc/net/tcp row, or a proc/net/tcp6 one for IPv6
// addresses.
func tcpRow(i int, local, remote string, st netstat.State, inode uint64) string {
	hex := func(s string) string {
		ap := netip.MustParseAddrPort(s)
		var b strings.Builder
		a := ap.Addr().AsSlice()
		for w := 0; w < len(a); w += 4 { // each word in the kernel's (little endian) order
			fmt.Fprintf(&b, "%02X%02X%02X%02X", a[w+3], a[w+2], a[w+1], a[w])
		}
		return fmt.Sprintf("%s:%04X", b.String(), ap.Port())
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
	var was, now last
	was.store(&Snapshot{Conns: prev})
	now.store(&Snapshot{Conns: cur})
	matchCompact(&was, &now, now.order, func(i, j int) {
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

// TestPollRetains: between polls a Poller keeps what the next poll needs
// of the rows, not the rows: less than half a Conn per socket (it kept
// the whole snapshot, 217 bytes a socket here, until the rows were kept
// compact; 73 since).
func TestPollRetains(t *testing.T) {
	const n = 20000
	per := retained(t, n)
	one := float64(sizeofConn + 4)
	t.Logf("%.0f bytes retained per socket; a Conn and its index are %.0f", per, one)
	if per > one/2 {
		t.Errorf("%.0f bytes retained per socket, more than half a row (%.0f)", per, one/2)
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

// TestLastRoundTrip: what a Poller keeps of a row gives the row back
// whole (a closed row is shown as it was last seen), and keys the rows
// as the new rows are keyed.
func TestLastRoundTrip(t *testing.T) {
	ap := netip.MustParseAddrPort
	spaces := []netstat.Namespace{{Inode: 4026531840, PID: 1, PIDs: []int{1, 7}}, {Inode: 4026532000, PID: 300}}
	full := netstat.Socket{Proto: netstat.TCP6, Local: ap("[2001:db8::1]:443"), Remote: ap("[::ffff:10.0.0.2]:65535"),
		State: netstat.FinWait2, TxQueue: 1 << 31, RxQueue: 7, Timer: 4, TimerTicks: 1<<63 + 5, Retransmits: 3, Timeout: 9,
		UID: 1<<32 - 2, Inode: 1<<64 - 1, Drops: 12,
		Traffic: netstat.Traffic{BytesSent: 1 << 62, BytesReceived: 123456789, SegsOut: 1<<32 - 1, SegsIn: 1, Known: true}}
	conns := []Conn{
		{Socket: full, Owners: []procmap.Owner{{PID: 7, FD: 3}, {PID: 7, FD: 1 << 30}, {PID: 4194304, FD: 0}}, Namespace: &spaces[0]},
		{Socket: netstat.Socket{Proto: netstat.TCP, Local: ap("127.0.0.1:80"), Remote: ap("127.0.0.1:5000"), State: netstat.TimeWait, Timer: 3, TimerTicks: 100}, Namespace: &spaces[1]},
		{Socket: netstat.Socket{Proto: netstat.Raw, Local: netip.AddrPortFrom(netip.Addr{}, 1)}},
		{Socket: netstat.Socket{Proto: netstat.UDP, Local: ap("0.0.0.0:53"), Remote: ap("0.0.0.0:0"), State: netstat.Close, Inode: 5, Drops: 1}, Owners: []procmap.Owner{{PID: 1, FD: -1}}, Namespace: &spaces[0]},
	}
	unix := []UnixConn{
		{UnixSocket: netstat.UnixSocket{RefCount: 2, Protocol: 1, Flags: netstat.Accepting, Type: 5, State: 1, Inode: 1 << 40, Path: "/run/a b\nc"},
			Owners: []procmap.Owner{{PID: 300, FD: 4}}, Namespace: &spaces[1]},
		{UnixSocket: netstat.UnixSocket{Inode: 9, Path: ""}},
	}
	var l last
	l.store(&Snapshot{Conns: conns, Unix: unix, Namespaces: spaces})
	for i := range conns {
		got := l.conn(i)
		if !reflect.DeepEqual(got, conns[i]) || got.Namespace != conns[i].Namespace {
			t.Errorf("row %d kept as\n%+v, want\n%+v", i, got, conns[i])
		}
		if a, b := l.ends(i), endsOf(&conns[i]); a != b {
			t.Errorf("row %d: key %+v, want %+v", i, a, b)
		}
	}
	for i := range unix {
		if got := l.unixConn(i); !reflect.DeepEqual(got, unix[i]) || got.Namespace != unix[i].Namespace {
			t.Errorf("unix row %d kept as\n%+v, want\n%+v", i, got, unix[i])
		}
	}
	var pool []procmap.Owner
	if n := l.connOwners(&pool, 0); n != 3 || !reflect.DeepEqual(pool, conns[0].Owners) {
		t.Errorf("owners of row 0: %d %v", n, pool)
	}
	// The keys order as netip does.
	for i := range conns {
		for j := range conns {
			a, b := &conns[i], &conns[j]
			want := cmp.Or(cmp.Compare(nsInode(a.Namespace), nsInode(b.Namespace)), cmp.Compare(a.Proto, b.Proto),
				a.Local.Compare(b.Local), a.Remote.Compare(b.Remote))
			if got := compareEnds(endsOf(a), endsOf(b)); got != want {
				t.Errorf("rows %d, %d compare %d, want %d", i, j, got, want)
			}
			if got := l.compareRows(&l.conns[i], &l.conns[j]); got != cmp.Or(want, cmp.Compare(a.Inode, b.Inode)) {
				t.Errorf("rows %d, %d compare %d in the sort, want %d then by inode", i, j, got, want)
			}
		}
	}
}

// TestPollClosedRows: a poll gives back the rows that closed as the last
// poll returned them, owners and namespace included.
func TestPollClosedRows(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	p := NewPoller(Options{Root: root, Owners: true, Cmdline: true, Unix: true, AllNamespaces: true})
	ctx := context.Background()
	first, _, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"proc/1/net/tcp", "proc/400/net/tcp", "proc/300/net/unix", "proc/1/net/unix"} {
		writeFile(t, root, f, "")
	}
	snap, ch, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Closed) != len(first.Conns)-len(snap.Conns) || len(ch.Closed) == 0 || len(ch.ClosedUnix) == 0 {
		t.Fatalf("%d rows then %d, %d closed (%d unix)", len(first.Conns), len(snap.Conns), len(ch.Closed), len(ch.ClosedUnix))
	}
	for _, c := range ch.Closed {
		k := slices.IndexFunc(first.Conns, func(d Conn) bool { return d.Inode == c.Inode && d.Local == c.Local && d.Remote == c.Remote })
		if k < 0 || !reflect.DeepEqual(first.Conns[k], c) {
			t.Errorf("closed row %+v, not as last seen", c)
		}
		for _, o := range c.Owners {
			if ch.Process(o.PID) != first.Process(o.PID) {
				t.Errorf("closed row %v: owner %d described as %v", c.Local, o.PID, ch.Process(o.PID))
			}
		}
	}
	for _, u := range ch.ClosedUnix {
		k := slices.IndexFunc(first.Unix, func(d UnixConn) bool { return d.Inode == u.Inode })
		if k < 0 || !reflect.DeepEqual(first.Unix[k], u) {
			t.Errorf("closed unix row %+v, not as last seen", u)
		}
	}
}

const sockstat = `sockets: used 39
TCP: inuse 21 orphan 0 tw 7032 alloc 21 mem 123
UDP: inuse 4 mem 0
UDPLITE: inuse 0
RAW: inuse 1
FRAG: inuse 0 memory 0
`

const sockstat6 = `TCP6: inuse 100
UDP6: inuse 2
UDPLITE6: inuse 0
RAW6: inuse 0
FRAG6: inuse 0 memory 0
`

// TestPollSized: the first poll's rows are sized from the kernel's
// counts, once, instead of growing by appends (the counts here are twice
// the rows, which appends would never make room for); a narrowing filter
// is not sized.
func TestPollSized(t *testing.T) {
	const n = 3000
	root := bigRoot(t, n, 0)
	writeFile(t, root, "proc/net/sockstat", strings.Replace(sockstat, "tw 7032", "tw 4000", 1))
	writeFile(t, root, "proc/net/sockstat6", strings.Replace(sockstat6, "TCP6: inuse 100", "TCP6: inuse 1979", 1))
	const all = 21 + 4000 + 4 + 1 + 1979 + 2
	for _, tc := range []struct {
		f    netstat.Filter
		want int
	}{
		{netstat.Filter{}, all},
		{netstat.Filter{Protos: netstat.Protos(netstat.TCP, netstat.TCP6)}, 21 + 4000 + 1979},
		{netstat.Filter{Protos: netstat.Protos(netstat.UDP6)}, 2},
		{netstat.Filter{States: netstat.States(netstat.Listen)}, 0},
		{netstat.Filter{Ports: []uint16{80}}, 0},
	} {
		if got := NewReader(Options{Root: root, Filter: tc.f}).kernelRows(nil, tc.f); got != tc.want {
			t.Errorf("%+v: %d rows, want %d", tc.f, got, tc.want)
		}
	}
	p := NewPoller(Options{Root: root})
	if _, _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The rows are read compact (lastConn); make rounds the size up to
	// whole pages.
	rows := p.last.conns
	if want := all + all/16 + 16; len(rows) != n || cap(rows) < want || cap(rows) > want+8192/int(unsafe.Sizeof(lastConn{})) {
		t.Errorf("%d rows in %d, want %d", len(rows), cap(rows), want)
	}
}

func FuzzSockstat(f *testing.F) {
	f.Add([]byte(sockstat))
	f.Add([]byte(sockstat6))
	f.Add([]byte("TCP: inuse x tw -1\nUDP: inuse\n: \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n [numCounts]int
		err := parseSockstat("proc/net/sockstat", data, &n)
		for _, v := range n {
			if v < 0 || v > 1<<31 {
				t.Fatalf("count %d", v)
			}
		}
		if err != nil && !strings.HasPrefix(err.Error(), "proc/net/sockstat:") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

// TestParseSockstat: the counts, and a bad line named while the others
// count.
func TestParseSockstat(t *testing.T) {
	var n [numCounts]int
	if err := parseSockstat("sockstat", []byte(sockstat), &n); err != nil {
		t.Fatal(err)
	}
	if err := parseSockstat("sockstat6", []byte(sockstat6), &n); err != nil {
		t.Fatal(err)
	}
	if n[netstat.TCP] != 21 || n[timeWaits] != 7032 || n[netstat.UDP] != 4 || n[netstat.Raw] != 1 || n[netstat.TCP6] != 100 || n[netstat.UDP6] != 2 {
		t.Errorf("counts %v", n)
	}
	n = [numCounts]int{}
	err := parseSockstat("proc/net/sockstat", []byte("TCP: inuse 5 tw\nUDP: inuse x\nRAW: inuse 3\n"), &n)
	if err == nil || !strings.Contains(err.Error(), "proc/net/sockstat:1:") || !strings.Contains(err.Error(), "proc/net/sockstat:2:") || n[netstat.Raw] != 3 {
		t.Errorf("counts %v, error %v", n, err)
	}
}

// store codes snap's rows into l as a poll codes the rows it reads (see
// Poller.poll), keyed in order.
func (l *last) store(snap *Snapshot) {
	for i := range snap.Conns {
		c := &snap.Conns[i]
		var raw []byte
		l.conns, raw = keepConn(l.conns, nil, &c.Socket, l.spaceIndex(c.Namespace))
		k := &l.conns[len(l.conns)-1]
		k.detail = uint32(len(l.detail))
		h := k.wideLen()
		_, n := binary.Uvarint(raw[h:])
		l.detail = append(l.detail, raw[:h+n]...)
		l.detail = appendOwners(l.detail, c.Owners)
		l.detail = append(l.detail, raw[h+n:]...)
	}
	for i := range snap.Unix {
		u := &snap.Unix[i]
		l.unix = append(l.unix, lastUnix{inode: u.Inode, detail: uint32(len(l.detail)), ns: l.spaceIndex(u.Namespace), state: u.State})
		l.detail = appendOwners(l.detail, u.Owners)
		l.detail = appendUnixFields(l.detail, &u.UnixSocket)
	}
	l.order, l.uorder = l.sortConns(), l.sortUnix()
}

// TestPollRound: PollRound's rows, decoded one at a time, are Poll's,
// owners and namespaces included, and its Changes are Poll's: two Pollers
// over the same tree, polled in step, through new, closed, changed and
// TIME_WAIT rows (which keep their owner) and unix sockets.
func TestPollRound(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	opts := Options{Root: root, Owners: true, AllNamespaces: true, Unix: true}
	snaps, rounds := NewPoller(opts), NewPoller(opts)
	ctx := context.Background()
	same := func(step string) {
		t.Helper()
		snap, want, err := snaps.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rd, got, err := rounds.PollRound(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rd.Len() != len(snap.Conns) || rd.UnixLen() != len(snap.Unix) {
			t.Fatalf("%s: %d and %d rows, want %d and %d", step, rd.Len(), rd.UnixLen(), len(snap.Conns), len(snap.Unix))
		}
		for i, c := range rd.Conns() {
			w := snap.Conns[i]
			if !reflect.DeepEqual(c.Socket, w.Socket) || fmt.Sprint(c.Owners) != fmt.Sprint(w.Owners) || nsInode(c.Namespace) != nsInode(w.Namespace) {
				t.Errorf("%s: row %d %+v, want %+v", step, i, *c, w)
			}
			for _, o := range c.Owners {
				if rd.Process(o.PID) == nil || rd.Process(o.PID).Comm != snap.Process(o.PID).Comm {
					t.Errorf("%s: row %d: owner %d unknown", step, i, o.PID)
				}
			}
		}
		for i, u := range rd.Unix() {
			w := snap.Unix[i]
			if !reflect.DeepEqual(u.UnixSocket, w.UnixSocket) || fmt.Sprint(u.Owners) != fmt.Sprint(w.Owners) || nsInode(u.Namespace) != nsInode(w.Namespace) {
				t.Errorf("%s: unix row %d %+v, want %+v", step, i, *u, w)
			}
		}
		if fmt.Sprint(got.New, got.Changed, got.ClosedAfter, got.NewUnix, got.ChangedUnix, got.ClosedUnixAfter) !=
			fmt.Sprint(want.New, want.Changed, want.ClosedAfter, want.NewUnix, want.ChangedUnix, want.ClosedUnixAfter) ||
			!reflect.DeepEqual(got.Closed, want.Closed) || !reflect.DeepEqual(got.ClosedUnix, want.ClosedUnix) {
			t.Errorf("%s: changes %+v, want %+v", step, got, want)
		}
		if step != "first" && got.Empty() {
			t.Errorf("%s: nothing changed", step)
		}
	}
	same("first")
	writeFile(t, root, "proc/400/net/tcp", tcpHeader+
		tcpRow(0, "0.0.0.0:6379", "0.0.0.0:0", netstat.Listen, 6001)+
		tcpRow(1, "127.0.0.1:6379", "127.0.0.1:40000", netstat.TimeWait, 0))
	writeFile(t, root, "proc/1/net/tcp", tcpHeader+
		tcpRow(0, "0.0.0.0:80", "0.0.0.0:0", netstat.Listen, 3001)+
		tcpRow(2, "10.0.0.1:80", "10.0.0.9:5555", netstat.Established, 3003))
	writeFile(t, root, "proc/300/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n"+
		"0000000000000000: 00000002 00000000 00010000 0001 01 5200 /var/run/other.sock\n")
	same("second")
}

// TestPollWideAddresses: rows whose IPv6 addresses keep their high half
// in the row's detail (lastConn.wide: local, remote, both) come back
// whole from a round — the same rows as a one-shot Read — and so do the
// closed one, the owners a TIME_WAIT row carries from its connection, and
// the state changes; a kept row without such addresses is 40 bytes.
func TestPollWideAddresses(t *testing.T) {
	if n := unsafe.Sizeof(lastConn{}); n != 40 {
		t.Errorf("a kept Internet row is %d bytes, want 40", n)
	}
	root := fixture.Root(t, "testdata/netns.txtar")
	for fd, ino := range map[int]int{9: 3101, 10: 3103, 11: 3104} {
		if err := os.Symlink(fmt.Sprintf("socket:[%d]", ino), filepath.Join(root, "proc/120/fd", strconv.Itoa(fd))); err != nil {
			t.Fatal(err)
		}
	}
	const (
		server = "[2001:db8::1]:443"
		client = "[2001:db8:0:1::9]"
	)
	writeFile(t, root, "proc/1/net/tcp6", tcpHeader+
		tcpRow(0, server, "[::ffff:10.0.0.7]:4000", netstat.Established, 3101)+
		tcpRow(1, "[::1]:443", client+":4001", netstat.Established, 3102)+
		tcpRow(2, server, client+":4002", netstat.Established, 3103)+
		tcpRow(3, server, client+":4003", netstat.Established, 3104)+
		tcpRow(4, "[::1]:443", "[::1]:4004", netstat.Established, 3105))
	opts := Options{Root: root, Owners: true, AllNamespaces: true}
	p := NewPoller(opts)
	ctx := context.Background()
	poll := func(step string) (*Snapshot, Changes) {
		t.Helper()
		snap, ch, err := p.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Read(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Conns) != len(want.Conns) {
			t.Fatalf("%s: %d rows, a one-shot read %d", step, len(snap.Conns), len(want.Conns))
		}
		for i, c := range snap.Conns {
			w := want.Conns[i]
			if c.Socket != w.Socket || nsInode(c.Namespace) != nsInode(w.Namespace) ||
				c.Inode != 0 && fmt.Sprint(c.Owners) != fmt.Sprint(w.Owners) {
				t.Errorf("%s: row %d %v %v %v %v, a one-shot read %v %v %v %v", step, i,
					c.Local, c.Remote, c.State, c.Owners, w.Local, w.Remote, w.State, w.Owners)
			}
		}
		return snap, ch
	}
	if _, ch := poll("first"); !ch.Empty() {
		t.Fatalf("first poll: changes %+v", ch)
	}
	writeFile(t, root, "proc/1/net/tcp6", tcpHeader+
		tcpRow(0, server, client+":4003", netstat.CloseWait, 3104)+
		tcpRow(1, "[::1]:443", client+":4001", netstat.Established, 3102)+
		tcpRow(2, server, "[2001:db8:0:1::8]:4009", netstat.SynRecv, 0)+
		tcpRow(3, server, client+":4002", netstat.TimeWait, 0)+
		tcpRow(4, "[::1]:443", "[::1]:4004", netstat.Established, 3105))
	snap, ch := poll("second")
	row := func(local, remote string) int {
		return slices.IndexFunc(snap.Conns, func(c Conn) bool {
			return c.Local.String() == local && c.Remote.String() == remote
		})
	}
	closing, brand, waiting := row(server, client+":4003"), row(server, "[2001:db8:0:1::8]:4009"), row(server, client+":4002")
	if closing < 0 || brand < 0 || waiting < 0 {
		t.Fatalf("rows %d %d %d", closing, brand, waiting)
	}
	if got := fmt.Sprint(snap.Conns[waiting].Owners); got != "[{120 10}]" {
		t.Errorf("the TIME_WAIT row's owners %s, want those of its connection [{120 10}]", got)
	}
	if fmt.Sprint(ch.New) != fmt.Sprint([]int{brand}) {
		t.Errorf("new %v, want [%d]", ch.New, brand)
	}
	if want := fmt.Sprint([]StateChange{{Index: closing, Was: netstat.Established}, {Index: waiting, Was: netstat.Established}}); fmt.Sprint(ch.Changed) != want {
		t.Errorf("changed %v, want %s", ch.Changed, want)
	}
	if len(ch.Closed) != 1 {
		t.Fatalf("closed %+v, want one row", ch.Closed)
	}
	c := ch.Closed[0]
	if c.Local.String() != server || c.Remote.String() != "[::ffff:10.0.0.7]:4000" || c.Inode != 3101 ||
		c.State != netstat.Established || fmt.Sprint(c.Owners) != "[{120 9}]" {
		t.Errorf("closed %v %v %v %d %v", c.Local, c.Remote, c.State, c.Inode, c.Owners)
	}
}
