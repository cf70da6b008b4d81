package procnet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
	fixture "github.com/procnet/procnet/procnettest"
)

// render prints a snapshot one row a line, for golden files.
func render(s *Snapshot) []byte {
	var b bytes.Buffer
	ns := func(n *netstat.Namespace) string {
		if n == nil {
			return "-"
		}
		if n.Container != "" {
			return fmt.Sprintf("%d/%s", n.Inode, n.Container)
		}
		return fmt.Sprint(n.Inode)
	}
	owners := func(os []procmap.Owner) string {
		var parts []string
		for _, o := range os {
			parts = append(parts, fmt.Sprintf("%d/%q/fd%d", o.PID, s.Process(o.PID).Name(), o.FD))
		}
		if parts == nil {
			return "-"
		}
		return strings.Join(parts, ",")
	}
	for _, c := range s.Conns {
		fmt.Fprintf(&b, "%s %s %s %s %s %d %s\n", ns(c.Namespace), c.Proto, c.Local, c.Remote, c.State, c.Inode, owners(c.Owners))
	}
	for _, u := range s.Unix {
		fmt.Fprintf(&b, "%s unix %s %d %q %s\n", ns(u.Namespace), u.State, u.Inode, u.Path, owners(u.Owners))
	}
	return b.Bytes()
}

func renderGroups(gs []Group, t Tally) []byte {
	var b bytes.Buffer
	for _, g := range gs {
		fmt.Fprintf(&b, "pid=%d program=%q remote=%v proto=%v port=%d state=%d: estab=%d listen=%d unconn=%d twait=%d total=%d\n",
			g.PID, g.Program, g.Remote, g.Proto, g.Port, g.State, g.Established(), g.States[netstat.Listen],
			g.States[Unconnected], g.States[netstat.TimeWait], g.Total)
	}
	fmt.Fprintf(&b, "total: estab=%d listen=%d total=%d\n", t.Established(), t.States[netstat.Listen], t.Total)
	return b.Bytes()
}

func TestSnapshotGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"host", Options{Root: root, Owners: true, Cmdline: true, Unix: true}},
		{"all", Options{Root: root, Owners: true, Cmdline: true, Unix: true, AllNamespaces: true}},
		{"netns300", Options{Root: root, Owners: true, NamespacePID: 300}},
		{"noowners", Options{Root: root, AllNamespaces: true}},
		{"pid301", Options{Root: root, Cmdline: true, PIDs: []int{301}, AllNamespaces: true, Unix: true}},
		{"program", Options{Root: root, Programs: []string{"redis-server"}, AllNamespaces: true}},
		{"listen", Options{Root: root, Owners: true, AllNamespaces: true, Filter: netstat.Filter{States: netstat.States(netstat.Listen)}}},
		{"port", Options{Root: root, Owners: true, AllNamespaces: true, Filter: netstat.Filter{LocalPorts: []uint16{6379}}}},
		{"servers", Options{Root: root, Owners: true, Unix: true, AllNamespaces: true, Show: ShowServers}},
		{"connected", Options{Root: root, Owners: true, Unix: true, AllNamespaces: true, Show: ShowConnected}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := Read(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := render(snap)
			fixture.Golden(t, "testdata/"+tc.name+".golden", got)

			// A stream gives the same rows.
			st, err := NewReader(tc.opts).Stream(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var s Snapshot
			for c, err := range st.Conns() {
				if err != nil {
					t.Fatal(err)
				}
				s.Conns = append(s.Conns, c)
			}
			if tc.opts.Unix {
				for u, err := range st.Unix() {
					if err != nil {
						t.Fatal(err)
					}
					s.Unix = append(s.Unix, u)
				}
			}
			s.Procs = st.Procs
			if d := fixture.Diff(got, render(&s)); d != "" {
				t.Errorf("streams differ from the snapshot:\n%s", d)
			}
		})
	}
}

