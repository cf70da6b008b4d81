// Command loadgen holds a bounded number of loopback TCP connections spread
// over several processes, so that socket-table tools can be timed against a
// known load.
//
// The parent re-executes itself -procs times as workers. Each worker listens
// on 127.0.0.1 and [::1] (port 0), dials its share of the -conns
// connections to other workers' listeners (every 4th over IPv6), accepts
// the connections aimed at it, and holds everything: 2×conns TCP sockets
// plus 2×procs listeners in total. Each worker also holds -extra-fds
// non-socket fds (/dev/null, pipes) and -udp UDP sockets.
//
// Once every connection is established and accepted, the parent prints
// "ready <worker pids>" on stdout (and writes the same line to -ready FILE).
// Every process exits by itself after -duration; workers also exit when
// the parent goes away (stdin EOF, and PDEATHSIG). On SIGINT/SIGTERM the
// parent ends its own workers by PID.
//
// Traffic goes only to 127.0.0.0/8 and ::1; no data is sent.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

type config struct {
	conns, procs, extraFDs, udp, parallel, srcAddrs int
	duration, readyTimeout                          time.Duration
	ready                                           string
}

func main() {
	var c config
	var worker int
	flag.IntVar(&c.conns, "conns", 1000, "TCP connections (both ends are local: 2×conns sockets)")
	flag.IntVar(&c.procs, "procs", 10, "worker processes (>= 2)")
	flag.IntVar(&c.extraFDs, "extra-fds", 50, "non-socket fds per worker (/dev/null, pipes)")
	flag.IntVar(&c.udp, "udp", 4, "UDP sockets per worker (every other one connected)")
	flag.IntVar(&c.parallel, "parallel", 16, "connects in flight per worker")
	flag.IntVar(&c.srcAddrs, "src-addrs", 4, "IPv4 source addresses to spread over (127.0.0.1..N)")
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "every process exits after this")
	flag.DurationVar(&c.readyTimeout, "ready-timeout", 2*time.Minute, "give up if not ready by then")
	flag.StringVar(&c.ready, "ready", "", "also write the ready line to this file")
	flag.IntVar(&worker, "worker", -1, "internal: run as worker number N")
	flag.Parse()
	if c.procs < 2 || c.conns < 0 || c.parallel < 1 || c.srcAddrs < 1 || c.srcAddrs > 250 {
		fmt.Fprintln(os.Stderr, "loadgen: need -procs >= 2, -conns >= 0, -parallel >= 1, 1 <= -src-addrs <= 250")
		os.Exit(2)
	}
	raiseNoFile(c)
	var err error
	if worker >= 0 {
		err = runWorker(c, worker)
	} else {
		err = runParent(c)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts RLIMIT_NOFILE to what one process needs (root may raise
// the hard limit too, up to fs.nr_open).
func raiseNoFile(c config) {
	need := uint64(2*c.conns/c.procs*2+c.extraFDs+c.udp+256) + 1024
	if need < 65536 {
		need = 65536
	}
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && need > n {
			need = n
		}
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return
	}
	if rl.Cur >= need {
		return
	}
	want := unix.Rlimit{Cur: need, Max: max(rl.Max, need)}
	if unix.Setrlimit(unix.RLIMIT_NOFILE, &want) != nil {
		want = unix.Rlimit{Cur: rl.Max, Max: rl.Max}
		unix.Setrlimit(unix.RLIMIT_NOFILE, &want)
	}
}

func readSysctl(name string) int {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.Fields(string(b) + " x")[0])
	if err != nil {
		return -1
	}
	return n
}

// ---- parent ----

