package netstat

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

const trafficBenchRows = 10000

// synthTraffic is synthTCP's table of n rows with a traffic file naming
// every row.
func synthTraffic(tb testing.TB, n int) string {
	root := synthTCP(tb, n)
	b := []byte(trafficHeader)
	for i := range n {
		b = fmt.Appendf(b, "tcp 127.0.0.1:%d 127.0.0.2:%d %d %d %d %d %d\n", 1000+i%50000, 2000+i%3, 100000+i, 1000*i, 7*i, i, i/2)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/net", TrafficFile), b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return root
}

// benchTrafficFile scans the 10k-row fixture table with r's settings.
func benchTrafficFile(b *testing.B, traffic bool) {
	r := &Reader{Root: synthTraffic(b, trafficBenchRows), Traffic: traffic}
	f := Filter{Protos: Protos(TCP)}
	known := 0
	for s, err := range r.Sockets(context.Background(), f) {
		if err != nil {
			b.Fatal(err)
		}
		if s.Traffic.Known {
			known++
		}
	}
	if traffic && known != trafficBenchRows || !traffic && known != 0 {
		b.Fatalf("%d rows with traffic", known)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, err := range r.Sockets(context.Background(), f) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/trafficBenchRows, "ns/row")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/trafficBenchRows, "cpu-ns/row")
}

// BenchmarkScanTrafficFile replays --traffic from a fixture: a 10k-row
// tcp table and its traffic file, read and joined every scan.
func BenchmarkScanTrafficFile(b *testing.B) { benchTrafficFile(b, true) }

// BenchmarkScanNoTrafficFile reads the same fixture without Traffic (the
// file is not opened), for the ratio.
func BenchmarkScanNoTrafficFile(b *testing.B) { benchTrafficFile(b, false) }

// BenchmarkAppendTrafficFile writes the traffic file of the live tcp
// table (diagBenchPairs loopback pairs), as a capture does.
func BenchmarkAppendTrafficFile(b *testing.B) {
	diagUsable(b)
	benchPairs(b, diagBenchPairs)
	var r Reader
	f := Filter{Protos: Protos(TCP)}
	buf, err := r.AppendTrafficFile(context.Background(), nil, f)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	rows := 0
	for b.Loop() {
		buf, err = r.AppendTrafficFile(context.Background(), buf[:0], f)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range buf {
			if c == '\n' {
				rows++
			}
		}
	}
	b.ReportMetric(float64(len(buf)), "bytes/file")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(rows), "cpu-ns/row")
}
