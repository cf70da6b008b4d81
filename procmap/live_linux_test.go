package procmap

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// inodeOf returns the socket inode behind a file.
func inodeOf(t *testing.T, f *os.File) uint64 {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// listen opens a loopback listener and returns it with its inode and a
// dup of its fd (which the caller closes).
func listen(t *testing.T) (net.Listener, *os.File, uint64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return ln, f, inodeOf(t, f)
}

func hasPID(owners []Owner, pid int) bool {
	for _, o := range owners {
		if o.PID == pid {
			return true
		}
	}
	return false
}

func requireLiveProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc")
	}
}

// A forked child and its parent hold one socket: both are owners.
func TestLiveSharedWithChild(t *testing.T) {
	requireLiveProc(t)
	_, f, ino := listen(t)
	cmd := exec.Command("sleep", "30")
	cmd.ExtraFiles = []*os.File{f} // fd 3 in the child
	if err := cmd.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	child := cmd.Process.Pid
	defer func() {
		syscall.Kill(child, syscall.SIGKILL) // by PID, the one we started
		cmd.Wait()
	}()
	m, err := Build(context.Background(), Options{Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	owners := m.Lookup(ino)
	if !hasPID(owners, os.Getpid()) || !hasPID(owners, child) {
		t.Fatalf("owners of listener %d = %v, want %d (us) and %d (child)", ino, owners, os.Getpid(), child)
	}
	for _, o := range owners {
		if o.PID == child && o.FD != 3 {
			t.Errorf("child owns fd %d, want 3", o.FD)
		}
	}
	me := m.Process(os.Getpid())
	if me == nil || me.StartTime == 0 || me.NetNS == 0 || len(me.Cmdline) == 0 || me.UID != uint32(os.Getuid()) {
		t.Errorf("our details = %+v", me)
	}
	// A one-socket query finds at least one owner and nothing else.
	q, err := Build(context.Background(), Options{Inodes: map[uint64]bool{ino: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Owners) != 1 || len(q.Lookup(ino)) == 0 {
		t.Errorf("query: owners = %v", q.Owners)
	}
	// The tracker sees both too, and drops the child once it is gone.
	tr := NewTracker(Options{})
	tm, err := tr.Refresh(context.Background(), set(ino))
	if err != nil || !hasPID(tm.Lookup(ino), child) {
		t.Fatalf("tracker: %v, %v", tm.Lookup(ino), err)
	}
	syscall.Kill(child, syscall.SIGKILL)
	cmd.Wait()
	tm, err = tr.Refresh(context.Background(), set(ino))
	if err != nil || hasPID(tm.Lookup(ino), child) || !hasPID(tm.Lookup(ino), os.Getpid()) {
		t.Errorf("tracker after the child exited: %v, %v", tm.Lookup(ino), err)
	}
}

// Processes come and go by the hundred while Build runs: no error, and our
// own sockets are always attributed.
func TestLiveChurn(t *testing.T) {
	requireLiveProc(t)
	if testing.Short() {
		t.Skip("starts ~1000 processes")
	}
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	var mine []uint64
	for range 3 {
		_, _, ino := listen(t)
		mine = append(mine, ino)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	var started atomic.Int64
	var wg sync.WaitGroup
	const total, parallel = 1000, 8
	for range parallel {
		wg.Go(func() {
			for ctx.Err() == nil && started.Add(1) <= total {
				exec.CommandContext(ctx, truePath).Run() // ends by itself
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	builds := 0
	for stop := false; !stop; {
		select {
		case <-done:
			stop = true
		default:
		}
		m, err := Build(context.Background(), Options{})
		if err != nil {
			t.Fatalf("build %d: %v", builds, err)
		}
		for _, ino := range mine {
			if !hasPID(m.Lookup(ino), os.Getpid()) {
				t.Fatalf("build %d: our socket %d has owners %v (we are %d; bpf err %v; procs %+v)", builds, ino, m.Lookup(ino), os.Getpid(), bpfError(), m.Procs)
			}
		}
		builds++
	}
	t.Logf("%d builds during %d process starts", builds, min(started.Load(), total))
}

// Run as nobody, Build gets a partial map and counts the processes it may
// not read.
func TestLiveNonRoot(t *testing.T) {
	requireLiveProc(t)
	if os.Getenv("PROCMAP_NOBODY") == "1" {
		nobodyHelper()
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to nobody")
	}
	// The test binary must be reachable by nobody: copy it out of the
	// private build directory.
	dir, err := os.MkdirTemp("", "procmap-nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	exe := filepath.Join(dir, "procmap.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(exe, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(dst, src)
	src.Close()
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestLiveNonRoot$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PROCMAP_NOBODY=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	var denied, found, fellBack int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "procmap-nobody "); ok {
			fmt.Sscanf(v, "denied=%d found=%d fallback=%d", &denied, &found, &fellBack)
		}
	}
	if denied == 0 || found != 1 || fellBack != 1 {
		t.Errorf("as nobody: denied=%d found=%d fallback=%d, want denied > 0, our own socket found and a fallback from BPF\n%s", denied, found, fellBack, out)
	}
}

func nobodyHelper() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	defer ln.Close()
	f, _ := ln.(*net.TCPListener).File()
	fi, _ := f.Stat()
	ino := fi.Sys().(*syscall.Stat_t).Ino
	// SourceBPF says why it cannot run; SourceAuto then walks /proc.
	// (Auto alone might not even try BPF on a machine with few files.)
	fellBack := 0
	if _, err := Build(context.Background(), Options{Source: SourceBPF}); errors.Is(err, ErrBPFUnavailable) && errors.Is(bpfError(), ErrBPFUnavailable) {
		fellBack = 1
	}
	m, err := Build(context.Background(), Options{Cmdline: true})
	if err != nil {
		fmt.Println("build:", err)
		os.Exit(1)
	}
	found := 0
	if hasPID(m.Lookup(ino), os.Getpid()) {
		found = 1
	}
	fmt.Println("procmap-nobody denied=" + strconv.Itoa(m.Denied) + " found=" + strconv.Itoa(found) + " fallback=" + strconv.Itoa(fellBack))
}
