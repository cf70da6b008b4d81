package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
	fixture "github.com/procnet/procnet/procnettest"
	"golang.org/x/sys/unix"
)

// runNetTools runs net-tools' netstat with args and returns its stdout,
// stderr and exit status. With root set it runs over root's proc: in a
// private mount namespace with root/proc bind-mounted on /proc, so that
// net-tools (which reads /proc/net/… by fixed paths) reads the fixture.
// It skips the test when net-tools 2.10 (or, with root, unshare as root)
// is not there.
func runNetTools(t *testing.T, root string, args ...string) (string, string, int) {
	t.Helper()
	p := netTools(t)
	if v, _ := exec.Command(p, "-V").CombinedOutput(); !bytes.HasPrefix(v, []byte("net-tools 2.10")) {
		t.Skipf("not net-tools 2.10: %q", firstLine(v))
	}
	cmd := exec.Command(p, args...)
	if root != "" {
		if os.Geteuid() != 0 {
			t.Skip("running net-tools over a fixture needs root (a mount namespace)")
		}
		cmd = exec.Command("unshare", append([]string{"-m", "--propagation", "private", "sh", "-c",
			`r=$1; p=$2; shift 2; mount --bind "$r/proc" /proc || exit 99; exec "$p" "$@"`, "sh", root, p}, args...)...)
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Skipf("net-tools: %v", err)
	}
	if code == 99 {
		t.Skipf("cannot mount the fixture on /proc: %s", errb.String())
	}
	return out.String(), errb.String(), code
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// TestTimers: every timer kind of -o over a fixture, net-tools' words
// (probe for kind 4, unkn-N beyond, on1/on2 for UDP), checked against a
// golden file and against net-tools itself run over the same tree.
func TestTimers(t *testing.T) {
	root := fixture.Root(t, "testdata/timers.txtar")
	for _, args := range []string{"-tno", "-tuano", "-tuanoe"} {
		t.Run(args, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, refuseResolver{t}, strings.Fields(args+" --root "+root)...)
			if code != 0 || stderr != "" {
				t.Errorf("exit status %d, stderr %q", code, stderr)
			}
			fixture.Golden(t, "testdata/timers/"+strings.TrimPrefix(args, "-")+".stdout", []byte(stdout))
			want, _, wcode := runNetTools(t, root, strings.Fields(args)...)
			if wcode != 0 || want != stdout {
				t.Errorf("net-tools (exit %d) differs:\n%s", wcode, fixture.Diff([]byte(want), []byte(stdout)))
			}
		})
	}
}

// timerSecs masks the seconds left of a -o column, the one field that
// moves between two runs.
var timerSecs = regexp.MustCompile(`\(\d+\.\d\d/`)

// rowOf returns the line of out whose local address is local.
func rowOf(out, local, remote string) string {
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 4 && f[3] == local && f[4] == remote {
			return strings.TrimRight(line, "\n")
		}
	}
	return ""
}

// compareRows runs `netstat args` (ours, then net-tools') up to 10 times
// until the rows of local and remote agree but for the seconds left, and
// returns ours. Both ends name the row: an older connection on a reused
// local port (a TIME_WAIT) is not ours.
func compareRows(t *testing.T, local, remote string, args ...string) string {
	t.Helper()
	var ours, theirs string
	for range 10 {
		out, stderr, code := runCLI(t, refuseResolver{t}, args...)
		if code != 0 {
			t.Fatalf("exit status %d: %s", code, stderr)
		}
		want, _, _ := runNetTools(t, "", args...)
		ours, theirs = rowOf(out, local, remote), rowOf(want, local, remote)
		if ours != "" && timerSecs.ReplaceAllString(ours, "(s/") == timerSecs.ReplaceAllString(theirs, "(s/") {
			return ours
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("rows of %s %s differ:\nours:      %q\nnet-tools: %q", local, remote, ours, theirs)
	return ""
}

// waitRow polls proc until the row of local port lport satisfies ok.
func waitRow(t *testing.T, f netstat.Filter, ok func(netstat.Socket) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r := netstat.Reader{Source: netstat.SourceProc}
		for s, err := range r.Sockets(context.Background(), f) {
			if err == nil && ok(s) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no row of %+v as wanted in 5 s", f)
}

// TestLiveZeroWindowProbe: a sender whose peer stopped reading (Send-Q
// full) has the zero-window probe timer: `probe (…)` as net-tools prints.
func TestLiveZeroWindowProbe(t *testing.T) {
	var lc net.ListenConfig
	lc.Control = func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 2048) })
	}
	l, err := lc.Listen(t.Context(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := l.Accept() // and never read
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c.(*net.TCPConn).SetWriteBuffer(4096)
	c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	c.Write(make([]byte, 4<<20)) // stops at the deadline
	lport := c.LocalAddr().(*net.TCPAddr).AddrPort().Port()
	waitRow(t, netstat.Filter{Protos: netstat.Protos(netstat.TCP), LocalPorts: []uint16{lport}},
		func(s netstat.Socket) bool { return s.Timer == netstat.TimerProbe })
	row := compareRows(t, c.LocalAddr().String(), c.RemoteAddr().String(), "-tno")
	if !strings.Contains(row, " probe (") {
		t.Errorf("no probe timer: %q", row)
	}
	t.Logf("%s", row)
}

// TestLiveDeferAcceptRequest: a TCP_DEFER_ACCEPT listener holds the
// request of a client that sends nothing; its timer expires without a
// resend. -o prints proc's retrnsmt (req->num_timeout) as net-tools
// does, not netlink's count of SYN-ACKs resent.
func TestLiveDeferAcceptRequest(t *testing.T) {
	var lc net.ListenConfig
	lc.Control = func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, 30) })
		return errors.Join(err, serr)
	}
	l, err := lc.Listen(t.Context(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lport := l.Addr().(*net.TCPAddr).AddrPort().Port()
	// The first expiry is 1 s after the SYN, the next 2 s later.
	waitRow(t, netstat.Filter{Protos: netstat.Protos(netstat.TCP), States: netstat.States(netstat.SynRecv), LocalPorts: []uint16{lport}},
		func(s netstat.Socket) bool { return s.Retransmits > 0 })
	row := compareRows(t, l.Addr().String(), c.LocalAddr().String(), "-tno")
	if !strings.Contains(row, "SYN_RECV    on (") || strings.Contains(row, "/0/0)") {
		t.Errorf("request row: %q, want a timer expiry counted", row)
	}
	t.Logf("%s", row)
}