// TestShow checks that Show splits the rows in two by netstat's -l rule
// (each row kept by ShowServers or by ShowConnected, never both), that
// a Poller applies it as Read does, and that ShowServers reads only the
// states a socket without a peer can be in.
func TestShow(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	read := func(sh Show) *Snapshot {
		snap, err := Read(context.Background(), Options{Root: root, Unix: true, AllNamespaces: true, Show: sh})
		if err != nil {
			t.Fatal(err)
		}
		return snap
	}
	all, servers, connected := read(ShowAll), read(ShowServers), read(ShowConnected)
	if len(servers.Conns) == 0 || len(connected.Conns) == 0 || len(servers.Unix) == 0 {
		t.Fatalf("the fixture lacks servers or connections: %d+%d rows, %d+%d unix",
			len(servers.Conns), len(connected.Conns), len(servers.Unix), len(connected.Unix))
	}
	if len(servers.Conns)+len(connected.Conns) != len(all.Conns) || len(servers.Unix)+len(connected.Unix) != len(all.Unix) {
		t.Errorf("servers and connections do not split the rows: %d+%d of %d, unix %d+%d of %d",
			len(servers.Conns), len(connected.Conns), len(all.Conns), len(servers.Unix), len(connected.Unix), len(all.Unix))
	}
	for _, c := range all.Conns {
		peer := c.Remote.Port() != 0
		if !c.Proto.IsTCP() {
			peer = !c.Remote.Addr().IsUnspecified()
		}
		if ShowServers.Shows(&c.Socket) == peer || ShowConnected.Shows(&c.Socket) != peer || !ShowAll.Shows(&c.Socket) {
			t.Errorf("%s %s -> %s: kept by the wrong Show", c.Proto, c.Local, c.Remote)
		}
	}
	// A Poller reads its rows compact (round.go), not through readRows.
	for sh, want := range map[Show]*Snapshot{ShowServers: servers, ShowConnected: connected} {
		p := NewPoller(Options{Root: root, Unix: true, AllNamespaces: true, Show: sh})
		polled, _, err := p.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d := fixture.Diff(render(want), render(polled)); d != "" {
			t.Errorf("Show %d: a Poller's rows differ from Read's:\n%s", sh, d)
		}
	}
	f := ShowServers.Filter(netstat.Filter{})
	if want := netstat.States(netstat.Listen, netstat.Close); f.States != want {
		t.Errorf("ShowServers.Filter: States %b, want %b", f.States, want)
	}
	if f := ShowServers.Filter(netstat.Filter{States: netstat.States(netstat.Listen, netstat.Established)}); f.States != netstat.States(netstat.Listen) {
		t.Errorf("ShowServers.Filter of LISTEN and ESTABLISHED: States %b", f.States)
	}
	if f := ShowServers.Filter(netstat.Filter{States: netstat.States(netstat.Established)}); f.States != netstat.States(netstat.Established) {
		t.Errorf("ShowServers.Filter of ESTABLISHED: States %b, want it kept", f.States)
	}
	if f := ShowConnected.Filter(netstat.Filter{}); f.States != 0 {
		t.Errorf("ShowConnected.Filter: States %b, want any", f.States)
	}
}

func TestNamespacePIDGone(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	if _, err := Read(context.Background(), Options{Root: root, NamespacePID: 777}); err == nil {
		t.Error("a namespace PID without a process: no error")
	}
	// PID 90 is in the host's namespace but has no tables of its own.
	if _, err := Read(context.Background(), Options{Root: root, NamespacePID: 90}); !errors.Is(err, ErrNoTables) || !strings.Contains(err.Error(), "proc/90/net") {
		t.Errorf("a namespace PID without tables: %v", err)
	}
}

func TestCountGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	snap, err := Read(context.Background(), Options{Root: root, Owners: true, Cmdline: true, AllNamespaces: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, by := range []By{ByProcess, ByProgram, ByRemote, ByPort, ByState} {
		fmt.Fprintf(&b, "by %s\n", by)
		b.Write(renderGroups(snap.Count(by), snap.Total()))
	}
	fixture.Golden(t, "testdata/count.golden", b.Bytes())
}

// TestCountShared checks the rule for shared sockets: socket 5001 is held
// by PIDs 300 and 301 and counts once in each one's group, and once in
// the total.
func TestCountShared(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	snap, err := Read(context.Background(), Options{Root: root, Owners: true, NamespacePID: 300})
	if err != nil {
		t.Fatal(err)
	}
	// 5001 (LISTEN, 300 and 301) and 5002 (ESTABLISHED, 301).
	got := map[int]int{}
	for _, g := range snap.Count(ByProcess) {
		got[g.PID] = g.Total
	}
	if got[300] != 1 || got[301] != 2 || len(got) != 2 {
		t.Errorf("per process: %v; want 300:1 301:2", got)
	}
	if tot := snap.Total(); tot.Total != 2 {
		t.Errorf("total %d, want 2", tot.Total)
	}
	// Without argv both processes are "nginx": 5001 counts once there.
	progs := snap.Count(ByProgram)
	if len(progs) != 1 || progs[0].Program != "nginx" || progs[0].Total != 2 {
		t.Errorf("per program: %+v", progs)
	}
	// With argv they are two programs, each counting 5001.
	snap, err = Read(context.Background(), Options{Root: root, Owners: true, Cmdline: true, NamespacePID: 300})
	if err != nil {
		t.Fatal(err)
	}
	if progs := snap.Count(ByProgram); len(progs) != 2 || progs[0].Total+progs[1].Total != 3 {
		t.Errorf("per program with argv: %+v", progs)
	}
	// Two owners with the same program: one count in that group.
	k := NewCounter(ByProgram)
	procs := &procmap.Map{Procs: map[int]*procmap.Process{1: {PID: 1, Comm: "w"}, 2: {PID: 2, Comm: "w"}}}
	k.Add(&Conn{Socket: netstat.Socket{Proto: netstat.TCP, State: netstat.Listen}, Owners: []procmap.Owner{{PID: 1, FD: 3}, {PID: 2, FD: 3}, {PID: 2, FD: 4}}}, procs)
	if gs := k.Groups(); len(gs) != 1 || gs[0].Total != 1 || gs[0].Program != "w" {
		t.Errorf("shared by one program: %+v", gs)
	}
	k = NewCounter(ByProcess)
	k.Add(&Conn{Socket: netstat.Socket{Proto: netstat.TCP, State: netstat.Listen}, Owners: []procmap.Owner{{PID: 1, FD: 3}, {PID: 2, FD: 3}, {PID: 2, FD: 4}}}, procs)
	if gs := k.Groups(); len(gs) != 2 || gs[0].Total != 1 || gs[1].Total != 1 || k.Total().Total != 1 {
		t.Errorf("shared by two processes: %+v, total %+v", gs, k.Total())
	}
}

// TestTallyCounts checks the names and order of Tally.Counts: the
// kernel's states, then UNCONN and UNKNOWN, zeros included.
func TestTallyCounts(t *testing.T) {
	var tl Tally
	for _, s := range []netstat.Socket{
		{Proto: netstat.TCP, State: netstat.Established},
		{Proto: netstat.UDP, State: netstat.Close},
		{Proto: netstat.TCP, State: netstat.Close},
		{Proto: netstat.TCP, State: netstat.NewSynRecv + 1},
	} {
		tl.add(&s)
	}
	var got []string
	for name, n := range tl.Counts() {
		got = append(got, fmt.Sprintf("%s=%d", name, n))
	}
	want := "ESTABLISHED=1 SYN_SENT=0 SYN_RECV=0 FIN_WAIT1=0 FIN_WAIT2=0 TIME_WAIT=0 CLOSE=1 CLOSE_WAIT=0 " +
		"LAST_ACK=0 LISTEN=0 CLOSING=0 NEW_SYN_RECV=0 UNCONN=1 UNKNOWN=1"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("Counts:\n got %s\nwant %s", s, want)
	}
}

func TestFirstOwner(t *testing.T) {
	for _, tc := range []struct {
		owners      []procmap.Owner
		pid, others int
	}{
		{nil, 0, 0},
		{[]procmap.Owner{{PID: 7, FD: 3}}, 7, 0},
		{[]procmap.Owner{{PID: 7, FD: 3}, {PID: 7, FD: 4}}, 7, 0},
		{[]procmap.Owner{{PID: 7, FD: 3}, {PID: 7, FD: 4}, {PID: 9, FD: 3}, {PID: 12, FD: 5}, {PID: 12, FD: 6}}, 7, 2},
	} {
		if pid, others := FirstOwner(tc.owners); pid != tc.pid || others != tc.others {
			t.Errorf("FirstOwner(%v) = %d, %d; want %d, %d", tc.owners, pid, others, tc.pid, tc.others)
		}
	}
}

