package main

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
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

	"github.com/procnet/procnet/procnettest"
	"golang.org/x/tools/txtar"
)

// replay runs args with --capture into a new directory, then with --root
// on that directory, and wants the same stdout from both; it returns the
// first stdout and the directory.
func replay(t *testing.T, res Resolver, args ...string) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "capture")
	live, stderr, code := runCLI(t, res, append(slices.Clone(args), "--capture", dir)...)
	if code != 0 {
		t.Fatalf("netstat %s --capture: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	again, stderr, code := runCLI(t, res, append(slices.Clone(args), "--root", dir)...)
	if code != 0 {
		t.Fatalf("netstat %s --root capture: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	if untimed(again) != untimed(live) {
		t.Errorf("netstat %s: the replay of the capture differs (- capture run, + replay):\n%s", strings.Join(args, " "), procnettest.Diff([]byte(live), []byte(again)))
	}
	return live, dir
}

// TestCaptureLive captures the test's own loopback sockets, then wants
// the replay to print the same bytes, and the tree to hold nothing but
// what the listing needs.
func TestCaptureLive(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	me := strconv.Itoa(os.Getpid()) + "/"

	out, dir := replay(t, refuseResolver{t}, "-tanp", "-n", "--port", port)
	if n := strings.Count(out, me); n != 3 {
		t.Errorf("want our 3 sockets (listener and both ends) held by PID %s, got %d:\n%s", me, n, out)
	}
	// Only this process, and only its socket fds.
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	for _, f := range files {
		switch {
		case strings.HasPrefix(f, "proc/net/"), strings.HasPrefix(f, "proc/self/"):
		case strings.HasPrefix(f, "proc/"+me):
			if strings.HasPrefix(f, "proc/"+me+"fd/") {
				l, err := os.Readlink(filepath.Join(dir, f))
				if err != nil || !strings.HasPrefix(l, "socket:[") {
					t.Errorf("%s -> %q (%v): not a socket link", f, l, err)
				}
			}
		default:
			t.Errorf("captured %s, which the listing does not need", f)
		}
	}
	if slices.Contains(files, "etc/services") || slices.Contains(files, "proc/net/unix") || slices.Contains(files, "proc/net/udp") {
		t.Errorf("more than -tn needs: %v", files)
	}

	// Names, JSON, -e, --no-cmdline (argv becomes the comm alone).
	res := &fakeResolver{names: map[string]string{"127.0.0.1": "loopback.example."}}
	replay(t, res, "-tae", "--port", port)
	replay(t, res, "-tap", "--json", "--port", port)
	replay(t, refuseResolver{t}, "--format", "prometheus", "--per-process", "-t", "--port", port)
	_, dir = replay(t, refuseResolver{t}, "-tnp", "--no-cmdline", "--port", port)
	cmdline, err := os.ReadFile(filepath.Join(dir, "proc", strconv.Itoa(os.Getpid()), "cmdline"))
	comm, _ := os.ReadFile(filepath.Join(dir, "proc", strconv.Itoa(os.Getpid()), "comm"))
	if err != nil || string(cmdline) != strings.TrimSuffix(string(comm), "\n")+"\x00" {
		t.Errorf("--no-cmdline captured cmdline %q (comm %q, %v)", cmdline, comm, err)
	}
}

// TestCaptureFixture captures from fixture roots: what the capture run
// prints must be what a plain run over the fixture prints, and the
// replay the same again; then the tree goes through txtar and back.
func TestCaptureFixture(t *testing.T) {
	for _, tc := range []struct{ txtar, args string }{
		{"host", "-tanp"},
		{"host", "-tunapxe"},
		{"host", "-tunaxeeo"},
		{"host", "--json -tunapx"},
		{"host", "--csv -tunap"},
		{"host", "--pid 400 -tunapx"},
		{"host", "--program nginx -tanp"},
		{"host", "--port 22 -tanp"},
		{"host", "-lnp --no-cmdline"},
		{"host", "--format prometheus --per-process"},
		{"host", "--summary -ta"},
		{"host", "--summary -ta --by port"},
		{"host", "--pid 601 -tanp"},
		{"host", "--program nginx --json -tan"},
		{"netns", "--all-netns -tunapx"},
		{"netns", "--all-netns --json -tanp"},
		{"netns", "--netns 300 -tanp"},
		{"netns", "--all-netns --format prometheus --per-process"},
		{"iface", "-i"},
		{"iface", "-ia"},
		{"iface", "-ia --json"},
		{"iface_long", "-ie"},
		{"iface_long", "-iea"},
		{"route", "-rn"},
		{"route", "-r"},
		{"stats", "-s"},
	} {
		t.Run(tc.txtar+" "+tc.args, func(t *testing.T) {
			root := procnettest.Root(t, "testdata/"+tc.txtar+".txtar")
			args := append(strings.Fields(tc.args), "--root", root)
			res := &fakeResolver{names: hostNames}
			plain, _, code := runCLI(t, res, args...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			captured, dir := replay(t, res, args...)
			if untimed(captured) != untimed(plain) {
				t.Errorf("capture run differs from the plain run (- plain, + capture):\n%s", procnettest.Diff([]byte(plain), []byte(captured)))
			}
			// Through txtar, as a user would commit it.
			ar, err := procnettest.Archive(dir)
			if err != nil {
				t.Fatal(err)
			}
			back := t.TempDir()
			if err := procnettest.Write(back, txtar.Parse(txtar.Format(ar))); err != nil {
				t.Fatal(err)
			}
			again, _, _ := runCLI(t, res, append(strings.Fields(tc.args), "--root", back)...)
			if untimed(again) != untimed(plain) {
				t.Errorf("replay of the txtar differs (- plain, + txtar):\n%s", procnettest.Diff([]byte(plain), []byte(again)))
			}
		})
	}
}

// TestCaptureRefusesNonEmpty keeps a capture from mixing with old files.
func TestCaptureRefusesNonEmpty(t *testing.T) {
	root := procnettest.Root(t, "testdata/host.txtar")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	_, stderr, code := runCLI(t, refuseResolver{t}, "-tan", "--root", root, "--capture", dir)
	if code != 1 || !strings.Contains(stderr, "is not empty") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runCLI(t, refuseResolver{t}, "-tan", "-c", "--capture", dir)
	if code != 2 {
		t.Errorf("--capture with -c: exit %d, stderr %q", code, stderr)
	}
}

// captureRoot materializes testdata/host.txtar where any user can read it
// (t.TempDir is root's alone), for the tests that run as nobody.
func captureRoot(t *testing.T) (base, root string) {
	t.Helper()
	base, err := os.MkdirTemp("", "procnet-capture") // t.TempDir's parent is 0700
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/host.txtar")
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(base, "root")
	if err := procnettest.Write(root, txtar.Parse(data)); err != nil {
		t.Fatal(err)
	}
	return base, root
}

// outsideWrites lists what is under dirs: a capture must write none of it.
func outsideWrites(dirs ...string) []string {
	var found []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && p != d {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
}

// TestCaptureSymlinkSwapRace: the owner of an empty DIR swaps DIR/proc for
// a link to a directory of root's and plants DIR/etc -> elsewhere while
// the capture runs. Nothing may be written outside DIR: with another
// user's DIR the capture is refused as root; with our own, every write
// goes through the handle and a link in the way fails the capture.
func TestCaptureSymlinkSwapRace(t *testing.T) {
	const trials = 50
	base, root := captureRoot(t)
	rootsDir := filepath.Join(base, "roots")      // "a directory of root's"
	elsewhere := filepath.Join(base, "elsewhere") // where etc/ would land
	for _, d := range []string{rootsDir, elsewhere} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, other := range []bool{false, true} {
		if other && os.Geteuid() != 0 {
			t.Log("not root: another user's DIR is not refused (nor dangerous)")
			continue
		}
		var planted, refused, done int
		for i := range trials {
			dir := filepath.Join(base, "capture"+strconv.Itoa(i)+strconv.FormatBool(other))
			if err := os.Mkdir(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			if other {
				os.Chown(dir, 65534, 65534)
			}
			stop := make(chan struct{})
			swapped := make(chan bool)
			go func() { // the attacker
				hit := false
				for {
					select {
					case <-stop:
						swapped <- hit
						return
					default:
					}
					for _, s := range []struct{ name, target string }{{"proc", rootsDir}, {"etc", elsewhere}} {
						p := filepath.Join(dir, s.name)
						if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
							os.Rename(p, p+".moved")
						}
						if os.Symlink(s.target, p) == nil {
							hit = true
						}
					}
					runtime.Gosched()
				}
			}()
			_, stderr, code := runCLI(t, refuseResolver{t}, "-tanp", "-e", "--root", root, "--capture", dir)
			close(stop)
			if <-swapped {
				planted++
			}
			switch code {
			case 0:
				done++
			case 1: // refused, or stopped by a link in the way (writing or replaying)
				refused++
			default:
				t.Errorf("trial %d: exit %d, stderr %q", i, code, stderr)
			}
			if other && code == 0 {
				t.Errorf("trial %d: root captured into another user's directory", i)
			}
			if w := outsideWrites(rootsDir, elsewhere); len(w) > 0 {
				t.Fatalf("trial %d (another user's DIR: %v): written outside DIR: %v", i, other, w)
			}
		}
		t.Logf("another user's DIR %v: %d trials, links planted in %d, capture refused or failed %d, completed %d",
			other, trials, planted, refused, done)
		if planted == 0 {
			t.Errorf("the attacker never planted a link: the race was not tried")
		}
	}
}

// TestCaptureRefusesSymlinkDir: DIR given as a symbolic link is refused,
// not followed.
func TestCaptureRefusesSymlinkDir(t *testing.T) {
	root := procnettest.Root(t, "testdata/host.txtar")
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{link, link + "/"} {
		_, stderr, code := runCLI(t, refuseResolver{t}, "-tan", "--root", root, "--capture", dir)
		if code != 1 || !strings.Contains(stderr, "symbolic link") {
			t.Errorf("--capture %s: exit %d, stderr %q", dir, code, stderr)
		}
		if w := outsideWrites(real); len(w) > 0 {
			t.Errorf("--capture %s followed the link: %v", dir, w)
		}
	}
}

// TestCaptureWriteOnlyDir: a DIR its user may write but not read cannot
// be checked for emptiness, so it is refused (run as nobody: root reads
// any directory).
func TestCaptureWriteOnlyDir(t *testing.T) {
	if args := os.Getenv("PROCNET_CAPTURE_AS_NOBODY"); args != "" {
		var out, errb strings.Builder
		code := exitCode(runWith(strings.Split(args, "\n"), &out, &errb, refuseResolver{t}), &errb)
		fmt.Printf("exit=%d stderr=%q\n", code, errb.String())
		return
	}
	base, root := captureRoot(t)
	dir := filepath.Join(base, "wonly")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "keep"), []byte("old\n"), 0o644)
	args := []string{"-tan", "--root", root, "--capture", dir}
	var out []byte
	if os.Geteuid() == 0 {
		os.Chown(dir, 65534, 65534)
		os.Chmod(dir, 0o300)
		exe := filepath.Join(base, "netstat.test")
		b, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, b, 0o755); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, "-test.run=^TestCaptureWriteOnlyDir$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PROCNET_CAPTURE_AS_NOBODY="+strings.Join(args, "\n"))
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err = cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("as nobody: %v\n%s", err, out)
		}
	} else {
		os.Chmod(dir, 0o300)
		_, stderr, code := runCLI(t, refuseResolver{t}, args...)
		out = []byte(fmt.Sprintf("exit=%d stderr=%q\n", code, stderr))
	}
	os.Chmod(dir, 0o755)
	if !strings.Contains(string(out), "exit=1 ") || !strings.Contains(string(out), "cannot tell whether") {
		t.Errorf("a write-only DIR with a file in it: %s", out)
	}
	if w := outsideWrites(dir); len(w) != 1 {
		t.Errorf("the capture wrote into the write-only DIR: %v", w)
	}
}

