package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procnet/procnet/metrics"
	fixture "github.com/procnet/procnet/procnettest"
	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseExposition parses text with the Prometheus reference parser and
// fails the test on any error.
func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses the output: %v\n%s", err, text)
	}
	for name, f := range fams {
		if f.GetHelp() == "" || f.Type == nil {
			t.Errorf("%s: no HELP or TYPE", name)
		}
	}
	return fams
}

// value returns the sample of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		default:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// scrapeTime is the one sample that changes between runs.
var scrapeTime = regexp.MustCompile(`(?m)^procnet_scrape_duration_seconds .*$`)

// untimed is an output less the scrape's duration, for comparing runs.
func untimed(out string) string {
	return scrapeTime.ReplaceAllString(out, "procnet_scrape_duration_seconds (varies)")
}

// promtoolCheck runs `promtool check metrics` (the lint rules) over text
// when promtool is installed.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		return
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestPrometheusGolden(t *testing.T) {
	for _, tc := range []struct{ txtar, name, args string }{
		{"host", "host", "--format prometheus"},
		{"host", "host-per-process", "--format prometheus --per-process -tu"},
		{"host", "host-l", "--format prometheus -l"},
		{"host", "host-bounds", "--format prometheus --listener-ports 22,8000-8100 --max-programs 2 --max-listeners 1"},
		{"netns", "netns", "--format prometheus --all-netns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture.Root(t, "testdata/"+tc.txtar+".txtar")
			stdout, stderr, code := runCLI(t, refuseResolver{t}, append(strings.Fields(tc.args), "--root", root)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			parseExposition(t, stdout)
			promtoolCheck(t, stdout)
			fixture.Golden(t, "testdata/prometheus/"+tc.name+".prom", []byte(untimed(stdout)))
		})
	}
}

// TestPrometheusClientGolang: the command writes the text format itself
// (it links neither client_golang nor protobuf); its output over each
// fixture is byte for byte what client_golang's registry and expfmt make
// of package metrics' Collector with the same options.
func TestPrometheusClientGolang(t *testing.T) {
	for _, tc := range []struct{ txtar, args string }{
		{"testdata/host.txtar", "--format prometheus"},
		{"testdata/host.txtar", "--format prometheus --per-process -tu"},
		{"testdata/host.txtar", "--format prometheus -l --listener-ports none"},
		{"testdata/host.txtar", "--format prometheus --listener-ports 22,8000-8100 --max-programs 2 --max-listeners 1"},
		{"testdata/netns.txtar", "--format prometheus --all-netns"},
		{"testdata/netns.txtar", "--format prometheus --all-netns --max-netns 1 -x"},
		{"../../metrics/testdata/host.txtar", "--format prometheus --state established --port 22"},
	} {
		t.Run(tc.args, func(t *testing.T) {
			args := append(strings.Fields(tc.args), "--root", fixture.Root(t, tc.txtar))
			got, stderr, code := runCLI(t, refuseResolver{t}, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			c, err := parseFor(args, refuseResolver{t}, false)
			if err != nil {
				t.Fatal(err)
			}
			reg := prom.NewRegistry()
			reg.MustRegister(metrics.New(metrics.Options(c.collectorOptions())))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			for _, mf := range mfs {
				if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
					t.Fatal(err)
				}
			}
			if untimed(got) != untimed(want.String()) {
				t.Errorf("differs from client_golang's:\n%s", fixture.Diff([]byte(untimed(want.String())), []byte(untimed(got))))
			}
		})
	}
}

// TestPrometheusLinksNoClientGolang: the command links neither
// client_golang nor what it brings (protobuf, prometheus/common,
// prometheus/procfs, expvar), nor net/http (crypto/tls, x509, http2):
// their size and package initialisation cost every run of the command,
// --format prometheus or not (~1.7 ms and ~4 MiB for the former, ~2 MiB
// for net/http).
func TestPrometheusLinksNoClientGolang(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip(err)
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/prometheus/") || strings.HasPrefix(pkg, "google.golang.org/protobuf/") ||
			pkg == "expvar" || pkg == "github.com/procnet/procnet/metrics" || pkg == "net/http" || pkg == "crypto/tls" {
			t.Errorf("cmd/netstat links %s", pkg)
		}
	}
}

