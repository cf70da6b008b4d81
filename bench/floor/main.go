// Command floor is the minimal baseline for "which process owns which TCP
// socket": a plain, idiomatic Go program with no tricks. It reads
// /proc/net/tcp and /proc/net/tcp6 in full (one row per socket, keeping the
// inode), walks /proc/*/fd with os.ReadDir + os.Readlink, and prints
// "sockets=N owned=M": N table rows, M of them held by at least one process.
//
// -workers 1 does everything in the main goroutine. -workers 2 reads the
// tables in one goroutine while another walks /proc/*/fd; -workers N>2 splits
// the walk over N-1 goroutines. The walk is bench/internal/floor's, which
// procmap's benchmarks call in-process.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/procnet/procnet/bench/internal/floor"
)

func main() {
	workers := flag.Int("workers", 1, "goroutines (1 = sequential)")
	flag.Parse()

	var inodes map[uint64]bool // socket inode → owned
	var owned map[uint64]bool  // socket inodes seen under /proc/*/fd
	if *workers <= 1 {
		inodes = readTables()
		owned = floor.Walk(pids(), 1)
	} else {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); inodes = readTables() }()
		owned = floor.Walk(pids(), *workers-1)
		wg.Wait()
	}
	n := 0
	for ino := range inodes {
		if owned[ino] {
			n++
		}
	}
	fmt.Printf("sockets=%d owned=%d\n", len(inodes), n)
}

func readTables() map[uint64]bool {
	inodes := make(map[uint64]bool)
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 {
				continue
			}
			ino, err := strconv.ParseUint(fs[9], 10, 64)
			if err != nil {
				continue
			}
			inodes[ino] = false
		}
		f.Close()
	}
	return inodes
}

func pids() []string {
	ps, err := floor.PIDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	return ps
}
