package main

// --traffic: what each TCP connection has moved, as Sysinternals TCPView
// shows it, from the kernel's tcp_info (netstat.Socket.Traffic).
//
// The table keeps net-tools' columns and appends, after them:
//
//	one-shot:  Sent-Bytes Recv-Bytes  Sent-Pkts  Recv-Pkts   (11, 11, 10, 10)
//	under -c:  Send-B/s   Recv-B/s   Sent-Bytes Recv-Bytes   (rate since the last round, totals)
//
// right-aligned, "-" when unknown (UDP, TIME_WAIT, listeners' peers, rows
// read from the proc text without a traffic file). --json adds
// "bytes_sent", "bytes_received", "segs_out", "segs_in" (null when
// unknown) and CSV the columns "Bytes Sent", "Bytes Received",
// "Segs Out", "Segs In". Nothing is asked of the kernel for it without
// --traffic.
//
// --summary --traffic adds bytes sent and received per process (and under
// -c the bytes per second, the groups sorted by rate): see summaryTraffic.

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
	"github.com/spf13/pflag"
)

// trafficFlags is --traffic.
type trafficFlags struct {
	traffic bool
}

func (t *trafficFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&t.traffic, "traffic", false, "")
}

// appendTrafficHeader appends the --traffic columns' titles.
func (c *config) appendTrafficHeader(b []byte) []byte {
	if c.continuous {
		return append(b, "    Send-B/s    Recv-B/s  Sent-Bytes  Recv-Bytes"...)
	}
	return append(b, "  Sent-Bytes  Recv-Bytes  Sent-Pkts  Recv-Pkts"...)
}

// appendTraffic appends the --traffic columns of s: under -c the rate
// watch mode measured (l.rate, set for the row being written; nil or
// without Rate: none).
func (l *lister) appendTraffic(b []byte, s *netstat.Socket) []byte {
	t := &s.Traffic
	if l.c.continuous {
		if !t.Known {
			return append(b, "           -           -           -           -"...)
		}
		if r := l.rate; r != nil {
			b = appendRates(b, r.Rate, r.SendBps, r.RecvBps)
		} else {
			b = appendRates(b, false, 0, 0)
		}
		b = append(b, ' ')
		b = padNum(b, t.BytesSent, 11)
		b = append(b, ' ')
		return padNum(b, t.BytesReceived, 11)
	}
	if !t.Known {
		return append(b, "           -           -          -          -"...)
	}
	b = append(b, ' ')
	b = padNum(b, t.BytesSent, 11)
	b = append(b, ' ')
	b = padNum(b, t.BytesReceived, 11)
	b = append(b, ' ')
	b = padNum(b, uint64(t.SegsOut), 10)
	b = append(b, ' ')
	return padNum(b, uint64(t.SegsIn), 10)
}

// appendTrafficJSON appends the --traffic keys of s.
func appendTrafficJSON(b []byte, s *netstat.Socket) []byte {
	t := &s.Traffic
	for _, kv := range [...]struct {
		k string
		v uint64
	}{
		{"bytes_sent", t.BytesSent}, {"bytes_received", t.BytesReceived},
		{"segs_out", uint64(t.SegsOut)}, {"segs_in", uint64(t.SegsIn)},
	} {
		b = appendKey(b, false, kv.k)
		if t.Known {
			b = strconv.AppendUint(b, kv.v, 10)
		} else {
			b = append(b, "null"...)
		}
	}
	return b
}

// trafficCSVHeader are the --traffic CSV columns.
var trafficCSVHeader = []string{"Bytes Sent", "Bytes Received", "Segs Out", "Segs In"}

// appendTrafficCSV appends the --traffic fields of s ("" when unknown).
func appendTrafficCSV(rec []string, s *netstat.Socket) []string {
	t := &s.Traffic
	if !t.Known {
		return append(rec, "", "", "", "")
	}
	return append(rec, strconv.FormatUint(t.BytesSent, 10), strconv.FormatUint(t.BytesReceived, 10),
		strconv.FormatUint(uint64(t.SegsOut), 10), strconv.FormatUint(uint64(t.SegsIn), 10))
}

