package netstat

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Source says where a Reader gets the live system's Internet tables.
//
// The kernel offers the same tables twice: as text in proc/net/… and as
// binary rows over a NETLINK_SOCK_DIAG socket (inet_diag, what `ss` uses).
// Netlink costs about a third of the text: no formatting in the kernel, no
// parsing here. The rows and their values are the same (the package doc
// says how SYN_RECV request sockets are made to agree), and so is their
// order: both walk the listening hash and then the established
// hash, bucket by bucket.
type Source uint8

const (
	// SourceAuto reads the live system's tcp, tcp6, udp, udp6, udplite
	// and udplite6 tables over netlink, and falls back to proc/net/…,
	// table by table and silently, when netlink fails (no permission, a
	// kernel without sock_diag or without a protocol's diag module). A
	// fixture root (Root not "" or "/"), another namespace (PID > 0) and
	// the raw tables are read from proc.
	SourceAuto Source = iota
	// SourceProc always reads proc/net/….
	SourceProc
	// SourceNetlink reads the tables netlink can give over netlink and
	// reports an error (a *DiagError) for each such table it cannot read
	// that way, including every table of a fixture root or of a PID's
	// namespace. The raw tables still come from proc.
	SourceNetlink
)

var sourceNames = [...]string{"auto", "proc", "netlink"}

// String returns "auto", "proc" or "netlink".
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "source(" + strconv.Itoa(int(s)) + ")"
}

// ParseSource returns the Source that String spells s.
func ParseSource(s string) (Source, bool) {
	for i, n := range sourceNames {
		if n == s {
			return Source(i), true
		}
	}
	return 0, false
}

// DiagError reports a table that could not be read over netlink, or a
// netlink reply that could not be decoded.
type DiagError struct {
	Proto Proto
	Err   error
}

func (e *DiagError) Error() string { return "sock_diag " + e.Proto.String() + ": " + e.Err.Error() }
func (e *DiagError) Unwrap() error { return e.Err }

// ErrNotLive is a DiagError's reason when SourceNetlink is asked for a
// table netlink cannot give: the Reader reads a fixture root or another
// process's namespace.
var ErrNotLive = errors.New("netlink reads only the live system's own namespace")

var (
	errDiagShort  = errors.New("truncated netlink message")
	errDiagFamily = errors.New("address family does not match the table")
	errDiagAttr   = errors.New("malformed netlink attribute")
	errDiagBig    = errors.New("netlink datagram larger than the receive buffer")
)

// Netlink and inet_diag constants (linux/netlink.h, linux/inet_diag.h,
// linux/sock_diag.h); x/sys/unix has the generic ones only.
const (
	nlmsgHdrLen  = 16 // struct nlmsghdr
	diagReqLen   = 56 // struct inet_diag_req_v2
	diagMsgLen   = 72 // struct inet_diag_msg
	diagReqTotal = nlmsgHdrLen + diagReqLen

	inetDiagInfo      = 2  // INET_DIAG_INFO: struct tcp_info
	inetDiagSkmeminfo = 7  // INET_DIAG_SKMEMINFO: u32[SK_MEMINFO_VARS]
	inetDiagV6only    = 11 // INET_DIAG_SKV6ONLY: u8
	inetDiagShutdown  = 8  // INET_DIAG_SHUTDOWN: u8, sent for every full socket
	inetDiagReqBC     = 1  // INET_DIAG_REQ_BYTECODE

	// tcpStateMask has the bits of the TCP states 1..12 (TCPF_*). Bit 13,
	// TCP_BOUND_INACTIVE, asks for bound sockets proc/net/tcp never shows.
	tcpStateMask = 1<<13 - 2

	// tcp_info offsets (include/uapi/linux/tcp.h): tcpi_retransmits,
	// tcpi_probes, and the traffic counters, which are there since Linux
	// 4.1 (bytes_received, segs_out, segs_in) and 4.19 (bytes_sent).
	tcpiRetransmits   = 2
	tcpiProbes        = 3
	tcpiBytesReceived = 128
	tcpiSegsOut       = 136
	tcpiSegsIn        = 140
	tcpiBytesSent     = 200
	tcpiBytesRetrans  = 208
	tcpiTrafficEnd    = tcpiBytesRetrans + 8

	diagBufSize = 64 << 10 // the kernel sends dump datagrams of at most 32 KiB
)

