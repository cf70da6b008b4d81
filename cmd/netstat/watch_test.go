package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet"
	fixture "github.com/procnet/procnet/procnettest"
)

// Two rounds of a small host: round 1 has an ESTABLISHED connection of
// curl, a LISTEN of nginx, a CLOSE_WAIT of python3; in round 2 curl's
// connection fell to TIME_WAIT (inode 0, its owner gone from the fds),
// python3's closed, a new one is SYN_SENT, the listener is unchanged.
const watchProcs = `
-- proc/self -> 1 --
-- proc/1/stat --
1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 10 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
-- proc/1/status --
Name:	init
Uid:	0	0	0	0
-- proc/1/cmdline [unquote] --
/sbin/init\x00
-- proc/600/stat --
600 (nginx) S 1 600 600 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 600 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
-- proc/600/status --
Name:	nginx
Uid:	0	0	0	0
-- proc/600/cmdline [unquote] --
nginx\x00
-- proc/600/fd/6 -> socket:[3001] --
-- proc/800/stat --
800 (curl) S 1 800 800 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 800 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
-- proc/800/status --
Name:	curl
Uid:	1000	1000	1000	1000
-- proc/800/cmdline [unquote] --
curl\x00
-- proc/800/fd/5 -> socket:[3002] --
-- proc/400/stat --
400 (python3) S 1 400 400 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 400 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
-- proc/400/status --
Name:	python3
Uid:	1000	1000	1000	1000
-- proc/400/cmdline [unquote] --
python3\x00
-- proc/400/fd/3 -> socket:[3003] --
-- proc/400/fd/4 -> socket:[3004] --
`

const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

const round1 = tcpHeader +
	"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3001 1 0000000000000000 100 0 0 10 0\n" +
	"   1: 0F02000A:D2F4 5DB8D8A2:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 3002 1 0000000000000000 20 4 30 10 -1\n" +
	"   2: 0100007F:1F90 0100007F:D2F0 08 00000000:00000000 00:00000000 00000000  1000        0 3003 1 0000000000000000 20 4 30 10 -1\n"

const round2 = tcpHeader +
	"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3001 1 0000000000000000 100 0 0 10 0\n" +
	"   1: 0F02000A:D2F4 5DB8D8A2:01BB 06 00000000:00000000 03:00001734 00000000     0        0 0 3 0000000000000000\n" +
	"   3: 0F02000A:D2F6 5DB8D8A2:01BB 02 00000000:00000000 00:00000000 00000000  1000        0 3004 1 0000000000000000 20 4 30 10 -1\n"

func writeRound(t *testing.T, root, tcp string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, "proc/net/tcp"), []byte(tcp), 0o644); err != nil {
		t.Fatal(err)
	}
}

func watchRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ar := filepath.Join(dir, "watch.txtar")
	if err := os.WriteFile(ar, []byte("watch rounds\n"+watchProcs+"-- proc/net/tcp --\n"+round1), 0o644); err != nil {
		t.Fatal(err)
	}
	return fixture.Root(t, ar)
}

func watchConfig(t *testing.T, root string, args ...string) *config {
	t.Helper()
	c, err := parse(append(args, "--root", root))
	if err != nil {
		t.Fatal(err)
	}
	c.resolver = refuseResolver{t}
	if c.summary {
		c.unix = false
		c.programs = c.programs || c.by == "process"
	}
	return c
}

// lines strips the title and header of a rendered round.
func lines(b []byte) []string {
	ls := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	return ls[2:]
}

