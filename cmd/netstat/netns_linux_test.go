package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/netstat"
	fixture "github.com/procnet/procnet/procnettest"
)

// TestNetNSGolden lists a fixture host with a docker container and a
// Kubernetes pod in namespaces of their own.
func TestNetNSGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	for _, tc := range []struct {
		name, args string
		code       int
	}{
		{"all-tanp", "--all-netns -tanp", 0},
		{"all-tanpW", "--all-netns -tanpW", 0},
		{"all-xa", "--all-netns -xa", 0},
		{"all-lnt-json", "--all-netns -lnt --json", 0},
		{"all-pid", "--all-netns -tan --pid 410", 0},
		{"all-port", "--all-netns -tanp --port 80", 0},
		{"netns-300", "--netns 300 -tanp", 0},
		{"netns-410-json", "--netns 410 -tanp --json", 1}, // redis: an owner, no tables in the fixture
		{"netns-400-json", "--netns 400 -tanp --json", 0},
		{"netns-none", "--netns 999 -tan", 1},
		{"netns-both", "--netns 300 --all-netns -t", 2},
		{"netns-zero", "--netns 0 -t", 2},
		{"all-r", "--all-netns -r", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, refuseResolver{t}, append(strings.Fields(tc.args), "--root", root)...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			fixture.Golden(t, "testdata/netns/"+tc.name+".stdout", []byte(stdout))
			if tc.code != 2 {
				fixture.Golden(t, "testdata/netns/"+tc.name+".stderr", []byte(stderr))
			}
		})
	}
}

// TestNetNSJSONKeys checks that every JSON object of --all-netns names
// its namespace and container, and --json without it has no container.
func TestNetNSJSONKeys(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "--all-netns", "-tuxan", "--json", "--root", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := map[uint64]string{4026531840: "init.scope", 4026532301: "3f4e5d6c7b8a", 4026532402: "a1b2c3d4e5f6"}
	seen := map[uint64]int{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var obj struct {
			NetNS     uint64  `json:"netns"`
			Container *string `json:"container"`
		}
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if obj.Container == nil || *obj.Container != want[obj.NetNS] {
			t.Errorf("netns %d: container %v, want %q", obj.NetNS, obj.Container, want[obj.NetNS])
		}
		seen[obj.NetNS]++
	}
	if len(seen) != 3 {
		t.Errorf("objects per namespace: %v", seen)
	}
	stdout, _, _ = runCLI(t, refuseResolver{t}, "-tan", "--json", "--root", root)
	if strings.Contains(stdout, `"container"`) {
		t.Errorf("container key without --all-netns/--netns:\n%s", stdout)
	}
}

// nsHolder is the helper mode of the test binary that the live test
// starts inside a new network namespace: lo up, a listener on
// 127.0.0.1:PORT, its port printed, then wait for stdin to close (60 s
// at most).
const nsHolderEnv = "PROCNET_TEST_NETNS_HOLDER"

func init() {
	if os.Getenv(nsHolderEnv) == "" {
		return
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("port", ln.Addr().(*net.TCPAddr).Port)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
	}
	os.Exit(0)
}

// TestNetNSLive starts two children in network namespaces of their own
// (unshare -n), each with a loopback listener, and wants --all-netns to
// list each listener under its child's namespace inode, once.
func TestNetNSLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare -n")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	type child struct {
		pid   int
		port  int
		inode uint64
	}
	var kids []child
	for range 2 {
		cmd := exec.Command("unshare", "-n", "sh", "-c", `ip link set lo up && exec "$0" -test.run=NONE`, self)
		cmd.Env = append(os.Environ(), nsHolderEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stdin, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stdin.Close()
			cmd.Process.Kill() // by PID: only the child we started
			cmd.Wait()
		})
		line, err := bufio.NewReader(out).ReadString('\n')
		port, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "port ")))
		if err != nil || perr != nil {
			t.Fatalf("holder said %q (%v)", line, err)
		}
		ns, err := netstat.NamespaceOf("", cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, child{cmd.Process.Pid, port, ns.Inode})
	}
	if kids[0].inode == kids[1].inode {
		t.Fatalf("both children in namespace %d", kids[0].inode)
	}
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "--all-netns", "-tlnp", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, k := range kids {
		var found int
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
			var obj struct {
				Port      int    `json:"local_port"`
				Address   string `json:"local_address"`
				NetNS     uint64 `json:"netns"`
				Processes []struct {
					PID int `json:"pid"`
				} `json:"processes"`
			}
			if err := json.Unmarshal([]byte(line), &obj); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if obj.Port == k.port && obj.Address == "127.0.0.1" && obj.NetNS == k.inode {
				found++
				if len(obj.Processes) != 1 || obj.Processes[0].PID != k.pid {
					t.Errorf("listener of %d: processes %+v", k.pid, obj.Processes)
				}
			}
		}
		if found != 1 {
			t.Errorf("listener 127.0.0.1:%d of PID %d in netns %d found %d times in:\n%s", k.port, k.pid, k.inode, found, stdout)
		}
	}
	// The table: the child's row starts with its namespace's inode.
	stdout, _, _ = runCLI(t, refuseResolver{t}, "--all-netns", "-tln")
	for _, k := range kids {
		want := fmt.Sprintf("%-24d tcp        0      0 127.0.0.1:%d", k.inode, k.port)
		if !strings.Contains(stdout, want) {
			t.Errorf("no row %q in:\n%s", want, stdout)
		}
	}
	// --netns PID lists that namespace only.
	stdout, _, _ = runCLI(t, refuseResolver{t}, "--netns", strconv.Itoa(kids[0].pid), "-tln")
	if !strings.Contains(stdout, "127.0.0.1:"+strconv.Itoa(kids[0].port)) || strings.Contains(stdout, "127.0.0.1:"+strconv.Itoa(kids[1].port)+" ") {
		t.Errorf("--netns %d:\n%s", kids[0].pid, stdout)
	}
}

