package procmap

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/internal/latewant"
	"github.com/procnet/procnet/internal/race"
	fixture "github.com/procnet/procnet/procnettest"
	"golang.org/x/tools/txtar"
)

// render prints a Map in a stable order for golden files.
func render(m *Map) []byte {
	var b bytes.Buffer
	inodes := make([]uint64, 0, len(m.Owners))
	for ino := range m.Owners {
		inodes = append(inodes, ino)
	}
	slices.Sort(inodes)
	for _, ino := range inodes {
		fmt.Fprintf(&b, "socket %d:", ino)
		for _, o := range m.Owners[ino] {
			fmt.Fprintf(&b, " %d/%d", o.PID, o.FD)
		}
		b.WriteByte('\n')
	}
	pids := make([]int, 0, len(m.Procs))
	for pid := range m.Procs {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		p := m.Procs[pid]
		fmt.Fprintf(&b, "pid %d comm %q uid %d netns %d start %d cmdline %q\n", p.PID, p.Comm, p.UID, p.NetNS, p.StartTime, p.Cmdline)
	}
	fmt.Fprintf(&b, "denied %d\n", m.Denied)
	return b.Bytes()
}

func TestBuildFixture(t *testing.T) {
	root := fixture.Root(t, "testdata/basic.txtar")
	for _, cmdline := range []bool{false, true} {
		m, err := Build(context.Background(), Options{Root: root, Cmdline: cmdline})
		if err != nil {
			t.Fatal(err)
		}
		name := "testdata/basic.golden"
		if cmdline {
			name = "testdata/basic-cmdline.golden"
		}
		fixture.Golden(t, name, render(m))
	}
}

func TestSharedSocketKeepsAllOwners(t *testing.T) {
	m, err := Build(context.Background(), Options{Root: fixture.Root(t, "testdata/basic.txtar")})
	if err != nil {
		t.Fatal(err)
	}
	want := []Owner{{100, 6}, {200, 6}}
	if diff := cmp.Diff(want, m.Lookup(5000)); diff != "" {
		t.Errorf("owners of 5000 (-want +got):\n%s", diff)
	}
	if got := m.Lookup(0); got != nil {
		t.Errorf("Lookup(0) = %v, want nil", got)
	}
	if m.Process(300) != nil {
		t.Errorf("vanished process 300 is listed")
	}
	if p := m.Process(400); p == nil || p.Comm != "a) b) (c " || p.StartTime != 77777 || p.UID != 1000 {
		t.Errorf("process 400 = %+v, want comm %q start 77777 uid 1000", p, "a) b) (c ")
	}
	if p := m.Process(500); p != nil {
		t.Errorf("process 500 owns no socket but is listed: %+v", p)
	}
}

func TestBuildNoProc(t *testing.T) {
	_, err := Build(context.Background(), Options{Root: t.TempDir()})
	if err == nil || !strings.HasPrefix(err.Error(), "open proc:") {
		t.Errorf("Build without proc: err = %v, want open proc: …", err)
	}
}

func TestUnreadableFDDir(t *testing.T) {
	root := fixture.Root(t, "testdata/denied.txtar")
	m, err := Build(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Root ignores mode bits: the socket is found.
		if m.Denied != 0 || len(m.Lookup(7000)) != 1 {
			t.Errorf("as root: Denied = %d, owners of 7000 = %v; want 0 and one", m.Denied, m.Lookup(7000))
		}
	} else if m.Denied != 1 || m.Lookup(7000) != nil {
		t.Errorf("Denied = %d, owners of 7000 = %v; want 1 and none", m.Denied, m.Lookup(7000))
	}
	if diff := cmp.Diff([]Owner{{8, 3}}, m.Lookup(8000)); diff != "" {
		t.Errorf("readable neighbour (-want +got):\n%s", diff)
	}
}

// The EACCES path cannot be reached as root through a fixture, so the
// classification and the worker's handling of it are checked directly.
func TestClassify(t *testing.T) {
	tests := []struct {
		e    syscall.Errno
		want errClass
	}{
		{syscall.ENOENT, errGone},
		{syscall.ESRCH, errGone},
		{syscall.ENOTDIR, errGone},
		{syscall.EACCES, errDenied},
		{syscall.EPERM, errDenied},
		{syscall.EIO, errOther},
		{syscall.ELOOP, errOther},
	}
	for _, tt := range tests {
		if got := classify(tt.e); got != tt.want {
			t.Errorf("classify(%v) = %d, want %d", tt.e, got, tt.want)
		}
	}
	var w workerState
	wk := &walk{}
	wk.fail(&w, 7, syscall.EACCES)
	wk.fail(&w, 8, syscall.ENOENT)
	wk.fail(&w, 9, syscall.EIO)
	if w.denied != 1 || !slices.Equal(w.gone, []int{8}) {
		t.Errorf("after EACCES, ENOENT, EIO: denied %d gone %v; want 1 [8]", w.denied, w.gone)
	}
}