// diagConn is a Reader's netlink state, kept between scans so that a scan
// makes no allocation once the buffers exist.
type diagConn struct {
	buf  []byte // receive buffer of the table dump
	lbuf []byte // receive buffer of the listener dump (request sockets)
	req  [diagReqTotal + 4 + maxBytecode]byte
	seq  uint32
	// off is set when a netlink socket cannot even be opened: SourceAuto
	// stops trying.
	off bool
	// listeners of the current table scan, read on the first request
	// socket met: the owner a request socket shows in proc is its
	// listener's.
	listeners     []diagListener
	listenersRead bool
	// requests of the current table scan as proc prints them, read on
	// the first request socket met when Retransmits are wanted: proc's
	// retrnsmt is req->num_timeout, which netlink does not carry.
	requests     map[[2]netip.AddrPort]procRequest
	requestsRead bool
	proc         *Reader  // its line reader, buffer and row parser read them
	procFile     fdReader // the open table
	reqFilter    Filter   // SYN_RECV rows only
}

// fdReader reads a file descriptor: an io.Reader that costs no allocation.
type fdReader struct{ fd int }

func (f *fdReader) Read(b []byte) (int, error) {
	n, err := unix.Read(f.fd, b)
	switch {
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// procRequest holds the columns of a request socket that only proc has
// right.
type procRequest struct {
	retransmits, uid uint32
}

type diagListener struct {
	addr   netip.Addr
	port   uint16
	uid    uint32
	v6only bool
}

// diagProto returns the sock_diag family and protocol of table p, or ok
// false for tables read from proc only.
func diagProto(p Proto) (family, proto uint8, ok bool) {
	switch p {
	case TCP:
		return unix.AF_INET, unix.IPPROTO_TCP, true
	case TCP6:
		return unix.AF_INET6, unix.IPPROTO_TCP, true
	case UDP:
		return unix.AF_INET, unix.IPPROTO_UDP, true
	case UDP6:
		return unix.AF_INET6, unix.IPPROTO_UDP, true
	case UDPLite:
		return unix.AF_INET, unix.IPPROTO_UDPLITE, true
	case UDPLite6:
		return unix.AF_INET6, unix.IPPROTO_UDPLITE, true
	}
	return 0, 0, false
}

func (r *Reader) live() bool { return (r.Root == "" || r.Root == "/") && r.PID <= 0 }

// scan reads table p from the Reader's source.
func (r *Reader) scan(p Proto, f *Filter, yield func(Socket, error) bool) bool {
	if _, _, ok := diagProto(p); ok {
		switch {
		case r.Source == SourceNetlink && !r.live():
			return yield(Socket{}, &DiagError{Proto: p, Err: ErrNotLive})
		case r.Source == SourceNetlink || r.Source == SourceAuto && r.live() && !r.diag.off:
			if done, cont := r.scanDiag(p, f, yield); done {
				return cont
			}
		}
	}
	if r.NoRetransmits && p.IsTCP() {
		// Netlink left them zero (no tcp_info asked for); the text has
		// them, and the Reader gives the same rows either way.
		all := yield
		yield = func(s Socket, err error) bool {
			s.Retransmits, s.Timeout = 0, 0
			return all(s, err)
		}
	}
	if r.Traffic && p.IsTCP() && !r.live() {
		return r.scanTraffic(p, f, yield) // a fixture's traffic file
	}
	return r.scanTable(p, f, yield)
}

// scanDiag reads table p over netlink. done false means that nothing was
// delivered and the caller should read proc instead (SourceAuto only);
// otherwise cont says whether to go on with the next table.
func (r *Reader) scanDiag(p Proto, f *Filter, yield func(Socket, error) bool) (done, cont bool) {
	d := &r.diag
	if d.buf == nil {
		d.buf = make([]byte, diagBufSize)
	}
	d.listenersRead, d.requestsRead = false, false
	auto := r.Source == SourceAuto
	family, proto, _ := diagProto(p)
	states := uint32(tcpStateMask)
	if f.States != 0 {
		states &= uint32(f.States)
		if states == 0 {
			return true, true // no state proc can show
		}
	}
	var ext uint8
	if p.IsTCP() {
		if !r.NoRetransmits || r.Traffic {
			ext = 1 << (inetDiagInfo - 1) // icsk_retransmits, icsk_probes_out
		}
	} else {
		ext = 1 << (inetDiagSkmeminfo - 1) // sk_drops
	}
	d.seq++
	dump, err := startDump(d.buf, d.request(family, proto, ext, states, f))
	if err != nil {
		if auto {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) ||
				errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT) {
				d.off = true
			}
			return false, true
		}
		return true, yield(Socket{}, &DiagError{Proto: p, Err: err})
	}
	defer dump.close()
	r.seen.reset()
	yielded := false
	var s Socket
	for {
		msg, err := dump.next()
		if err != nil {
			if auto && !yielded {
				return false, true // e.g. ENOENT: no diag module for the protocol
			}
			return true, yield(Socket{}, &DiagError{Proto: p, Err: err})
		}
		if msg == nil {
			return true, true
		}
		request, err := parseDiag(&s, p, msg)
		if err != nil {
			yielded = true
			if !yield(Socket{}, &DiagError{Proto: p, Err: err}) {
				return true, false
			}
			continue
		}
		if !f.States.Has(s.State) || !f.portsMatch(s.Local.Port(), s.Remote.Port()) ||
			f.Inodes != nil && !f.Inodes[s.Inode] {
			continue
		}
		if request {
			s.UID = r.requestUID(s.Local)
			if !r.NoRetransmits {
				r.procRequest(p, &s)
			}
		}
		if s.Inode != 0 && !r.seen.add(s.Inode) {
			continue
		}
		if !r.Traffic {
			s.Traffic = Traffic{}
		} else if r.NoRetransmits {
			s.Retransmits, s.Timeout = 0, 0 // tcp_info came for Traffic
		}
		yielded = true
		if !yield(s, nil) {
			return true, false
		}
	}
}