// TestNetNSWatch: -c rounds of --all-netns read every namespace and show
// the NetNS column as the one-shot listing does, each row behind its
// two-column marker; the host's :80 and the container's :80 are two
// connections, so the host's closing marks only its own row.
func TestNetNSWatch(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	for _, args := range []string{"--all-netns -tanp", "--all-netns -tanpW", "--all-netns -xa", "--netns 300 -tanp"} {
		oneShot, errs, code := runCLI(t, refuseResolver{t}, append(strings.Fields(args), "--root", root)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", args, code, errs)
		}
		w := newWatcher(watchConfig(t, root, append(strings.Fields(args), "-c", "1")...))
		b, err := w.round(context.Background(), nil, io.Discard, false)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, line := range strings.Split(strings.TrimSuffix(oneShot, "\n"), "\n") {
			if strings.HasPrefix(line, "Active ") {
				want = append(want, line)
			} else {
				want = append(want, "  "+line)
			}
		}
		if d := cmp.Diff(want, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")); d != "" {
			t.Errorf("%s -c, round 1, against the one-shot listing (-want +got):\n%s", args, d)
		}
	}

	// Round 2: the host's nginx listener is gone.
	w := newWatcher(watchConfig(t, root, "--all-netns", "-tan", "-c", "1"))
	if _, err := w.round(context.Background(), nil, io.Discard, false); err != nil {
		t.Fatal(err)
	}
	hostTCP := filepath.Join(root, "proc/1/net/tcp")
	old, err := os.ReadFile(hostTCP)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(old), "\n") {
		if !strings.Contains(line, "00000000:0050 00000000:0000 0A") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(hostTCP, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := w.round(context.Background(), nil, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, "0.0.0.0:80 ") {
			got = append(got, strings.Join(strings.Fields(line), " "))
		}
	}
	want := []string{
		"- 4026531840/init.scope tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN",
		"4026532301/3f4e5d6c7b8a tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round 2, the :80 listeners (-want +got):\n%s", d)
	}
}

// TestNetNSNonRoot: as nobody, --all-netns cannot see the namespace of a
// root-held listener; it says on stderr how many processes' namespaces it
// could not read, and why, instead of leaving them out silently.
func TestNetNSNonRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare -n and to switch to nobody")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "-n", "sh", "-c", `ip link set lo up 2>/dev/null; exec "$0" -test.run=NONE`, self)
	cmd.Env = append(os.Environ(), nsHolderEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill() // by PID: only the child we started
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "port ")))
	if err != nil || perr != nil {
		t.Fatalf("holder said %q (%v)", line, err)
	}

	bin := builtBinary(t)
	for _, args := range []string{"--all-netns -tln", "--all-netns -tln -c 0.1"} {
		nb := exec.Command(bin, strings.Fields(args)...)
		nb.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stdout, stderr strings.Builder
		nb.Stdout, nb.Stderr = &stdout, &stderr
		if err := nb.Start(); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(args, "-c") {
			time.Sleep(500 * time.Millisecond)
			nb.Process.Signal(syscall.SIGTERM) // the process we started
		}
		if err := nb.Wait(); err != nil {
			t.Fatalf("%s as nobody: %v\n%s", args, err, stderr.String())
		}
		if strings.Contains(stdout.String(), "127.0.0.1:"+strconv.Itoa(port)+" ") {
			t.Errorf("%s as nobody lists root's namespace:\n%s", args, stdout.String())
		}
		var n int
		msg := stderr.String()
		i := strings.Index(msg, "the network namespace of ")
		if i >= 0 {
			fmt.Sscanf(msg[i+len("the network namespace of "):], "%d", &n)
		}
		if n < 1 || !strings.Contains(msg, "permission denied") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s as nobody: stderr %q, want one line counting the processes skipped and why", args, msg)
		}
	}

	// --quiet: the note is left out, the listing is the same.
	nb := exec.Command(bin, "--all-netns", "-tln", "--quiet")
	nb.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var qerr strings.Builder
	nb.Stderr = &qerr
	if _, err := nb.Output(); err != nil || qerr.Len() != 0 {
		t.Errorf("--quiet as nobody: %v, stderr %q", err, qerr.String())
	}

	// The namespace series are the same from run to run: as nobody the
	// namespace was once read through our own process, whose PID was a
	// label (of procnet_netns_info, now the netns and container labels of
	// procnet_netns_sockets).
	var runs [2]string
	for i := range runs {
		nb := exec.Command(bin, "--all-netns", "--format", "prometheus", "-tl")
		nb.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		b, err := nb.Output()
		if err != nil {
			t.Fatalf("--format prometheus as nobody: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "procnet_netns_sockets{") {
				runs[i] += l[:strings.LastIndexByte(l, ' ')] + "\n" // labels, not the count
			}
		}
	}
	if runs[0] == "" || runs[0] != runs[1] {
		t.Errorf("procnet_netns_sockets series differ between two runs:\n%s---\n%s", runs[0], runs[1])
	}
}
