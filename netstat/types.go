package netstat

import (
	"net/netip"
	"strconv"
	"time"
)

// Proto is an Internet socket table: one of the files under /proc/net.
type Proto uint8

// The Internet socket tables, in the order net-tools lists them.
const (
	TCP Proto = iota + 1
	TCP6
	UDP
	UDP6
	UDPLite
	UDPLite6
	Raw
	Raw6
	numProtos = iota
)

var protoNames = [...]string{"", "tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6"}

// String returns the table's file name under /proc/net ("tcp", "udp6", …),
// which is also the name netstat prints in its Proto column.
func (p Proto) String() string {
	if int(p) < len(protoNames) && p != 0 {
		return protoNames[p]
	}
	return "proto(" + strconv.Itoa(int(p)) + ")"
}

// IPv6 reports whether the table holds AF_INET6 sockets (which include
// dual-stack sockets with IPv4-mapped addresses).
func (p Proto) IPv6() bool { return p == TCP6 || p == UDP6 || p == UDPLite6 || p == Raw6 }

// IsTCP reports whether p is TCP or TCP6, the only tables whose State is a
// TCP state.
func (p Proto) IsTCP() bool { return p == TCP || p == TCP6 }

// ParseProto returns the Proto named s ("tcp", "udp6", …).
func ParseProto(s string) (Proto, bool) {
	for i, n := range protoNames {
		if n == s && i != 0 {
			return Proto(i), true
		}
	}
	return 0, false
}

// AllProtos lists every Internet table in net-tools order.
var AllProtos = []Proto{TCP, TCP6, UDP, UDP6, UDPLite, UDPLite6, Raw, Raw6}

// ProtoSet is a set of tables. The zero set means every table.
type ProtoSet uint16

// Protos returns the set holding ps.
func Protos(ps ...Proto) ProtoSet {
	var s ProtoSet
	for _, p := range ps {
		s |= 1 << p
	}
	return s
}

// Has reports whether p is in the set; the zero set has every Proto.
func (s ProtoSet) Has(p Proto) bool { return s == 0 || s&(1<<p) != 0 }

// State is the kernel's socket state: the `st` column.
//
// For TCP it is the TCP state machine's state. For UDP, UDP-Lite and raw
// sockets the same numbers describe the socket, not a protocol: Close (07)
// means unconnected — net-tools prints an empty State — and Established
// (01) means connect(2) fixed the peer. net-tools prints raw sockets'
// state as the bare number.
type State uint8

// The kernel's states, include/net/tcp_states.h.
const (
	Established State = iota + 1
	SynSent
	SynRecv
	FinWait1
	FinWait2
	TimeWait
	Close
	CloseWait
	LastAck
	Listen
	Closing
	NewSynRecv
	numStates = iota + 1
)

var stateNames = [...]string{"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"}

// String returns the kernel's name for s (ESTABLISHED, TIME_WAIT, …).
func (s State) String() string {
	if s != 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
}

// ParseState returns the State named s, as String spells it; case matters
// not, and "-" may stand for "_" (as in ss: "time-wait").
func ParseState(s string) (State, bool) {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c == '-':
			b[i] = '_'
		}
	}
	for i, n := range stateNames {
		if i != 0 && n == string(b) {
			return State(i), true
		}
	}
	return 0, false
}

// StateSet is a set of states. The zero set means every state.
type StateSet uint16

// States returns the set holding ss.
func States(ss ...State) StateSet {
	var s StateSet
	for _, st := range ss {
		s |= 1 << st
	}
	return s
}

// Has reports whether st is in the set; the zero set has every State.
func (s StateSet) Has(st State) bool { return s == 0 || (st < 16 && s&(1<<st) != 0) }

// Timer is the kind of timer pending on a socket: the `tr` column.
type Timer uint8

// The values of the `tr` column (net/ipv4/tcp_ipv4.c).
const (
	TimerOff        Timer = 0 // no timer pending
	TimerRetransmit Timer = 1 // retransmission (or loss probe, reorder) timer
	TimerKeepalive  Timer = 2 // keepalive (or another sk_timer)
	TimerTimeWait   Timer = 3 // TIME_WAIT expiry
	TimerProbe      Timer = 4 // zero-window probe
)

var timerNames = [...]string{"off", "on", "keepalive", "timewait", "probe"}

// String returns net-tools' word for t (`netstat -o`): off, on, keepalive,
// timewait, probe, or unkn-N.
func (t Timer) String() string {
	if int(t) < len(timerNames) {
		return timerNames[t]
	}
	return "unkn-" + strconv.Itoa(int(t))
}

