// Command flowbench measures the flows event feed: the overhead it puts
// on a loopback connect/close loop (connections per second with and
// without the feed attached, in alternation) and what each source sees of
// 1,000 connections of 10 ms from a child process, closed with FIN and
// with RST.
//
// It re-executes itself in a private network namespace (unshare --net,
// lo up), so the loop has its own port space and the feed sees only it.
// Needs root for the tracepoint source; the others run anyway.
//
//	go run ./flowbench                 # -n 5000 -rounds 5
//	go run ./flowbench -rounds 9 -n 20000
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/procnet/procnet/flows"
)

func main() {
	n := flag.Int("n", 5000, "connections per timed round")
	rounds := flag.Int("rounds", 5, "timed rounds per configuration, alternated")
	conns := flag.Int("load", 1000, "connections of the completeness load")
	inner := flag.Bool("inner", false, "already in the private namespace")
	client := flag.String("client", "", "internal: run the completeness client against ADDR")
	rst := flag.Bool("rst", false, "internal: the client closes with RST")
	feed := flag.String("feed", "", "internal: run a feed from SOURCE until stdin closes")
	flag.Parse()
	if *feed != "" {
		runFeed(*feed)
		return
	}
	if *client != "" {
		if err := clientLoad(*client, *conns, *rst); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if !*inner {
		args := append([]string{"--net", "--fork", os.Args[0], "-inner"}, os.Args[1:]...)
		cmd := exec.Command("unshare", args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "flowbench: unshare --net:", err)
			os.Exit(1)
		}
		return
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "flowbench: ip link set lo up: %v %s\n", err, out)
		os.Exit(1)
	}
	overhead(*n, *rounds)
	completeness(*conns)
}

// server accepts on 127.0.0.1 and closes each connection when its peer
// does.
func server() (net.Listener, string) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	return l, l.Addr().String()
}

// loop opens and closes n connections to addr, one at a time, closing
// with RST (no TIME_WAIT, so the port space never runs out), and returns
// the wall time and this process's CPU time.
func loop(addr string, n int) (wall, cpu time.Duration) {
	c0 := cpuTime()
	t0 := time.Now()
	for range n {
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	return time.Since(t0), cpuTime() - c0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStat returns the machine's busy (not idle or iowait) and total CPU
// time, in ticks, from /proc/stat's cpu line.
func procStat() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	var v [10]uint64
	fmt.Sscan(string(b[3:]), &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7])
	for i, x := range v[:8] {
		total += x
		if i != 3 && i != 4 {
			busy += x
		}
	}
	return busy, total
}

// runFeed is the feed process of the overhead rounds: it reads events
// until its stdin closes, then prints how many it read, its CPU time
// since it was ready (loading and the first scan left out), the events
// lost or missed, and the BPF programs' run time and runs.
func runFeed(source string) {
	stats := strings.HasSuffix(source, "+stats")
	if stats {
		source = strings.TrimSuffix(source, "+stats")
		if st, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME); err == nil {
			defer st.Close()
		}
	}
	src, _ := flows.ParseSource(source)
	before := lastProgramID()
	f, err := flows.Start(flows.Options{Source: src})
	if err != nil {
		fmt.Println("unavailable:", err)
		return
	}
	var count atomic.Int64
	go func() {
		for {
			if _, err := f.Next(context.Background()); err == io.EOF {
				return
			}
			count.Add(1)
		}
	}()
	var progs []*ebpf.Program
	if stats {
		progs = ourPrograms(before)
	}
	s0 := progStats(progs)
	fmt.Println("ready")
	c0 := cpuTime()
	io.Copy(io.Discard, os.Stdin)
	time.Sleep(200 * time.Millisecond) // the last records
	n := count.Load()
	s1 := progStats(progs)
	f.Close()
	fmt.Println(n, (cpuTime() - c0).Nanoseconds(), f.Lost(),
		(s1[0].Runtime - s0[0].Runtime).Nanoseconds(), s1[0].RunCount-s0[0].RunCount,
		(s1[1].Runtime - s0[1].Runtime).Nanoseconds(), s1[1].RunCount-s0[1].RunCount)
}