// TestCaptureRefusesWhatThePlainRunRefuses: a table that is a FIFO (which
// must not hang), a directory, a link loop or a device node is an error
// of the plain run, and so of the capture — not a table left out.
func TestCaptureRefusesWhatThePlainRunRefuses(t *testing.T) {
	for _, kind := range []string{"fifo", "dir", "loop", "device"} {
		t.Run(kind, func(t *testing.T) {
			root := procnettest.Root(t, "testdata/host.txtar")
			tcp := filepath.Join(root, "proc/net/tcp")
			os.Remove(tcp)
			var err error
			switch kind {
			case "fifo":
				err = syscall.Mkfifo(tcp, 0o644)
			case "dir":
				err = os.Mkdir(tcp, 0o755)
			case "loop":
				os.Symlink("tcp2", tcp)
				err = os.Symlink("tcp", tcp+"2")
			case "device":
				if os.Geteuid() != 0 {
					t.Skip("mknod needs root")
				}
				err = syscall.Mknod(tcp, syscall.S_IFCHR|0o644, 1<<8|3) // /dev/null: EOF at once
			}
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				stderr string
				code   int
			}
			run := func(args ...string) result {
				ch := make(chan result, 1)
				go func() {
					_, stderr, code := runCLI(t, refuseResolver{t}, args...)
					ch <- result{stderr, code}
				}()
				select {
				case r := <-ch:
					return r
				case <-time.After(20 * time.Second):
					if kind == "fifo" { // let the stuck reader go
						if f, err := os.OpenFile(tcp, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
							f.Close()
						}
					}
					t.Fatalf("netstat %v: still running after 20 s", args)
					return result{}
				}
			}
			plain := run("-tan", "--root", root)
			if plain.code != 1 || !strings.Contains(plain.stderr, "proc/net/tcp") {
				t.Errorf("plain run: exit %d, stderr %q", plain.code, plain.stderr)
			}
			dir := filepath.Join(t.TempDir(), "capture")
			got := run("-tan", "--root", root, "--capture", dir)
			if got.code != 1 || !strings.Contains(got.stderr, "proc/net/tcp") {
				t.Errorf("capture: exit %d, stderr %q; want the plain run's error", got.code, got.stderr)
			}
		})
	}
}

