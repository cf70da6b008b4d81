package flows

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
)

// mrow is a socket row of a synthetic round: "tcp 1 2 inode sent recv pid"
// (ports on 127.0.0.1), with its owner's PID (program "pN").
type mrow struct {
	proto        netstat.Proto
	lport, rport uint16
	inode        uint64
	sent, recv   uint64
	pid          int
	state        netstat.State
	unknown      bool
}

func (r mrow) socket() netstat.Socket {
	lo := netip.MustParseAddr("127.0.0.1")
	if r.proto == netstat.TCP6 || r.proto == netstat.UDP6 {
		lo = netip.MustParseAddr("::1")
	}
	st := r.state
	if st == 0 {
		st = netstat.Established
	}
	return netstat.Socket{
		Proto: r.proto, Local: netip.AddrPortFrom(lo, r.lport), Remote: netip.AddrPortFrom(lo, r.rport),
		State: st, Inode: r.inode,
		Traffic: netstat.Traffic{BytesSent: r.sent, BytesReceived: r.recv, Known: !r.unknown},
	}
}

func ownerOf(pid int) Owner {
	if pid == 0 {
		return Owner{}
	}
	return Owner{PID: pid, Program: fmt.Sprintf("p%d", pid)}
}

// mclose is a Close event of a synthetic round.
func mclose(lport, rport uint16, sent, recv uint64, pid int) Event {
	lo := netip.MustParseAddr("127.0.0.1")
	o := ownerOf(pid)
	return Event{Kind: Close, Proto: netstat.TCP, Local: netip.AddrPortFrom(lo, lport), Remote: netip.AddrPortFrom(lo, rport),
		PID: o.PID, Program: o.Program, Traffic: netstat.Traffic{BytesSent: sent, BytesReceived: recv, Known: true}}
}

type mround struct {
	events []Event
	rows   []mrow
	// conns: one "deltaSent/deltaReceived sendBps/recvBps [new]" per row;
	// closed: one "owner delta [new]" per counted close; owners: the
	// End listing, "pid:total-sent/total-recv@bps-sent/bps-recv conns".
	conns, closed, owners string
}