// request builds the dump request for one table into d.req.
func (d *diagConn) request(family, proto, ext uint8, states uint32, f *Filter) []byte {
	b := d.req[:diagReqTotal]
	clear(b)
	ne := binary.NativeEndian
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], d.seq)
	b[16] = family
	b[17] = proto
	b[18] = ext
	ne.PutUint32(b[20:], states)
	if f != nil {
		b = appendPortBytecode(b, f)
	}
	ne.PutUint32(b[0:], uint32(len(b)))
	return b
}

// diagDump is one sock_diag dump in progress on its own socket.
type diagDump struct {
	fd   int
	buf  []byte
	msgs []byte // the part of the last datagram not yet handed out
}

// diagSocket opens a NETLINK_SOCK_DIAG socket; tests replace it.
var diagSocket = func() (int, error) {
	return unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
}

// startDump opens a socket and sends req. A fresh socket per dump means
// nothing of an abandoned dump is ever read by the next one.
func startDump(buf, req []byte) (diagDump, error) {
	fd, err := diagSocket()
	if err != nil {
		return diagDump{}, err
	}
	for {
		_, err = unix.Write(fd, req) // an unconnected netlink socket writes to the kernel
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return diagDump{}, err
	}
	return diagDump{fd: fd, buf: buf}, nil
}

func (d *diagDump) close() { unix.Close(d.fd) }

// next returns the payload of the dump's next inet_diag_msg, or nil at
// the dump's end.
func (d *diagDump) next() ([]byte, error) {
	for {
		if len(d.msgs) == 0 {
			n, err := recvTrunc(d.fd, d.buf)
			if err != nil {
				return nil, err
			}
			if n > len(d.buf) {
				return nil, errDiagBig
			}
			if n == 0 {
				return nil, errDiagShort
			}
			d.msgs = d.buf[:n]
		}
		typ, payload, rest, err := splitNlmsg(d.msgs)
		if err != nil {
			d.msgs = nil
			return nil, err
		}
		d.msgs = rest
		switch typ {
		case unix.SOCK_DIAG_BY_FAMILY:
			return payload, nil
		case unix.NLMSG_DONE, unix.NLMSG_ERROR:
			d.msgs = nil
			return nil, nlmsgErr(payload)
		}
		// NLMSG_NOOP and the like carry nothing for us.
	}
}

