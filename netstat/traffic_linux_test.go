package netstat

import (
	"context"
	"encoding/binary"
	"github.com/procnet/procnet/internal/race"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestTrafficOffsets checks the tcp_info offsets against x/sys/unix's
// copy of the uapi struct.
func TestTrafficOffsets(t *testing.T) {
	var ti unix.TCPInfo
	for _, c := range []struct {
		name      string
		ours, sys uintptr
	}{
		{"bytes_sent", tcpiBytesSent, unsafe.Offsetof(ti.Bytes_sent)},
		{"bytes_retrans", tcpiBytesRetrans, unsafe.Offsetof(ti.Bytes_retrans)},
		{"bytes_received", tcpiBytesReceived, unsafe.Offsetof(ti.Bytes_received)},
		{"segs_out", tcpiSegsOut, unsafe.Offsetof(ti.Segs_out)},
		{"segs_in", tcpiSegsIn, unsafe.Offsetof(ti.Segs_in)},
		{"retransmits", tcpiRetransmits, unsafe.Offsetof(ti.Retransmits)},
		{"probes", tcpiProbes, unsafe.Offsetof(ti.Probes)},
	} {
		if c.ours != c.sys {
			t.Errorf("tcpi_%s at %d, uapi has %d", c.name, c.ours, c.sys)
		}
	}
}

// TestParseDiagTraffic: the counters come from tcp_info; a tcp_info too
// short to hold bytes_sent (before Linux 4.19) leaves them unknown.
func TestParseDiagTraffic(t *testing.T) {
	info := make([]byte, 232)
	ne := binary.NativeEndian
	ne.PutUint64(info[tcpiBytesSent:], 1001000) // 1,000 bytes sent twice
	ne.PutUint64(info[tcpiBytesRetrans:], 1000)
	ne.PutUint64(info[tcpiBytesReceived:], 123456)
	ne.PutUint32(info[tcpiSegsOut:], 31)
	ne.PutUint32(info[tcpiSegsIn:], 17)
	m := diagMsg{family: unix.AF_INET, state: 1, sport: 1, dport: 2, src: lo4, dst: lo4, inode: 9,
		attrs: [][2][]byte{{attrType(inetDiagInfo), info}}}
	_, payload, _, _ := splitNlmsg(m.bytes(1))
	var s Socket
	if _, err := parseDiag(&s, TCP, payload); err != nil {
		t.Fatal(err)
	}
	want := Traffic{BytesSent: 1000000, BytesReceived: 123456, SegsOut: 31, SegsIn: 17, Known: true}
	if s.Traffic != want {
		t.Errorf("traffic %+v, want %+v", s.Traffic, want)
	}
	m.attrs = [][2][]byte{{attrType(inetDiagInfo), info[:tcpiBytesRetrans]}}
	_, payload, _, _ = splitNlmsg(m.bytes(1))
	if _, err := parseDiag(&s, TCP, payload); err != nil {
		t.Fatal(err)
	}
	if s.Traffic != (Traffic{}) {
		t.Errorf("short tcp_info: traffic %+v, want unknown", s.Traffic)
	}
}

// moveBytes connects to a listener on 127.0.0.1, sends up bytes from the
// client and down bytes back, and returns the client's and server's
// addresses with both connections still open.
func moveBytes(t *testing.T, up, down int) (client, server netip.AddrPort, conns []net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { sc.Close() })
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, sc, int64(up))
		if err == nil {
			_, err = sc.Write(make([]byte, down))
		}
		done <- err
	}()
	if _, err := c.Write(make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, c, int64(down)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return c.LocalAddr().(*net.TCPAddr).AddrPort(), sc.LocalAddr().(*net.TCPAddr).AddrPort(), []net.Conn{c}
}