type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func runParent(c config) error {
	deadline := time.Now().Add(c.duration)
	checkLimits(c)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	kids := make([]*child, 0, c.procs)
	defer func() { stopAll(kids) }()

	left := time.Until(deadline)
	for i := 0; i < c.procs; i++ {
		cmd := exec.Command(self,
			"-worker", strconv.Itoa(i),
			"-conns", strconv.Itoa(c.conns), "-procs", strconv.Itoa(c.procs),
			"-extra-fds", strconv.Itoa(c.extraFDs), "-udp", strconv.Itoa(c.udp),
			"-parallel", strconv.Itoa(c.parallel), "-src-addrs", strconv.Itoa(c.srcAddrs),
			"-duration", left.String())
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start worker %d: %w", i, err)
		}
		kids = append(kids, &child{cmd: cmd, stdin: in, out: bufio.NewReader(out)})
	}

	// Phase 1: collect listener ports; phase 2: hand out the peer list;
	// phase 3: wait for "done". Each phase is bounded by the ready timeout.
	start := time.Now()
	type msg struct {
		i    int
		line string
		err  error
	}
	lines := make(chan msg, c.procs)
	for i, k := range kids {
		go func() {
			for {
				l, err := k.out.ReadString('\n')
				if err != nil {
					lines <- msg{i, "", fmt.Errorf("worker %d (pid %d): %w", i, k.cmd.Process.Pid, err)}
					return
				}
				lines <- msg{i, strings.TrimSpace(l), nil}
			}
		}()
	}
	timeout := time.After(c.readyTimeout)
	await := func(prefix string) ([]string, error) {
		got := make([]string, c.procs)
		for n := 0; n < c.procs; {
			select {
			case m := <-lines:
				if m.err != nil {
					return nil, m.err
				}
				if !strings.HasPrefix(m.line, prefix) {
					return nil, fmt.Errorf("worker %d: unexpected %q", m.i, m.line)
				}
				if got[m.i] == "" {
					n++
				}
				got[m.i] = m.line
			case s := <-sigs:
				return nil, fmt.Errorf("%v before ready", s)
			case <-timeout:
				return nil, fmt.Errorf("not ready after %v (waiting for %q)", c.readyTimeout, prefix)
			}
		}
		return got, nil
	}
	ports, err := await("ports ")
	if err != nil {
		return err
	}
	var peers strings.Builder
	peers.WriteString("peers")
	for _, l := range ports {
		peers.WriteString(strings.TrimPrefix(l, "ports"))
	}
	peers.WriteByte('\n')
	for _, k := range kids {
		if _, err := io.WriteString(k.stdin, peers.String()); err != nil {
			return err
		}
	}
	if _, err := await("done "); err != nil {
		return err
	}

	pids := make([]string, len(kids))
	for i, k := range kids {
		pids[i] = strconv.Itoa(k.cmd.Process.Pid)
	}
	ready := "ready " + strings.Join(pids, " ") + "\n"
	fmt.Fprintf(os.Stderr, "loadgen: %d conns over %d procs ready in %v\n", c.conns, c.procs, time.Since(start).Round(time.Millisecond))
	os.Stdout.WriteString(ready)
	if c.ready != "" {
		tmp := c.ready + ".tmp"
		if err := os.WriteFile(tmp, []byte(ready), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, c.ready); err != nil {
			return err
		}
	}

	died := make(chan int, c.procs)
	for i, k := range kids {
		go func() { k.cmd.Process.Wait(); died <- i }()
	}
	select {
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "loadgen: %v: stopping workers\n", s)
	case <-time.After(time.Until(deadline)):
		fmt.Fprintln(os.Stderr, "loadgen: duration over: stopping workers")
	case i := <-died:
		return fmt.Errorf("worker %d exited early", i)
	}
	return nil
}

