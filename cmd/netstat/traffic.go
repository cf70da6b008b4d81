package main

// --traffic: what each TCP connection has moved, as Sysinternals TCPView
// shows it, from the kernel's tcp_info (netstat.Socket.Traffic): columns
// after net-tools' in the table, totals one-shot and rates since the last
// round under -c (docs/tcpview.md lists them with their widths; "-" when
// unknown), keys in --json and --csv (README's schema), and per process
// with --summary (procnet.AddTraffic; under -c sorted by rate). Nothing is
// asked of the kernel for it without --traffic.

import (
	"strconv"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
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
// watch mode measured (l.at.rate, set for the row being written; nil or
// without Rate: none), then the totals; one-shot the totals and segments.
func (l *lister) appendTraffic(b []byte, s *netstat.Socket) []byte {
	t := &s.Traffic
	if l.c.continuous {
		if r := l.at.rate; t.Known && r != nil {
			b = appendRates(b, r.Rate, r.SendBps, r.RecvBps)
		} else {
			b = appendRates(b, false, 0, 0)
		}
		return appendCounts(b, t.Known, t.BytesSent, t.BytesReceived, 11)
	}
	b = appendCounts(b, t.Known, t.BytesSent, t.BytesReceived, 11)
	return appendCounts(b, t.Known, uint64(t.SegsOut), uint64(t.SegsIn), 10)
}

// appendCounts appends two counters, each after a blank and right-aligned
// in width columns, or "-" in each when they are unknown.
func appendCounts(b []byte, known bool, x, y uint64, width int) []byte {
	for _, v := range [2]uint64{x, y} {
		if b = append(b, ' '); known {
			b = padNum(b, v, width)
		} else {
			b = padLeft(b, "-", width)
		}
	}
	return b
}

// appendTrafficJSON appends the --traffic keys of s, and under -c the
// rate of the row being written (null in the first round).
func (l *lister) appendTrafficJSON(b []byte, s *netstat.Socket) []byte {
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
	if l.c.continuous {
		send, recv := "null", "null"
		if r := l.rate(s); r != nil {
			send, recv = bps(r.SendBps), bps(r.RecvBps)
		}
		b = append(appendKey(b, false, "send_bps"), send...)
		b = append(appendKey(b, false, "recv_bps"), recv...)
	}
	return b
}

// rate is the measure of s, the row being written, when it has a rate:
// nil in the first round, for unknown counters and for a unix row (nil).
func (l *lister) rate(s *netstat.Socket) *flows.ConnTraffic {
	if r := l.at.rate; s != nil && s.Traffic.Known && r != nil && r.Rate {
		return r
	}
	return nil
}

// bps formats bytes per second as JSON and CSV give them.
func bps(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// trafficCSVHeader are the --traffic CSV columns (under -c with the
// rates).
func (c *config) trafficCSVHeader() []string {
	h := []string{"Bytes Sent", "Bytes Received", "Segs Out", "Segs In"}
	if c.continuous {
		h = append(h, "Send B/s", "Recv B/s")
	}
	return h
}

// appendTrafficCSV appends the --traffic fields of s ("" when unknown,
// and for a unix row, s nil).
func (l *lister) appendTrafficCSV(rec []string, s *netstat.Socket) []string {
	if s == nil || !s.Traffic.Known {
		rec = append(rec, "", "", "", "")
	} else {
		t := &s.Traffic
		rec = append(rec, strconv.FormatUint(t.BytesSent, 10), strconv.FormatUint(t.BytesReceived, 10),
			strconv.FormatUint(uint64(t.SegsOut), 10), strconv.FormatUint(uint64(t.SegsIn), 10))
	}
	if r := l.rate(s); r != nil {
		rec = append(rec, bps(r.SendBps), bps(r.RecvBps))
	} else if l.c.continuous {
		rec = append(rec, "", "")
	}
	return rec
}

// appendSummaryTrafficHeader appends --summary --traffic's titles.
func (c *config) appendSummaryTrafficHeader(b []byte) []byte {
	if c.continuous {
		return append(b, "    Send-B/s    Recv-B/s  Sent-Bytes  Recv-Bytes"...)
	}
	return append(b, "  Sent-Bytes  Recv-Bytes"...)
}

// appendSummaryTraffic appends a group's traffic columns.
func (c *config) appendSummaryTraffic(b []byte, t *procnet.GroupTraffic) []byte {
	if c.continuous {
		b = appendRates(b, t.Known && t.Rate, t.SendBps, t.RecvBps)
	}
	return appendCounts(b, t.Known, t.BytesSent, t.BytesReceived, 11)
}

// summaryTrafficFields appends a group's traffic fields: bytes_sent and
// bytes_received (null when unknown), and under -c send_bps and recv_bps
// (null before the second round).
func (c *config) summaryTrafficFields(fs []field, t *procnet.GroupTraffic) []field {
	sent, recv := field{"bytes_sent", "", fNumber}, field{"bytes_received", "", fNumber}
	if t.Known {
		sent.val, recv.val = strconv.FormatUint(t.BytesSent, 10), strconv.FormatUint(t.BytesReceived, 10)
	}
	fs = append(fs, sent, recv)
	if c.continuous {
		send, rcv := field{"send_bps", "", fNumber}, field{"recv_bps", "", fNumber}
		if t.Known && t.Rate {
			send.val, rcv.val = bps(t.SendBps), bps(t.RecvBps)
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