func TestPrometheusValues(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	stdout, _, _ := runCLI(t, refuseResolver{t}, "--format", "prometheus", "--all-netns", "--root", root)
	fams := parseExposition(t, stdout)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"procnet_sockets", map[string]string{"proto": "tcp", "state": "LISTEN"}, 4},
		{"procnet_sockets", map[string]string{"proto": "tcp", "state": "TIME_WAIT"}, 1},
		{"procnet_sockets", map[string]string{"proto": "tcp", "state": "CLOSE_WAIT"}, 0},
		{"procnet_netns_sockets", map[string]string{"netns": "4026532301", "container": "3f4e5d6c7b8a", "state": "LISTEN"}, 2},
		{"procnet_netns_sockets", map[string]string{"netns": "4026532402", "container": "a1b2c3d4e5f6", "state": "TIME_WAIT"}, 1},
		{"procnet_program_sockets", map[string]string{"program": "nginx", "state": "ESTABLISHED"}, 1},
		{"procnet_program_sockets", map[string]string{"program": "", "state": "TIME_WAIT"}, 1},
		{"procnet_listener_info", map[string]string{"proto": "tcp", "port": "80", "address": "0.0.0.0", "netns": "4026531840", "program": "nginx"}, 1},
		{"procnet_other_listening_sockets", nil, 1}, // redis on 6379
	} {
		got, ok := value(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// Issue 16: no interface families (node_exporter has them), no PIDs
	// as labels, no unit-less listening family.
	for name, f := range fams {
		if strings.HasPrefix(name, "procnet_interface_") || name == "procnet_listening" || name == "procnet_process_sockets" {
			t.Errorf("family %s is back", name)
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "pid" {
					t.Errorf("%s has a pid label", name)
				}
			}
		}
	}
}

// TestPrometheusHostileLabels: program names with control characters
// (issue 13: ESC, BEL, DEL, BS, CR, U+009B passed raw) reach the output
// escaped by the one rule, and the output still parses.
func TestPrometheusHostileLabels(t *testing.T) {
	root := fixture.Root(t, "../../metrics/testdata/host.txtar")
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "--format", "prometheus", "--root", root)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, bad := range []string{"\x1b", "\x07", "\x7f", "\x08", "\r", "\u009b", "\xc2\x9b", "\u202e"} {
		if strings.Contains(stdout, bad) {
			t.Errorf("output holds %q raw", bad)
		}
	}
	fams := parseExposition(t, stdout)
	want := `ev\x1b[1m\x07\x7f\x08\r\xc2\x9b\u202e`
	if v, ok := value(fams, "procnet_program_sockets", map[string]string{"program": want, "state": "ESTABLISHED"}); !ok || v != 1 {
		t.Errorf("program %q: %v %v\n%s", want, v, ok, stdout)
	}
}

func TestPrometheusUsage(t *testing.T) {
	for _, args := range []string{
		"--format prometheus -c",
		"--per-process",
		"--listen 127.0.0.1:0 --textfile /tmp/x.prom",
		"--listen 127.0.0.1:0 --format json",
		"--format prometheus --max-programs 0",
		"--format prometheus --listener-ports 80-22",
		"--format prometheus --listener-ports 0",
		"--format prometheus --pid 1",
		"--max-listeners 5",
		"--listener-ports 22",
		"--format prometheus --metrics-traffic",
		"--textfile /tmp/x.prom --metrics-traffic",
		"--textfile-interval 5",
		"--textfile /tmp/x.prom --textfile-interval 0",
		"--listen 127.0.0.1:0 --textfile-interval 5",
	} {
		if _, _, code := runCLI(t, refuseResolver{t}, strings.Fields(args)...); code != 2 {
			t.Errorf("%s: exit %d, want 2", args, code)
		}
	}
}

