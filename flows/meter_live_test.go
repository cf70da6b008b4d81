package flows

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// The byte counts the live meter test moves: on the long connection up
// from the child and down to it; on the short one, up only.
const meterUp, meterDown, meterShort = 1000000, 123456, 54321

// init runs the child of TestLiveMeter (METER_CHILD=addr): it connects,
// says its port, and on "go" from stdin moves meterUp bytes up and
// meterDown down on that connection, then opens a second one, writes
// meterShort bytes, closes it and says its port; it exits when stdin
// closes.
func init() {
	addr := os.Getenv("METER_CHILD")
	if addr == "" {
		return
	}
	if err := meterChild(addr); err != nil {
		fmt.Fprintln(os.Stderr, "meter child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func meterChild(addr string) error {
	in := bufio.NewReader(os.Stdin)
	c, err := net.Dial("tcp4", addr)
	if err != nil {
		return err
	}
	fmt.Printf("long %d\n", c.LocalAddr().(*net.TCPAddr).Port)
	if line, err := in.ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("stdin: %q %v", line, err)
	}
	if _, err := c.Write(make([]byte, meterUp)); err != nil {
		return err
	}
	if _, err := io.CopyN(io.Discard, c, meterDown); err != nil {
		return err
	}
	s, err := net.Dial("tcp4", addr)
	if err != nil {
		return err
	}
	if _, err := s.Write(make([]byte, meterShort)); err != nil {
		return err
	}
	port := s.LocalAddr().(*net.TCPAddr).Port
	s.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, s) // until the server closes its side
	s.Close()
	fmt.Printf("short %d\n", port)
	io.Copy(io.Discard, in)
	c.Close()
	return nil
}

// TestLiveMeter moves known byte counts over loopback between two rounds
// from a child process and finds them exactly per connection and per
// process, including a connection that opened and closed between the
// rounds, counted from the feed's Close events (tracepoint and destroy,
// each skipped when it does not load; without a feed that connection is
// not counted).
func TestLiveMeter(t *testing.T) {
	for _, src := range []Source{SourceTracepoint, SourceDestroy, SourceAuto} {
		name := src.String()
		if src == SourceAuto {
			name = "no feed"
		}
		t.Run(name, func(t *testing.T) { liveMeter(t, src) })
	}
}