// groupTraffic is a --summary group's traffic (--by process).
type groupTraffic struct {
	known            bool // the group held a TCP connection with counters, or one closed
	sent, recv       uint64
	sendBps, recvBps float64
	rate             bool // under -c, from the second round
}

// addTraffic gives groups (--by process) the owners' traffic: an owner
// with no group (its connections all closed since the last round) gets a
// group of its own. With traffic the groups are sorted by rate under -c,
// by bytes otherwise, then as before.
func addTraffic(gs []group, owners []flows.OwnerTraffic, procs func(int) *procmap.Process) []group {
	at := make(map[int]int, len(gs))
	for i := range gs {
		at[gs[i].PID] = i
	}
	for _, o := range owners {
		pid := o.PID // 0: the unowned group
		j, ok := at[pid]
		if !ok {
			j = len(gs)
			at[pid] = j
			p := procs(pid)
			if p == nil && pid > 0 {
				// Its connections closed: the name the feed gave.
				p = &procmap.Process{PID: pid, Comm: o.Program}
			}
			gs = append(gs, group{Group: procnet.Group{Key: procnet.Key{PID: pid}, Process: p}, mark: ' '})
		}
		t := &gs[j].traffic
		t.known = true
		t.sent += o.BytesSent
		t.recv += o.BytesReceived
		t.sendBps += o.SendBps
		t.recvBps += o.RecvBps
		t.rate = t.rate || o.Rate
	}
	slices.SortStableFunc(gs, func(a, b group) int {
		if c := cmp.Compare(b.traffic.sendBps+b.traffic.recvBps, a.traffic.sendBps+a.traffic.recvBps); c != 0 {
			return c
		}
		return cmp.Compare(b.traffic.sent+b.traffic.recv, a.traffic.sent+a.traffic.recv)
	})
	return gs
}

// appendSummaryTrafficHeader appends --summary --traffic's titles.
func (c *config) appendSummaryTrafficHeader(b []byte) []byte {
	if c.continuous {
		return append(b, "    Send-B/s    Recv-B/s  Sent-Bytes  Recv-Bytes"...)
	}
	return append(b, "  Sent-Bytes  Recv-Bytes"...)
}

// appendSummaryTraffic appends a group's traffic columns.
func (c *config) appendSummaryTraffic(b []byte, t *groupTraffic) []byte {
	if c.continuous {
		b = appendRates(b, t.known && t.rate, t.sendBps, t.recvBps)
	}
	if !t.known {
		return append(b, "           -           -"...)
	}
	b = append(b, ' ')
	b = padNum(b, t.sent, 11)
	b = append(b, ' ')
	return padNum(b, t.recv, 11)
}

// summaryTrafficFields appends a group's traffic fields: bytes_sent and
// bytes_received (null when unknown), and under -c send_bps and recv_bps
// (null before the second round).
func (c *config) summaryTrafficFields(fs []field, t *groupTraffic) []field {
	sent, recv := field{"bytes_sent", "", fNumber}, field{"bytes_received", "", fNumber}
	if t.known {
		sent.val, recv.val = strconv.FormatUint(t.sent, 10), strconv.FormatUint(t.recv, 10)
	}
	fs = append(fs, sent, recv)
	if c.continuous {
		send, rcv := field{"send_bps", "", fNumber}, field{"recv_bps", "", fNumber}
		if t.known && t.rate {
			send.val, rcv.val = strconv.FormatFloat(t.sendBps, 'f', 1, 64), strconv.FormatFloat(t.recvBps, 'f', 1, 64)
		}
		fs = append(fs, send, rcv)
	}
	return fs
}

// appendRates appends the two bytes-per-second columns of -c --traffic,
// or "-" in each when there is no rate yet (the first round) or no
// counters.
func appendRates(b []byte, ok bool, send, recv float64) []byte {
	if !ok {
		return append(b, "           -           -"...)
	}
	b = append(b, ' ')
	b = padLeft(b, strconv.FormatFloat(send, 'f', 0, 64), 11)
	b = append(b, ' ')
	return padLeft(b, strconv.FormatFloat(recv, 'f', 0, 64), 11)
}
