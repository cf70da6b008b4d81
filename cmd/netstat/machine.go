package main

import (
	"encoding/csv"
	"io"
	"net/netip"
	"strconv"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

func appendKey(b []byte, first bool, k string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// jsonUint and jsonText append a key of an object that has one before it,
// and its value: a number, a string.
func jsonUint(b []byte, k string, v uint64) []byte {
	return strconv.AppendUint(appendKey(b, false, k), v, 10)
}
func jsonText(b []byte, k, s string) []byte { return escape.AppendJSON(appendKey(b, false, k), s) }

// appendProcesses appends the "processes" array: every owner. Without
// argv (--no-cmdline) "cmdline" is null.
func appendProcesses(b []byte, owners []procmap.Owner, m procnet.Processes, argv bool) []byte {
	b = append(b, '[')
	for i, o := range owners {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, `{"pid":`...), int64(o.PID), 10)
		var comm string
		var args []string
		if p := m.Process(o.PID); p != nil {
			comm, args = p.Comm, p.Cmdline
		}
		b = jsonText(b, "name", comm)
		b = appendKey(b, false, "cmdline")
		if !argv {
			b = append(b, "null"...) // --no-cmdline: not read
		} else {
			b = append(b, '[')
			for j, a := range args {
				if j > 0 {
					b = append(b, ',')
				}
				b = escape.AppendJSON(b, a)
			}
			b = append(b, ']')
		}
		b = strconv.AppendInt(append(b, `,"fd":`...), int64(o.FD), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// writeJSON writes one JSON object per socket (JSON Lines). Addresses are
// plain strings, never truncated; IPv4-mapped addresses are unmapped and
// "proto" still says tcp6.
func (l *lister) writeJSON(w io.Writer, snap *snapshot) error {
	b := l.buf[:0]
	var err error
	for r := range snap.inet {
		if b, err = spill(w, l.appendJSONRow(b, snap, r)); err != nil {
			return err
		}
	}
	for u := range snap.unix {
		if b, err = spill(w, b); err != nil {
			return err
		}
		b = appendKey(append(b, '{'), true, "proto")
		b = append(b, `"unix","type":`...)
		b = escape.AppendJSON(b, u.Type.String())
		b = jsonText(b, "state", u.StateName())
		b = appendKey(b, false, "listening")
		b = strconv.AppendBool(b, u.Listening())
		b = jsonUint(b, "refcount", uint64(u.RefCount))
		b = jsonUint(b, "inode", u.Inode)
		b = jsonText(b, "path", u.Path)
		b = l.appendTail(b, u.Owners, snap, u.Namespace)
	}
	l.buf = b
	_, err = w.Write(b)
	return err
}

// appendJSONRow appends r, a row of snap, as one JSON object and a
// newline.
func (l *lister) appendJSONRow(b []byte, snap *snapshot, r *row) []byte {
	b = appendKey(append(b, '{'), true, "proto")
	b = escape.AppendJSON(b, r.Proto.String())
	b = appendKey(b, false, "local_address")
	b = appendJSONAddr(b, r.Local.Addr())
	b = jsonUint(b, "local_port", uint64(r.Local.Port()))
	b = appendKey(b, false, "remote_address")
	b = appendJSONAddr(b, r.Remote.Addr())
	b = jsonUint(b, "remote_port", uint64(r.Remote.Port()))
	b = jsonText(b, "state", r.StateName())
	b = appendKey(b, false, "listening")
	b = strconv.AppendBool(b, r.Listening())
	b = jsonUint(b, "recv_q", uint64(r.RxQueue))
	b = jsonUint(b, "send_q", uint64(r.TxQueue))
	b = jsonUint(b, "uid", uint64(r.UID))
	b = appendKey(b, false, "user")
	if n, ok := l.names.User(r.UID); ok {
		b = escape.AppendJSON(b, n)
	} else {
		b = append(b, "null"...)
	}
	b = jsonUint(b, "inode", r.Inode)
	if l.c.timers {
		// -o: the Timer column's parts, as the kernel gives them.
		b = jsonText(b, "timer", r.Timer.String())
		b = appendKey(b, false, "timer_seconds")
		b = strconv.AppendFloat(b, r.TimerLeft().Seconds(), 'f', -1, 64)
		b = jsonUint(b, "retransmits", uint64(r.Retransmits))
		b = jsonUint(b, "timeout", uint64(r.Timeout))
	}
	if l.c.traffic {
		b = l.appendTrafficJSON(b, &r.Socket)
	}
	return l.appendTail(b, r.Owners, snap, r.Namespace)
}

// appendJSONAddr appends a as a JSON string, IPv4-mapped as IPv4. An
// address's text needs no escaping, so it is written in place.
func appendJSONAddr(b []byte, a netip.Addr) []byte {
	return append(a.Unmap().AppendTo(append(b, '"')), '"')
}

// appendTail ends an object: its processes (when owners were read) and
// the namespace.
func (l *lister) appendTail(b []byte, owners []procmap.Owner, snap *snapshot, ns *netstat.Namespace) []byte {
	b = appendKey(b, false, "processes")
	if m := l.procs(snap); m != nil {
		b = appendProcesses(b, owners, m, !l.c.noCmdline)
	} else {
		b = append(b, "null"...)
	}
	b = l.appendNetNS(b, ns) // netns.go
	b = l.appendChange(b)    // watch.go
	if l.stamp != "" {
		b = jsonText(b, "time", l.stamp)
	}
	return append(b, '}', '\n')
}

// writeCSV writes a header and one record per socket, columns first as
// Sysinternals tcpvcon -c prints them (protocol, process, PID, state,
// local and remote address), then ours; "State" is the JSON's state (one
// vocabulary: netstat.Socket.StateName). -o adds the timer columns, --all-netns
// and --netns the namespace's. Under -c the header is written once and
// every record starts with its round's time. CSV has no escapes of its own,
// so text from the system (names, paths) is shown under the one rule, as in
// the table.
func (l *lister) writeCSV(w io.Writer, snap *snapshot) error {
	c := l.c
	cw := csv.NewWriter(w)
	if !l.csvHeader {
		var h []string
		if l.stamp != "" {
			h = append(h, "Time")
		}
		h = append(h, "Protocol", "Process", "PID", "State", "Local Address", "Remote Address",
			"Recv-Q", "Send-Q", "User", "Inode", "Type", "Listening")
		if c.timers {
			h = append(h, "Timer", "Timer Seconds", "Retransmits", "Timeout")
		}
		if c.traffic {
			h = append(h, c.trafficCSVHeader()...)
		}
		if c.nsMode() {
			h = append(h, "NetNS", "Container")
		}
		if l.stamp != "" {
			h = append(h, "Change")
		}
		cw.Write(h)
		l.csvHeader = true
	}
	var rec []string
	start := func() {
		rec = rec[:0]
		if l.stamp != "" {
			rec = append(rec, l.stamp)
		}
	}
	end := func(ns *netstat.Namespace) {
		if c.nsMode() {
			id, hint := "", ""
			if ns != nil {
				id, hint = strconv.FormatUint(ns.Inode, 10), escape.String(ns.Container)
			}
			rec = append(rec, id, hint)
		}
		if l.stamp != "" {
			rec = append(rec, l.change())
		}
		cw.Write(rec)
	}
	for r := range snap.inet {
		name, pid := firstOwner(r.Owners, l.procs(snap))
		start()
		rec = append(rec,
			r.Proto.String(), escape.String(name), pid, r.StateName(),
			netipString(r.Local), netipString(r.Remote),
			strconv.FormatUint(uint64(r.RxQueue), 10), strconv.FormatUint(uint64(r.TxQueue), 10),
			l.user(r.UID), strconv.FormatUint(r.Inode, 10), "", strconv.FormatBool(r.Listening()))
		if c.timers {
			rec = append(rec, r.Timer.String(), strconv.FormatFloat(r.TimerLeft().Seconds(), 'f', -1, 64),
				strconv.FormatUint(uint64(r.Retransmits), 10), strconv.FormatUint(uint64(r.Timeout), 10))
		}
		if c.traffic {
			rec = l.appendTrafficCSV(rec, &r.Socket)
		}
		end(r.Namespace)
	}
	for u := range snap.unix {
		name, pid := firstOwner(u.Owners, l.procs(snap))
		start()
		rec = append(rec, "unix", escape.String(name), pid, u.StateName(), escape.String(u.Path), "", "0", "0", "",
			strconv.FormatUint(u.Inode, 10), u.Type.String(), strconv.FormatBool(u.Listening()))
		if c.timers {
			rec = append(rec, "", "", "", "")
		}
		if c.traffic {
			rec = l.appendTrafficCSV(rec, nil)
		}
		end(u.Namespace)
	}
	cw.Flush()
	return cw.Error()
}

// netipString prints an endpoint with the IPv4-mapped form unmapped and
// IPv6 in brackets: 127.0.0.1:80, [::1]:5432.
func netipString(ap netip.AddrPort) string {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// firstOwner is the process name (comm, as tcpvcon names the image) and
// PID of a CSV record: its first owner's, "" without one.
func firstOwner(owners []procmap.Owner, m procnet.Processes) (name, pid string) {
	if len(owners) == 0 {
		return "", ""
	}
	if m != nil {
		if p := m.Process(owners[0].PID); p != nil {
			name = p.Comm
		}
	}
	return name, strconv.Itoa(owners[0].PID)
}
