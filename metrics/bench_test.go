package metrics

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
	"github.com/prometheus/client_golang/prometheus"
)

// syntheticScan is n TCP sockets (with the owner map) over procs processes of procs/4
// programs, a listener per process, the rest ESTABLISHED; every 100th
// socket is shared by two processes.
func syntheticScan(n, procs int) ([]netstat.Owned, *procmap.Map) {
	m := &procmap.Map{Owners: map[uint64][]procmap.Owner{}, Procs: map[int]*procmap.Process{}}
	for p := range procs {
		m.Procs[1000+p] = &procmap.Process{PID: 1000 + p, Comm: "prog-" + strconv.Itoa(p%(procs/4+1))}
	}
	rows := make([]netstat.Owned, n)
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	for i := range rows {
		st := netstat.Established
		if i < procs {
			st = netstat.Listen
		}
		owners := []procmap.Owner{{PID: 1000 + i%procs, FD: 3 + i}}
		if i%100 == 0 {
			owners = append(owners, procmap.Owner{PID: 1000 + (i+1)%procs, FD: 3})
		}
		rows[i] = netstat.Owned{
			Socket: netstat.Socket{Proto: netstat.TCP, State: st, Inode: uint64(i + 1),
				Local: netip.AddrPortFrom(lo, uint16(1024+i%60000)), Remote: netip.AddrPortFrom(lo, 80)},
			Owners: owners,
		}
	}
	return rows, m
}

// BenchmarkCount is the collector's own cost per scrape beyond reading:
// counting 1M sockets held by 200 processes and making the metrics.
func BenchmarkCount(b *testing.B) {
	rows, m := syntheticScan(1_000_000, 200)
	c := New(Options{})
	ch := make(chan prometheus.Metric, 4096)
	done := make(chan int)
	go func() {
		n := 0
		for range ch {
			n++
		}
		done <- n
	}()
	b.ReportAllocs()
	for b.Loop() {
		t := tally{c: c}
		t.owners(m)
		t.begin(nil)
		for i := range rows {
			t.inet(&rows[i].Socket, rows[i].Owners)
		}
		t.end(true)
		t.send(ch)
	}
	close(ch)
	<-done
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/scrape")
}