// liveMeter runs TestLiveMeter with a feed from src (none for SourceAuto).
func liveMeter(t *testing.T, src Source) {
	rd := netstat.Reader{Traffic: true}
	var feed *Feed
	if src != SourceAuto {
		f, err := Start(Options{Source: src, Interval: 50 * time.Millisecond})
		if errors.Is(err, ErrUnavailable) {
			t.Skipf("%v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		feed = f
	}

	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	srv := l.Addr().(*net.TCPAddr).AddrPort()
	longDone := make(chan error, 1)
	go func() {
		c, err := l.Accept() // the long connection: read up, write down, hold
		if err != nil {
			longDone <- err
			return
		}
		defer c.Close()
		if _, err = io.CopyN(io.Discard, c, meterUp); err == nil {
			_, err = c.Write(make([]byte, meterDown))
		}
		longDone <- err
		s, err := l.Accept() // the short one: read to EOF, close
		if err != nil {
			return
		}
		io.Copy(io.Discard, s)
		s.Close()
		io.Copy(io.Discard, c)
	}()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "METER_CHILD="+srv.String())
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	port := func(what string) uint16 {
		t.Helper()
		line, err := out.ReadString('\n')
		f := strings.Fields(line)
		if err != nil || len(f) != 2 || f[0] != what {
			t.Fatalf("child said %q (%v), want %s PORT", line, err, what)
		}
		n, _ := strconv.Atoi(f[1])
		return uint16(n)
	}
	child, self := cmd.Process.Pid, os.Getpid()
	longPort := port("long")

	lo := netip.MustParseAddr("127.0.0.1")
	m := NewMeter(feed != nil)
	var evs []Event
	ours := func(evs []Event) []Event { // the events of our server's connections
		kept := evs[:0]
		for _, ev := range evs {
			if ev.Local.Port() == srv.Port() || ev.Remote.Port() == srv.Port() {
				kept = append(kept, ev)
			}
		}
		return kept
	}
	type connOut struct {
		ConnTraffic
		owner Owner
	}
	round := func() (map[netip.AddrPort]connOut, []ClosedTraffic, []Event, map[int]OwnerTraffic) {
		t.Helper()
		if feed != nil {
			evs, _ = feed.Drain(evs)
		}
		evs = ours(evs)
		rows, err := rd.AppendSockets(context.Background(), nil, netstat.Filter{Protos: netstat.Protos(netstat.TCP), Ports: []uint16{srv.Port()}})
		if err != nil {
			t.Fatal(err)
		}
		inodes := map[uint64]bool{}
		for _, s := range rows {
			inodes[s.Inode] = s.Inode != 0
		}
		pm, err := procmap.Build(context.Background(), procmap.Options{Inodes: inodes})
		if err != nil {
			t.Fatal(err)
		}
		used := evs
		closed := m.Begin(time.Now(), used)
		evs = nil // closed refers to used by index: keep them
		conns := map[netip.AddrPort]connOut{}
		for i := range rows {
			var o Owner
			if os := pm.Lookup(rows[i].Inode); len(os) > 0 {
				o.PID = os[0].PID
				if p := pm.Process(o.PID); p != nil {
					o.Program = p.Comm
				}
			}
			c := m.Add(&rows[i], o)
			if c.Known { // not an older TIME_WAIT socket on a reused port
				conns[rows[i].Local] = connOut{c, o}
			}
		}
		owners := map[int]OwnerTraffic{}
		for _, o := range m.End() {
			owners[o.PID] = o
		}
		return conns, closed, used, owners
	}

	conns, _, _, _ := round()
	client := netip.AddrPortFrom(lo, longPort)
	if c := conns[client]; !c.Known || c.owner.PID != child || c.BytesSent != 0 {
		t.Fatalf("round 1: the child's connection %v: %+v", client, c)
	}
	io.WriteString(stdin, "go\n")
	if err := <-longDone; err != nil {
		t.Fatal(err)
	}
	shortPort := port("short")
	// The short connection's Close events may reach the feed up to 50 ms
	// after the close (the tracepoint's ring is read that often), a
	// destroy notification when the socket is freed.
	want := map[netip.AddrPort]bool{netip.AddrPortFrom(lo, shortPort): true, srv: true}
	var pending []Event
	for deadline := time.Now().Add(5 * time.Second); feed != nil && len(want) > 0 && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		ev, err := feed.Next(ctx)
		cancel()
		if err != nil {
			continue
		}
		if ev.Kind == Close && (ev.Local.Port() == shortPort || ev.Remote.Port() == shortPort) {
			delete(want, ev.Local)
		}
		pending = append(pending, ev)
	}
	if feed != nil && len(want) > 0 {
		t.Errorf("no Close event for %v", want)
	}
	evs = append(evs, ours(pending)...)

	conns, closed, used, owners := round()
	for _, c := range []struct {
		name       string
		local      netip.AddrPort
		sent, recv uint64
		pid        int
	}{
		{"child's end", client, meterUp, meterDown, child},
	} {
		got := conns[c.local]
		if got.owner.PID != c.pid || got.DeltaSent != c.sent || got.DeltaReceived != c.recv || got.BytesSent != c.sent || got.New || !got.Rate {
			t.Errorf("%s %v: %+v owned by %+v, want %d sent, %d received by %d", c.name, c.local, got.ConnTraffic, got.owner, c.sent, c.recv, c.pid)
		}
	}
	var serverEnd *connOut
	for local, c := range conns {
		if local.Port() == srv.Port() && c.Known {
			if serverEnd != nil {
				t.Errorf("two server ends: %v", conns)
			}
			serverEnd = &c
		}
	}
	if serverEnd == nil || serverEnd.owner.PID != self || serverEnd.DeltaSent != meterDown || serverEnd.DeltaReceived != meterUp {
		t.Errorf("server's end: %+v, want %d sent, %d received by %d", serverEnd, meterDown, meterUp, self)
	}

	wantChild := OwnerTraffic{DeltaSent: meterUp, DeltaReceived: meterDown}
	wantSelf := OwnerTraffic{DeltaSent: meterDown, DeltaReceived: meterUp}
	if feed != nil {
		// Each end of the short connection, from its Close event.
		var fin uint64
		if feed.Source() == SourceDestroy {
			fin = 1 // the destroy source's received count includes the peer's FIN
		}
		n := 0
		for _, c := range closed {
			ev := used[c.Event]
			switch {
			case ev.Local.Port() == shortPort:
				n++
				if !c.New || c.DeltaSent != meterShort || c.DeltaReceived != fin {
					t.Errorf("short connection, child's end: %+v", c)
				}
				if feed.Source() == SourceTracepoint && c.Owner.PID != child {
					t.Errorf("short connection, child's end counted for %+v, want PID %d", c.Owner, child)
				}
				if c.Owner.PID == child {
					wantChild.DeltaSent += c.DeltaSent
					wantChild.DeltaReceived += c.DeltaReceived
				}
			case ev.Remote.Port() == shortPort:
				n++
				if !c.New || c.DeltaSent != 0 || c.DeltaReceived != meterShort+fin {
					t.Errorf("short connection, server's end: %+v", c)
				}
				if feed.Source() == SourceTracepoint && c.Owner.PID != self {
					t.Errorf("short connection, server's end counted for %+v, want PID %d", c.Owner, self)
				}
				if c.Owner.PID == self {
					wantSelf.DeltaSent += c.DeltaSent
					wantSelf.DeltaReceived += c.DeltaReceived
				}
			}
		}
		if n != 2 {
			t.Errorf("%d ends of the short connection counted, want 2: %+v", n, closed)
		}
	}
	for _, w := range []struct {
		pid  int
		want OwnerTraffic
	}{{child, wantChild}, {self, wantSelf}} {
		got := owners[w.pid]
		if got.DeltaSent != w.want.DeltaSent || got.DeltaReceived != w.want.DeltaReceived ||
			got.BytesSent != w.want.DeltaSent || got.BytesReceived != w.want.DeltaReceived || !got.Rate || got.SendBps <= 0 {
			t.Errorf("PID %d: %+v, want %d sent, %d received", w.pid, got, w.want.DeltaSent, w.want.DeltaReceived)
		}
	}
	t.Logf("child %d: %+v", child, owners[child])
}