// recvTrunc reads one datagram into buf. With MSG_TRUNC netlink reports
// the datagram's full length, so a datagram too big for buf shows.
func recvTrunc(fd int, buf []byte) (int, error) {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])),
			uintptr(len(buf)), unix.MSG_TRUNC, 0, 0)
		switch e {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, e
	}
}

// splitNlmsg splits the first netlink message off b.
func splitNlmsg(b []byte) (typ uint16, payload, rest []byte, err error) {
	if len(b) < nlmsgHdrLen {
		return 0, nil, nil, errDiagShort
	}
	ne := binary.NativeEndian
	l := ne.Uint32(b)
	if l < nlmsgHdrLen || uint64(l) > uint64(len(b)) {
		return 0, nil, nil, errDiagShort
	}
	payload = b[nlmsgHdrLen:l]
	next := (uint64(l) + 3) &^ 3
	if next > uint64(len(b)) {
		next = uint64(len(b))
	}
	return ne.Uint16(b[4:]), payload, b[next:], nil
}

// nlmsgErr decodes the int error of NLMSG_DONE and NLMSG_ERROR: zero for
// success (the end of a dump), a negated errno otherwise.
func nlmsgErr(payload []byte) error {
	if len(payload) < 4 {
		return nil // old kernels end a dump with an empty NLMSG_DONE
	}
	if v := int32(binary.NativeEndian.Uint32(payload)); v < 0 {
		return unix.Errno(-v)
	}
	return nil
}

// parseDiag decodes one inet_diag_msg of table p into s, with the
// values proc/net/p shows for the same socket. request reports a TCP
// request socket (SYN_RECV), whose UID the caller must look up: proc
// shows its listener's owner, netlink 0.
//
// Byte order: the kernel's own integers (expires, queues, uid, inode,
// netlink lengths) are in host order; ports and addresses in
// inet_diag_sockid are in network order.
func parseDiag(s *Socket, p Proto, b []byte) (request bool, err error) {
	if len(b) < diagMsgLen {
		return false, errDiagShort
	}
	v6 := p.IPv6()
	switch b[0] {
	case unix.AF_INET:
		if v6 {
			return false, errDiagFamily
		}
	case unix.AF_INET6:
		if !v6 {
			return false, errDiagFamily
		}
	default:
		return false, errDiagFamily
	}
	var info, mem []byte
	full := false // a full socket, not a request or TIME_WAIT one
	for a := b[diagMsgLen:]; len(a) > 0; {
		if len(a) < 4 {
			return false, errDiagAttr
		}
		l := int(binary.NativeEndian.Uint16(a))
		if l < 4 || l > len(a) {
			return false, errDiagAttr
		}
		switch binary.NativeEndian.Uint16(a[2:]) & 0x3fff {
		case inetDiagInfo:
			info, full = a[4:l], true
		case inetDiagShutdown:
			full = true
		case inetDiagSkmeminfo:
			mem = a[4:l]
		}
		l = (l + 3) &^ 3
		if l >= len(a) {
			break
		}
		a = a[l:]
	}
	var local, remote netip.Addr
	if v6 {
		local = netip.AddrFrom16([16]byte(b[8:24]))
		remote = netip.AddrFrom16([16]byte(b[24:40]))
	} else {
		local = netip.AddrFrom4([4]byte(b[8:12]))
		remote = netip.AddrFrom4([4]byte(b[24:28]))
	}
	ne := binary.NativeEndian
	state := State(b[1])
	*s = Socket{
		Proto:  p,
		Local:  netip.AddrPortFrom(local, binary.BigEndian.Uint16(b[4:])),
		Remote: netip.AddrPortFrom(remote, binary.BigEndian.Uint16(b[6:])),
		State:  state,
		Timer:  Timer(b[2]),
		// proc prints jiffies_delta_to_clock_t(d), netlink
		// jiffies_delta_to_msecs(d): the same count of 1/100 s for
		// HZ = 100, 250, 500 and 1000.
		TimerTicks: uint64(ne.Uint32(b[52:])) / (1000 / UserHZ),
		RxQueue:    ne.Uint32(b[56:]),
		TxQueue:    ne.Uint32(b[60:]),
		UID:        ne.Uint32(b[64:]),
		Inode:      uint64(ne.Uint32(b[68:])),
	}
	if !p.IsTCP() {
		// proc: sk_drops; netlink: SK_MEMINFO_DROPS of the same counter.
		if len(mem) >= 4*(unix.SK_MEMINFO_DROPS+1) {
			s.Drops = uint64(ne.Uint32(mem[4*unix.SK_MEMINFO_DROPS:]))
		}
		return false, nil
	}
	switch {
	case full:
		// proc prints icsk_retransmits and icsk_probes_out whatever
		// the timer; idiag_retrans holds one or the other depending on
		// it. tcp_info has both (and zeros for a listener, whose
		// counters are zero). Without tcp_info (NoRetransmits) they
		// stay zero.
		if info != nil {
			if len(info) < tcpiProbes+1 {
				return false, errDiagAttr
			}
			s.Retransmits = uint32(info[tcpiRetransmits])
			s.Timeout = uint32(info[tcpiProbes])
			if len(info) >= tcpiTrafficEnd {
				// bytes_sent counts retransmitted bytes again;
				// bytes_retrans (same kernel) counts them once more.
				sent, retrans := ne.Uint64(info[tcpiBytesSent:]), ne.Uint64(info[tcpiBytesRetrans:])
				s.Traffic = Traffic{
					BytesSent:     sent - min(retrans, sent),
					BytesReceived: ne.Uint64(info[tcpiBytesReceived:]),
					SegsOut:       ne.Uint32(info[tcpiSegsOut:]),
					SegsIn:        ne.Uint32(info[tcpiSegsIn:]),
					Known:         true,
				}
				// tcp_info's bytes_received is rcv_nxt's advance,
				// which counts the peer's FIN: these states have
				// received it.
				switch state {
				case CloseWait, LastAck, Closing:
					if s.Traffic.BytesReceived > 0 {
						s.Traffic.BytesReceived--
					}
				}
			}
		}
		if state == Listen {
			// idiag_wqueue is the maximum backlog; proc prints
			// write_seq - snd_una, zero for a listener.
			s.TxQueue = 0
		}
	case state == SynRecv: // a request socket: retrans is num_retrans
		s.Retransmits = uint32(b[3])
		request = true
	default: // TIME_WAIT (or its FIN_WAIT2 substate): all zero but the timer
		s.Retransmits = uint32(b[3])
	}
	return request, nil
}

