//go:build unix

package netstat

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/procfs"
)

const benchRows = 100000

// cpuTime is the CPU (user+system, every thread, GC included) this process
// has used. On a machine shared with other work, CPU per row is a steadier
// figure than wall time per row: waiting for a core does not count.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRows reports wall and CPU nanoseconds per row.
func reportRows(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/benchRows, "cpu-ns/row")
}

// BenchmarkScan streams a 100k-row tcp table through the iterator. ns/op
// divided by benchRows (reported as ns/row) is the cost of one row.
func BenchmarkScan(b *testing.B) {
	root := synthTCP(b, benchRows)
	r := &Reader{Root: root}
	f := Filter{Protos: Protos(TCP)}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		n := 0
		for _, err := range r.Sockets(context.Background(), f) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("%d rows", n)
		}
	}
	reportRows(b, cpu0)
}

// BenchmarkScanFiltered measures a port query: rows that fail the filter
// are dropped before their addresses are decoded.
func BenchmarkScanFiltered(b *testing.B) {
	root := synthTCP(b, benchRows)
	r := &Reader{Root: root}
	f := Filter{Protos: Protos(TCP), LocalPorts: []uint16{1234}}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, err := range r.Sockets(context.Background(), f) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, cpu0)
}

// BenchmarkProcfsNetTCP reads the same table with prometheus/procfs, for
// the ratio.
func BenchmarkProcfsNetTCP(b *testing.B) {
	root := synthTCP(b, benchRows)
	fs, err := procfs.NewFS(filepath.Join(root, "proc"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		t, err := fs.NetTCP() //lint:ignore SA1019 the ratio is against procfs as its users call it
		if err != nil {
			b.Fatal(err)
		}
		if len(t) != benchRows {
			b.Fatalf("%d rows", len(t))
		}
	}
	reportRows(b, cpu0)
}