// TestPrometheusTextfile: --textfile writes the file whole, readable by
// node_exporter (0644), and leaves no temporary file.
func TestPrometheusTextfile(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	dir := t.TempDir()
	path := filepath.Join(dir, "procnet.prom")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "--textfile", path, "--root", root)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, stdout, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	printed, _, _ := runCLI(t, refuseResolver{t}, "--format", "prometheus", "--root", root)
	if got, want := untimed(string(b)), untimed(printed); got != want {
		t.Errorf("textfile differs from --format prometheus:\n%s", fixture.Diff([]byte(want), []byte(got)))
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode: %v %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left in %s: %v", dir, ents)
	}
	if _, _, code := runCLI(t, refuseResolver{t}, "--textfile", filepath.Join(dir, "missing", "x.prom"), "--root", root); code != 1 {
		t.Errorf("--textfile into a missing directory: exit %d, want 1", code)
	}
}

// TestPrometheusLive finds a listener the test opens, on a port listed
// with --listener-ports, under the test's own program name.
func TestPrometheusLive(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "--format", "prometheus", "-t", "--listener-ports", port)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fams := parseExposition(t, stdout)
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"proto": "tcp", "address": "127.0.0.1", "port": port, "program": strings.TrimSuffix(string(comm), "\n")}
	if v, ok := value(fams, "procnet_listener_info", want); !ok || v != 1 {
		t.Errorf("our listener %v: %v %v\n%s", want, v, ok, stdout)
	}
}

// startListen starts the built command with --listen on a free loopback
// port and returns the metrics URL; the command is stopped by PID with
// SIGTERM at cleanup, and must then exit 0.
func startListen(t *testing.T, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(builtBinary(t), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() {
		t.Fatalf("--listen printed nothing: %v", sc.Err())
	}
	line := sc.Text()
	u, ok := strings.CutPrefix(line, "netstat: serving ")
	if !ok {
		t.Fatalf("--listen: %q", line)
	}
	go io.Copy(io.Discard, stderr)
	return u, cmd
}

// stopListen ends the command as systemd would and wants a clean exit.
func stopListen(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("no exit 10 s after SIGTERM")
		cmd.Process.Kill()
		<-done
	}
}

// TestPrometheusListen scrapes --listen over HTTP twice, then stops it.
func TestPrometheusListen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	u, cmd := startListen(t, "-t")
	for range 2 {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s\n%s", u, resp.Status, b)
		}
		fams := parseExposition(t, string(b))
		if _, ok := value(fams, "procnet_sockets", map[string]string{"proto": "tcp", "state": "LISTEN"}); !ok {
			t.Errorf("no procnet_sockets in\n%s", b)
		}
		if _, ok := fams["procnet_scrape_duration_seconds"]; !ok {
			t.Error("no procnet_scrape_duration_seconds")
		}
	}
	stopListen(t, cmd)
}

// holdConnsEnv makes the test binary, started again under another name,
// hold that many loopback connections (both ends) until stdin closes.
const holdConnsEnv = "PROCNET_TEST_HOLD_CONNS"

func init() {
	if n := os.Getenv(holdConnsEnv); n != "" {
		holdConns(n)
		os.Exit(0)
	}
}

func holdConns(n string) {
	k, _ := strconv.Atoi(n)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var keep []net.Conn
	for range k {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		a, err := ln.Accept()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		keep = append(keep, c, a)
	}
	ln.Close()
	fmt.Println("ready")
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	time.Sleep(2 * time.Minute)
	runtime.KeepAlive(keep)
}

