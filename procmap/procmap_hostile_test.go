//go:build unix

package procmap

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fixture "github.com/procnet/procnet/procnettest"
	"golang.org/x/sys/unix"
	"golang.org/x/tools/txtar"
)

const hostileStat = " S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0\n"

// hostileTree writes a proc/ tree whose links try to leave it or loop, and
// a secret file outside it that nothing may read.
func hostileTree(t *testing.T) (root, secret string) {
	t.Helper()
	outside := t.TempDir()
	secret = filepath.Join(outside, "shadow")
	if err := os.WriteFile(secret, []byte("root:SECRET-HASH:19000:0:99999:7:::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ar := &txtar.Archive{}
	add := func(name, body string) { ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(body)}) }
	for _, pid := range []string{"5", "6", "7", "8"} {
		if pid != "7" {
			add("proc/"+pid+"/stat", pid+" (p"+pid+")"+hostileStat)
		}
		if pid != "8" {
			add("proc/"+pid+"/status", "Uid:\t0\t0\t0\t0\n")
		}
		add("proc/"+pid+"/fd/4 -> socket:["+pid+"00]", "")
	}
	add("proc/5/fd/3 -> 3", "")                     // a link loop: read, never followed
	add("proc/5/fd/5 -> /proc/self/fd/5", "")       // an absolute link: only its text counts
	add("proc/5/cmdline", "p5\x00")                 // a plain argv
	add("proc/6/cmdline -> "+secret, "")            // argv that is the host's file
	add("proc/7/stat -> "+secret, "")               // stat out of the tree
	add("proc/8/status -> ../../../../"+secret, "") // status climbing out
	add("proc/9/fd -> /proc/self/fd", "")           // an fd directory out of the tree
	add("proc/9/stat", "9 (p9)"+hostileStat)
	root = t.TempDir()
	if err := fixture.Write(root, ar); err != nil {
		t.Fatal(err)
	}
	return root, secret
}

// TestHostileLinks: links in a fixture tree are read as text, never
// followed out of the tree. In particular a cmdline, stat or status that
// is a symlink to a file outside must not be read: --json prints argv.
func TestHostileLinks(t *testing.T) {
	root, _ := hostileTree(t)
	m, err := Build(context.Background(), Options{Root: root, Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Lookup(500); len(got) != 1 || got[0] != (Owner{5, 4}) {
		t.Errorf("socket 500 (beside a link loop): owners %v", got)
	}
	if p := m.Process(5); p == nil || p.Comm != "p5" || len(p.Cmdline) != 1 || p.Cmdline[0] != "p5" {
		t.Errorf("process 5: %+v", p)
	}
	for pid, p := range m.Procs {
		for _, a := range p.Cmdline {
			if strings.Contains(a, "SECRET") {
				t.Errorf("process %d: argv read through a link out of the tree: %q", pid, p.Cmdline)
			}
		}
		if strings.Contains(p.Comm, "SECRET") {
			t.Errorf("process %d: comm read through a link out of the tree: %q", pid, p.Comm)
		}
	}
	if p := m.Process(6); p != nil && len(p.Cmdline) != 0 {
		t.Errorf("process 6: cmdline %q read through a symlink", p.Cmdline)
	}
	if p := m.Process(8); p != nil && p.UID != 0 {
		t.Errorf("process 8: uid %d read through a symlink", p.UID)
	}
	if got := m.Lookup(900); got != nil {
		t.Errorf("proc/9/fd -> /proc/self/fd was followed: owners %v", got)
	}
	// The tracker reads the same way.
	tr := NewTracker(Options{Root: root, Cmdline: true, FullEvery: 1})
	m2, err := tr.Refresh(context.Background(), set(500, 600, 700, 800))
	if err != nil {
		t.Fatal(err)
	}
	for pid, p := range m2.Procs {
		if strings.Contains(strings.Join(p.Cmdline, " "), "SECRET") {
			t.Errorf("tracker: process %d argv %q", pid, p.Cmdline)
		}
	}
}

// FuzzParseCmdline: argv split at NULs gives back the text exactly (less
// one final NUL), whatever bytes a process wrote over its argv area.
func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"", "\x00", "/bin/sh\x00-c\x00echo hi\x00", "nginx: worker process", "a\x00\x00b\x00", "\x1b[2J\x00\n\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		args := splitCmdline(b)
		if len(b) == 0 {
			if args != nil {
				t.Fatalf("empty cmdline gives %q", args)
			}
			return
		}
		want := string(b)
		if b[len(b)-1] == 0 {
			want = want[:len(want)-1]
		}
		if got := strings.Join(args, "\x00"); got != want {
			t.Fatalf("join(%q) = %q, want %q", args, got, want)
		}
	})
}

