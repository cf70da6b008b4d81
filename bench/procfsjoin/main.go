// Command procfsjoin joins TCP sockets to processes the way a
// prometheus/procfs user would: NetTCP + NetTCP6 for the tables, then
// AllProcs and FileDescriptorTargets for each process. It prints
// "sockets=N owned=M" like bench/floor.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/procfs"
)

func main() {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "procfsjoin:", err)
		os.Exit(1)
	}
	inodes := make(map[uint64]bool)
	//lint:ignore SA1019 the baseline is procfs as its users call it today
	for _, get := range []func() (procfs.NetTCP, error){fs.NetTCP, fs.NetTCP6} {
		t, err := get()
		if err != nil {
			fmt.Fprintln(os.Stderr, "procfsjoin:", err)
			continue
		}
		for _, l := range t {
			inodes[l.Inode] = false
		}
	}
	procs, err := fs.AllProcs()
	if err != nil {
		fmt.Fprintln(os.Stderr, "procfsjoin:", err)
		os.Exit(1)
	}
	owner := make(map[uint64]int)
	for _, p := range procs {
		targets, err := p.FileDescriptorTargets()
		if err != nil {
			continue
		}
		for _, t := range targets {
			if !strings.HasPrefix(t, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(t[8:len(t)-1], 10, 64)
			if err != nil {
				continue
			}
			if _, ok := inodes[ino]; ok {
				owner[ino] = p.PID
			}
		}
	}
	fmt.Printf("sockets=%d owned=%d\n", len(inodes), len(owner))
}
