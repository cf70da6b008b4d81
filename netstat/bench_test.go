package netstat

import (
	"path/filepath"
	"testing"

	"github.com/prometheus/procfs"
)

const benchRows = 100000

// BenchmarkScan streams a 100k-row tcp table through the iterator. ns/op
// divided by benchRows (reported as ns/row) is the cost of one row.
func BenchmarkScan(b *testing.B) {
	root := synthTCP(b, benchRows)
	r := &Reader{Root: root}
	f := Filter{Protos: Protos(TCP)}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range r.Sockets(f) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchRows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// BenchmarkScanFiltered measures a port query: rows that fail the filter
// are dropped before their addresses are decoded.
func BenchmarkScanFiltered(b *testing.B) {
	root := synthTCP(b, benchRows)
	r := &Reader{Root: root}
	f := Filter{Protos: Protos(TCP), LocalPorts: []uint16{1234}}
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range r.Sockets(f) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
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
	for b.Loop() {
		t, err := fs.NetTCP()
		if err != nil {
			b.Fatal(err)
		}
		if len(t) != benchRows {
			b.Fatalf("%d rows", len(t))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}
