package main

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/procnet/procnet/internal/fixture"
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
		t.Errorf("netstat %s: the replay of the capture differs (- capture run, + replay):\n%s", strings.Join(args, " "), fixture.Diff([]byte(live), []byte(again)))
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
			root := fixture.Root(t, "testdata/"+tc.txtar+".txtar")
			args := append(strings.Fields(tc.args), "--root", root)
			res := &fakeResolver{names: hostNames}
			plain, _, code := runCLI(t, res, args...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			captured, dir := replay(t, res, args...)
			if untimed(captured) != untimed(plain) {
				t.Errorf("capture run differs from the plain run (- plain, + capture):\n%s", fixture.Diff([]byte(plain), []byte(captured)))
			}
			// Through txtar, as a user would commit it.
			ar := toTxtar(t, dir)
			back := t.TempDir()
			if err := fixture.Write(back, txtar.Parse(txtar.Format(ar))); err != nil {
				t.Fatal(err)
			}
			again, _, _ := runCLI(t, res, append(strings.Fields(tc.args), "--root", back)...)
			if untimed(again) != untimed(plain) {
				t.Errorf("replay of the txtar differs (- plain, + txtar):\n%s", fixture.Diff([]byte(plain), []byte(again)))
			}
		})
	}
}

// TestCaptureRefusesNonEmpty keeps a capture from mixing with old files.
func TestCaptureRefusesNonEmpty(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
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

// toTxtar turns a captured tree into a txtar archive in fixture syntax:
// symlinks as "name -> target", file bodies that are not plain text
// (cmdline's NULs) with [unquote].
func toTxtar(t *testing.T, dir string) *txtar.Archive {
	ar := &txtar.Archive{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&fs.ModeSymlink != 0 {
			l, err := os.Readlink(p)
			ar.Files = append(ar.Files, txtar.File{Name: rel + " -> " + l})
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := string(b)
		if strings.ContainsAny(s, "\x00\r") || s != "" && !strings.HasSuffix(s, "\n") || strings.Contains(s, "\n-- ") {
			q := strconv.Quote(s)
			ar.Files = append(ar.Files, txtar.File{Name: rel + " [unquote]", Data: []byte(q[1:len(q)-1] + "\n")})
			return nil
		}
		ar.Files = append(ar.Files, txtar.File{Name: rel, Data: b})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ar
}
