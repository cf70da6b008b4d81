package flows

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/procnet/procnet/netstat"
)

// errRecord is wrapped by every error decoding a tracepoint record.
var errRecord = errors.New("flows: bad tracepoint record")

// rawEvent is a decoded tracepoint record (see the layout next to
// recordSize).
type rawEvent struct {
	kind          uint8
	flags         uint8
	old, new      netstat.State
	time, start   uint64 // CLOCK_MONOTONIC ns
	pid           uint32
	proto         netstat.Proto
	local, remote netip.AddrPort
	comm          string
	traffic       netstat.Traffic
}

// decodeRecord decodes one ring buffer record. Anything the program
// cannot have written is an error.
func decodeRecord(b []byte) (rawEvent, error) {
	if len(b) < recordSize {
		return rawEvent{}, fmt.Errorf("%w: %d bytes", errRecord, len(b))
	}
	ne := binary.NativeEndian
	e := rawEvent{
		time:  ne.Uint64(b[0:]),
		start: ne.Uint64(b[8:]),
		pid:   ne.Uint32(b[40:]),
		kind:  b[44],
		old:   netstat.State(b[45]),
		new:   netstat.State(b[46]),
		flags: b[47],
	}
	if e.kind < recOpen || e.kind > recState {
		return rawEvent{}, fmt.Errorf("%w: kind %d", errRecord, e.kind)
	}
	if e.old > netstat.NewSynRecv || e.new > netstat.NewSynRecv {
		return rawEvent{}, fmt.Errorf("%w: states %d→%d", errRecord, e.old, e.new)
	}
	if e.pid > 1<<22 { // PID_MAX_LIMIT
		return rawEvent{}, fmt.Errorf("%w: pid %d", errRecord, e.pid)
	}
	lport, rport := binary.BigEndian.Uint16(b[50:]), binary.BigEndian.Uint16(b[52:])
	switch ne.Uint16(b[48:]) {
	case 2: // AF_INET
		e.proto = netstat.TCP
		e.local = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[56:60])), lport)
		e.remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[72:76])), rport)
	case 10: // AF_INET6
		e.proto = netstat.TCP6
		e.local = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[56:72])), lport)
		e.remote = netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[72:88])), rport)
	default:
		return rawEvent{}, fmt.Errorf("%w: family %d", errRecord, ne.Uint16(b[48:]))
	}
	comm := b[88:104]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	e.comm = string(comm)
	if e.flags&flagTraffic != 0 {
		e.traffic = netstat.Traffic{
			BytesSent:     ne.Uint64(b[16:]) - min(ne.Uint64(b[104:]), ne.Uint64(b[16:])), // retransmitted bytes once
			BytesReceived: ne.Uint64(b[24:]),
			SegsOut:       ne.Uint32(b[32:]),
			SegsIn:        ne.Uint32(b[36:]),
			Known:         true,
		}
		if e.flags&flagFin != 0 && e.traffic.BytesReceived > 0 {
			e.traffic.BytesReceived-- // the FIN's sequence number
		}
	}
	return e, nil
}

// event turns a decoded open, close or state record into an Event, with
// the wall clock offset of CLOCK_MONOTONIC.
func (r *rawEvent) event(offset time.Duration) Event {
	ev := Event{
		Time:     time.Unix(0, int64(r.time)).Add(offset),
		Proto:    r.proto,
		Local:    r.local,
		Remote:   r.remote,
		OldState: r.old,
		NewState: r.new,
		Passive:  r.flags&flagPassive != 0,
		Traffic:  r.traffic,
	}
	switch r.kind {
	case recOpen:
		ev.Kind = Open
	case recClose:
		ev.Kind = Close
		if r.start != 0 && r.time >= r.start && r.time-r.start <= math.MaxInt64 {
			ev.Duration = time.Duration(r.time - r.start)
		}
	default:
		ev.Kind = StateChange
	}
	if r.pid != 0 && r.flags&flagTask != 0 {
		ev.PID, ev.Program, ev.Attribution = int(r.pid), r.comm, AttrTask
	}
	return ev
}
