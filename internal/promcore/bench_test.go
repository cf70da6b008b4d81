package promcore

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// syntheticScan is n TCP sockets (with the owner map) over procs processes of procs/4
// programs, a listener per process, the rest ESTABLISHED; every 100th
// socket is shared by two processes.
func syntheticScan(n, procs int) ([]procnet.Conn, *procmap.Map) {
	m := &procmap.Map{Owners: map[uint64][]procmap.Owner{}, Procs: map[int]*procmap.Process{}}
	for p := range procs {
		m.Procs[1000+p] = &procmap.Process{PID: 1000 + p, Comm: "prog-" + strconv.Itoa(p%(procs/4+1))}
	}
	rows := make([]procnet.Conn, n)
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
		rows[i] = procnet.Conn{
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
	n := 0
	emit := func(*Desc, float64, ...string) { n++ }
	b.ReportAllocs()
	for b.Loop() {
		t := tally{c: c}
		t.owners(m)
		t.begin(nil)
		for i := range rows {
			t.inet(&rows[i].Socket, rows[i].Owners)
		}
		t.end(true)
		t.send(emit)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/scrape")
}

// BenchmarkCountTraffic is BenchmarkCount at 10k sockets, without and
// with the traffic ledger (every row with its counters, growing between
// scrapes): what Options.Traffic adds to counting, beyond reading.
func BenchmarkCountTraffic(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "without"
		if on {
			name = "traffic"
		}
		b.Run(name, func(b *testing.B) {
			rows, m := syntheticScan(10_000, 200)
			c := New(Options{})
			if on {
				c.traffic = &traffic{l: newLedger(c.opts.MaxPrograms),
					sent:     &Desc{Name: "s", Labels: []string{"program"}},
					received: &Desc{Name: "r", Labels: []string{"program"}}}
			}
			emit := func(*Desc, float64, ...string) {}
			b.ReportAllocs()
			for b.Loop() {
				for i := range rows {
					tr := &rows[i].Socket.Traffic
					tr.Known = true
					tr.BytesSent += 100
					tr.BytesReceived += 10
				}
				t := tally{c: c, now: time.Now()}
				if on {
					c.traffic.l.begin()
				}
				t.owners(m)
				t.begin(nil)
				for i := range rows {
					t.inet(&rows[i].Socket, rows[i].Owners)
				}
				t.end(true)
				t.send(emit)
				if on {
					c.traffic.l.prune(t.now)
					c.traffic.send(emit)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/scrape")
		})
	}
}

// BenchmarkScrapeTraffic is one whole scrape (owners walk, netlink dump,
// counting) of the live system with 5,000 loopback connections this
// benchmark opens (10,000 TCP sockets beside the host's: run it in a
// private namespace, `unshare --net` with lo up), without and with
// Options.Traffic (tcp_info for every TCP row, the ledger; the close feed
// runs but sees no closes here).
func BenchmarkScrapeTraffic(b *testing.B) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 5000 {
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			b.Skip(err)
		}
		a, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		c.Write([]byte("x"))
		conns = append(conns, c, a)
	}
	for _, on := range []bool{false, true} {
		name := "without"
		if on {
			name = "traffic"
		}
		b.Run(name, func(b *testing.B) {
			c := New(Options{NoUnix: true, Traffic: on, Filter: netstat.Filter{Protos: netstat.Protos(netstat.TCP, netstat.TCP6)}})
			defer c.Close()
			if _, err := c.TrafficSource(); on && err != nil {
				b.Skip(err)
			}
			emit := func(*Desc, float64, ...string) {}
			b.ReportAllocs()
			for b.Loop() {
				c.Collect(emit)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/scrape")
		})
	}
}
