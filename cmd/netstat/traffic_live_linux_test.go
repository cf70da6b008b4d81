package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/procnet/procnet/flows"
)

// trafficServer listens on 127.0.0.1 and, for each connection, reads
// in bytes, writes out bytes, then waits for the client to close.
func trafficServer(t *testing.T, in, out int) (net.Listener, int) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := io.CopyN(io.Discard, c, int64(in)); err != nil {
					return
				}
				c.Write(make([]byte, out))
				io.Copy(io.Discard, c)
			}()
		}
	}()
	return l, l.Addr().(*net.TCPAddr).Port
}

// runJSONLines runs the command and decodes its JSON Lines.
func runJSONLines(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("%v: %v %s", args, err, errb.String())
	}
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// TestTrafficLive moves known byte counts over loopback and finds them
// exactly: per connection (--traffic --json, both ends) and per process
// (--summary --traffic --json: both ends are this process).
func TestTrafficLive(t *testing.T) {
	const sent, recv = 123457, 654321
	_, port := trafficServer(t, sent, recv)
	c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, sent)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, c, recv); err != nil {
		t.Fatal(err)
	}
	cport := float64(c.LocalAddr().(*net.TCPAddr).Port)
	ps := strconv.Itoa(port)
	// The last ACKs may still be on their way: a few tries.
	var objs []map[string]any
	ok := false
	for try := 0; try < 20 && !ok; try++ {
		time.Sleep(50 * time.Millisecond)
		objs = runJSONLines(t, "--traffic", "--json", "-tn", "--port", ps)
		ends := 0
		for _, m := range objs {
			switch {
			case m["local_port"] == cport && m["bytes_sent"] == float64(sent) && m["bytes_received"] == float64(recv):
				ends++
			case m["remote_port"] == cport && m["bytes_sent"] == float64(recv) && m["bytes_received"] == float64(sent):
				ends++
			}
		}
		ok = ends == 2
	}
	if !ok {
		if len(objs) > 0 && objs[0]["bytes_sent"] == nil {
			t.Skipf("no traffic counters here (proc source?): %v", objs)
		}
		t.Fatalf("per connection: want %d/%d both ways, got %v", sent, recv, objs)
	}
	for _, m := range objs {
		if m["segs_out"] == nil || m["segs_in"] == nil {
			t.Errorf("segments unknown: %v", m)
		}
	}
	gs := runJSONLines(t, "--summary", "--traffic", "--json", "-tn", "--port", ps)
	found := false
	for _, g := range gs {
		if g["pid"] == float64(os.Getpid()) {
			found = true
			if g["bytes_sent"] != float64(sent+recv) || g["bytes_received"] != float64(sent+recv) {
				t.Errorf("per process: %v, want %d both ways", g, sent+recv)
			}
		}
	}
	if !found {
		t.Errorf("no group for PID %d: %v", os.Getpid(), gs)
	}
}

// TestWatchFlashLive opens and closes a connection between two -c rounds:
// with a feed it is shown once, marked "*".
func TestWatchFlashLive(t *testing.T) {
	const sent = 777
	_, port := trafficServer(t, sent, 0)
	ps := strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-tn", "--traffic", "-c", "0.5", "--port", ps}, pw, &errb)
		pw.Close()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Wait for the first round's listing to start.
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case l := <-lines:
			seen = strings.HasPrefix(l, "  Proto")
		case <-deadline:
			t.Fatal("no round")
		}
	}
	if strings.Contains(errb.String(), "no connection feed") {
		t.Skip(errb.String())
	}
	c, err := net.Dial("tcp4", "127.0.0.1:"+ps)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(make([]byte, sent))
	c.Close()
	var got []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ended: %s", errb.String())
			}
			got = append(got, l)
			if strings.HasPrefix(l, "* tcp") && strings.Contains(l, ":"+ps) {
				// Its final counters: 777 one way (either end's row).
				if strings.Contains(l, "CLOSE ") && !strings.HasSuffix(l, " "+strconv.Itoa(sent)) && !strings.Contains(l, " "+strconv.Itoa(sent)+" ") {
					t.Errorf("closed row without its %d bytes: %q", sent, l)
				}
				cancel()
				<-done
				return
			}
		case <-deadline:
			t.Fatalf("no '*' row in:\n%s\nstderr: %s", strings.Join(got, "\n"), errb.String())
		}
	}
}

