package procmap

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/procnet/procnet/internal/latewant"
	fixture "github.com/procnet/procnet/procnettest"
)

var _ = fixture.Root // every test package imports fixture (it defines -update)

// requireBPF skips unless the BPF source works here.
func requireBPF(t *testing.T) {
	t.Helper()
	requireLiveProc(t)
	_, err := Build(context.Background(), Options{Source: SourceBPF, Inodes: map[uint64]bool{}})
	if errors.Is(err, ErrBPFUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{SourceAuto: "auto", SourceProc: "proc", SourceBPF: "bpf", 7: "source(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}

// A fixture root never uses BPF: SourceBPF fails, SourceAuto walks.
func TestBPFNotForFixtures(t *testing.T) {
	root := fixture.Root(t, "testdata/basic.txtar")
	_, err := Build(context.Background(), Options{Root: root, Source: SourceBPF})
	if !errors.Is(err, ErrBPFUnavailable) {
		t.Errorf("SourceBPF under a fixture root: err = %v, want ErrBPFUnavailable", err)
	}
	auto, err := Build(context.Background(), Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	walk, err := Build(context.Background(), Options{Root: root, Source: SourceProc})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(walk, auto); d != "" {
		t.Errorf("SourceAuto under a fixture root differs from the walk (-walk +auto):\n%s", d)
	}
}

func TestParseSelfStatus(t *testing.T) {
	for _, tc := range []struct {
		in     string
		nspid  int
		caps   uint64
		wantOK bool
	}{
		{"Name:\tx\nNSpid:\t42\nCapEff:\t000001ffffffffff\n", 1, 0x1ffffffffff, true},
		{"NSpid:\t4242\t17\t1\nCapEff:\t0000000000000000", 3, 0, true},
		{"CapEff:\t0000000000200000\nNSpid:\t7\n", 1, 1 << 21, true},
		{"NSpid:\t7\n", 1, 0, false},                             // no CapEff
		{"CapEff:\t00\n", 0, 0, false},                           // no NSpid (kernel < 4.1)
		{"NSpid:\t7\nCapEff:\tzz\n", 0, 0, false},                // bad hex
		{"NSpid:\t7\nCapEff:\t00000000000000000\n", 0, 0, false}, // too long
		{"NSpid:\nCapEff:\t0\n", 0, 0, false},                    // empty NSpid
	} {
		nspid, caps, ok := parseSelfStatus([]byte(tc.in))
		if ok != tc.wantOK || (ok && (nspid != tc.nspid || caps != tc.caps)) {
			t.Errorf("parseSelfStatus(%q) = %d, %#x, %v; want %d, %#x, %v", tc.in, nspid, caps, ok, tc.nspid, tc.caps, tc.wantOK)
		}
	}
}

func TestStartCheck(t *testing.T) {
	const q = 10_000_000 // 100 Hz
	for _, off := range []int64{0, 3 * q / 2, -5*q - 7, 1e15} {
		// The reader started at 1234.5678 s after boot (in its clock).
		selfNs := uint64(1234_5678_000_0)
		selfTicks := uint64((int64(selfNs) + off) / q)
		c := startCheck{nsPerTick: q, offLo: int64(selfTicks)*q - int64(selfNs)}
		for _, ns := range []uint64{0 + 10*q, selfNs, selfNs + 1, selfNs + q - 1, 5_000_000_000_000} {
			if int64(ns)+off < 0 {
				continue
			}
			ticks := uint64((int64(ns) + off) / q)
			if !c.same(ns, ticks) {
				t.Errorf("off %d: start %d ns, %d ticks: not the same process", off, ns, ticks)
			}
			if c.same(ns, ticks+2) || (ticks >= 2 && c.same(ns, ticks-2)) {
				t.Errorf("off %d: start %d ns matches ticks 2 away from %d", off, ns, ticks)
			}
		}
	}
}

// bpfBytes encodes a header and records as the iterator writes them.
func bpfBytes(self uint64, recs ...bpfRecord) []byte {
	recs = append([]bpfRecord{{pid: 0, fd: ^uint32(0), inode: bpfHeaderMagic, start: self}}, recs...)
	var b []byte
	for _, r := range recs {
		b = binary.NativeEndian.AppendUint32(b, r.pid)
		b = binary.NativeEndian.AppendUint32(b, r.fd)
		b = binary.NativeEndian.AppendUint64(b, r.inode)
		b = binary.NativeEndian.AppendUint64(b, r.start)
	}
	return b
}

// decodeBPF feeds b cut into pieces of n bytes.
func decodeBPF(b []byte, n int) (recs []bpfRecord, self uint64, err error) {
	var s bpfStream
	for len(b) > 0 {
		k := min(n, len(b))
		if err := s.feed(b[:k], func(r bpfRecord) { recs = append(recs, r) }); err != nil {
			return recs, 0, err
		}
		b = b[k:]
	}
	if err := s.finish(); err != nil {
		return recs, 0, err
	}
	return recs, s.selfNs, nil
}

func TestBPFStream(t *testing.T) {
	want := []bpfRecord{{pid: 1, fd: 3, inode: 99, start: 5}, {pid: 1, fd: 4, inode: 100, start: 5}, {pid: 70000, fd: 0, inode: 1 << 40, start: 9}}
	b := bpfBytes(77, want...)
	for _, n := range []int{1, 5, 23, 24, 25, 48, 4096} {
		got, self, err := decodeBPF(b, n)
		if err != nil || self != 77 {
			t.Fatalf("pieces of %d: self %d, err %v", n, self, err)
		}
		if d := cmp.Diff(want, got, cmp.AllowUnexported(bpfRecord{})); d != "" {
			t.Errorf("pieces of %d (-want +got):\n%s", n, d)
		}
	}
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"truncated": b[:len(b)-1],
		"no header": b[bpfRecordSize:],
		"pid 0":     bpfBytes(1, bpfRecord{pid: 0, fd: 1, inode: 2}),
		"inode 0":   bpfBytes(1, bpfRecord{pid: 1, fd: 1, inode: 0}),
		"big fd":    bpfBytes(1, bpfRecord{pid: 1, fd: 1 << 31, inode: 2}),
		"big pid":   bpfBytes(1, bpfRecord{pid: 1 << 31, fd: 1, inode: 2}),
	} {
		if _, _, err := decodeBPF(bad, 7); !errors.Is(err, errBPFStream) {
			t.Errorf("%s: err = %v, want errBPFStream", name, err)
		}
	}
}

func FuzzParseBPFRecords(f *testing.F) {
	f.Add(bpfBytes(77, bpfRecord{pid: 1, fd: 3, inode: 99, start: 5}), 7)
	f.Add(bpfBytes(1), 24)
	f.Add([]byte("procnet1"), 3)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n <= 0 || n > 1<<16 {
			n = 24
		}
		recs, _, err := decodeBPF(b, n)
		if err != nil {
			return
		}
		if len(b) != (len(recs)+1)*bpfRecordSize {
			t.Fatalf("%d bytes decoded into %d records and a header", len(b), len(recs))
		}
		for _, r := range recs {
			if r.pid == 0 || r.inode == 0 || r.pid > 1<<31-1 || r.fd > 1<<31-1 {
				t.Fatalf("invalid record accepted: %+v", r)
			}
		}
	})
}

// bpfHelper is run in a child (the test binary again): it opens loopback
// sockets of its own, prints their inodes, and exits when its stdin closes
// or after 30 s.
func bpfHelper() {
	var inos []string
	add := func(f *os.File) {
		var st unix.Stat_t
		unix.Fstat(int(f.Fd()), &st)
		inos = append(inos, strconv.FormatUint(st.Ino, 10))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	lf, _ := ln.(*net.TCPListener).File()
	add(lf)
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("udp:", err)
		os.Exit(1)
	}
	uf, _ := u.(*net.UDPConn).File()
	add(uf)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		fmt.Println("socketpair:", err)
		os.Exit(1)
	}
	add(os.NewFile(uintptr(fds[0]), "a"))
	add(os.NewFile(uintptr(fds[1]), "b"))
	fmt.Println("procmap-bpf-helper " + strings.Join(inos, " "))
	done := make(chan struct{})
	go func() { bufio.NewReader(os.Stdin).ReadByte(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	os.Exit(0)
}

func TestBPFHelperProcess(t *testing.T) {
	if os.Getenv("PROCMAP_BPF_HELPER") != "1" {
		t.Skip("helper for TestLiveBPFEquivalent")
	}
	bpfHelper()
}

// The BPF source and the /proc walk agree on every socket this test owns:
// in this process, in a child sharing two of them (sleep), in a child with
// sockets of its own (this binary again), TCP, UDP and unix. Neither lists
// an O_PATH fd on a socket file, nor the private fd table of a thread that
// unshared it (/proc/PID/fd shows the leader's table).
func TestLiveBPFEquivalent(t *testing.T) {
	requireBPF(t)
	mine := map[uint64]bool{}
	add := func(f *os.File) { mine[inodeOf(t, f)] = true }

	_, lf, ino := listen(t)
	mine[ino] = true
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(lnPort(t, lf)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cf, err := conn.(*net.TCPConn).File() // a dup: two fds, one socket
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	add(cf)
	if ln6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		defer ln6.Close()
		f, _ := ln6.(*net.TCPListener).File()
		defer f.Close()
		add(f)
	}
	sock := filepath.Join(t.TempDir(), "s")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	uf, _ := ul.(*net.UnixListener).File()
	defer uf.Close()
	add(uf)
	// An O_PATH fd on the socket file: its link is the path, not socket:[N].
	opath, err := unix.Open(sock, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(opath)

	// A thread with a private fd table holding a socket of its own.
	threadIno, threadDone := unsharedThreadSocket(t)
	defer close(threadDone)

	// A child sharing the listener and the unix listener (fds 3 and 4).
	sleeper := exec.Command("sleep", "30")
	sleeper.ExtraFiles = []*os.File{lf, uf}
	if err := sleeper.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	defer func() { syscall.Kill(sleeper.Process.Pid, syscall.SIGKILL); sleeper.Wait() }()

	// A child with sockets of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	helper := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBPFHelperProcess$", "-test.count=1")
	helper.Env = append(os.Environ(), "PROCMAP_BPF_HELPER=1")
	stdin, _ := helper.StdinPipe()
	stdout, _ := helper.StdoutPipe()
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); helper.Wait() }()
	sc := bufio.NewScanner(stdout)
	theirs := 0
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "procmap-bpf-helper "); ok {
			for _, s := range strings.Fields(v) {
				n, _ := strconv.ParseUint(s, 10, 64)
				mine[n] = true
				theirs++
			}
			break
		}
	}
	if theirs != 4 {
		t.Fatalf("helper gave %d inodes, want 4", theirs)
	}
	stable := map[int]bool{os.Getpid(): true, sleeper.Process.Pid: true, helper.Process.Pid: true}

	for _, cmdline := range []bool{false, true} {
		walk, err := Build(context.Background(), Options{Source: SourceProc, Cmdline: cmdline})
		if err != nil {
			t.Fatal(err)
		}
		bpf, err := Build(context.Background(), Options{Source: SourceBPF, Cmdline: cmdline})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(restrict(walk, mine, stable), restrict(bpf, mine, stable)); d != "" {
			t.Errorf("cmdline %v: walk and BPF differ on our sockets (-walk +bpf):\n%s", cmdline, d)
		}
		for ino := range mine {
			if len(bpf.Lookup(ino)) == 0 {
				t.Errorf("socket %d has no owner", ino)
			}
		}
		for _, owners := range bpf.Owners {
			for _, o := range owners {
				if o.PID == os.Getpid() && o.FD == opath {
					t.Errorf("the O_PATH fd %d is listed as a socket", opath)
				}
			}
		}
		if len(bpf.Lookup(threadIno)) != 0 {
			t.Errorf("the thread's private socket %d is listed: %v", threadIno, bpf.Lookup(threadIno))
		}
		if got := bpf.Lookup(ino); !hasPID(got, sleeper.Process.Pid) || !hasPID(got, os.Getpid()) {
			t.Errorf("shared listener %d: owners %v", ino, got)
		}
		if bpf.Denied != 0 {
			t.Errorf("BPF Denied = %d, want 0", bpf.Denied)
		}
	}

	// Inodes restricts the map, and every owner is found.
	q, err := Build(context.Background(), Options{Source: SourceBPF, Inodes: map[uint64]bool{ino: true, threadIno: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Owners) != 1 || len(q.Lookup(ino)) != 3 {
		t.Errorf("query for %d: owners %v", ino, q.Owners)
	}
	for pid := range q.Procs {
		if pid != os.Getpid() && pid != sleeper.Process.Pid {
			t.Errorf("query: process %d listed", pid)
		}
	}

	// Want, asked after the fd pass, restricts the same way and reads the
	// details of those owners only.
	calls := 0
	w, err := Build(latewant.NewContext(context.Background(), latewant.Want{Inodes: func() map[uint64]bool {
		calls++
		return map[uint64]bool{ino: true, threadIno: true}
	}}), Options{Source: SourceBPF, Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	full, err := Build(context.Background(), Options{Source: SourceBPF, Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("Want called %d times, want 1", calls)
	}
	if d := cmp.Diff(restrict(full, map[uint64]bool{ino: true}, stable), w); d != "" {
		t.Errorf("Want: (-full restricted +got):\n%s", d)
	}
}

// restrict keeps the owners, among the given inodes, that are stable
// processes, and those processes' details.
func restrict(m *Map, inodes map[uint64]bool, pids map[int]bool) *Map {
	r := &Map{Owners: map[uint64][]Owner{}, Procs: map[int]*Process{}}
	for ino, owners := range m.Owners {
		if !inodes[ino] {
			continue
		}
		for _, o := range owners {
			if pids[o.PID] {
				r.Owners[ino] = append(r.Owners[ino], o)
				r.Procs[o.PID] = m.Procs[o.PID]
			}
		}
	}
	return r
}

func lnPort(t *testing.T, f *os.File) int {
	t.Helper()
	sa, err := unix.Getsockname(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

// unsharedThreadSocket starts a thread other than the leader that
// unshares its fd table and opens a socket in it; the thread exits when
// done is closed.
func unsharedThreadSocket(t *testing.T) (ino uint64, done chan struct{}) {
	t.Helper()
	done = make(chan struct{})
	res := make(chan error, 1)
	var thread func()
	thread = func() {
		runtime.LockOSThread() // never unlocked: the thread dies with its table
		if unix.Gettid() == unix.Getpid() {
			// The leader: its table is the one /proc/PID/fd shows, and Go
			// never ends it. Hold it while another thread does the job.
			go thread()
			<-done
			runtime.UnlockOSThread()
			return
		}
		if err := unix.Unshare(unix.CLONE_FILES); err != nil {
			res <- err
			return
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			res <- err
			return
		}
		var st unix.Stat_t
		unix.Fstat(fd, &st)
		ino = st.Ino
		res <- nil
		<-done
	}
	go thread()
	if err := <-res; err != nil {
		t.Skip("unshare(CLONE_FILES):", err)
	}
	return ino, done
}

// Builds open and close the iterator: no fd is left behind.
func TestBPFNoFDLeak(t *testing.T) {
	requireBPF(t)
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := count()
	for range 20 {
		if _, err := Build(context.Background(), Options{Source: SourceBPF, Cmdline: true}); err != nil {
			t.Fatal(err)
		}
	}
	if after := count(); after != before {
		t.Errorf("%d fds before 20 builds, %d after", before, after)
	}
	if err := bpfError(); err != nil {
		t.Errorf("BPFError after successful builds = %v", err)
	}
}

// The records come ordered by PID then fd, one per (PID, fd).
func TestLiveBPFOrder(t *testing.T) {
	requireBPF(t)
	m, err := Build(context.Background(), Options{Source: SourceBPF})
	if err != nil {
		t.Fatal(err)
	}
	for ino, owners := range m.Owners {
		if !slices.IsSortedFunc(owners, func(a, b Owner) int {
			if a.PID != b.PID {
				return a.PID - b.PID
			}
			return a.FD - b.FD
		}) || len(slices.Compact(slices.Clone(owners))) != len(owners) {
			t.Errorf("owners of %d: %v", ino, owners)
		}
		for _, o := range owners {
			if m.Procs[o.PID] == nil {
				t.Errorf("owner %v of %d has no details", o, ino)
			}
		}
	}
}

// A Tracker on BPF finds new sockets with a full pass of the iterator,
// and answers quiet rounds from its checks.
func TestLiveTrackerBPF(t *testing.T) {
	requireBPF(t)
	_, _, a := listen(t)
	tr := NewTracker(Options{Source: SourceBPF, FullEvery: 100})
	m, err := tr.Refresh(context.Background(), set(a))
	if err != nil || !hasPID(m.Lookup(a), os.Getpid()) {
		t.Fatalf("first refresh: %v, %v", m.Lookup(a), err)
	}
	if _, err := tr.Refresh(context.Background(), set(a)); err != nil {
		t.Fatal(err)
	}
	_, _, b := listen(t)
	m, err = tr.Refresh(context.Background(), set(a, b))
	if err != nil || !hasPID(m.Lookup(b), os.Getpid()) {
		t.Fatalf("after a new socket: %v, %v", m.Lookup(b), err)
	}
	if want := (TrackerStats{Full: 2, Checks: 1}); tr.Stats != want {
		t.Errorf("stats %+v, want %+v", tr.Stats, want)
	}

	_, err = NewTracker(Options{Root: fixture.Root(t, "testdata/basic.txtar"), Source: SourceBPF}).Refresh(context.Background(), nil)
	if !errors.Is(err, ErrBPFUnavailable) {
		t.Errorf("SourceBPF tracker under a fixture root: err = %v", err)
	}
}

func TestManyFiles(t *testing.T) {
	for in, want := range map[string]bool{
		"498\t0\t2466170\n":    false,
		"2047\t0\t2466170\n":   false,
		"2048\t0\t2466170\n":   true,
		"120000\t0\t2466170\n": true,
		"":                     false,
		"x\n":                  false,
	} {
		if got := manyFiles([]byte(in)); got != want {
			t.Errorf("manyFiles(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestExhaustive(t *testing.T) {
	if exhaustive(Options{Root: t.TempDir()}) {
		t.Error("a fixture root is exhaustive")
	}
	if exhaustive(Options{Source: SourceProc}) {
		t.Error("SourceProc is exhaustive")
	}
	if !exhaustive(Options{Source: SourceBPF}) {
		t.Error("SourceBPF is not exhaustive")
	}
	// SourceAuto on the live system: exhaustive exactly when Build would
	// then use BPF.
	if exhaustive(Options{}) {
		if _, err := Build(context.Background(), Options{}); err != nil || bpfError() != nil {
			t.Errorf("exhaustive, but Build did not use BPF: %v, %v", err, bpfError())
		}
	}
}