func TestByNames(t *testing.T) {
	for _, b := range []By{ByProcess, ByProgram, ByRemote, ByPort, ByState} {
		if p, ok := ParseBy(b.String()); !ok || p != b {
			t.Errorf("ParseBy(%q) = %v, %v", b, p, ok)
		}
	}
	if _, ok := ParseBy(""); ok {
		t.Error(`ParseBy("") ok`)
	}
}

// bigRoot writes a tree with n TCP rows and procs processes, each owning
// two of them.
func bigRoot(t testing.TB, n, procs int) string {
	root := t.TempDir()
	dir := filepath.Join(root, "proc/net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "tcp"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
	for i := range n {
		fmt.Fprintf(w, "%4d: 0100007F:%04X 0200007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 1000+i%50000, 2000+i/50000, 100000+i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	per := min(n/max(procs, 1), 2) // the walk's cost is per process
	for p := range procs {
		pd := filepath.Join(root, "proc", fmt.Sprint(1000+p))
		if err := os.MkdirAll(filepath.Join(pd, "fd"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(pd, "stat"), fmt.Appendf(nil, "%d (w%d) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", 1000+p, p, 500+p), 0o644)
		os.WriteFile(filepath.Join(pd, "status"), []byte("Uid:\t0\t0\t0\t0\n"), 0o644)
		for k := range per {
			os.Symlink(fmt.Sprintf("socket:[%d]", 100000+p*per+k), filepath.Join(pd, "fd", fmt.Sprint(3+k)))
		}
	}
	return root
}

// TestCancel: a cancel during a large scan or a large walk returns
// ctx.Err() promptly, from every call.
func TestCancel(t *testing.T) {
	root := bigRoot(t, 50000, 400)
	// Cancelled during the scan, by the stream's consumer.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := NewReader(Options{Root: root})
	rows := 0
	var last error
	for _, err := range r.Conns(ctx) {
		if err != nil {
			last = err
			continue
		}
		if rows++; rows == 500 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || rows > 500+600 {
		t.Errorf("stream cancelled at 500 rows: %d rows, last error %v", rows, last)
	}
	// Cancelled before: nothing is read.
	if _, err := Read(ctx, Options{Root: root, Owners: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("Snapshot: %v", err)
	}
	if _, _, err := NewPoller(Options{Root: root, Owners: true}).Poll(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Poll: %v", err)
	}
	// Cancelled during the walk: a deadline shorter than the walk.
	for _, opts := range []Options{{Root: root, Owners: true}, {Root: root, PIDs: []int{1001}}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		_, err := Read(ctx, opts)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%+v: %v", opts, err)
		}
	}
}

// TestConnsFlat: a stream's allocations do not grow with the rows (a
// -tanp listing's flat memory): the same for 1,000 rows as for 20,000.
func TestConnsFlat(t *testing.T) {
	allocs := func(n int) float64 {
		r := NewReader(Options{Root: bigRoot(t, n, 0), Owners: true})
		scan := func() {
			for _, err := range r.Conns(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		scan()
		return testing.AllocsPerRun(5, scan)
	}
	small, large := allocs(1000), allocs(20000)
	t.Logf("allocations per stream: %v for 1,000 rows, %v for 20,000", small, large)
	if large > small+2 {
		t.Errorf("allocations grow with the rows: %v for 1,000, %v for 20,000", small, large)
	}
}

// TestNarrowedOwnersKeepUnix: a port filter narrows the owner pass to the
// listed sockets; the unix rows listed beside them keep their owners.
func TestNarrowedOwnersKeepUnix(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	snap, err := Read(context.Background(), Options{Root: root, Owners: true, Unix: true,
		Filter: netstat.Filter{Ports: []uint16{80}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Conns) != 1 || len(snap.Conns[0].Owners) != 1 || snap.Conns[0].Owners[0].PID != 120 {
		t.Errorf("port 80: %+v, want one row held by PID 120", snap.Conns)
	}
	if len(snap.Unix) != 1 || len(snap.Unix[0].Owners) != 1 || snap.Unix[0].Owners[0].PID != 1 {
		t.Errorf("unix rows %+v, want one held by PID 1", snap.Unix)
	}
}

// TestSkippedNamespaces: a namespace none of whose members has tables
// (here only as owners in the tree) is reported, not silently left out.
func TestSkippedNamespaces(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	// Namespace 4026532402's one member with tables loses them.
	if err := os.RemoveAll(filepath.Join(root, "proc/400/net")); err != nil {
		t.Fatal(err)
	}
	r := NewReader(Options{Root: root, AllNamespaces: true})
	snap, err := r.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	st, err := r.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range st.Conns() {
	}
	if fmt.Sprint(snap.Skipped.Unread) != "[4026532402]" || fmt.Sprint(st.Skipped.Unread) != "[4026532402]" {
		t.Errorf("snapshot skipped %v, stream %v", snap.Skipped.Unread, st.Skipped.Unread)
	}
}

// TestSkippedErr: Err says nothing when nothing was skipped, one error
// per cause otherwise, and lists at most 8 namespaces.
func TestSkippedErr(t *testing.T) {
	if err := (Skipped{}).Err(); err != nil {
		t.Errorf("nothing skipped: %v", err)
	}
	unread := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	err := Skipped{Denied: 3, Unread: unread}.Err()
	want := "the network namespace of 3 processes could not be read (permission denied on proc/PID/ns/net: " +
		"only their owner and root may read it); namespaces only they are in are left out: run as root to see every namespace\n" +
		"9 network namespaces left out: no member's tables could be read (proc/PID/net): 1, 2, 3, 4, 5, 6, 7, 8, …"
	if err == nil || err.Error() != want {
		t.Errorf("Err() = %v\nwant %s", err, want)
	}
	if err := (Skipped{Unread: unread[:2]}).Err(); err == nil || !strings.HasSuffix(err.Error(), "(proc/PID/net): 1, 2") {
		t.Errorf("two unread: %v", err)
	}
}

// TestReadable: a root without a proc directory is refused with the
// reason; the live system and a fixture are readable; RequireAny names
// what a capture made for other options lacks.
func TestReadable(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	if err := Readable(root); err != nil {
		t.Errorf("fixture: %v", err)
	}
	if err := Readable(""); err != nil {
		t.Errorf("live system: %v", err)
	}
	empty := t.TempDir()
	if err := Readable(empty); err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "proc")) {
		t.Errorf("no proc: %v", err)
	}
	if err := os.WriteFile(filepath.Join(empty, "proc"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Readable(empty); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("proc a file: %v", err)
	}
	if err := RequireAny(root, "routing table", "proc/net/route"); err == nil || !strings.Contains(err.Error(), "routing table") {
		t.Errorf("no route file: %v", err)
	}
	if err := RequireAny(root, "interface table", "proc/net/dev"); err != nil {
		t.Errorf("proc/net/dev present: %v", err)
	}
	// A Capturer's Require checks its Files, and proc/net/dev with
	// Interfaces; one that names no file requires nothing.
	for _, tc := range []struct {
		cp   Capturer
		fail bool
	}{
		{Capturer{}, false},
		{Capturer{Names: []string{"etc/hosts"}}, false},
		{Capturer{Files: []string{"proc/net/route", "proc/net/snmp"}}, true},
		{Capturer{Files: []string{"proc/net/route"}, Interfaces: true}, false},
	} {
		if err := tc.cp.Require(root, "tables"); (err != nil) != tc.fail || tc.fail && !strings.Contains(err.Error(), "tables") {
			t.Errorf("%+v: Require = %v", tc.cp, err)
		}
		if err := tc.cp.Require("", "tables"); err != nil {
			t.Errorf("%+v: Require of the live system = %v", tc.cp, err)
		}
	}
}

// TestTrafficOption: Options.Traffic reads a fixture's traffic file into
// Socket.Traffic; without it the counters stay unknown.
func TestTrafficOption(t *testing.T) {
	root := fixture.Root(t, "netstat/testdata/traffic.txtar")
	for _, want := range []bool{false, true} {
		snap, err := Read(context.Background(), Options{Root: root, Traffic: want})
		if snap == nil {
			t.Fatal(err)
		}
		known := 0
		for _, c := range snap.Conns {
			if c.Traffic.Known {
				known++
			}
		}
		if (known > 0) != want {
			t.Errorf("Traffic %v: %d rows with counters of %d", want, known, len(snap.Conns))
		}
	}
}
