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

// Record layout (native byte order), recordSize bytes:
//
//	 0 u64 time      ktime_get_ns of the event
//	 8 u64 start     ktime_get_ns of the open, 0 if unknown
//	16 u64 bytes_sent      (close only)
//	24 u64 bytes_received  (close only)
//	32 u32 segs_out        (close only)
//	36 u32 segs_in         (close only)
//	40 u32 pid       0 if unknown
//	44 u8  kind      recOpen, recClose, recListen, recUnlisten, recState
//	45 u8  oldstate
//	46 u8  newstate
//	47 u8  flags     flagActive, flagPassive, flagTask, flagTaskClose, flagTraffic
//	48 u16 family    AF_INET or AF_INET6
//	50 u16 local port, network order (inet_sport)
//	52 u16 remote port, network order
//	54 u16 zero
//	56 [16] local address (IPv4: first 4 bytes)
//	72 [16] remote address
//	88 [16] comm
//	104 u64 bytes_retrans  (close only)
const (
	recordSize = 112

	recOpen     = 1
	recClose    = 2
	recListen   = 3
	recUnlisten = 4
	recState    = 5

	flagActive    = 1  // connect(2) seen
	flagPassive   = 2  // accepted from a listener
	flagTask      = 4  // pid is the socket's process (connect or close)
	flagTaskClose = 8  // pid set by the process's own close
	flagTraffic   = 16 // counters read
	flagFin       = 32 // the peer's FIN was received (counted in bytes_received)
)

// TCP states (include/net/tcp_states.h).
const (
	stEstablished = 1
	stSynSent     = 2
	stSynRecv     = 3
	stFinWait1    = 4
	stClose       = 7
	stLastAck     = 9
	stListen      = 10
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
