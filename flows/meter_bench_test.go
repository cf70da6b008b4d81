package flows

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
)

const meterBenchConns = 10000

var benchV4, benchV6 = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")

// meterRow makes the i-th connection of the benchmarks (100 owners, v4
// and v6 alike).
func meterRow(i int) (netstat.Socket, Owner) {
	p, a := netstat.TCP, benchV4
	if i%2 == 1 {
		p, a = netstat.TCP6, benchV6
	}
	return netstat.Socket{
		Proto: p, State: netstat.Established, Inode: uint64(1000 + i),
		Local:   netip.AddrPortFrom(a, uint16(1024+i%60000)),
		Remote:  netip.AddrPortFrom(a, uint16(443+i/60000)),
		Traffic: netstat.Traffic{Known: true},
	}, Owner{PID: 100 + i%100, Program: "prog"}
}

// benchMeter runs rounds over meterBenchConns connections whose counters
// all move every round; turnover of them close (a Close event each) and
// as many new ones open between two rounds. It reports the cost per
// connection per round and the heap the meter holds per connection.
func benchMeter(b *testing.B, turnover int) {
	live := make([]netstat.Socket, meterBenchConns)
	owners := make([]Owner, meterBenchConns)
	for i := range live {
		live[i], owners[i] = meterRow(i)
	}
	next := meterBenchConns
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	m := NewMeter(true)
	now := time.Unix(1e9, 0)
	round := func(evs []Event) {
		m.Begin(now, evs)
		for i := range live {
			live[i].Traffic.BytesSent += 1000
			live[i].Traffic.BytesReceived += 100
			m.Add(&live[i], owners[i])
		}
		m.End()
		now = now.Add(time.Second)
	}
	round(nil)
	round(nil)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	evs := make([]Event, turnover)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		// Close the first turnover connections, open as many new ones.
		for i := range turnover {
			s := &live[i]
			evs[i] = Event{Kind: Close, Proto: s.Proto, Local: s.Local, Remote: s.Remote, Traffic: s.Traffic}
			evs[i].Traffic.BytesSent += 10
			live[i], owners[i] = meterRow(next)
			next++
		}
		round(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/meterBenchConns, "ns/conn")
	b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/meterBenchConns, "heap-B/conn")
	if m.Conns() < meterBenchConns {
		b.Fatalf("%d records", m.Conns())
	}
}

// BenchmarkMeterRound: one round over 10,000 connections, all moving.
func BenchmarkMeterRound(b *testing.B) { benchMeter(b, 0) }

// BenchmarkMeterRoundTurnover: the same with 1 % of the connections
// closing (counted from their Close events) and as many opening per round.
func BenchmarkMeterRoundTurnover(b *testing.B) { benchMeter(b, meterBenchConns/100) }