func TestMeter(t *testing.T) {
	tcp, tcp6 := netstat.TCP, netstat.TCP6
	tests := []struct {
		name   string
		feed   bool
		step   time.Duration // between rounds; 2 s if zero
		rounds []mround
	}{{
		name: "totals then rates",
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 1000, recv: 50, pid: 7}, {proto: tcp, lport: 2, rport: 1, inode: 11, sent: 50, recv: 1000, pid: 8}},
			conns:  "1000/50 0/0 new; 50/1000 0/0 new",
			owners: "7:1000/50@0/0 1; 8:50/1000@0/0 1",
		}, {
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 3000, recv: 50, pid: 7}, {proto: tcp, lport: 2, rport: 1, inode: 11, sent: 50, recv: 3000, pid: 8}},
			conns:  "2000/0 1000/0; 0/2000 0/1000",
			owners: "7:3000/50@1000/0 1; 8:50/3000@0/1000 1",
		}},
	}, {
		name: "closed between rounds, seen and never seen",
		feed: true,
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, recv: 0, pid: 7}},
			conns:  "100/0 0/0 new",
			owners: "7:100/0@0/0 1",
		}, {
			// 1→2 closed at 1,100 bytes (1,000 since round 1); 3→4 opened
			// and closed in between, for PID 9.
			events: []Event{mclose(1, 2, 1100, 0, 99), mclose(3, 4, 5000, 20, 9), {Kind: Open}},
			closed: "7 1000/0; 9 5000/20 new",
			owners: "9:5000/20@2500/10 0; 7:1100/0@500/0 0",
		}, {
			// owners without connections and without traffic are forgotten
			owners: "",
		}},
	}, {
		name: "new between rounds counts all of it",
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}},
			conns:  "100/0 0/0 new",
			owners: "7:100/0@0/0 1",
		}, {
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}, {proto: tcp6, lport: 5, rport: 6, inode: 12, sent: 600, recv: 4, pid: 7}},
			conns:  "0/0 0/0; 600/4 300/2 new",
			owners: "7:700/4@300/2 2",
		}},
	}, {
		name: "inode reuse and counters reset",
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 5000, recv: 5000, pid: 7}, {proto: tcp, lport: 3, rport: 4, inode: 20, sent: 5000, pid: 7}},
			conns:  "5000/5000 0/0 new; 5000/0 0/0 new",
			owners: "7:10000/5000@0/0 2",
		}, {
			// same addresses, a new socket (inode 11): all of it is new;
			// same inode with counters gone back: a new socket too.
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 11, sent: 10, recv: 20, pid: 7}, {proto: tcp, lport: 3, rport: 4, inode: 20, sent: 40, pid: 7}},
			conns:  "10/20 5/10 new; 40/0 20/0 new",
			owners: "7:10050/5020@25/10 2",
		}},
	}, {
		name: "a missing connection without a feed is forgotten",
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}},
			conns:  "100/0 0/0 new",
			owners: "7:100/0@0/0 1",
		}, {
			owners: "",
		}, {
			events: []Event{mclose(1, 2, 300, 0, 7)}, // no record: all of it (the caller said no feed)
			closed: "7 300/0 new",
			owners: "7:300/0@150/0 0",
		}},
	}, {
		name: "a missing connection waits one round for its event with a feed",
		feed: true,
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}},
			conns:  "100/0 0/0 new",
			owners: "7:100/0@0/0 1",
		}, {
			owners: "7:100/0@0/0 0",
		}, {
			events: []Event{mclose(1, 2, 300, 0, 0)},
			closed: "7 200/0",
			owners: "7:300/0@100/0 0",
		}},
	}, {
		name: "with a feed, a missing connection waits a second for its event",
		feed: true,
		step: 300 * time.Millisecond,
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}},
			conns:  "100/0 0/0 new",
			owners: "7:100/0@0/0 1",
		}, {
			owners: "7:100/0@0/0 0",
		}, {
			owners: "7:100/0@0/0 0",
		}, {
			owners: "7:100/0@0/0 0",
		}, {
			events: []Event{mclose(1, 2, 400, 0, 0)}, // 1.2 s after it was seen
			closed: "7 300/0",
			owners: "7:400/0@1000/0 0",
		}},
	}, {
		name: "a row twice in a round counts once; a close without counters counts nothing more",
		feed: true,
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}, {proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}},
			conns:  "100/0 0/0 new; 0/0 0/0",
			owners: "7:100/0@0/0 1",
		}, {
			events: []Event{{Kind: Close, Proto: tcp, Local: netip.MustParseAddrPort("127.0.0.1:1"), Remote: netip.MustParseAddrPort("127.0.0.1:2")}},
			closed: "",
			owners: "", // no connection, nothing moved: forgotten
		}, {
			// the record is gone: the same addresses again are a new connection
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 150, pid: 7}},
			conns:  "150/0 75/0 new",
			owners: "7:150/0@75/0 1",
		}},
	}, {
		name: "not counted: UDP, listeners, unknown counters, events before the first round",
		rounds: []mround{{
			events: []Event{mclose(9, 9, 100, 100, 9)},
			rows: []mrow{
				{proto: netstat.UDP, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7},
				{proto: tcp, lport: 1, inode: 11, state: netstat.Listen, pid: 7},
				{proto: tcp, lport: 1, rport: 3, unknown: true, state: netstat.TimeWait},
				{proto: tcp, lport: 1, rport: 4, inode: 12, sent: 1, recv: 2},
			},
			conns:  "0/0 0/0; 0/0 0/0; 0/0 0/0; 1/2 0/0 new",
			owners: "0:1/2@0/0 1",
		}},
	}, {
		name: "an owner change moves the next bytes, sorted by rate",
		rounds: []mround{{
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 100, pid: 7}, {proto: tcp, lport: 3, rport: 4, inode: 11, recv: 10, pid: 8}},
			conns:  "100/0 0/0 new; 0/10 0/0 new",
			owners: "7:100/0@0/0 1; 8:0/10@0/0 1",
		}, {
			rows:   []mrow{{proto: tcp, lport: 1, rport: 2, inode: 10, sent: 500, pid: 8}, {proto: tcp, lport: 3, rport: 4, inode: 11, recv: 30, pid: 8}},
			conns:  "400/0 200/0; 0/20 0/10",
			owners: "8:400/30@200/10 2", // 7 holds nothing and moved nothing: forgotten
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(tt.feed)
			now := time.Unix(1e9, 0)
			for i, r := range tt.rounds {
				closed := m.Begin(now, r.events)
				var cl []string
				for _, c := range closed {
					if c.DeltaSent == 0 && c.DeltaReceived == 0 && !c.New {
						continue
					}
					if r.events[c.Event].Kind != Close || r.events[c.Event].Traffic != c.Traffic {
						t.Errorf("round %d: closed %+v does not match its event", i+1, c)
					}
					s := fmt.Sprintf("%d %d/%d", c.Owner.PID, c.DeltaSent, c.DeltaReceived)
					if c.New {
						s += " new"
					}
					cl = append(cl, s)
				}
				var cs []string
				for _, row := range r.rows {
					s := row.socket()
					c := m.Add(&s, ownerOf(row.pid))
					if c.Traffic != s.Traffic {
						t.Errorf("round %d: traffic %+v, want the row's %+v", i+1, c.Traffic, s.Traffic)
					}
					if c.Rate != (i > 0) && c.DeltaSent+c.DeltaReceived > 0 {
						t.Errorf("round %d: Rate %v", i+1, c.Rate)
					}
					e := fmt.Sprintf("%d/%d %g/%g", c.DeltaSent, c.DeltaReceived, c.SendBps, c.RecvBps)
					if c.New {
						e += " new"
					}
					cs = append(cs, e)
				}
				var os []string
				for _, o := range m.End() {
					if o.Program != ownerOf(o.PID).Program {
						t.Errorf("round %d: owner %+v", i+1, o.Owner)
					}
					os = append(os, fmt.Sprintf("%d:%d/%d@%g/%g %d", o.PID, o.BytesSent, o.BytesReceived, o.SendBps, o.RecvBps, o.Conns))
				}
				for _, c := range []struct{ what, got, want string }{
					{"conns", strings.Join(cs, "; "), r.conns},
					{"closed", strings.Join(cl, "; "), r.closed},
					{"owners", strings.Join(os, "; "), r.owners},
				} {
					if c.got != c.want {
						t.Errorf("round %d %s:\n got %s\nwant %s", i+1, c.what, c.got, c.want)
					}
				}
				if tt.step == 0 {
					tt.step = 2 * time.Second
				}
				now = now.Add(tt.step)
			}
		})
	}
}

// TestMeterForgets: the meter keeps a record only of live connections.
func TestMeterForgets(t *testing.T) {
	m := NewMeter(true)
	now := time.Unix(1e9, 0)
	for round := range 5 {
		m.Begin(now, nil)
		for i := range 100 {
			s := mrow{proto: netstat.TCP, lport: uint16(round*1000 + i), rport: 80, inode: uint64(round*1000 + i + 1), sent: 1, pid: 7}.socket()
			m.Add(&s, ownerOf(7))
		}
		m.End()
		if n := m.Conns(); n > 200 {
			t.Fatalf("round %d: %d records for 100 connections a round", round, n)
		}
		now = now.Add(time.Second)
	}
	m.Begin(now, nil)
	m.End()
	m.Begin(now.Add(time.Second), nil)
	if owners := m.End(); m.Conns() != 0 || len(owners) != 0 {
		t.Errorf("quiet rounds keep %d records, %d owners", m.Conns(), len(owners))
	}
}