// requestUID returns the owner of the listener that a request socket with
// local address a belongs to, as proc shows it: the listener on a's port
// bound to a itself, else to the wildcard address (an IPv6 wildcard not
// IPV6_V6ONLY takes IPv4 requests too). 0 if none is found.
func (r *Reader) requestUID(a netip.AddrPort) uint32 {
	d := &r.diag
	if !d.listenersRead {
		d.listenersRead = true
		d.readListeners()
	}
	addr, port := a.Addr(), a.Port()
	var uid uint32
	best := 0
	for i := range d.listeners {
		l := &d.listeners[i]
		if l.port != port {
			continue
		}
		score := 0
		switch {
		case l.addr == addr:
			score = 4
		case l.addr.Is6() && addr.Is4() && !l.v6only && l.addr == netip.AddrFrom16(addr.As16()):
			score = 3
		case l.addr.IsUnspecified() && l.addr.Is4() == addr.Is4():
			score = 2
		case l.addr.IsUnspecified() && l.addr.Is6() && addr.Is4() && !l.v6only:
			score = 1
		}
		if score > best {
			best, uid = score, l.uid
		}
	}
	return uid
}

// procRequest sets a request socket's Retransmits (and UID) to what proc
// prints: req->num_timeout, the SYN-ACK timer's expiries, where netlink's
// idiag_retrans is num_retrans, the SYN-ACKs resent. The two differ when
// a TCP_DEFER_ACCEPT listener holds an acked request without resending,
// or after a client resent its SYN. The table's request rows are read
// from proc once per scan, on the first request met; a request gone from
// proc by then keeps netlink's values.
func (r *Reader) procRequest(p Proto, s *Socket) {
	d := &r.diag
	if !d.requestsRead {
		d.requestsRead = true
		clear(d.requests)
		d.readRequests(p)
	}
	if q, ok := d.requests[[2]netip.AddrPort{s.Local, s.Remote}]; ok {
		s.Retransmits, s.UID = q.retransmits, q.uid
	}
}