func TestWatchMarks(t *testing.T) {
	root := watchRoot(t)
	w := newWatcher(watchConfig(t, root, "-tanp", "-c", "1"))
	b, err := w.round(context.Background(), nil, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	want1 := []string{
		"  tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      600/nginx           ",
		"  tcp        0      0 10.0.2.15:54004         162.216.184.93:443      ESTABLISHED 800/curl            ",
		"  tcp        0      0 127.0.0.1:8080          127.0.0.1:54000         CLOSE_WAIT  400/python3         ",
	}
	if d := cmp.Diff(want1, lines(b)); d != "" {
		t.Errorf("round 1 (-want +got):\n%s", d)
	}
	if !strings.HasPrefix(string(b), "Active Internet connections (servers and established)\n  Proto Recv-Q") {
		t.Errorf("header:\n%s", b)
	}

	// Round 2: curl closed its fd (TIME_WAIT), python3's socket is gone.
	writeRound(t, root, round2)
	os.Remove(filepath.Join(root, "proc/800/fd/5"))
	os.Remove(filepath.Join(root, "proc/400/fd/3"))
	b, err = w.round(context.Background(), nil, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	want2 := []string{
		"  tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      600/nginx           ",
		"~ tcp        0      0 10.0.2.15:54004         162.216.184.93:443      TIME_WAIT   800/curl            ",
		"- tcp        0      0 127.0.0.1:8080          127.0.0.1:54000         CLOSE_WAIT  400/python3         ",
		"+ tcp        0      0 10.0.2.15:54006         162.216.184.93:443      SYN_SENT    400/python3         ",
	}
	if d := cmp.Diff(want2, lines(b)); d != "" {
		t.Errorf("round 2 (-want +got):\n%s", d)
	}

	// Round 3, nothing changed: the closed row is gone, no marks, and the
	// TIME_WAIT row still names curl.
	b, err = w.round(context.Background(), nil, &bytes.Buffer{}, true)
	if err != nil {
		t.Fatal(err)
	}
	want3 := []string{
		"  tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      600/nginx           ",
		"  tcp        0      0 10.0.2.15:54004         162.216.184.93:443      TIME_WAIT   800/curl            ",
		"  tcp        0      0 10.0.2.15:54006         162.216.184.93:443      SYN_SENT    400/python3         ",
	}
	if d := cmp.Diff(want3, lines(b)); d != "" {
		t.Errorf("round 3 (-want +got):\n%s", d)
	}
	if bytes.Contains(b, []byte("\x1b[")) {
		t.Errorf("colour on unmarked rows: %q", b)
	}
}

// TestWatchColours: on a terminal each marked row is coloured and reset
// before its newline.
func TestWatchColours(t *testing.T) {
	root := watchRoot(t)
	w := newWatcher(watchConfig(t, root, "-tanp", "-c", "1"))
	if _, err := w.round(context.Background(), nil, &bytes.Buffer{}, true); err != nil {
		t.Fatal(err)
	}
	writeRound(t, root, round2)
	b, err := w.round(context.Background(), nil, &bytes.Buffer{}, true)
	if err != nil {
		t.Fatal(err)
	}
	got := lines(b)
	for i, prefix := range []string{"  tcp", sgrYellow + "~ tcp", sgrRed + "- tcp", sgrGreen + "+ tcp"} {
		if !strings.HasPrefix(got[i], prefix) {
			t.Errorf("row %d = %q, want prefix %q", i, got[i], prefix)
		}
		if i > 0 && !strings.HasSuffix(got[i], sgrReset) {
			t.Errorf("row %d = %q, not reset", i, got[i])
		}
	}
}

// TestWatchSummary: --summary -c marks groups whose counts changed, new
// and gone groups; the TIME_WAIT owner is remembered.
func TestWatchSummary(t *testing.T) {
	root := watchRoot(t)
	w := newWatcher(watchConfig(t, root, "--summary", "-tan", "-c", "1"))
	if _, err := w.round(context.Background(), nil, &bytes.Buffer{}, false); err != nil {
		t.Fatal(err)
	}
	writeRound(t, root, round2)
	os.Remove(filepath.Join(root, "proc/800/fd/5"))
	os.Remove(filepath.Join(root, "proc/400/fd/3"))
	b, err := w.round(context.Background(), nil, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"~     400 python3              1000            0      1      0      0      0      0      0      1",
		"      600 nginx                0               0      0      0      0      0      1      0      1",
		"~     800 curl                 1000            0      0      0      0      1      0      0      1",
	}
	if d := cmp.Diff(want, lines(b)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestWatchLoop runs the loop piped: a timestamp line before each round,
// no escapes, and a cancelled context ends it with no error.
func TestWatchLoop(t *testing.T) {
	root := watchRoot(t)
	c := watchConfig(t, root, "-tan", "-c", "0.01")
	ctx, cancel := context.WithCancel(context.Background())
	var buf bytes.Buffer
	out := &cancelAfter{w: &buf, n: 3, cancel: cancel} // three rounds
	now := func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
	if err := watch(ctx, c, out, &bytes.Buffer{}, now); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "=== 2025-01-02T03:04:05.000Z ===\nActive Internet"); n != 3 {
		t.Errorf("%d timestamped rounds:\n%s", n, buf.String())
	}
	if strings.Contains(buf.String(), "\x1b") {
		t.Errorf("escapes in piped output")
	}

	// On a terminal: cursor hidden, each round clears, and the end shows
	// the cursor with colours reset.
	c.isTerminal = true
	ctx, cancel = context.WithCancel(context.Background())
	buf.Reset()
	out = &cancelAfter{w: &buf, n: 2, cancel: cancel} // the hide, one round
	if err := watch(ctx, c, out, &bytes.Buffer{}, time.Now); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if !strings.HasPrefix(s, hideCursor+clearHome) || !strings.HasSuffix(s, sgrReset+showCursor) {
		t.Errorf("terminal output %q...%q", s[:min(20, len(s))], s[max(0, len(s)-20):])
	}

	// TERM=dumb: a terminal that takes no cursor sequences gets the piped
	// layout, and no escape at all.
	t.Setenv("TERM", "dumb")
	ctx, cancel = context.WithCancel(context.Background())
	buf.Reset()
	out = &cancelAfter{w: &buf, n: 2, cancel: cancel}
	if err := watch(ctx, c, out, &bytes.Buffer{}, now); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "\x1b") || !strings.HasPrefix(s, "=== 2025-01-02T03:04:05.000Z ===\nActive Internet") {
		t.Errorf("TERM=dumb:\n%q", s)
	}
}

// cancelAfter passes writes to w and cancels once n writes were made.
type cancelAfter struct {
	w      io.Writer
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return n, err
}

// TestWatchUnixOwners: a round's unix rows name their owners when a
// TIME_WAIT row carries a remembered owner, and a closed unix row names
// the owner it had (both showed "-" when the watch looked unix owners up
// in a map of its own that held processes but no sockets).
func TestWatchUnixOwners(t *testing.T) {
	root := watchRoot(t)
	const unixHeader = "Num       RefCount Protocol Flags    Type St Inode Path\n"
	writeUnix := func(rows string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, "proc/net/unix"), []byte(unixHeader+rows), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const listener = "0000000000000000: 00000002 00000000 00010000 0001 01 3010 /run/nginx.sock\n"
	writeUnix(listener + "0000000000000000: 00000003 00000000 00000000 0001 03 3011 /run/py.sock\n")
	for fd, target := range map[string]string{"proc/600/fd/7": "socket:[3010]", "proc/400/fd/8": "socket:[3011]"} {
		if err := os.Symlink(target, filepath.Join(root, fd)); err != nil {
			t.Fatal(err)
		}
	}
	w := newWatcher(watchConfig(t, root, "-tanpx", "-c", "1"))
	if _, err := w.round(context.Background(), nil, &bytes.Buffer{}, false); err != nil {
		t.Fatal(err)
	}
	// Round 2: curl's connection fell to TIME_WAIT (its owner carried),
	// python3's unix socket closed.
	writeRound(t, root, round2)
	writeUnix(listener)
	os.Remove(filepath.Join(root, "proc/800/fd/5"))
	os.Remove(filepath.Join(root, "proc/400/fd/8"))
	b, err := w.round(context.Background(), nil, &bytes.Buffer{}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TIME_WAIT   800/curl", "3010     600/nginx", "3011     400/python3"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("no %q in\n%s", want, b)
		}
	}
}

// hookCtx runs hook at the first Err asked of it: in a round, once its
// poll reads.
type hookCtx struct {
	context.Context
	hook func()
}

func (c *hookCtx) Err() error {
	if h := c.hook; h != nil {
		c.hook = nil
		h()
	}
	return c.Context.Err()
}

// TestWatchDropsLastRound: while a round polls, the rows of the round
// before are garbage: neither the watcher nor the Poller holds them, so a
// poll does not hold two rounds of rows (issue 15 item 5).
func TestWatchDropsLastRound(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(tcpHeader)
	for i := range 100 {
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0200007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, 1000+i, 2000, 100000+i)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/net/tcp"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(watchConfig(t, root, "-tan", "-c", "1"))
	if _, err := w.round(context.Background(), nil, io.Discard, false); err != nil {
		t.Fatal(err)
	}
	was := weak.Make(w.snap) // the Poller keeps its rows compact, not the Round
	asked, held := false, false
	ctx := &hookCtx{Context: context.Background(), hook: func() {
		asked = true
		runtime.GC()
		held = was.Value() != nil
	}}
	if _, err := w.round(ctx, nil, io.Discard, false); err != nil {
		t.Fatal(err)
	}
	if !asked || held {
		t.Errorf("the poll asked ctx: %v; the last round's rows were still held: %v", asked, held)
	}
}

// TestWatchRoundAllocs: a watch round reads its rows compact and never
// makes them Conns (192 bytes each): what it allocates per row, the
// Tracker's inode set included, is less than one Conn. On main, where the
// watch polled a Snapshot, a round allocated the Conns and their compact
// copy.
func TestWatchRoundAllocs(t *testing.T) {
	const n = 5000
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(tcpHeader)
	for i := range n {
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0200007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, 1000+i%60000, 2000+i/60000, 100000+i)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/net/tcp"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	w := newWatcher(watchConfig(t, root, "-tanp", "-c", "1"))
	ctx := context.Background()
	if err := w.update(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := w.update(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / n
	conn := float64(unsafe.Sizeof(procnet.Conn{}))
	t.Logf("a watch round allocates %.0f bytes a row; a Conn is %.0f", per, conn)
	if per >= conn {
		t.Errorf("a watch round allocates %.0f bytes a row, not less than a Conn (%.0f)", per, conn)
	}
}