// many writes a fixture of n processes, each with sockets and extra
// non-socket fds, and returns its root.
func many(t testing.TB, procs, socks, extra int) string {
	var ar txtar.Archive
	ino := 100000
	for p := 1; p <= procs; p++ {
		pid := 1000 + p
		d := fmt.Sprintf("proc/%d/", pid)
		ar.Files = append(ar.Files,
			txtar.File{Name: d + "stat", Data: fmt.Appendf(nil, "%d (worker %d) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", pid, p, 1000+p)},
			txtar.File{Name: d + "status", Data: []byte("Uid:\t0\t0\t0\t0\n")},
			txtar.File{Name: d + "ns/net -> net:[4026531840]"},
			txtar.File{Name: d + "fd/"},
		)
		fd := 3
		for range socks {
			ar.Files = append(ar.Files, txtar.File{Name: fmt.Sprintf("%sfd/%d -> socket:[%d]", d, fd, ino)})
			fd++
			ino++
		}
		for range extra {
			ar.Files = append(ar.Files, txtar.File{Name: fmt.Sprintf("%sfd/%d -> /tmp/file%d", d, fd, fd)})
			fd++
		}
	}
	dir := t.TempDir()
	if err := fixture.Write(dir, &ar); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEarlyExit(t *testing.T) {
	root := many(t, 40, 5, 5)
	procfd, err := openProc(root)
	if err != nil {
		t.Fatal(err)
	}
	defer closefd(procfd)
	w := newWorker()
	pids, _ := listPIDs(nil, procfd, w.dents)
	// Socket 100012 is in the third process (5 sockets each).
	want := map[uint64]bool{100012: true}
	wk := &walk{procfd: procfd, pids: pids, want: inodesOf(want), need: inodesOf(want)}
	wk.run([]*workerState{w})
	if len(w.walked) != 3 {
		t.Errorf("walked %d processes, want 3 (stop after the owner)", len(w.walked))
	}
	m, err := Build(context.Background(), Options{Root: root, Inodes: want})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[uint64][]Owner{100012: {{1003, 5}}}, m.Owners); diff != "" {
		t.Errorf("early exit owners (-want +got):\n%s", diff)
	}
	if len(m.Procs) != 1 || m.Procs[1003] == nil {
		t.Errorf("Procs = %v, want only 1003", m.Procs)
	}
	// An inode nobody owns: the walk reads everything and finds nothing.
	m, err = Build(context.Background(), Options{Root: root, Inodes: map[uint64]bool{42: true, 100000: false}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Owners) != 0 {
		t.Errorf("owners of unowned inode: %v", m.Owners)
	}
}

// A latewant.Want supplies Inodes late: asked once, and the walk then stops early
// exactly as with Inodes.
func TestWantLikeInodes(t *testing.T) {
	root := many(t, 40, 5, 5)
	calls := 0
	m, err := Build(latewant.NewContext(context.Background(), latewant.Want{Inodes: func() map[uint64]bool {
		calls++
		return map[uint64]bool{100012: true, 100199: true}
	}}), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("Want called %d times, want 1", calls)
	}
	want := map[uint64][]Owner{100012: {{1003, 5}}, 100199: {{1040, 7}}}
	if diff := cmp.Diff(want, m.Owners); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
	if len(m.Procs) != 2 || m.Procs[1003] == nil || m.Procs[1040] == nil {
		t.Errorf("Procs = %v, want 1003 and 1040", m.Procs)
	}
	// A nil answer asks for every socket.
	all, err := Build(latewant.NewContext(context.Background(), latewant.Want{Inodes: func() map[uint64]bool { return nil }}), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Owners) != 200 || len(all.Procs) != 40 {
		t.Errorf("Want nil: %d sockets, %d processes; want 200, 40", len(all.Owners), len(all.Procs))
	}
	// BPFOnly: a fixture is walked, in full, without asking.
	calls = 0
	whole, err := Build(latewant.NewContext(context.Background(), latewant.Want{BPFOnly: true, Inodes: func() map[uint64]bool {
		calls++
		return map[uint64]bool{100012: true}
	}}), Options{Root: root})
	if err != nil || calls != 0 || len(whole.Owners) != 200 {
		t.Errorf("BPFOnly on a fixture: %d sockets, %d calls, %v; want 200, 0", len(whole.Owners), calls, err)
	}
}

// The per-fd path allocates nothing: a process with 1000 non-socket fds
// costs what one with 10 costs.
func TestAllocsPerFD(t *testing.T) {
	allocs := func(extra int) float64 {
		root := many(t, 1, 2, extra)
		procfd, err := openProc(root)
		if err != nil {
			t.Fatal(err)
		}
		defer closefd(procfd)
		w := newWorker()
		wk := &walk{procfd: procfd, want: inodesOf(map[uint64]bool{999: true})}
		return testing.AllocsPerRun(20, func() {
			w.reset()
			wk.process(w, 1001)
		})
	}
	small, large := allocs(10), allocs(1000)
	if small != large || small != 0 {
		t.Errorf("allocations per process: %v with 10 fds, %v with 1000; want 0 and 0", small, large)
	}
}

func TestBuildAllocsIndependentOfFDs(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops workers at random under -race")
	}
	small, large := many(t, 4, 20, 10), many(t, 4, 20, 1000)
	a := func(root string) float64 {
		Build(context.Background(), Options{Root: root}) // warm the pool
		return testing.AllocsPerRun(10, func() { Build(context.Background(), Options{Root: root}) })
	}
	if s, l := a(small), a(large); s != l {
		t.Errorf("Build allocations: %v with 10 extra fds per process, %v with 1000", s, l)
	}
}