// The tables readRequests opens, as the kernel takes names.
var (
	procTCP  = [...]byte{'/', 'p', 'r', 'o', 'c', '/', 'n', 'e', 't', '/', 't', 'c', 'p', 0}
	procTCP6 = [...]byte{'/', 'p', 'r', 'o', 'c', '/', 'n', 'e', 't', '/', 't', 'c', 'p', '6', 0}
)

// readRequests reads the request rows of the live table p (tcp or tcp6)
// into d.requests. After the first time it makes no allocation: the
// netlink source promises none per scan. A table that cannot be read
// leaves the rows netlink's values.
func (d *diagConn) readRequests(p Proto) {
	name, path := "/proc/net/tcp", procTCP[:]
	if p == TCP6 {
		name, path = "/proc/net/tcp6", procTCP6[:]
	}
	// unix.Open would copy the name to the heap to end it with a NUL.
	atFDCWD := unix.AT_FDCWD
	r0, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(atFDCWD), uintptr(unsafe.Pointer(&path[0])),
		unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0, 0)
	if errno != 0 {
		return
	}
	fd := int(r0)
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return
	}
	if d.proc == nil {
		d.proc = &Reader{Source: SourceProc}
		d.proc.init()
		d.reqFilter = Filter{States: States(SynRecv)}
	}
	d.procFile.fd = fd
	lr := &d.proc.lr
	lr.Reset(&d.procFile, name[1:], d.proc.buf)
	var q Socket
	var end rowEnd
	for {
		line, err := lr.Next()
		if err == io.EOF {
			return
		}
		if err != nil || lr.Line() == 1 || len(line) == 0 {
			continue // a line too long (a read error ends the file), the header
		}
		end.cut = lr.Partial() && line[len(line)-1] != ' ' && line[len(line)-1] != '\t'
		if ok, ferr := d.proc.parseRow(&q, p, line, &d.reqFilter, end); !ok || ferr != nil {
			continue
		}
		if d.requests == nil {
			d.requests = make(map[[2]netip.AddrPort]procRequest)
		}
		d.requests[[2]netip.AddrPort{q.Local, q.Remote}] = procRequest{q.Retransmits, q.UID}
	}
}

// readListeners dumps the TCP listeners of both families into
// d.listeners, on a socket of its own (the table dump is still running).
func (d *diagConn) readListeners() {
	d.listeners = d.listeners[:0]
	if d.lbuf == nil {
		d.lbuf = make([]byte, diagBufSize)
	}
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		var req [diagReqTotal]byte
		ne := binary.NativeEndian
		ne.PutUint32(req[0:], diagReqTotal)
		ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
		ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
		req[16] = family
		req[17] = unix.IPPROTO_TCP
		ne.PutUint32(req[20:], 1<<Listen)
		dump, err := startDump(d.lbuf, req[:])
		if err != nil {
			continue
		}
		p := TCP
		if family == unix.AF_INET6 {
			p = TCP6
		}
		for {
			msg, err := dump.next()
			if err != nil || msg == nil {
				break
			}
			var s Socket
			if _, err := parseDiag(&s, p, msg); err != nil {
				continue
			}
			d.listeners = append(d.listeners, diagListener{
				addr: s.Local.Addr(), port: s.Local.Port(), uid: s.UID, v6only: v6only(msg),
			})
		}
		dump.close()
	}
}

// v6only reads INET_DIAG_SKV6ONLY from an inet_diag_msg.
func v6only(b []byte) bool {
	if len(b) < diagMsgLen {
		return false
	}
	for a := b[diagMsgLen:]; len(a) >= 4; {
		l := int(binary.NativeEndian.Uint16(a))
		if l < 4 || l > len(a) {
			return false
		}
		if binary.NativeEndian.Uint16(a[2:])&0x3fff == inetDiagV6only && l > 4 {
			return a[4] != 0
		}
		l = (l + 3) &^ 3
		if l >= len(a) {
			return false
		}
		a = a[l:]
	}
	return false
}