// TestLiveTraffic moves known byte counts over loopback and finds them
// exactly on both ends, over netlink; proc leaves them unknown, and a
// Reader not asked for them reports none.
func TestLiveTraffic(t *testing.T) {
	diagUsable(t)
	const up, down = 1000000, 123456
	client, server, fins := moveBytes(t, up, down)
	f := Filter{Protos: Protos(TCP), Ports: []uint16{client.Port()}}
	// Rows are keyed by both ends: an older socket on a reused port (a
	// TIME_WAIT, another test's) must not stand for ours.
	cKey, sKey := [2]netip.AddrPort{client, server}, [2]netip.AddrPort{server, client}
	find := func(r *Reader) map[[2]netip.AddrPort]Socket {
		t.Helper()
		rows, err := r.AppendSockets(context.Background(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		m := map[[2]netip.AddrPort]Socket{}
		for _, s := range rows {
			m[[2]netip.AddrPort{s.Local, s.Remote}] = s
		}
		if _, ok := m[cKey]; !ok {
			t.Fatalf("client %v not found in %v", client, rows)
		}
		if _, ok := m[sKey]; !ok {
			t.Fatalf("server %v not found in %v", server, rows)
		}
		return m
	}
	for _, r := range []*Reader{{Traffic: true}, {Traffic: true, NoRetransmits: true}} {
		m := find(r)
		c, s := m[cKey].Traffic, m[sKey].Traffic
		if !c.Known || c.BytesSent != up || c.BytesReceived != down {
			t.Errorf("Traffic, NoRetransmits %v: client traffic %+v, want %d sent, %d received", r.NoRetransmits, c, up, down)
		}
		if !s.Known || s.BytesSent != down || s.BytesReceived != up {
			t.Errorf("Traffic, NoRetransmits %v: server traffic %+v, want %d sent, %d received", r.NoRetransmits, s, down, up)
		}
		// Segments: at least the data plus the SYN or SYN-ACK each way.
		if c.SegsOut < 2 || c.SegsIn < 2 || s.SegsIn < c.SegsOut-1 {
			t.Errorf("Traffic, NoRetransmits %v: segments client %d/%d server %d/%d", r.NoRetransmits, c.SegsOut, c.SegsIn, s.SegsOut, s.SegsIn)
		}
		if r.NoRetransmits && (m[cKey].Retransmits != 0 || m[cKey].Timeout != 0) {
			t.Errorf("NoRetransmits with Traffic: retransmits %d", m[cKey].Retransmits)
		}
	}
	// The peer's FIN is no byte: the server, now in CLOSE_WAIT, still
	// received up bytes.
	for _, c := range fins {
		c.(*net.TCPConn).CloseWrite()
	}
	var s Socket
	for range 100 {
		s = find(&Reader{Traffic: true})[sKey]
		if s.State == CloseWait {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s.State != CloseWait || s.Traffic.BytesReceived != up {
		t.Errorf("server in %v: received %d, want %d", s.State, s.Traffic.BytesReceived, up)
	}
	for _, r := range []*Reader{{}, {NoRetransmits: true}, {Source: SourceProc, Traffic: true}} {
		for _, s := range find(r) {
			if s.Traffic != (Traffic{}) {
				t.Errorf("source %v, NoRetransmits %v, Traffic %v: traffic %+v, want unknown", r.Source, r.NoRetransmits, r.Traffic, s.Traffic)
			}
		}
	}
}

// TestTrafficAllocs: asking for traffic keeps a scan free of allocations.
func TestTrafficAllocs(t *testing.T) {
	diagUsable(t)
	moveBytes(t, 1000, 1000)
	r := Reader{Source: SourceNetlink, Traffic: true}
	f := Filter{Protos: Protos(TCP, TCP6)}
	scan := func() {
		for _, err := range r.Sockets(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	scan()
	limit := 0.0
	if race.Enabled {
		limit = 4
	}
	if n := testing.AllocsPerRun(20, scan); n > limit {
		t.Errorf("%v allocations per scan, want at most %v", n, limit)
	}
}