// FuzzParseStatusUID: the UID comes from a "Uid:" line and only from one.
func FuzzParseStatusUID(f *testing.F) {
	f.Add([]byte("Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\n"))
	f.Add([]byte("Uid:\t4294967296\t0\n"))
	f.Add([]byte("Uid:"))
	f.Add([]byte("Name:\tUid:\t5\nUid:\t7\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, ok := parseStatusUID(b); ok && !strings.Contains(string(b), "Uid:") {
			t.Fatalf("a UID from %q", b)
		}
	})
}

// TestHugeCmdline: a hostile tree's cmdline of many MiB costs at most
// maxFile of memory per worker. argv is its first 64 KiB, the straddling
// argument cut short; stat and status around it are still read.
func TestHugeCmdline(t *testing.T) {
	arg := strings.Repeat("A", 1000) + "\x00"
	huge := strings.Repeat(arg, 4<<10) // 4 MiB, 4096 arguments
	ar := &txtar.Archive{Files: []txtar.File{
		{Name: "proc/5/stat", Data: []byte("5 (big)" + hostileStat)},
		{Name: "proc/5/status", Data: []byte("Uid:\t7\t7\t7\t7\n")},
		{Name: "proc/5/cmdline", Data: []byte(huge)},
		{Name: "proc/5/fd/4 -> socket:[500]"},
	}}
	root := t.TempDir()
	if err := fixture.Write(root, ar); err != nil {
		t.Fatal(err)
	}
	check := func(name string, p *Process) {
		t.Helper()
		if p == nil || p.Comm != "big" || p.UID != 7 {
			t.Fatalf("%s: process %+v", name, p)
		}
		if n := len(strings.Join(p.Cmdline, "\x00")); n != maxFile {
			t.Errorf("%s: argv of %d bytes, want the first %d", name, n, maxFile)
		}
		if got, want := len(p.Cmdline), maxFile/len(arg)+1; got != want {
			t.Errorf("%s: %d arguments, want %d", name, got, want)
		}
		if last := p.Cmdline[len(p.Cmdline)-1]; last != strings.Repeat("A", maxFile%len(arg)) {
			t.Errorf("%s: last argument of %d bytes, want the %d before the bound", name, len(last), maxFile%len(arg))
		}
	}
	m, err := Build(context.Background(), Options{Root: root, Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	check("Build", m.Process(5))
	tr := NewTracker(Options{Root: root, Cmdline: true, FullEvery: 1})
	m2, err := tr.Refresh(context.Background(), set(500))
	if err != nil {
		t.Fatal(err)
	}
	check("Tracker", m2.Process(5))

	// The worker's buffer: what one read of that cmdline leaves behind.
	w := newWorker()
	dir, err := os.Open(filepath.Join(root, "proc/5"))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	p := &Process{}
	readDetails(w, int(dir.Fd()), p, true)
	if c := cap(w.file); c > maxFile {
		t.Errorf("worker buffer grew to %d bytes reading a %d-byte cmdline; bound %d", c, len(huge), maxFile)
	}
}

// TestFIFODetails: a tree whose stat, status or cmdline is a FIFO with no
// writer must not hang the walk; the process still shows what could be read.
func TestFIFODetails(t *testing.T) {
	ar := &txtar.Archive{Files: []txtar.File{
		{Name: "proc/6/stat", Data: []byte("6 (fifo)" + hostileStat)},
		{Name: "proc/6/fd/4 -> socket:[600]"},
		{Name: "proc/7/fd/4 -> socket:[700]"},
	}}
	root := t.TempDir()
	if err := fixture.Write(root, ar); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"proc/6/status", "proc/6/cmdline", "proc/7/stat"} {
		if err := unix.Mkfifo(filepath.Join(root, name), 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
	}
	done := make(chan *Map, 1)
	go func() {
		m, err := Build(context.Background(), Options{Root: root, Cmdline: true})
		if err != nil {
			t.Error(err)
		}
		done <- m
	}()
	select {
	case m := <-done:
		if m == nil {
			return
		}
		if got := m.Lookup(600); len(got) != 1 || got[0].PID != 6 {
			t.Errorf("socket 600: owners %v, want PID 6", got)
		}
		if p := m.Process(6); p == nil || p.Comm != "fifo" {
			t.Errorf("process 6: %+v", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Build blocked on a FIFO")
	}
}
