package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	fixture "github.com/procnet/procnet/procnettest"
)

// holdEnv makes the test binary, started again by the live test, open a
// fixed set of sockets, print "ready" and wait.
const holdEnv = "PROCNET_TEST_HOLD_SOCKETS"

func TestMain(m *testing.M) {
	if dir := os.Getenv(holdEnv); dir != "" {
		holdSockets(dir)
		return
	}
	os.Exit(m.Run())
}

// holdSockets opens listeners, connections (IPv4, IPv6, IPv4 to a
// dual-stack listener), UDP sockets and unix sockets on loopback, and
// keeps them until stdin closes or 60 s pass.
func holdSockets(dir string) {
	var keep []any
	must := func(v any, err error) any {
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		keep = append(keep, v)
		return v
	}
	lc := net.ListenConfig{KeepAlive: -1}
	d := net.Dialer{KeepAlive: -1}
	ln4 := must(net.Listen("tcp4", "127.0.0.1:0")).(net.Listener)
	must(net.Listen("tcp4", "0.0.0.0:0"))
	ln6 := must(net.Listen("tcp6", "[::1]:0")).(net.Listener)
	dual := must(lc.Listen(context.Background(), "tcp", ":0")).(net.Listener)
	for _, a := range []string{ln4.Addr().String(), ln6.Addr().String(), "127.0.0.1:" + portOf(dual)} {
		c := must(d.Dial("tcp", a)).(net.Conn)
		_ = c
	}
	for _, l := range []net.Listener{ln4, ln6, dual} {
		must(l.Accept())
	}
	// One connection left in the accept queue: it has no inode yet.
	must(d.Dial("tcp", ln4.Addr().String()))
	u := must(net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})).(*net.UDPConn)
	must(net.DialUDP("udp4", nil, u.LocalAddr().(*net.UDPAddr)))
	must(net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}))
	must(net.Listen("unix", filepath.Join(dir, "stream.sock")))
	must(net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@procnet-test-abstract", Net: "unixgram"}))
	fmt.Println("ready")
	done := make(chan struct{})
	go func() { bufio.NewReader(os.Stdin).ReadString('\n'); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
	}
	_ = keep
}

func portOf(l net.Listener) string {
	_, p, _ := net.SplitHostPort(l.Addr().String())
	return p
}

// TestLiveAgainstNetTools runs net-tools' netstat and ours on the same
// sockets, in a private network namespace that holds only the sockets
// this test opens, and wants the same bytes.
func TestLiveAgainstNetTools(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare -n")
	}
	nt, err := exec.LookPath("netstat")
	if err != nil {
		t.Skip("net-tools netstat is not installed")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	if !strings.Contains(nt, "/bin/") {
		t.Skipf("netstat at %s", nt)
	}
	dir := t.TempDir()
	ours := filepath.Join(dir, "netstat-ours")
	if out, err := exec.Command("go", "build", "-o", ours, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := []string{"-tan", "-tanp", "-tane", "-tanW", "-uan", "-uanp", "-lntp", "-lunp", "-l", "-tunap", "-an", "-xanp", "-n", "-6lnp", "-4an", "-tanee", "-ta", "-ua"}
	// One shell in a new network namespace: lo up, the socket holder
	// started, every command run twice, the holder ended by its PID.
	var script strings.Builder
	fmt.Fprintf(&script, "set -e\nip link set lo up 2>/dev/null || ifconfig lo up\n")
	fmt.Fprintf(&script, "mkfifo %s/hold.in\n", dir)
	fmt.Fprintf(&script, "%s=%s %q -test.run=NONE < %s/hold.in > %s/hold.out 2>&1 &\nHOLDER=$!\nexec 4> %s/hold.in\n", holdEnv, dir, self, dir, dir, dir)
	fmt.Fprintf(&script, "for i in $(seq 50); do grep -q ready %s/hold.out && break; sleep 0.1; done\n", dir)
	for i, c := range cases {
		fmt.Fprintf(&script, "%s %s > %s/nt.%d 2> %s/nt.err.%d || true\n", nt, c, dir, i, dir, i)
		fmt.Fprintf(&script, "%s %s > %s/ours.%d 2> %s/ours.err.%d || true\n", ours, c, dir, i, dir, i)
	}
	fmt.Fprintf(&script, "exec 4>&-\nwait $HOLDER\n")
	cmd := exec.Command("unshare", "-n", "bash", "-c", script.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unshare: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hold.out")); !strings.Contains(string(b), "ready") {
		t.Fatalf("socket holder: %s", b)
	}
	for i, c := range cases {
		want, _ := os.ReadFile(fmt.Sprintf("%s/nt.%d", dir, i))
		got, _ := os.ReadFile(fmt.Sprintf("%s/ours.%d", dir, i))
		if string(got) != string(want) {
			t.Errorf("netstat %s differs from net-tools (- net-tools, + ours):\n%s", c, fixture.Diff(want, got))
		}
		// stderr: net-tools' own warnings, or (as root, when a process
		// refuses its fds even to root, as a sandbox's init does) our note.
		ntErr, _ := os.ReadFile(fmt.Sprintf("%s/nt.err.%d", dir, i))
		ourErr, _ := os.ReadFile(fmt.Sprintf("%s/ours.err.%d", dir, i))
		if string(ntErr) != string(ourErr) && !strings.Contains(string(ourErr), "even to root") {
			t.Errorf("netstat %s: stderr %q, net-tools %q", c, ourErr, ntErr)
		}
		if strings.Count(string(want), "\n") < 3 && c != "-uanp" {
			t.Errorf("netstat %s printed too little to prove anything:\n%s", c, want)
		}
	}
}
