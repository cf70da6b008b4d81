package netstat

import (
	"context"
	"github.com/procnet/procnet/internal/race"
	"net"
	"testing"
	"time"
)

// TestDiagRequestRetransmits: a TCP_DEFER_ACCEPT listener holds an acked
// request without resending its SYN-ACK, so the request's timer expires
// (proc's retrnsmt, req->num_timeout, counts it) while netlink's
// idiag_retrans (num_retrans) stays 0. The netlink source must give proc's
// count when Retransmits are wanted, and proc's UID.
func TestDiagRequestRetransmits(t *testing.T) {
	diagUsable(t)
	l := listenAs(t, "tcp4", "127.0.0.1:0", 65534, 30)
	defer l.Close()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	f := Filter{Protos: Protos(TCP), States: States(SynRecv), LocalPorts: []uint16{uint16(l.Addr().(*net.TCPAddr).Port)}}
	// The request's first timer expiry is 1 s after the SYN; the next is
	// 2 s later, so a read just after the first has a stable count.
	var want Socket
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := Reader{Source: SourceProc}
		rows, err := r.AppendSockets(context.Background(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0].Retransmits > 0 {
			want = rows[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request socket with a timer expiry in proc after 5 s: %v", rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, src := range []Source{SourceAuto, SourceNetlink} {
		r := Reader{Source: src}
		rows, err := r.AppendSockets(context.Background(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("%v: %d request rows, want 1", src, len(rows))
		}
		if got := rows[0]; got.Retransmits != want.Retransmits || got.UID != want.UID {
			t.Errorf("%v: request Retransmits %d UID %d, proc has %d and %d", src, got.Retransmits, got.UID, want.Retransmits, want.UID)
		}
	}
	// Reading the request rows from proc keeps the netlink source's
	// promise: no allocation per scan after the first. (The timer may
	// expire again meanwhile, 2 s after the first: the count only grows.)
	r := Reader{Source: SourceNetlink}
	scan := func() {
		n := 0
		for s, err := range r.Sockets(context.Background(), f) {
			if err != nil || s.Retransmits < want.Retransmits {
				t.Fatalf("scan: %v, %+v", err, s)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("%d request rows", n)
		}
	}
	scan()
	limit := 0.0
	if race.Enabled {
		limit = 4
	}
	if n := testing.AllocsPerRun(20, scan); n > limit {
		t.Errorf("%v allocations per scan with a request socket, want at most %v", n, limit)
	}
}