// UserHZ is the unit of the tm->when column: clock ticks of 1/100 s, the
// kernel's USER_HZ on every architecture Linux supports.
const UserHZ = 100

// Socket is one row of an Internet socket table.
type Socket struct {
	Proto Proto
	// Local and Remote are the socket's addresses. In the IPv6 tables a
	// dual-stack socket's IPv4 peers appear IPv4-mapped (::ffff:a.b.c.d)
	// and are kept that way: Proto still says the row came from tcp6.
	// Use Addr().Unmap() to print them as IPv4, as net-tools does. For
	// raw sockets the "port" is the IP protocol number.
	Local, Remote netip.AddrPort
	State         State
	// TxQueue and RxQueue are the send and receive queues (netstat's
	// Send-Q and Recv-Q). For a TCP listener RxQueue is the current accept
	// backlog (ss shows the maximum backlog there instead); for UDP they
	// count socket memory in bytes, not payload.
	TxQueue, RxQueue uint32
	// Timer, TimerTicks, Retransmits and Timeout are the tr, tm->when,
	// retrnsmt and timeout columns that `netstat -o` prints. TimerTicks
	// counts UserHZ ticks until the timer fires.
	Timer       Timer
	TimerTicks  uint64
	Retransmits uint32
	Timeout     uint32
	// UID owns the socket, as seen from the reader's user namespace.
	// TIME_WAIT and request sockets have UID 0 and Inode 0.
	UID   uint32
	Inode uint64
	// Drops counts datagrams dropped (UDP and raw tables; 0 where the
	// kernel does not print the column).
	Drops uint64
	// Traffic holds a TCP socket's byte and segment counters when the
	// Reader was asked for them (Reader.Traffic) and its source has them:
	// netlink's tcp_info does for full sockets; the proc text, TIME_WAIT
	// and request sockets do not (Traffic.Known false).
	Traffic Traffic
}

// Traffic is what a TCP socket has moved, from the kernel's tcp_info
// (tcpi_bytes_sent, tcpi_bytes_received, tcpi_segs_out, tcpi_segs_in).
// BytesSent and BytesReceived count payload bytes, exactly what the
// process wrote and the peer acknowledged or sent (tcpi_bytes_sent less
// tcpi_bytes_retrans: a retransmitted byte counts once; the peer's FIN,
// which tcpi_bytes_received counts as a byte, is left out in CLOSE_WAIT,
// LAST_ACK and CLOSING); no headers. The segment counts include SYN, FIN,
// pure ACKs and retransmissions. A zero Traffic is unknown, not idle:
// check Known.
type Traffic struct {
	BytesSent, BytesReceived uint64
	SegsOut, SegsIn          uint32
	// Known says the counters were read. False for rows read from proc
	// (which has no such columns), for TIME_WAIT and request sockets, and
	// when the Reader was not asked for them.
	Known bool
}

// TimerLeft returns the time until the socket's timer fires.
func (s *Socket) TimerLeft() time.Duration {
	return time.Duration(s.TimerTicks) * (time.Second / UserHZ)
}

// Listening reports whether s is a server socket: a TCP socket in
// LISTEN, or a UDP, UDP-Lite or raw socket with no peer (Close: it takes
// datagrams from anyone), the rows `netstat -l` lists.
func (s *Socket) Listening() bool {
	if s.Proto.IsTCP() {
		return s.State == Listen
	}
	return s.State == Close
}

// StateName returns s's state as the machine-readable outputs (JSON,
// CSV, Prometheus labels) print it, one vocabulary for every kind of
// socket: the kernel's name (State.String: ESTABLISHED, TIME_WAIT, …),
// except that a UDP, UDP-Lite or raw socket with no peer (Close) is
// UNCONN, as ss says and as UnixSocket.StateName names an unconnected
// unix socket. (net-tools' table prints such a socket's state blank.)
func (s *Socket) StateName() string {
	if !s.Proto.IsTCP() && s.State == Close {
		return "UNCONN"
	}
	return s.State.String()
}

// Filter selects rows inside the scan: a row that fails it is dropped
// before its addresses are decoded. The zero Filter keeps every row.
type Filter struct {
	Protos ProtoSet // tables to read; zero means all of them
	States StateSet // zero means any state
	// Ports keeps rows whose local or remote port is one of them;
	// LocalPorts and RemotePorts look at one side. Empty means any.
	Ports, LocalPorts, RemotePorts []uint16
	// Inodes, when not nil, keeps only the rows whose inode it holds.
	Inodes map[uint64]bool
}