func BenchmarkBuild(b *testing.B) {
	root := many(b, 50, 200, 50)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), Options{Root: root}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildOneInode(b *testing.B) {
	root := many(b, 50, 200, 50)
	want := map[uint64]bool{100000 + 25*200: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), Options{Root: root, Inodes: want}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestManyFixtureSanity(t *testing.T) {
	root := many(t, 3, 2, 1)
	if _, err := os.Readlink(filepath.Join(root, "proc/1001/fd/3")); err != nil {
		t.Fatal(err)
	}
	m, err := Build(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Owners) != 6 || len(m.Procs) != 3 {
		t.Errorf("got %d sockets and %d processes, want 6 and 3", len(m.Owners), len(m.Procs))
	}
}

func TestProcessName(t *testing.T) {
	for _, tc := range []struct {
		p    *Process
		want string
	}{
		{nil, ""},
		{&Process{Comm: "kworker/0:1"}, "kworker/0:1"},
		{&Process{Comm: "nginx", Cmdline: []string{"/usr/sbin/nginx", "-g"}}, "nginx"},
		{&Process{Comm: "sshd", Cmdline: []string{"sshd: alice [priv]"}}, "sshd: alice [priv]"},
		{&Process{Comm: "python3", Cmdline: []string{"bin/tool"}}, "bin/tool"},
		{&Process{Comm: "x", Cmdline: []string{"/usr/bin/"}}, ""},
		{&Process{Comm: "zombie", Cmdline: []string{""}}, "zombie"},
	} {
		if got := tc.p.Name(); got != tc.want {
			t.Errorf("%+v.Name() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestProcessRuns(t *testing.T) {
	nginx := &Process{Comm: "nginx", Cmdline: []string{"/usr/sbin/nginx", "-g"}}
	rel := &Process{Comm: "server", Cmdline: []string{"./bin/server"}}
	sshd := &Process{Comm: "sshd", Cmdline: []string{"sshd: alice [priv]"}}
	for _, tc := range []struct {
		p    *Process
		name string
		want bool
	}{
		{nginx, "nginx", true},
		{nginx, "/usr/sbin/nginx", false},
		{rel, "server", true},
		{rel, "./bin/server", true}, // its Name: argv[0] as it is
		{sshd, "sshd", true},
		{sshd, "sshd: alice [priv]", true},
		{sshd, "alice", false},
		{nil, "", false},
	} {
		if got := tc.p.Runs(tc.name); got != tc.want {
			t.Errorf("%+v.Runs(%q) = %v, want %v", tc.p, tc.name, got, tc.want)
		}
	}
}

func TestSourceNames(t *testing.T) {
	for _, s := range []Source{SourceAuto, SourceProc, SourceBPF} {
		if p, ok := ParseSource(s.String()); !ok || p != s {
			t.Errorf("ParseSource(%q) = %v, %v", s.String(), p, ok)
		}
	}
	if s := Source(9).String(); s != "source(9)" {
		t.Errorf("Source(9) = %q", s)
	}
}
