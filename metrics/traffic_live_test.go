package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
)

// The child of TestTrafficLive: connect to $PROCNET_TRAFFIC_CHILD, send
// childSent1 bytes, read childRecv, send childSent2, close.
const (
	childSent1 = 300_001
	childRecv  = 70_003
	childSent2 = 1_234_567
	childName  = "trafficchild" // its comm: the name it is run by
)

var tcpOnly = Options{NoUnix: true, Traffic: true, Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP, netstat.TCP6)}}

func TestMain(m *testing.M) {
	if addr := os.Getenv("PROCNET_TRAFFIC_CHILD"); addr != "" {
		if err := trafficChild(addr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func trafficChild(addr string) error {
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(make([]byte, childSent1)); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, make([]byte, childRecv)); err != nil {
		return err
	}
	if _, err := c.Write(make([]byte, childSent2)); err != nil {
		return err
	}
	return c.Close()
}

// TestTrafficLive: a child process (named trafficchild) moves known bytes
// over loopback with the test, is scraped while its connection is open,
// then closes it; its program's counters, and the test's own (the server
// side), rise by exactly those bytes and never fall across scrapes. Run
// over each close feed that works here, with the server on 127.0.0.1
// (tcp) and on a dual-stack [::] socket (tcp6, IPv4-mapped addresses).
func TestTrafficLive(t *testing.T) {
	for _, src := range []flows.Source{flows.SourceTracepoint, flows.SourceDestroy} {
		for _, addr := range []string{"127.0.0.1:0", "[::]:0"} {
			t.Run(src.String()+"/"+addr, func(t *testing.T) {
				o := tcpOnly
				o.TrafficSource = src
				c := New(o)
				defer c.Close()
				if _, err := c.TrafficSource(); err != nil {
					t.Skip(err)
				}
				trafficLive(t, c, src, addr)
			})
		}
	}
}

func trafficLive(t *testing.T, c *Collector, src flows.Source, addr string) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(t.TempDir(), childName)
	if err := os.Symlink(self, child); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	server := "program=" + strings.TrimSuffix(string(comm), "\n")

	var lastS, lastR, selfS, selfR float64
	scrape := func(step string) {
		t.Helper()
		fams := collect(t, c)
		s, _ := value(fams, "procnet_program_tcp_sent_bytes_total", "program="+childName)
		r, _ := value(fams, "procnet_program_tcp_received_bytes_total", "program="+childName)
		ss, _ := value(fams, "procnet_program_tcp_sent_bytes_total", server)
		sr, _ := value(fams, "procnet_program_tcp_received_bytes_total", server)
		if s < lastS || r < lastR || ss < selfS || sr < selfR {
			t.Fatalf("%s: counters fell from %v, %v (server %v, %v) to %v, %v (%v, %v)", step, lastS, lastR, selfS, selfR, s, r, ss, sr)
		}
		lastS, lastR, selfS, selfR = s, r, ss, sr
	}
	scrape("before")
	if lastS != 0 || lastR != 0 {
		t.Fatalf("%s counted before it ran: %v, %v", childName, lastS, lastR)
	}
	self0S, self0R := selfS, selfR
	port := ln.Addr().(*net.TCPAddr).Port

	cmd := exec.Command(child, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROCNET_TRAFFIC_CHILD=127.0.0.1:"+strconv.Itoa(port))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill() // by PID: the child this test started
			cmd.Wait()
		}
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if _, err := io.ReadFull(br, make([]byte, childSent1)); err != nil {
		t.Fatal(err)
	}
	// Open, its first bytes moved: a scrape lists it.
	scrape("open")
	if lastS != childSent1 || lastR != 0 {
		t.Errorf("open: %v sent, %v received, want %d, 0", lastS, lastR, childSent1)
	}
	if _, err := conn.Write(make([]byte, childRecv)); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, br)
	if err != nil || n != childSent2 {
		t.Fatalf("read %d of the child's %d bytes: %v", n, childSent2, err)
	}
	conn.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// Closed: its final bytes arrive from the feed (some ms later).
	wantS, wantR := float64(childSent1+childSent2), float64(childRecv)
	deadline := time.Now().Add(5 * time.Second)
	for {
		scrape("closed")
		if lastS >= wantS && lastR >= wantR && selfR-self0R >= wantS && selfS-self0S >= wantR || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 5 {
		scrape("after")
		time.Sleep(20 * time.Millisecond)
	}
	// The destroy source's final tcp_info counts the peer's FIN as a
	// received byte (flows' doc); the tracepoint's does not.
	fin := 0.0
	if src == flows.SourceDestroy {
		fin = 1
	}
	if lastS != wantS || lastR < wantR || lastR > wantR+fin {
		t.Errorf("%s after close: %v sent, %v received; want %v, %v (+%v)", childName, lastS, lastR, wantS, wantR, fin)
	}
	if selfS-self0S != wantR || selfR-self0R < wantS || selfR-self0R > wantS+fin {
		t.Errorf("the server side after close: %v sent, %v received; want %v, %v (+%v)", selfS-self0S, selfR-self0R, wantR, wantS, fin)
	}
	t.Logf("%v: %s sent %v, received %v; the server %v, %v", src, childName, lastS, lastR, selfS-self0S, selfR-self0R)
}
