package netstat

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/internal/race"
	fixture "github.com/procnet/procnet/procnettest"
	"golang.org/x/sys/unix"
)

// diagUsable skips the test when this kernel or user cannot dump sockets
// over netlink.
func diagUsable(t testing.TB) {
	t.Helper()
	r := Reader{Source: SourceNetlink}
	for _, err := range r.Sockets(context.Background(), Filter{Protos: Protos(TCP)}) {
		if err != nil {
			t.Skipf("netlink sock_diag unavailable: %v", err)
		}
	}
}

// readBoth reads f with SourceProc, then SourceNetlink, then SourceProc
// again.
func readBoth(t *testing.T, f Filter, noRetrans bool) (proc1, diag, proc2 []Socket) {
	t.Helper()
	read := func(src Source) []Socket {
		r := Reader{Source: src, NoRetransmits: noRetrans}
		got, err := r.AppendSockets(context.Background(), nil, f)
		if err != nil {
			t.Fatalf("%v: %v", src, err)
		}
		return got
	}
	proc1 = read(SourceProc)
	diag = read(SourceNetlink)
	proc2 = read(SourceProc)
	return
}

var eqAddrPort = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

// sandwich compares a netlink read with the proc reads taken just before
// and after it: the rows must be equal, in the same order, with every
// field identical except TimerTicks, which counts down between the reads
// and so must lie between the two proc values. The proc reads must agree
// with each other too (else the tables moved and the attempt says
// nothing). It returns "" on a match, else what differed.
func sandwich(proc1, diag, proc2 []Socket) string {
	noTicks := func(ss []Socket) []Socket {
		out := slices.Clone(ss)
		for i := range out {
			out[i].TimerTicks = 0
		}
		return out
	}
	if d := cmp.Diff(noTicks(proc1), noTicks(proc2), eqAddrPort); d != "" {
		return "proc changed between reads (-before +after):\n" + d
	}
	if d := cmp.Diff(noTicks(proc1), noTicks(diag), eqAddrPort); d != "" {
		return "proc vs netlink (-proc +netlink):\n" + d
	}
	for i := range diag {
		if !(proc2[i].TimerTicks <= diag[i].TimerTicks && diag[i].TimerTicks <= proc1[i].TimerTicks) {
			return "timer of " + diag[i].Local.String() + "->" + diag[i].Remote.String() + ": proc " +
				itoa(proc1[i].TimerTicks) + ", netlink " + itoa(diag[i].TimerTicks) + ", proc " + itoa(proc2[i].TimerTicks)
		}
	}
	return ""
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// rawFD wraps a socket made with unix.Socket so the test can close it.
type rawFD int

func (fd rawFD) Close() error { return unix.Close(int(fd)) }

// listenAs opens a TCP listener on addr whose socket is owned by uid
// (sk_uid is the creating thread's fsuid), with TCP_DEFER_ACCEPT set to
// defer seconds when non-zero.
func listenAs(t *testing.T, network, addr string, uid, defer_ int) net.Listener {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	family := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	if network == "tcp6" {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
	}
	runtime.LockOSThread()
	prev, err := unix.SetfsuidRetUid(uid)
	if err != nil {
		runtime.UnlockOSThread()
		t.Skipf("setfsuid: %v", err)
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	unix.SetfsuidRetUid(prev)
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	if defer_ > 0 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, defer_); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 16); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// loopbackSet opens a quiescent set of sockets covering the cases where
// netlink and proc could disagree, and returns their ports (every row
// involving them is ours) and the request socket's listener port.
func loopbackSet(t *testing.T) (ports []uint16, reqPort uint16) {
	t.Helper()
	var closers []io.Closer
	t.Cleanup(func() {
		for _, c := range slices.Backward(closers) {
			c.Close()
		}
	})
	keep := func(c io.Closer) { closers = append(closers, c) }
	port := func(a net.Addr) uint16 {
		switch a := a.(type) {
		case *net.TCPAddr:
			return a.AddrPort().Port()
		case *net.UDPAddr:
			return a.AddrPort().Port()
		}
		t.Fatalf("address %v", a)
		return 0
	}
	listen := func(network, addr string) net.Listener {
		l, err := net.Listen(network, addr)
		if err != nil {
			t.Skipf("listen %s %s: %v", network, addr, err)
		}
		keep(l)
		ports = append(ports, port(l.Addr()))
		return l
	}
	pair := func(l net.Listener, network string) (c, s net.Conn) {
		a := l.Addr().String()
		if network == "tcp4" {
			a = net.JoinHostPort("127.0.0.1", itoa(uint64(port(l.Addr()))))
		}
		c, err := net.Dial(network, a)
		if err != nil {
			t.Fatal(err)
		}
		keep(c)
		s, err = l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		keep(s)
		return c, s
	}

	// Listeners: IPv4, IPv6, dual-stack, and one owned by another user.
	l4 := listen("tcp4", "127.0.0.1:0")
	l6 := listen("tcp6", "[::1]:0")
	ld := listen("tcp", ":0") // [::], dual-stack
	lu := listenAs(t, "tcp4", "127.0.0.1:0", 65534, 0)
	keep(lu)
	ports = append(ports, port(lu.Addr()))

	// Established pairs, with unread data on the server side (Recv-Q).
	c4, s4 := pair(l4, "tcp4")
	c4.Write([]byte("unread data"))
	_, s6 := pair(l6, "tcp6")
	s6.Write([]byte("unread"))
	pair(ld, "tcp4") // server side is in tcp6 as ::ffff:127.0.0.1
	pair(lu, "tcp4")
	_ = s4

	// FIN_WAIT2 (client) and CLOSE_WAIT (server).
	cw, _ := pair(l4, "tcp4")
	cw.(*net.TCPConn).CloseWrite()

	// TIME_WAIT: the client closes first, then the server.
	ct, st := pair(l6, "tcp6")
	ct.Close()
	if _, err := st.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after peer close: %v", err)
	}
	st.Close()

	// A connection the listener has not accepted: listener Recv-Q 1,
	// and an ESTABLISHED child with inode 0.
	lp := listen("tcp4", "127.0.0.1:0")
	cp, err := net.Dial("tcp4", lp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	keep(cp)

	// A bound TCP socket that neither listens nor connects: proc does
	// not show it, and netlink must not either (TCP_BOUND_INACTIVE).
	bfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	keep(rawFD(bfd))
	if err := unix.Bind(bfd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	bsa, err := unix.Getsockname(bfd)
	if err != nil {
		t.Fatal(err)
	}
	ports = append(ports, uint16(bsa.(*unix.SockaddrInet4).Port))

	// A sender facing a zero window: Send-Q > 0 and the probe timer.
	var lc net.ListenConfig
	lc.Control = func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 2048) })
	}
	lz, err := lc.Listen(t.Context(), "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	keep(lz)
	ports = append(ports, port(lz.Addr()))
	cz, _ := pair(lz, "tcp4")
	cz.(*net.TCPConn).SetWriteBuffer(4096)
	cz.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
	cz.Write(make([]byte, 4<<20)) // stops at the deadline

	// UDP: bound with unread datagrams, connected, IPv6, dual-stack with
	// an IPv4-mapped peer, and a socket that dropped datagrams.
	udp := func(network, addr string) *net.UDPConn {
		u, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		if err != nil {
			t.Skipf("udp %s: %v", addr, err)
		}
		keep(u)
		ports = append(ports, port(u.LocalAddr()))
		return u
	}
	u4 := udp("udp4", "127.0.0.1:0")
	u6 := udp("udp6", "[::1]:0")
	ud := udp("udp", "[::]:0")
	uz := udp("udp4", "127.0.0.1:0")
	uz.SetReadBuffer(1)
	dial := func(network string, to net.Addr) *net.UDPConn {
		c, err := net.DialUDP(network, nil, to.(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		keep(c)
		return c
	}
	for _, pr := range []struct {
		network string
		to      *net.UDPConn
		n       int
	}{{"udp4", u4, 3}, {"udp6", u6, 2}, {"udp4", uz, 64}} {
		c := dial(pr.network, pr.to.LocalAddr())
		for range pr.n {
			c.Write(make([]byte, 600))
		}
	}
	ud.WriteTo([]byte("x"), u4.LocalAddr())
	// An AF_INET6 socket connected to an IPv4 peer: ::ffff:127.0.0.1.
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	keep(rawFD(fd))
	mapped := netip.AddrFrom16(netip.MustParseAddr("127.0.0.1").As16())
	if err := unix.Connect(fd, &unix.SockaddrInet6{Addr: mapped.As16(), Port: int(port(u4.LocalAddr()))}); err != nil {
		t.Fatal(err)
	}
	unix.Write(fd, []byte("mapped"))

	// A request socket: with TCP_DEFER_ACCEPT the server keeps the
	// connection in SYN_RECV until data comes (or, at 1 s, resends its
	// SYN-ACK and then accepts it). Its owner shows as the listener's.
	lr := listenAs(t, "tcp4", "127.0.0.1:0", 65534, 1)
	keep(lr)
	reqPort = port(lr.Addr())
	ports = append(ports, reqPort)
	cr, err := net.Dial("tcp4", lr.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	keep(cr)

	// Let the TIME_WAIT and zero-window states settle.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		var tw, probe bool
		r := Reader{Source: SourceProc}
		for s, err := range r.Sockets(context.Background(), Filter{Ports: ports}) {
			if err != nil {
				t.Fatal(err)
			}
			tw = tw || s.State == TimeWait
			probe = probe || s.TxQueue > 0
		}
		if tw && probe {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return ports, reqPort
}

// TestDiagMatchesProc reads a set of our own loopback sockets through
// proc and through netlink and requires the same rows, in the same order,
// with the same values.
func TestDiagMatchesProc(t *testing.T) {
	t.Run("all", func(t *testing.T) { testDiagMatchesProc(t, false) })
	// Without tcp_info the kernel still tells full sockets from request
	// and TIME_WAIT ones (INET_DIAG_SHUTDOWN): a listener's Send-Q is
	// still 0, a request socket's UID still its listener's.
	t.Run("NoRetransmits", func(t *testing.T) { testDiagMatchesProc(t, true) })
}

func testDiagMatchesProc(t *testing.T, noRetrans bool) {
	diagUsable(t)
	start := time.Now()
	ports, reqPort := loopbackSet(t)
	f := Filter{Ports: ports}
	var last string
	for attempt := 1; attempt <= 50; attempt++ {
		proc1, diag, proc2 := readBoth(t, f, noRetrans)
		if noRetrans {
			for _, s := range diag {
				if s.Proto.IsTCP() && (s.Retransmits != 0 || s.Timeout != 0) {
					t.Fatalf("NoRetransmits: %v %v has retransmits %d, timeout %d", s.Proto, s.Local, s.Retransmits, s.Timeout)
				}
			}
		}
		if last = sandwich(proc1, diag, proc2); last == "" {
			seen := map[string]bool{}
			for _, s := range diag {
				key := s.Proto.String() + " " + s.State.String()
				switch {
				case s.State == SynRecv && s.Local.Port() == reqPort:
					key = "request socket"
					if s.UID != 65534 {
						t.Errorf("request socket %v: UID %d, want its listener's 65534", s.Local, s.UID)
					}
				case s.Proto.IsTCP() && s.State == Listen && s.RxQueue > 0:
					key = "listener with backlog"
				case s.Proto.IsTCP() && s.TxQueue > 0:
					key = "tcp Send-Q"
				case s.Proto.IsTCP() && s.State == Established && s.RxQueue > 0:
					key = "tcp Recv-Q"
				case s.Proto == UDP && s.Drops > 0:
					key = "udp drops"
				case s.Proto == TCP6 && s.Local.Addr().Is4In6():
					key = "tcp6 v4-mapped"
				case s.Proto == UDP6 && s.Remote.Addr().Is4In6():
					key = "udp6 v4-mapped"
				}
				seen[key] = true
				if s.Timer != TimerOff {
					seen["timer "+s.Timer.String()] = true
				}
			}
			t.Logf("attempt %d: %d rows identical; cases %v", attempt, len(diag), slices.Sorted(mapKeys(seen)))
			for _, want := range []string{"tcp LISTEN", "tcp6 LISTEN", "tcp6 TIME_WAIT", "tcp CLOSE_WAIT",
				"tcp FIN_WAIT2", "listener with backlog", "tcp Send-Q", "tcp Recv-Q", "tcp6 v4-mapped",
				"udp CLOSE", "udp ESTABLISHED", "udp6 CLOSE", "udp6 v4-mapped", "udp drops",
				"timer keepalive", "timer probe", "timer timewait"} {
				if !seen[want] {
					t.Errorf("no %s row was compared", want)
				}
			}
			if !seen["request socket"] {
				if time.Since(start) < 800*time.Millisecond {
					t.Errorf("no request socket was compared")
				} else {
					t.Logf("the request socket was accepted before the match (%v)", time.Since(start))
				}
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no matching read in 50 attempts; last: %s", last)
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDiagWholeTables compares every row of the live tables, whoever owns
// them, when the tables hold still long enough for three reads.
func TestDiagWholeTables(t *testing.T) {
	diagUsable(t)
	var last string
	for attempt := 1; attempt <= 30; attempt++ {
		proc1, diag, proc2 := readBoth(t, Filter{}, false)
		if last = sandwich(proc1, diag, proc2); last == "" {
			t.Logf("attempt %d: all %d rows identical and in the same order", attempt, len(diag))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Skipf("the live tables never held still for three reads; last: %s", last)
}

// TestDiagOrderAtScale compares the whole tcp table holding 2,000 more
// connections, which netlink delivers in dozens of datagrams and proc in
// dozens of reads: both resume where they stopped, and the rows must come
// in the same order.
func TestDiagOrderAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 4,000 sockets")
	}
	diagUsable(t)
	benchPairs(t, 2000)
	f := Filter{Protos: Protos(TCP)}
	var last string
	for attempt := 1; attempt <= 20; attempt++ {
		proc1, diag, proc2 := readBoth(t, f, false)
		if last = sandwich(proc1, diag, proc2); last == "" {
			if len(diag) < 4000 {
				t.Fatalf("only %d rows", len(diag))
			}
			t.Logf("attempt %d: all %d rows identical and in the same order", attempt, len(diag))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Skipf("the tcp table never held still for three reads; last: %.2000s", last)
}

// TestDiagFilter checks that the filter gives the same rows either way.
func TestDiagFilter(t *testing.T) {
	diagUsable(t)
	ports, _ := loopbackSet(t)
	for _, f := range []Filter{
		{States: States(Listen)},
		{States: States(SynRecv, TimeWait), Ports: ports},
		{States: States(NewSynRecv), Ports: ports}, // proc never shows state 12
		{Protos: Protos(UDP, UDP6), Ports: ports},
		{LocalPorts: ports[:1]},
		{RemotePorts: ports[:2]},
		{Ports: ports[2:3], States: States(Established, CloseWait)},
	} {
		var last string
		for attempt := 1; attempt <= 30; attempt++ {
			if last = sandwich(readBoth(t, f, false)); last == "" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if last != "" {
			t.Errorf("filter %+v: %s", f, last)
		}
	}
}

// TestDiagAllocs: after the first scan, reading the tables over netlink
// makes no heap allocation.
func TestDiagAllocs(t *testing.T) {
	diagUsable(t)
	ports, _ := loopbackSet(t)
	r := Reader{Source: SourceNetlink}
	protos := Protos(TCP, TCP6, UDP, UDP6, UDPLite, UDPLite6) // raw comes from proc
	scan := func() {
		for _, f := range []Filter{{Protos: protos}, {Protos: protos, Ports: ports, RemotePorts: ports[:2]}} {
			for _, err := range r.Sockets(context.Background(), f) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	scan()
	limit := 0.0
	if race.Enabled {
		limit = 4 // the race detector's bookkeeping; still none per row
	}
	if n := testing.AllocsPerRun(20, scan); n > limit {
		t.Errorf("%v allocations per scan, want at most %v", n, limit)
	}
}

// TestDiagSourceChoice checks which source each configuration uses.
func TestDiagSourceChoice(t *testing.T) {
	root := fixture.Root(t, "testdata/modern.txtar")
	want, err := (&Reader{Root: root, Source: SourceProc}).AppendSockets(context.Background(), nil, Filter{})
	if err != nil || len(want) == 0 {
		t.Fatalf("fixture: %d rows, %v", len(want), err)
	}
	// A fixture root is read from proc under SourceAuto.
	got, err := (&Reader{Root: root}).AppendSockets(context.Background(), nil, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, eqAddrPort); d != "" {
		t.Errorf("auto on a fixture root (-proc +auto):\n%s", d)
	}
	// SourceNetlink refuses it, table by table; raw still comes from proc.
	r := Reader{Root: root, Source: SourceNetlink}
	var refused []Proto
	for s, err := range r.Sockets(context.Background(), Filter{}) {
		var de *DiagError
		switch {
		case errors.As(err, &de) && errors.Is(err, ErrNotLive):
			refused = append(refused, de.Proto)
		case err != nil:
			t.Errorf("unexpected error %v", err)
		case s.Proto != Raw && s.Proto != Raw6:
			t.Errorf("SourceNetlink read %v from a fixture", s.Proto)
		}
	}
	if d := cmp.Diff([]Proto{TCP, TCP6, UDP, UDP6, UDPLite, UDPLite6}, refused); d != "" {
		t.Errorf("refused tables (-want +got):\n%s", d)
	}
	for _, s := range []Source{SourceAuto, SourceProc, SourceNetlink} {
		if p, ok := ParseSource(s.String()); !ok || p != s {
			t.Errorf("ParseSource(%q) = %v, %v", s.String(), p, ok)
		}
	}
	if Source(9).String() != "source(9)" {
		t.Errorf("Source(9).String() = %q", Source(9).String())
	}
}

// TestDiagFallback: when netlink fails, SourceAuto reads proc silently and
// SourceNetlink reports the failure.
func TestDiagFallback(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	ino := fixture.SocketInode(t, l.(*net.TCPListener))
	f := Filter{Protos: Protos(TCP), Inodes: map[uint64]bool{ino: true}}
	saved := diagSocket
	defer func() { diagSocket = saved }()
	for _, fail := range []error{unix.EPERM, unix.EPROTONOSUPPORT, unix.ENOENT} {
		diagSocket = func() (int, error) { return -1, fail }
		r := Reader{}
		got, err := r.AppendSockets(context.Background(), nil, f)
		if err != nil || len(got) != 1 || got[0].Inode != ino {
			t.Errorf("auto, socket fails with %v: %+v, %v", fail, got, err)
		}
		r = Reader{Source: SourceNetlink}
		got, err = r.AppendSockets(context.Background(), nil, f)
		if len(got) != 0 || !errors.Is(err, fail) {
			t.Errorf("netlink, socket fails with %v: %+v, %v", fail, got, err)
		}
	}
	// A protocol without a diag handler: the kernel answers ENOENT.
	diagSocket = saved
	diagUsable(t)
	r := Reader{}
	r.diag.buf = make([]byte, diagBufSize)
	dump, err := startDump(r.diag.buf, r.diag.request(unix.AF_INET, 253, 0, tcpStateMask, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer dump.close()
	if msg, err := dump.next(); msg != nil || !errors.Is(err, unix.ENOENT) {
		t.Errorf("dump of protocol 253: %v, %v; want ENOENT", msg, err)
	}
}

// diagMsg builds one SOCK_DIAG_BY_FAMILY message as the kernel sends it.
type diagMsg struct {
	family, state, timer, retrans uint8
	sport, dport                  uint16
	src, dst                      netip.Addr
	expires, rq, wq, uid, inode   uint32
	attrs                         [][2][]byte // type (2 bytes native), payload
}

func (m diagMsg) bytes(seq uint32) []byte {
	ne := binary.NativeEndian
	b := make([]byte, nlmsgHdrLen+diagMsgLen)
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_MULTI)
	ne.PutUint32(b[8:], seq)
	p := b[nlmsgHdrLen:]
	p[0], p[1], p[2], p[3] = m.family, m.state, m.timer, m.retrans
	binary.BigEndian.PutUint16(p[4:], m.sport)
	binary.BigEndian.PutUint16(p[6:], m.dport)
	put := func(dst []byte, a netip.Addr) {
		if a.Is4() {
			a4 := a.As4()
			copy(dst, a4[:])
		} else if a.IsValid() {
			a16 := a.As16()
			copy(dst, a16[:])
		}
	}
	put(p[8:24], m.src)
	put(p[24:40], m.dst)
	ne.PutUint32(p[52:], m.expires)
	ne.PutUint32(p[56:], m.rq)
	ne.PutUint32(p[60:], m.wq)
	ne.PutUint32(p[64:], m.uid)
	ne.PutUint32(p[68:], m.inode)
	for _, a := range m.attrs {
		h := make([]byte, 4)
		ne.PutUint16(h, uint16(4+len(a[1])))
		copy(h[2:], a[0])
		b = append(b, h...)
		b = append(b, a[1]...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	ne.PutUint32(b, uint32(len(b)))
	return b
}

func attrType(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }

func done(errno int32) []byte {
	b := make([]byte, nlmsgHdrLen+4)
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], unix.NLMSG_DONE)
	binary.NativeEndian.PutUint32(b[16:], uint32(errno))
	return b
}

func tcpInfo(retrans, probes uint8) [2][]byte {
	info := make([]byte, 232)
	info[0], info[tcpiRetransmits], info[tcpiProbes] = 1, retrans, probes
	return [2][]byte{attrType(inetDiagInfo), info}
}

func skmeminfo(drops uint32) [2][]byte {
	m := make([]byte, 4*9)
	binary.NativeEndian.PutUint32(m[4*unix.SK_MEMINFO_DROPS:], drops)
	return [2][]byte{attrType(inetDiagSkmeminfo), m}
}

var (
	lo4    = netip.MustParseAddr("127.0.0.1")
	lo6    = netip.MustParseAddr("::1")
	mapped = netip.MustParseAddr("::ffff:127.0.0.1")
)

// TestParseDiag checks the field mapping on messages built by hand.
func TestParseDiag(t *testing.T) {
	ap := netip.AddrPortFrom
	for _, tc := range []struct {
		name    string
		p       Proto
		m       diagMsg
		want    Socket
		request bool
	}{{
		name: "listener: Send-Q is 0, not the maximum backlog",
		p:    TCP,
		m: diagMsg{family: unix.AF_INET, state: 10, sport: 8080, src: lo4, dst: netip.IPv4Unspecified(),
			rq: 3, wq: 4096, uid: 1000, inode: 4242, attrs: [][2][]byte{tcpInfo(0, 0)}},
		want: Socket{Proto: TCP, Local: ap(lo4, 8080), Remote: ap(netip.IPv4Unspecified(), 0), State: Listen,
			RxQueue: 3, UID: 1000, Inode: 4242, Traffic: Traffic{Known: true}},
	}, {
		name: "established: counters from tcp_info, timer in 1/100 s",
		p:    TCP6,
		m: diagMsg{family: unix.AF_INET6, state: 1, timer: 4, retrans: 7, sport: 443, dport: 50000, src: mapped, dst: mapped,
			expires: 1234, rq: 5, wq: 6, uid: 33, inode: 1 << 31, attrs: [][2][]byte{tcpInfo(2, 7)}},
		want: Socket{Proto: TCP6, Local: ap(mapped, 443), Remote: ap(mapped, 50000), State: Established,
			TxQueue: 6, RxQueue: 5, Timer: TimerProbe, TimerTicks: 123, Retransmits: 2, Timeout: 7, UID: 33, Inode: 1 << 31,
			Traffic: Traffic{Known: true}},
	}, {
		name: "request socket: num_retrans, owner looked up",
		p:    TCP,
		m:    diagMsg{family: unix.AF_INET, state: 3, timer: 1, retrans: 1, sport: 80, dport: 40000, src: lo4, dst: lo4, expires: 999},
		want: Socket{Proto: TCP, Local: ap(lo4, 80), Remote: ap(lo4, 40000), State: SynRecv, Timer: TimerRetransmit,
			TimerTicks: 99, Retransmits: 1},
		request: true,
	}, {
		name: "time-wait",
		p:    TCP6,
		m:    diagMsg{family: unix.AF_INET6, state: 6, timer: 3, sport: 1, dport: 2, src: lo6, dst: lo6, expires: 59990},
		want: Socket{Proto: TCP6, Local: ap(lo6, 1), Remote: ap(lo6, 2), State: TimeWait, Timer: TimerTimeWait, TimerTicks: 5999},
	}, {
		name: "udp: queues and drops",
		p:    UDP,
		m: diagMsg{family: unix.AF_INET, state: 7, sport: 53, src: lo4, dst: netip.IPv4Unspecified(), rq: 2304, wq: 768,
			uid: 101, inode: 77, attrs: [][2][]byte{{attrType(8), {0}}, skmeminfo(12)}},
		want: Socket{Proto: UDP, Local: ap(lo4, 53), Remote: ap(netip.IPv4Unspecified(), 0), State: Close,
			TxQueue: 768, RxQueue: 2304, UID: 101, Inode: 77, Drops: 12},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			typ, payload, rest, err := splitNlmsg(tc.m.bytes(1))
			if err != nil || typ != unix.SOCK_DIAG_BY_FAMILY || len(rest) != 0 {
				t.Fatalf("splitNlmsg: %v %v %d", typ, err, len(rest))
			}
			var s Socket
			request, err := parseDiag(&s, tc.p, payload)
			if err != nil {
				t.Fatal(err)
			}
			if request != tc.request {
				t.Errorf("request = %v", request)
			}
			if d := cmp.Diff(tc.want, s, eqAddrPort); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	// Wrong family, short message, bad attribute.
	var s Socket
	m := diagMsg{family: unix.AF_INET6, src: lo6, dst: lo6}
	if _, err := parseDiag(&s, TCP, m.bytes(1)[nlmsgHdrLen:]); err != errDiagFamily {
		t.Errorf("family: %v", err)
	}
	if _, err := parseDiag(&s, TCP6, m.bytes(1)[nlmsgHdrLen:nlmsgHdrLen+40]); err != errDiagShort {
		t.Errorf("short: %v", err)
	}
	bad := append(m.bytes(1)[nlmsgHdrLen:], 200, 0, 2, 0)
	if _, err := parseDiag(&s, TCP6, bad); err != errDiagAttr {
		t.Errorf("attribute: %v", err)
	}
	if err := nlmsgErr(done(-int32(unix.ENOENT))[nlmsgHdrLen:]); err != unix.ENOENT {
		t.Errorf("NLMSG_DONE -ENOENT: %v", err)
	}
}

// TestRequestUID checks the listener lookup for request sockets.
func TestRequestUID(t *testing.T) {
	r := Reader{}
	r.diag.listenersRead = true
	r.diag.listeners = []diagListener{
		{addr: netip.IPv6Unspecified(), port: 80, uid: 1},
		{addr: netip.IPv4Unspecified(), port: 80, uid: 2},
		{addr: lo4, port: 80, uid: 3},
		{addr: netip.IPv6Unspecified(), port: 81, uid: 4},
		{addr: netip.IPv6Unspecified(), port: 82, uid: 5, v6only: true},
		{addr: mapped, port: 83, uid: 6},
	}
	for _, tc := range []struct {
		a    netip.AddrPort
		want uint32
	}{
		{netip.MustParseAddrPort("127.0.0.1:80"), 3},
		{netip.MustParseAddrPort("10.0.0.1:80"), 2},
		{netip.MustParseAddrPort("[::1]:80"), 1},
		{netip.MustParseAddrPort("127.0.0.1:81"), 4},
		{netip.MustParseAddrPort("127.0.0.1:82"), 0},
		{netip.MustParseAddrPort("127.0.0.1:83"), 6},
		{netip.MustParseAddrPort("127.0.0.1:84"), 0},
	} {
		if got := r.requestUID(tc.a); got != tc.want {
			t.Errorf("requestUID(%v) = %d, want %d", tc.a, got, tc.want)
		}
	}
}

// FuzzParseDiag feeds netlink datagrams to the reply parser: bad bytes
// give errors, never a panic, and a decoded row matches its table.
func FuzzParseDiag(f *testing.F) {
	seeds := [][]byte{
		diagMsg{family: unix.AF_INET, state: 10, sport: 22, src: lo4, dst: netip.IPv4Unspecified(), wq: 128,
			attrs: [][2][]byte{tcpInfo(0, 0)}}.bytes(1),
		append(diagMsg{family: unix.AF_INET6, state: 1, timer: 2, sport: 1, dport: 2, src: mapped, dst: mapped,
			attrs: [][2][]byte{tcpInfo(1, 2)}}.bytes(1), done(0)...),
		diagMsg{family: unix.AF_INET, state: 7, src: lo4, dst: lo4, attrs: [][2][]byte{skmeminfo(3)}}.bytes(2),
		diagMsg{family: unix.AF_INET6, state: 3, timer: 1, src: lo6, dst: lo6}.bytes(3),
		done(-2),
		done(0)[:nlmsgHdrLen],
		{1, 2, 3},
		make([]byte, nlmsgHdrLen),
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		for _, p := range []Proto{TCP, UDP, TCP6, UDP6} {
			if p.IPv6() != v6 {
				continue
			}
			for rest := b; len(rest) > 0; {
				typ, payload, next, err := splitNlmsg(rest)
				if err != nil {
					break
				}
				if len(next) >= len(rest) {
					t.Fatal("splitNlmsg made no progress")
				}
				rest = next
				switch typ {
				case unix.SOCK_DIAG_BY_FAMILY:
					var s Socket
					if _, err := parseDiag(&s, p, payload); err == nil {
						if s.Proto != p || s.Local.Addr().Is6() != v6 || s.Remote.Addr().Is6() != v6 {
							t.Fatalf("row %+v does not match table %v", s, p)
						}
					}
					v6only(payload)
				case unix.NLMSG_DONE, unix.NLMSG_ERROR:
					nlmsgErr(payload)
				}
			}
		}
	})
}

// benchPairs opens n loopback TCP connections (2n sockets) for a
// benchmark or test and closes them with a reset afterwards, so that no
// TIME_WAIT rows outlive it.
func benchPairs(b testing.TB, n int) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Skip(err)
	}
	defer l.Close()
	conns := make([]*net.TCPConn, 0, 2*n)
	b.Cleanup(func() {
		for _, c := range conns {
			c.SetLinger(0)
			c.Close()
		}
	})
	accepted := make(chan *net.TCPConn, n)
	go func() {
		defer close(accepted)
		for range n {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c.(*net.TCPConn)
		}
	}()
	for range n {
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			b.Fatalf("after %d connections: %v", len(conns), err)
		}
		conns = append(conns, c.(*net.TCPConn))
	}
	for range n {
		c, ok := <-accepted
		if !ok {
			b.Fatal("accept failed")
		}
		conns = append(conns, c)
	}
}

const diagBenchPairs = 5000

// benchSource scans the live tcp table, holding diagBenchPairs loopback
// connections, from src; it reports ns, CPU ns and allocations per row.
func benchSource(b *testing.B, src Source) { benchReader(b, Reader{Source: src}) }

// benchReader is benchSource for a Reader configured as r.
func benchReader(b *testing.B, r Reader) {
	diagUsable(b)
	benchPairs(b, diagBenchPairs)
	f := Filter{Protos: Protos(TCP)}
	for range r.Sockets(context.Background(), f) { // the first scan makes the buffers
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	rows := 0
	b.ReportAllocs()
	for b.Loop() {
		for _, err := range r.Sockets(context.Background(), f) {
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&m1)
	if rows < 2*diagBenchPairs*b.N {
		b.Fatalf("%d rows in %d scans", rows, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(rows), "cpu-ns/row")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(rows), "allocs/row")
}

// BenchmarkDiag reads the live tcp table over netlink.
func BenchmarkDiag(b *testing.B) { benchSource(b, SourceNetlink) }

// BenchmarkDiagNoInfo reads it without tcp_info (Reader.NoRetransmits),
// as a listing without -o does.
func BenchmarkDiagNoInfo(b *testing.B) {
	benchReader(b, Reader{Source: SourceNetlink, NoRetransmits: true})
}

// BenchmarkDiagTraffic reads it with the traffic counters and nothing else
// from tcp_info, as a listing with --traffic and without -o would.
func BenchmarkDiagTraffic(b *testing.B) {
	benchReader(b, Reader{Source: SourceNetlink, NoRetransmits: true, Traffic: true})
}

// BenchmarkDiagProc reads the same table from /proc/net/tcp, for the ratio.
func BenchmarkDiagProc(b *testing.B) { benchSource(b, SourceProc) }

// bcAudit and bcRun are the kernel's inet_diag_bc_audit and
// inet_diag_bc_run (net/ipv4/inet_diag.c) for the ops the port filter
// uses, so that its programs can be checked against every port pair.
func bcAudit(bc []byte) bool {
	ne := binary.NativeEndian
	validCC := func(cc int) bool { // cc: an offset reached along the yes chain
		for l := len(bc); l >= 0; {
			at := len(bc) - l
			if cc > l {
				return false
			}
			if cc == l {
				return true
			}
			yes := int(bc[at+1])
			if yes < 4 || yes&3 != 0 {
				return false
			}
			l -= yes
		}
		return false
	}
	for l := len(bc); l > 0; {
		at := len(bc) - l
		if l < 4 {
			return false
		}
		code, yes, no := bc[at], int(bc[at+1]), int(ne.Uint16(bc[at+2:]))
		minLen := 4
		switch code {
		case bcSEq, bcDEq:
			minLen += 4
			if l < minLen {
				return false
			}
		case bcJmp, 0:
		default:
			return false
		}
		if code != 0 {
			if no < minLen || no > l+4 || no&3 != 0 {
				return false
			}
			if no < l && !validCC(l-no) {
				return false
			}
		}
		if yes < minLen || yes > l+4 || yes&3 != 0 {
			return false
		}
		l -= yes
	}
	return true
}

func bcRun(bc []byte, sport, dport uint16) bool {
	ne := binary.NativeEndian
	l := len(bc)
	for l > 0 {
		at := len(bc) - l
		code, yes, no := bc[at], int(bc[at+1]), int(ne.Uint16(bc[at+2:]))
		ok := true
		switch code {
		case bcJmp:
			ok = false
		case bcSEq:
			ok = sport == ne.Uint16(bc[at+6:])
		case bcDEq:
			ok = dport == ne.Uint16(bc[at+6:])
		}
		if ok {
			l -= yes
		} else {
			l -= no
		}
	}
	return l == 0
}

// TestPortBytecode runs the port filter's programs through the kernel's
// audit and interpreter (in Go) and wants the Filter's own verdict for
// every port pair.
func TestPortBytecode(t *testing.T) {
	ports := []uint16{0, 22, 80, 443, 8080, 65535}
	lists := [][]uint16{nil, {80}, {80, 443}, {0, 22, 8080}, ports}
	n := 0
	for _, p := range lists {
		for _, lp := range lists {
			for _, rp := range lists {
				f := Filter{Ports: p, LocalPorts: lp, RemotePorts: rp}
				var d diagConn
				req := d.request(unix.AF_INET, unix.IPPROTO_TCP, 0, tcpStateMask, &f)
				if len(p)+len(lp)+len(rp) == 0 {
					if len(req) != diagReqTotal {
						t.Fatalf("%+v: bytecode without ports", f)
					}
					continue
				}
				attr := req[diagReqTotal:]
				if len(attr) < 4 || int(binary.NativeEndian.Uint16(attr)) != len(attr) ||
					binary.NativeEndian.Uint16(attr[2:]) != inetDiagReqBC ||
					binary.NativeEndian.Uint32(req) != uint32(len(req)) {
					t.Fatalf("%+v: bad attribute % x", f, attr)
				}
				bc := attr[4:]
				if !bcAudit(bc) {
					t.Fatalf("%+v: the kernel's audit refuses % x", f, bc)
				}
				for _, s := range append(ports, 1, 81, 444) {
					for _, d := range append(ports, 2, 79, 442) {
						if got, want := bcRun(bc, s, d), f.portsMatch(s, d); got != want {
							t.Fatalf("%+v, ports %d->%d: bytecode %v, filter %v\n% x", f, s, d, got, want, bc)
						}
						n++
					}
				}
			}
		}
	}
	t.Logf("%d filter and port combinations agree", n)
	// Too many ports: no bytecode, the scan filters alone.
	var d diagConn
	many := make([]uint16, 200)
	if req := d.request(unix.AF_INET, unix.IPPROTO_TCP, 0, tcpStateMask, &Filter{Ports: many}); len(req) != diagReqTotal {
		t.Errorf("%d bytes of bytecode for 200 ports", len(req)-diagReqTotal)
	}
}

// TestDiagBytecodeLive checks that the kernel applies the port filter: a
// dump with it returns only rows that pass, and the same rows as an
// unfiltered dump filtered here.
func TestDiagBytecodeLive(t *testing.T) {
	diagUsable(t)
	ports, _ := loopbackSet(t)
	dumpRows := func(f *Filter) (rows []Socket) {
		var d diagConn
		d.buf = make([]byte, diagBufSize)
		dump, err := startDump(d.buf, d.request(unix.AF_INET, unix.IPPROTO_TCP, 1<<(inetDiagInfo-1), tcpStateMask, f))
		if err != nil {
			t.Fatal(err)
		}
		defer dump.close()
		for {
			msg, err := dump.next()
			if err != nil {
				t.Fatal(err)
			}
			if msg == nil {
				return rows
			}
			var s Socket
			if _, err := parseDiag(&s, TCP, msg); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, s)
		}
	}
	for _, f := range []Filter{{Ports: ports[:2]}, {LocalPorts: ports[:3]}, {RemotePorts: ports[:1]},
		{Ports: ports, RemotePorts: ports[:1]}} {
		var last string
		for attempt := 1; attempt <= 20; attempt++ {
			filtered := func() (want []Socket) {
				for _, s := range dumpRows(nil) {
					if f.portsMatch(s.Local.Port(), s.Remote.Port()) {
						want = append(want, s)
					}
				}
				return want
			}
			want := filtered()
			got := dumpRows(&f)
			after := filtered()
			for _, s := range got {
				if !f.portsMatch(s.Local.Port(), s.Remote.Port()) {
					t.Fatalf("filter %+v: the kernel let %v->%v through", f, s.Local, s.Remote)
				}
			}
			if len(want) == 0 {
				t.Fatalf("filter %+v: no rows to compare", f)
			}
			if last = sandwich(want, got, after); last == "" {
				break
			}
		}
		if last != "" {
			t.Errorf("filter %+v: %s", f, last)
		}
	}
}
