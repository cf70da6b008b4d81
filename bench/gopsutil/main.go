// Command gopsutil lists TCP connections with gopsutil's
// net.Connections("tcp") (tcp4 + tcp6, with owning PIDs) and prints
// "sockets=N owned=M": N entries, M of them with a PID.
//
// gopsutil returns one entry per (process, fd) for owned sockets, so a
// socket shared by two processes counts twice, as in lsof.
package main

import (
	"fmt"
	"os"

	"github.com/shirou/gopsutil/v4/net"
)

func main() {
	cs, err := net.Connections("tcp")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gopsutil:", err)
		os.Exit(1)
	}
	owned := 0
	for _, c := range cs {
		if c.Pid != 0 {
			owned++
		}
	}
	fmt.Printf("sockets=%d owned=%d\n", len(cs), owned)
}
