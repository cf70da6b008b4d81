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
	"strconv"

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

func (t *trafficFlags) check(c *config) error {
	if !t.traffic {
		return nil
	}
	if c.route || c.interfaces || c.stats || c.events || c.format == "prometheus" {
		return usageError{"--traffic goes with the socket listing or --summary"}
	}
	if c.summary && c.by != "process" {
		return usageError{"--traffic counts per process: not with --by " + c.by}
	}
	return nil
}

// trafficRate is what watch mode gives appendTraffic for the row being
// written: the Meter's measure of it.
type trafficRate struct {
	flows.ConnTraffic
	ok bool // a round measured the row
}

// appendTrafficHeader appends the --traffic columns' titles.
func (c *config) appendTrafficHeader(b []byte) []byte {
	if c.continuous {
		return append(b, "    Send-B/s    Recv-B/s  Sent-Bytes  Recv-Bytes"...)
	}
	return append(b, "  Sent-Bytes  Recv-Bytes  Sent-Pkts  Recv-Pkts"...)
}

// appendTraffic appends the --traffic columns of s: under -c the rate
// watch mode measured (l.rate, set for the row being written).
func (l *lister) appendTraffic(b []byte, s *netstat.Socket) []byte {
	t := &s.Traffic
	if l.c.continuous {
		rate := l.rate
		if rate == nil {
			rate = &trafficRate{}
		}
		if !t.Known {
			return append(b, "           -           -           -           -"...)
		}
		if rate.ok && rate.Rate {
			b = append(b, ' ')
			b = padBytes(b, strconv.AppendFloat(nil, rate.SendBps, 'f', 0, 64), 11)
			b = append(b, ' ')
			b = padBytes(b, strconv.AppendFloat(nil, rate.RecvBps, 'f', 0, 64), 11)
		} else {
			b = append(b, "           -           -"...)
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

// padBytes appends d right-aligned in a field of width n.
func padBytes(b, d []byte, n int) []byte {
	for i := len(d); i < n; i++ {
		b = append(b, ' ')
	}
	return append(b, d...)
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