// freePort returns a loopback port free at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestPrometheusServer runs a real Prometheus server scraping --listen on
// loopback and asks its HTTP API for the ESTABLISHED count of a program
// this test started: a child holding 7 connections (14 sockets).
func TestPrometheusServer(t *testing.T) {
	server, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (.ci/run installs it)")
	}
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	dir := t.TempDir()

	// The child, under a name of its own: comm is the name it was
	// executed by.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// Unique to this run (comm keeps 15 bytes): another run of this test
	// on the machine must not add its connections to our count.
	program, conns := "pheld"+strconv.Itoa(os.Getpid()), 7
	link := filepath.Join(dir, program)
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	child := exec.Command(link)
	child.Env = append(os.Environ(), holdConnsEnv+"="+strconv.Itoa(conns))
	stdin, _ := child.StdinPipe()
	out, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { child.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			child.Process.Kill()
			<-done
		}
	})
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("child: %q", line)
	}

	u, cmd := startListen(t, "-t", "--max-programs", "1000")
	target := strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/metrics")

	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: procnet
    static_configs:
      - targets: ['%s']
`, target)), 0o644); err != nil {
		t.Fatal(err)
	}
	web := "127.0.0.1:" + strconv.Itoa(freePort(t))
	var plog bytes.Buffer
	prom := exec.Command(server, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web)
	prom.Stdout, prom.Stderr = &plog, &plog
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	stopProm := func() {
		prom.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { prom.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			prom.Process.Kill()
			<-done
		}
	}
	defer stopProm()

	query := fmt.Sprintf(`procnet_program_sockets{job="procnet",program=%q,state="ESTABLISHED"}`, program)
	api := "http://" + web + "/api/v1/query?query=" + url.QueryEscape(query)
	var got string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get(api)
		if err != nil {
			continue // not up yet
		}
		var r struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || r.Status != "success" || len(r.Data.Result) != 1 {
			continue
		}
		got, _ = r.Data.Result[0].Value[1].(string)
		if got == strconv.Itoa(2*conns) {
			break
		}
	}
	if got != strconv.Itoa(2*conns) {
		t.Errorf("Prometheus answered %s = %q, want %d\nprometheus log:\n%s", query, got, 2*conns, plog.String())
	}
	stopProm()
	stopListen(t, cmd)
}

// TestPrometheusListenTraffic: --listen --metrics-traffic serves the
// per-program TCP byte counters as counters, over a close feed (root:
// the tracepoint, else the destroy notifications), and they hold the
// bytes of a connection this test makes between two scrapes.
func TestPrometheusListenTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	u, cmd := startListen(t, "-t", "--metrics-traffic")
	get := func() map[string]*dto.MetricFamily {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return parseExposition(t, string(b))
	}
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	self := map[string]string{"program": strings.TrimSuffix(string(comm), "\n")}
	before, _ := value(get(), "procnet_program_tcp_sent_bytes_total", self)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if a, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, a)
			a.Close()
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	const n = 123_457
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	c.Close()
	var fams map[string]*dto.MetricFamily
	var after float64
	for range 300 { // 15 s: a loaded machine delays the close event
		fams = get()
		// The test sends n; the accepting side, also this program,
		// sends nothing.
		if after, _ = value(fams, "procnet_program_tcp_sent_bytes_total", self); after >= before+n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, name := range []string{"procnet_program_tcp_sent_bytes_total", "procnet_program_tcp_received_bytes_total"} {
		if f := fams[name]; f == nil || f.GetType() != dto.MetricType_COUNTER {
			t.Fatalf("%s: not a counter: %v", name, f)
		}
	}
	if after < before+n {
		t.Errorf("sent by %s: %v before, %v after sending %d", self["program"], before, after, n)
	}
	stopListen(t, cmd)
}

// TestPrometheusTextfileInterval: --textfile-interval rewrites the file
// until SIGTERM, then exits 0.
func TestPrometheusTextfileInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	path := filepath.Join(t.TempDir(), "procnet.prom")
	cmd := exec.Command(builtBinary(t), "-t", "--textfile", path, "--textfile-interval", "0.1", "--metrics-traffic")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	var first []byte
	for range 100 {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			if first == nil {
				first = b
			} else if !bytes.Equal(b, first) {
				parseExposition(t, string(b))
				stopListen(t, cmd)
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the textfile was not rewritten")
}