// TestSummaryTrafficWatchLive counts, per process under -c, the bytes of a
// connection that opened and closed between two rounds (from the feed's
// Close events), with a rate.
func TestSummaryTrafficWatchLive(t *testing.T) {
	const sent = 5000
	_, port := trafficServer(t, sent, 0)
	ps := strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--summary", "--traffic", "--json", "-tn", "-c", "0.5", "--port", ps}, pw, &errb)
		pw.Close()
	}()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(700 * time.Millisecond) // a first round
	if strings.Contains(errb.String(), "no connection feed") {
		t.Skip(errb.String())
	}
	c, err := net.Dial("tcp4", "127.0.0.1:"+ps)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(make([]byte, sent))
	c.Close() // between two rounds: only the feed's Close events tell of it
	deadline := time.After(10 * time.Second)
	var got []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("ended: %s", errb.String())
			}
			got = append(got, l)
			var g map[string]any
			json.Unmarshal([]byte(l), &g)
			if g["pid"] == float64(os.Getpid()) && g["bytes_sent"] == float64(sent) && g["bytes_received"] == float64(sent) {
				if g["send_bps"] == nil || g["send_bps"].(float64) <= 0 {
					t.Errorf("no rate: %s", l)
				}
				cancel()
				<-done
				return
			}
		case <-deadline:
			t.Fatalf("no group with %d bytes both ways in:\n%s\nstderr: %s", sent, strings.Join(got, "\n"), errb.String())
		}
	}
}

// TestSummaryQuietRoundLive: with the tracepoint feed, a --summary -c
// round with no event since the last re-reads nothing and prints the last
// counts; an event makes the next round read.
func TestSummaryQuietRoundLive(t *testing.T) {
	_, port := trafficServer(t, 1, 0)
	ps := strconv.Itoa(port)
	c, err := parse([]string{"--summary", "-tan", "-c", "1", "--port", ps})
	if err != nil {
		t.Fatal(err)
	}
	c.unix, c.programs = false, true
	w := newWatcher(c)
	var errb bytes.Buffer
	w.startFeed(&errb)
	defer w.poller.Close()
	if w.feed == nil || w.feed.Source() != flows.SourceTracepoint {
		t.Skip("no tracepoint feed here")
	}
	ctx := context.Background()
	if _, err := w.round(ctx, nil, &errb, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // events reach the feed within 50 ms
	b, err := w.round(ctx, nil, &errb, false)
	if err != nil {
		t.Fatal(err)
	}
	if w.rounds != 1 {
		t.Errorf("quiet round read the tables: rounds %d", w.rounds)
	}
	if !strings.Contains(string(b), "LISTEN") || strings.Contains(string(b), "ESTAB      1") {
		t.Errorf("quiet round:\n%s", b)
	}
	conn, err := net.Dial("tcp4", "127.0.0.1:"+ps)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(200 * time.Millisecond)
	b, err = w.round(ctx, nil, &errb, false)
	if err != nil {
		t.Fatal(err)
	}
	if w.rounds != 2 {
		t.Errorf("round after an event: rounds %d", w.rounds)
	}
	pid := strconv.Itoa(os.Getpid())
	if !strings.Contains(string(b), "~ "+strings.Repeat(" ", 7-len(pid))+pid) {
		t.Errorf("the new connection not counted:\n%s", b)
	}
}

// TestTrafficCaptureLive: --capture --traffic writes the traffic file, so
// that the replay shows the same byte counts as the live run.
func TestTrafficCaptureLive(t *testing.T) {
	const sent, recv = 4321, 98765
	_, port := trafficServer(t, sent, recv)
	c, err := net.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(make([]byte, sent))
	if _, err := io.CopyN(io.Discard, c, recv); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the last ACKs
	out, dir := replay(t, refuseResolver{t}, "--traffic", "--json", "-tn", "--port", strconv.Itoa(port))
	if _, err := os.Stat(dir + "/proc/net/procnet-traffic"); err != nil {
		t.Fatal(err)
	}
	cport := `"local_port":` + strconv.Itoa(c.LocalAddr().(*net.TCPAddr).Port) + ","
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, cport) {
			if !strings.Contains(line, `"bytes_sent":`+strconv.Itoa(sent)+`,"bytes_received":`+strconv.Itoa(recv)+",") {
				t.Errorf("client row: %s", line)
			}
			return
		}
	}
	t.Errorf("no client row in:\n%s", out)
}

// TestWatchFlashNonRootLive: not root, the tracepoint does not load and
// -c --traffic falls back to the destroy notifications, which still show
// a connection that opened and closed between two rounds, marked "*".
func TestWatchFlashNonRootLive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the command as nobody")
	}
	_, port := trafficServer(t, 321, 0)
	ps := strconv.Itoa(port)
	bin := builtBinary(t)
	cmd := exec.Command(bin, "-tn", "--traffic", "-c", "0.5", "--port", ps)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // the feed is up, a round or two
	c, err := net.Dial("tcp4", "127.0.0.1:"+ps)
	if err != nil {
		t.Fatal(err)
	}
	c.Write(make([]byte, 321))
	c.Close()
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM) // the process we started
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "no connection feed") {
		t.Skip(stderr.String())
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "* tcp") && strings.Contains(l, ":"+ps) {
			return
		}
	}
	t.Errorf("no '*' row as nobody:\n%s\nstderr: %s", stdout.String(), stderr.String())
}