// TestCaptureHugeSparseTable: a 1 GiB sparse proc/net/tcp is refused by
// its size before a byte is copied; what the capture allocates stays
// small (it read the whole file into memory, twice over, before).
func TestCaptureHugeSparseTable(t *testing.T) {
	root := procnettest.Root(t, "testdata/host.txtar")
	if err := os.Truncate(filepath.Join(root, "proc/net/tcp"), 1<<30); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "capture")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, stderr, code := runCLI(t, refuseResolver{t}, "-tan", "--root", root, "--capture", dir)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB capturing a 1 GiB sparse table (peak heap %d KiB)", alloc>>10, after.HeapSys>>10)
	if code != 1 || !strings.Contains(stderr, "proc/net/tcp") || !strings.Contains(stderr, "larger than") {
		t.Errorf("exit %d, stderr %q; want the table refused for its size", code, stderr)
	}
	if alloc > 16<<20 {
		t.Errorf("the capture allocated %d MiB for a refused table", alloc>>20)
	}
	if _, err := os.Lstat(filepath.Join(dir, "proc/net/tcp")); err == nil {
		t.Errorf("a refused table was copied")
	}
}

// TestCaptureHoldsOnlyWhatTheRunShows: --pid A keeps other processes'
// argv out of the capture; a process that only shares a shown socket is
// counted, not named; --json keeps the argv it prints.
func TestCaptureHoldsOnlyWhatTheRunShows(t *testing.T) {
	root := procnettest.Root(t, "testdata/host.txtar")
	cmdlines := func(dir string) map[string]string {
		m := map[string]string{}
		ents, _ := os.ReadDir(filepath.Join(dir, "proc"))
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(dir, "proc", e.Name(), "cmdline")); err == nil {
				m[e.Name()] = string(b)
			}
		}
		return m
	}
	for _, tc := range []struct {
		args string
		want map[string]string
	}{
		{"--pid 400 -tunapx", map[string]string{"400": "/usr/bin/python3\x00"}},
		{"--pid 400 -tunapx --json", map[string]string{"400": "/usr/bin/python3\x00-m\x00http.server\x008080\x00"}},
		// 2006 is shared: 600 is named, 601 matches --pid; both are shown.
		{"--pid 601 -tanp", map[string]string{"600": "nginx: master process /usr/sbin/nginx\x00", "601": "nginx: worker process\x00"}},
		{"--program firefox -tanp", map[string]string{"500": "/usr/lib/firefox/firefox\x00"}},
	} {
		args := append(strings.Fields(tc.args), "--root", root)
		res := &fakeResolver{names: hostNames}
		plain, _, _ := runCLI(t, res, args...)
		captured, dir := replay(t, res, args...)
		if captured != plain {
			t.Errorf("%s: capture run differs from the plain run:\n%s", tc.args, procnettest.Diff([]byte(plain), []byte(captured)))
		}
		got := cmdlines(dir)
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: captured cmdlines %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestCaptureSummaryOwners: --summary --capture keeps the owners, so the
// replay names the processes rather than "- -".
func TestCaptureSummaryOwners(t *testing.T) {
	root := procnettest.Root(t, "testdata/host.txtar")
	for _, args := range []string{"--summary -ta", "--summary -tua -n"} {
		a := append(strings.Fields(args), "--root", root)
		plain, _, code := runCLI(t, refuseResolver{t}, a...)
		if code != 0 || !strings.Contains(plain, "nginx") {
			t.Fatalf("%s: exit %d, no owner in the plain run:\n%s", args, code, plain)
		}
		captured, _ := replay(t, refuseResolver{t}, a...)
		if captured != plain {
			t.Errorf("%s: capture differs from the plain run:\n%s", args, procnettest.Diff([]byte(plain), []byte(captured)))
		}
	}
}

// TestCaptureReplayOtherMode: -r, -i and -s over a capture made for the
// socket listing say what is missing (exit 1), not print empty tables.
func TestCaptureReplayOtherMode(t *testing.T) {
	root := procnettest.Root(t, "testdata/host.txtar")
	_, dir := replay(t, refuseResolver{t}, "-tan", "--root", root)
	for _, tc := range []struct{ flag, what string }{{"-rn", "routing table"}, {"-i", "interface table"}, {"-s", "statistics"}} {
		out, stderr, code := runCLI(t, refuseResolver{t}, tc.flag, "--root", dir)
		if code != 1 || !strings.Contains(stderr, "holds no "+tc.what) || out != "" {
			t.Errorf("%s over a -tan capture: exit %d, stderr %q, stdout %q", tc.flag, code, stderr, out)
		}
	}
}