// lastProgramID is the highest BPF program ID now loaded.
func lastProgramID() ebpf.ProgramID {
	var id ebpf.ProgramID
	for {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return id
		}
		id = next
	}
}

// ourPrograms finds the feed's BPF programs (its main and its second
// copy, procnet_flows and procnet_nested) loaded after ID after.
func ourPrograms(after ebpf.ProgramID) []*ebpf.Program {
	var out []*ebpf.Program
	for id := after; ; {
		next, err := ebpf.ProgramGetNextID(id)
		if err != nil {
			return out
		}
		id = next
		p, err := ebpf.NewProgramFromID(id)
		if err != nil {
			continue
		}
		if info, err := p.Info(); err == nil && (info.Name == "procnet_flows" || info.Name == "procnet_nested") {
			out = append(out, p)
			continue
		}
		p.Close()
	}
}

// progStats returns the kernel's run time and run count of each of
// progs (zero without BPF stats).
func progStats(progs []*ebpf.Program) []ebpf.ProgramStats {
	out := make([]ebpf.ProgramStats, 2)
	for i, p := range progs[:min(len(progs), 2)] {
		if st, err := p.Stats(); err == nil {
			out[i] = *st
		}
	}
	return out
}

// overhead times the loop without a feed and with each source attached
// (a feed process of its own, as netstat --events would be), in
// alternation, and prints medians.
func overhead(n, rounds int) {
	_, addr := server()
	loop(addr, n/5) // warm up
	configs := []struct {
		name, src string
	}{{"no feed", ""}, {"tracepoint", "tracepoint"}, {"tracepoint, BPF stats on", "tracepoint+stats"},
		{"destroy", "destroy"}, {"poll (1 s)", "poll"}}
	type sample struct{ wall, cpu, feedCPU, bpf, bpf2 []time.Duration }
	res := make([]sample, len(configs))
	seen := make([]int64, len(configs))
	lost := make([]int64, len(configs))
	runs := make([]int64, len(configs))
	runs2 := make([]int64, len(configs))
	unavailable := make([]string, len(configs))
	b0, t0 := procStat()
	for range rounds {
		for i, cf := range configs {
			if unavailable[i] != "" {
				continue
			}
			var cmd *exec.Cmd
			var stdin io.WriteCloser
			var out *bufio.Reader
			if cf.src != "" {
				cmd = exec.Command(os.Args[0], "-feed", cf.src)
				stdin, _ = cmd.StdinPipe()
				stdout, _ := cmd.StdoutPipe()
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				out = bufio.NewReader(stdout)
				line, _ := out.ReadString('\n')
				if line != "ready\n" {
					unavailable[i] = strings.TrimSpace(line)
					cmd.Wait()
					continue
				}
			}
			w, c := loop(addr, n)
			var fc, bpf, bpf2 time.Duration
			if cmd != nil {
				stdin.Close()
				line, _ := out.ReadString('\n')
				cmd.Wait()
				var count, ns, l, bpfNs, bpfRuns, bpf2Ns, bpf2Runs int64
				fmt.Sscan(line, &count, &ns, &l, &bpfNs, &bpfRuns, &bpf2Ns, &bpf2Runs)
				seen[i] += count
				lost[i] += l
				runs[i] += bpfRuns
				runs2[i] += bpf2Runs
				fc, bpf, bpf2 = time.Duration(ns), time.Duration(bpfNs), time.Duration(bpf2Ns)
			}
			res[i].wall = append(res[i].wall, w)
			res[i].cpu = append(res[i].cpu, c)
			res[i].feedCPU = append(res[i].feedCPU, fc)
			res[i].bpf = append(res[i].bpf, bpf)
			res[i].bpf2 = append(res[i].bpf2, bpf2)
		}
	}
	b1, t1 := procStat()
	fmt.Printf("## Overhead: %d loopback connect/close (RST) per round, %d alternated rounds, medians\n\n", n, rounds)
	fmt.Printf("| feed | connections/s | × | loop CPU µs per connection | × | feed process CPU µs per connection | BPF program µs per connection (runs): main + second copy | events read per connection | lost |\n|---|---|---|---|---|---|---|---|---|\n")
	base := median(res[0].wall)
	baseCPU := median(res[0].cpu)
	for i, cf := range configs {
		if unavailable[i] != "" {
			fmt.Printf("| %s | %s | | | | | | | |\n", cf.name, unavailable[i])
			continue
		}
		w, c, fc := median(res[i].wall), median(res[i].cpu), median(res[i].feedCPU)
		bpf := "-"
		if runs[i] > 0 {
			per := func(d []time.Duration, runs int64) string {
				return fmt.Sprintf("%.2f (%.1f)", float64(median(d).Nanoseconds())/1e3/float64(n),
					float64(runs)/float64(n*len(res[i].wall)))
			}
			bpf = per(res[i].bpf, runs[i]) + " + " + per(res[i].bpf2, runs2[i])
		}
		fmt.Printf("| %s | %.0f | %.3f | %.1f | %.3f | %.1f | %s | %.2f | %d |\n", cf.name,
			float64(n)/w.Seconds(), base.Seconds()/w.Seconds(),
			float64(c.Microseconds())/float64(n), c.Seconds()/baseCPU.Seconds(),
			float64(fc.Microseconds())/float64(n), bpf,
			float64(seen[i])/float64(n*len(res[i].wall)), lost[i])
	}
	if t1 > t0 {
		fmt.Printf("\nThe machine was %.0f %% busy during the rounds (all work, ours included, /proc/stat).\n",
			100*float64(b1-b0)/float64(t1-t0))
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// clientLoad opens n connections to addr, ten at a time, each held 10 ms,
// then closed with FIN, or RST (SO_LINGER 0).
func clientLoad(addr string, n int, rst bool) error {
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	next := make(chan struct{})
	for range 10 {
		wg.Go(func() {
			for range next {
				c, err := net.Dial("tcp4", addr)
				if err != nil {
					failed.Store(&err)
					continue
				}
				time.Sleep(10 * time.Millisecond)
				if rst {
					c.(*net.TCPConn).SetLinger(0)
				}
				c.Close()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	if p := failed.Load(); p != nil {
		return *p
	}
	return nil
}

// completeness runs the child load under each source and counts the
// client-side events with the child's PID.
func completeness(n int) {
	fmt.Printf("\n## Completeness: %d connections of 10 ms from a child process, ten at a time\n\n", n)
	fmt.Printf("| source | close | opens seen | with the child's PID | closes seen | with the child's PID | server-side closes | with the listener's PID | lost | missed | nested |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, src := range []flows.Source{flows.SourceTracepoint, flows.SourceDestroy, flows.SourcePoll} {
		for _, rst := range []bool{false, true} {
			close := "FIN"
			if rst {
				close = "RST"
			}
			f, err := flows.Start(flows.Options{Source: src})
			if err != nil {
				fmt.Printf("| %v | %s | unavailable: %v |\n", src, close, err)
				continue
			}
			r := runLoad(f, n, rst)
			st := f.Stats()
			fmt.Printf("| %v | %s | %d | %d | %d | %d | %d | %d | %d | %d | %d |\n", src, close,
				r.opens, r.openPID, r.closes, r.closePID, r.serverClose, r.serverPID, st.Lost, st.Missed, st.Nested)
			f.Close()
		}
	}
}

type result struct {
	opens, openPID, closes, closePID, serverClose, serverPID int
}

func runLoad(f *flows.Feed, n int, rst bool) result {
	l, addr := server()
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	args := []string{"-client", addr, "-load", strconv.Itoa(n)}
	if rst {
		args = append(args, "-rst")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	child, self := cmd.Process.Pid, os.Getpid()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var r result
	done := false
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ev, err := f.Next(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			if done {
				return r
			}
			select {
			case <-exited:
				done = true
			default:
			}
			continue
		}
		if err != nil {
			continue
		}
		switch {
		case ev.Remote.Port() == port && ev.Kind == flows.Open:
			r.opens++
			if ev.PID == child {
				r.openPID++
			}
		case ev.Remote.Port() == port && ev.Kind == flows.Close:
			r.closes++
			if ev.PID == child {
				r.closePID++
			}
		case ev.Local.Port() == port && ev.Kind == flows.Close:
			r.serverClose++
			if ev.PID == self {
				r.serverPID++
			}
		}
		if !done {
			select {
			case <-exited:
				done = true
			default:
			}
		}
	}
}
