// Command walk times procmap against a minimal socket-owner walk on the live
// system, in one process, alternating the contenders run by run:
//
//	floor   2 goroutines: os.ReadDir(/proc/PID/fd) + os.Readlink per fd
//	build   procmap.Build, /proc walk (every socket, all owners, details)
//	bpf     procmap.Build with SourceBPF (same Map; program loaded once,
//	        before timing: see load)
//	query   procmap.Build (walk) with Options.Inodes = one inode (early
//	        exit); the inode changes each run, spread evenly over all sockets
//	refresh procmap.Tracker.Refresh (walk) with no new sockets (FullEvery
//	        large)
//
// It prints the median wall time of each over -runs runs and the ratios.
// Start a load first (go run ./bench/loadgen -conns 10000 -procs 50).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"time"

	"github.com/procnet/procnet/bench/internal/floor"
	"github.com/procnet/procnet/procmap"
)

func main() {
	runs := flag.Int("runs", 21, "timed runs of each contender")
	flag.Parse()

	proc := procmap.Options{Source: procmap.SourceProc}
	t0 := time.Now()
	_, bpfErr := procmap.Build(context.Background(), procmap.Options{Source: procmap.SourceBPF, Inodes: map[uint64]bool{}})
	load := time.Since(t0)
	if bpfErr != nil {
		fmt.Println("bpf unavailable:", bpfErr)
	} else {
		fmt.Printf("bpf load (once per process) %v\n", load)
	}
	m, err := procmap.Build(context.Background(), proc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "walk:", err)
		os.Exit(1)
	}
	inodes := make([]uint64, 0, len(m.Owners))
	fds := 0
	for ino, o := range m.Owners {
		inodes = append(inodes, ino)
		fds += len(o)
	}
	slices.Sort(inodes)
	fmt.Printf("sockets=%d socket-fds=%d owners=%d denied=%d\n", len(inodes), fds, len(m.Procs), m.Denied)
	if bpfErr == nil {
		mb, err := procmap.Build(context.Background(), procmap.Options{Source: procmap.SourceBPF})
		if err != nil {
			fmt.Fprintln(os.Stderr, "walk: bpf:", err)
			os.Exit(1)
		}
		fmt.Printf("bpf: sockets=%d owners=%d denied=%d, same owners as the walk: %v\n",
			len(mb.Owners), len(mb.Procs), mb.Denied, reflect.DeepEqual(m.Owners, mb.Owners))
	}

	all := slices.Values(inodes)
	tr := procmap.NewTracker(procmap.Options{Source: procmap.SourceProc, FullEvery: 1 << 30})
	if _, err := tr.Refresh(context.Background(), all); err != nil {
		fmt.Fprintln(os.Stderr, "walk:", err)
		os.Exit(1)
	}

	var tFloor, tBuild, tBPF, tQuery, tRefresh []time.Duration
	var floorN int
	for i := range *runs {
		t0 := time.Now()
		floorN = len(floorWalk(2))
		t1 := time.Now()
		procmap.Build(context.Background(), proc)
		t2 := time.Now()
		ino := inodes[(len(inodes)-1)*i/max(1, *runs-1)]
		procmap.Build(context.Background(), procmap.Options{Source: procmap.SourceProc, Inodes: map[uint64]bool{ino: true}})
		t3 := time.Now()
		tr.Refresh(context.Background(), all)
		t4 := time.Now()
		if bpfErr == nil {
			procmap.Build(context.Background(), procmap.Options{Source: procmap.SourceBPF})
		}
		t5 := time.Now()
		tFloor = append(tFloor, t1.Sub(t0))
		tBuild = append(tBuild, t2.Sub(t1))
		tQuery = append(tQuery, t3.Sub(t2))
		tRefresh = append(tRefresh, t4.Sub(t3))
		tBPF = append(tBPF, t5.Sub(t4))
	}
	f, b, q, r := median(tFloor), median(tBuild), median(tQuery), median(tRefresh)
	fmt.Printf("floor sockets=%d\n", floorN)
	fmt.Printf("floor(2 goroutines) %v\nbuild %v (%.2fx floor)\nquery one inode %v (%.2fx build)\nrefresh, no new sockets %v (%.2fx build) stats %+v\n",
		f, b, ratio(b, f), q, ratio(q, b), r, ratio(r, b), tr.Stats)
	if bpfErr == nil {
		p := median(tBPF)
		fmt.Printf("bpf build %v (%.3fx build; %.1f ns per socket fd)\n", p, ratio(p, b), float64(p.Nanoseconds())/float64(max(fds, 1)))
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// floorWalk is the minimal idiomatic walk over n goroutines
// (bench/internal/floor).
func floorWalk(n int) map[uint64]bool {
	ps, _ := floor.PIDs()
	return floor.Walk(ps, n)
}
