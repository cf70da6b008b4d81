package flows_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
)

// A Meter over two rounds a second apart: a connection that moved
// 1,000,000 bytes between them, and one that opened and closed in
// between, known from its Close event.
func ExampleMeter() {
	conn := netstat.Socket{
		Proto: netstat.TCP, State: netstat.Established, Inode: 4242,
		Local:  netip.MustParseAddrPort("127.0.0.1:40000"),
		Remote: netip.MustParseAddrPort("127.0.0.1:8080"),
	}
	curl := flows.Owner{PID: 1234, Program: "curl"}
	m := flows.NewMeter(true)
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

	conn.Traffic = netstat.Traffic{BytesSent: 100, BytesReceived: 5000, Known: true}
	m.Begin(t0, nil)
	m.Add(&conn, curl)
	m.End()

	closed := []flows.Event{{
		Kind: flows.Close, Proto: netstat.TCP, PID: 1234, Program: "curl",
		Local:   netip.MustParseAddrPort("127.0.0.1:40002"),
		Remote:  netip.MustParseAddrPort("127.0.0.1:8080"),
		Traffic: netstat.Traffic{BytesSent: 123456, Known: true},
	}}
	conn.Traffic = netstat.Traffic{BytesSent: 1000100, BytesReceived: 5000, Known: true}
	for _, c := range m.Begin(t0.Add(time.Second), closed) {
		fmt.Printf("closed %v: %d sent since the last round\n", closed[c.Event].Local, c.DeltaSent)
	}
	c := m.Add(&conn, curl)
	fmt.Printf("%v: %d sent, %.0f B/s\n", conn.Local, c.BytesSent, c.SendBps)
	for _, o := range m.End() {
		fmt.Printf("%d/%s: %d sent, %.0f B/s over %d connection\n", o.PID, o.Program, o.BytesSent, o.SendBps, o.Conns)
	}
	// Output:
	// closed 127.0.0.1:40002: 123456 sent since the last round
	// 127.0.0.1:40000: 1000100 sent, 1000000 B/s
	// 1234/curl: 1123556 sent, 1123456 B/s over 1 connection
}