// stopAll ends the parent's own workers by PID: close their stdin (they exit
// on EOF), SIGTERM, and SIGKILL whatever is left after 2 s.
func stopAll(kids []*child) {
	for _, k := range kids {
		k.stdin.Close()
		k.cmd.Process.Signal(syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() {
		for _, k := range kids {
			k.cmd.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		for _, k := range kids {
			k.cmd.Process.Kill()
		}
		<-done
	}
}

func checkLimits(c config) {
	lo, hi := -1, -1
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			lo, _ = strconv.Atoi(f[0])
			hi, _ = strconv.Atoi(f[1])
		}
	}
	// connect() shares an ephemeral port between different 4-tuples, so the
	// binding limit is per (source address, destination): the IPv6 share
	// all leaves from ::1, the IPv4 share from -src-addrs addresses.
	if lo > 0 {
		ports := hi - lo + 1
		if v6 := c.conns / 4; v6 > ports*(c.procs*(c.procs-1))/2 {
			fmt.Fprintf(os.Stderr, "loadgen: warning: %d IPv6 connections may exhaust the %d ephemeral ports\n", v6, ports)
		}
		if ports < 2*c.procs+64 {
			fmt.Fprintf(os.Stderr, "loadgen: warning: ip_local_port_range has only %d ports\n", ports)
		}
	}
	if s := readSysctl("net/core/somaxconn"); s > 0 && s < c.parallel*c.procs {
		fmt.Fprintf(os.Stderr, "loadgen: note: somaxconn=%d < %d connects in flight; connects retry on drops\n", s, c.parallel*c.procs)
	}
}

// ---- worker ----

var hold []any // everything a worker holds open; kept reachable on purpose

func runWorker(c config, me int) error {
	time.AfterFunc(c.duration, func() { os.Exit(0) })
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	lc := net.ListenConfig{KeepAlive: -1}
	ctx := context.Background()
	l4, err := lc.Listen(ctx, "tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	l6, err := lc.Listen(ctx, "tcp6", "[::1]:0")
	if err != nil {
		return err
	}
	hold = append(hold, l4, l6)
	if err := extraFDs(c); err != nil {
		return err
	}
	if err := udpSockets(c); err != nil {
		return err
	}

	// Incoming: count what the plan aims at me, accept until then (and keep
	// accepting afterwards, so a retried dial never piles up unaccepted).
	wantIn := 0
	for conn := 0; conn < c.conns; conn++ {
		if _, to, _ := plan(conn, c.procs); to == me {
			wantIn++
		}
	}
	var gotIn atomic.Int64
	inDone := make(chan struct{})
	var once sync.Once
	accept := func(l net.Listener) {
		for {
			conn, err := l.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			holdConn(conn)
			if gotIn.Add(1) >= int64(wantIn) {
				once.Do(func() { close(inDone) })
			}
		}
	}
	if wantIn == 0 {
		once.Do(func() { close(inDone) })
	}
	go accept(l4)
	go accept(l6)

	fmt.Printf("ports %d %d\n", l4.Addr().(*net.TCPAddr).Port, l6.Addr().(*net.TCPAddr).Port)
	in := bufio.NewReader(os.Stdin)
	line, err := in.ReadString('\n')
	if err != nil {
		return fmt.Errorf("worker %d: reading peers: %w", me, err)
	}
	f := strings.Fields(line)
	if len(f) != 1+2*c.procs || f[0] != "peers" {
		return fmt.Errorf("worker %d: bad peers line", me)
	}
	peer4 := make([]int, c.procs)
	peer6 := make([]int, c.procs)
	for i := range c.procs {
		peer4[i], _ = strconv.Atoi(f[1+2*i])
		peer6[i], _ = strconv.Atoi(f[2+2*i])
	}
	go func() { // the parent went away or closed our stdin: stop.
		io.Copy(io.Discard, in)
		os.Exit(0)
	}()

	// Outgoing: bounded parallel connects with retries.
	jobs := make(chan int)
	errc := make(chan error, c.parallel)
	var wg sync.WaitGroup
	for range c.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for conn := range jobs {
				if err := dial(c, conn, peer4, peer6); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		}()
	}
	out := 0
	for conn := 0; conn < c.conns; conn++ {
		if from, _, _ := plan(conn, c.procs); from == me {
			jobs <- conn
			out++
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return fmt.Errorf("worker %d: %w", me, err)
	default:
	}
	<-inDone
	fmt.Printf("done out=%d in=%d\n", out, gotIn.Load())
	select {} // hold until the duration, stdin EOF or a signal ends us
}

// plan says which worker dials connection conn, which accepts it, and
// whether it goes over IPv6 (every 4th).
func plan(conn, procs int) (from, to int, v6 bool) {
	from = conn % procs
	to = (from + 1 + (conn/procs)%(procs-1)) % procs
	return from, to, conn%4 == 3
}

func dial(c config, conn int, peer4, peer6 []int) error {
	_, to, v6 := plan(conn, c.procs)
	d := net.Dialer{KeepAlive: -1, Timeout: 5 * time.Second}
	var addr string
	if v6 {
		addr = net.JoinHostPort("::1", strconv.Itoa(peer6[to]))
	} else {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(peer4[to]))
		if c.srcAddrs > 1 {
			// Bind the source address but let connect() pick the port, so
			// ports are shared across 4-tuples (IP_BIND_ADDRESS_NO_PORT).
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+conn%c.srcAddrs))}
			d.Control = func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
				})
				return errors.Join(err, serr)
			}
		}
	}
	var err error
	for try := 0; try < 8; try++ {
		var cn net.Conn
		cn, err = d.Dial("tcp", addr)
		if err == nil {
			holdConn(cn)
			return nil
		}
		time.Sleep(time.Duration(50<<try) * time.Millisecond)
	}
	return fmt.Errorf("connection %d to %s: %w", conn, addr, err)
}

var holdMu sync.Mutex

// holdConn keeps cn open until the process exits. Linger 0 makes that exit
// reset the connection instead of leaving TIME_WAIT rows behind, which would
// otherwise sit in the tables for a minute and pollute the next measurement.
func holdConn(cn net.Conn) {
	if tc, ok := cn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	holdMu.Lock()
	hold = append(hold, cn)
	holdMu.Unlock()
}

// extraFDs opens n non-socket fds: half /dev/null, the rest pipes.
func extraFDs(c config) error {
	n := c.extraFDs
	for i := 0; i < n/2; i++ {
		f, err := os.Open("/dev/null")
		if err != nil {
			return err
		}
		hold = append(hold, f)
	}
	for left := n - n/2; left > 0; left -= 2 {
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		hold = append(hold, r, w)
	}
	return nil
}

// udpSockets opens k UDP sockets on loopback (every 3rd on ::1); every
// other one is connected to the first socket of its family. No data is sent.
func udpSockets(c config) error {
	var first4, first6 *net.UDPAddr
	for i := 0; i < c.udp; i++ {
		v6 := i%3 == 2
		network, ip := "udp4", net.IPv4(127, 0, 0, 1)
		if v6 {
			network, ip = "udp6", net.IPv6loopback
		}
		first := &first4
		if v6 {
			first = &first6
		}
		var conn *net.UDPConn
		var err error
		if i%2 == 1 && *first != nil {
			conn, err = net.DialUDP(network, &net.UDPAddr{IP: ip}, *first)
		} else {
			conn, err = net.ListenUDP(network, &net.UDPAddr{IP: ip})
		}
		if err != nil {
			return err
		}
		if *first == nil {
			*first = conn.LocalAddr().(*net.UDPAddr)
		}
		hold = append(hold, conn)
	}
	return nil
}