// The port filter pushed into the kernel: inet_diag bytecode
// (linux/inet_diag.h), run on every socket before its row is built.
const (
	maxBytecode = 2048 // a longer port list is filtered here only
	bcJmp       = 1    // INET_DIAG_BC_JMP: always takes "no"
	bcSEq       = 11   // INET_DIAG_BC_S_EQ: local port == operand
	bcDEq       = 12   // INET_DIAG_BC_D_EQ: remote port == operand
)

// appendPortBytecode appends to the request b an INET_DIAG_REQ_BYTECODE
// attribute keeping the rows whose ports pass f (Ports: local or remote
// port listed; LocalPorts, RemotePorts: that side's), or returns b as it
// is when f has no ports or too many. The scan still checks every row, so
// the bytecode only spares the kernel building rows that would be
// dropped.
//
// Each op is {code u8, yes u8, no u16}; a port comparison is followed by
// an operand op whose "no" holds the port. The kernel accepts a socket
// when the program runs off its end exactly, and rejects it on a jump to
// end+4. Offsets are relative to the op. A comparison's "yes" falls
// through (the kernel's audit walks the yes chain); a group of
// alternatives is laid out as
//
//	cmp1 JMP cmp2 JMP … cmpN
//
// where cmp_k's "no" goes to cmp_k+1 (12 bytes on), the JMP after a
// match skips to the next group, and the last comparison's "no" rejects.
func appendPortBytecode(b []byte, f *Filter) []byte {
	n := 2*len(f.Ports) + len(f.LocalPorts) + len(f.RemotePorts)
	groups := 0
	for _, g := range [][]uint16{f.Ports, f.LocalPorts, f.RemotePorts} {
		if len(g) > 0 {
			groups++
		}
	}
	size := 8*n + 4*(n-groups)
	if n == 0 || size > maxBytecode || len(b)+4+size > cap(b) {
		return b
	}
	ne := binary.NativeEndian
	b = ne.AppendUint16(b, uint16(4+size))
	b = ne.AppendUint16(b, inetDiagReqBC)
	base := len(b)
	b = appendGroup(b, base, size, f.Ports, 0)
	b = appendGroup(b, base, size, f.LocalPorts, bcSEq)
	b = appendGroup(b, base, size, f.RemotePorts, bcDEq)
	return b
}

// appendGroup appends the alternatives of one port list: the port that
// code compares (bcSEq local, bcDEq remote, 0 either) equal to one of
// ports. base is where the program starts in b, size its whole length.
func appendGroup(b []byte, base, size int, ports []uint16, code uint8) []byte {
	both := code == 0
	m := len(ports)
	if both {
		m *= 2
	}
	if m == 0 {
		return b
	}
	end := len(b) - base + 8*m + 4*(m-1) // the next group
	op := func(b []byte, code, yes uint8, no int) []byte {
		b = append(b, code, yes)
		return binary.NativeEndian.AppendUint16(b, uint16(no))
	}
	for k := 0; k < m; k++ {
		code, i := code, k
		if both {
			code, i = bcSEq, k/2
			if k%2 == 1 {
				code = bcDEq
			}
		}
		port := ports[i]
		at := len(b) - base
		if k < m-1 {
			b = op(b, code, 8, 12)
			b = op(b, 0, 0, int(port))
			b = op(b, bcJmp, 4, end-(at+8))
		} else {
			b = op(b, code, 8, size+4-at) // no match in the group: reject
			b = op(b, 0, 0, int(port))
		}
	}
	return b
}

// ParseDiag decodes one inet_diag_msg — the payload of a
// SOCK_DIAG_BY_FAMILY netlink message, from a dump or from a destroy
// notification (the SKNLGRP_*_DESTROY multicast groups) — as a row of
// table p, with the values the netlink source gives, Traffic included
// when the message carries a tcp_info. A request socket's UID is left 0.
func ParseDiag(p Proto, msg []byte) (Socket, error) {
	var s Socket
	_, err := parseDiag(&s, p, msg)
	return s, err
}
