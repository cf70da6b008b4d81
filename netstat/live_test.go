//go:build unix

package netstat

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
)

// selfSocketInodes reads the socket inodes of /proc/self/fd.
func selfSocketInodes(t *testing.T) map[uint64]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]bool{}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue
		}
		if n, ok := strings.CutPrefix(l, "socket:["); ok {
			v, _ := strconv.ParseUint(strings.TrimSuffix(n, "]"), 10, 64)
			out[v] = true
		}
	}
	return out
}

// TestLive opens a TCP listener and a connection on 127.0.0.1 and [::1],
// and a UDP socket, and finds exactly those rows, with inodes matching this
// process's fd links.
func TestLive(t *testing.T) {
	type want struct {
		proto         Proto
		local, remote netip.AddrPort
		state         State
	}
	inodes := map[uint64]want{}
	for _, network := range []struct{ net, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		l, err := net.Listen(network.net, network.addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", network.addr, err)
		}
		defer l.Close()
		c, err := net.Dial(network.net, l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sc, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		p := TCP
		if network.net == "tcp6" {
			p = TCP6
		}
		la := l.Addr().(*net.TCPAddr).AddrPort()
		ca := c.LocalAddr().(*net.TCPAddr).AddrPort()
		zero := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		if p == TCP6 {
			zero = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
		}
		for _, w := range []struct {
			c syscall.Conn
			w want
		}{
			{l.(*net.TCPListener), want{p, la, zero, Listen}},
			{c.(*net.TCPConn), want{p, ca, la, Established}},
			{sc.(*net.TCPConn), want{p, la, ca, Established}},
		} {
			inodes[fixture.SocketInode(t, w.c)] = w.w
		}
	}
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	inodes[fixture.SocketInode(t, u)] = want{UDP, u.LocalAddr().(*net.UDPAddr).AddrPort(), netip.AddrPortFrom(netip.IPv4Unspecified(), 0), Close}

	var filter Filter
	filter.Inodes = map[uint64]bool{}
	for ino := range inodes {
		filter.Inodes[ino] = true
	}
	got, err := List(context.Background(), "", filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(inodes) {
		t.Fatalf("found %d of our %d sockets: %+v", len(got), len(inodes), got)
	}
	mine := selfSocketInodes(t)
	for _, s := range got {
		w := inodes[s.Inode]
		if s.Proto != w.proto || s.Local != w.local || s.Remote != w.remote || s.State != w.state {
			t.Errorf("inode %d: got %v %v %v %v, want %v %v %v %v", s.Inode,
				s.Proto, s.Local, s.Remote, s.State, w.proto, w.local, w.remote, w.state)
		}
		if !mine[s.Inode] {
			t.Errorf("inode %d is not among /proc/self/fd's sockets", s.Inode)
		}
		if s.UID != uint32(os.Getuid()) {
			t.Errorf("inode %d: uid %d, want %d", s.Inode, s.UID, os.Getuid())
		}
	}

	// The unfiltered scan of the live system must hold them too, and
	// parse without a single error.
	all, err := List(context.Background(), "", Filter{})
	if err != nil {
		t.Fatalf("live tables: %v", err)
	}
	n := 0
	for _, s := range all {
		if _, ok := inodes[s.Inode]; ok {
			n++
		}
	}
	if n != len(inodes) {
		t.Errorf("unfiltered scan found %d of our %d sockets", n, len(inodes))
	}
}

// TestLiveNamespace reads our own tables through proc/PID/net and expects
// the same listener as through proc/net.
func TestLiveNamespace(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	ino := fixture.SocketInode(t, l.(*net.TCPListener))
	r := Reader{PID: os.Getpid()}
	got, err := r.AppendSockets(context.Background(), nil, Filter{Inodes: map[uint64]bool{ino: true}})
	if err != nil || len(got) != 1 || got[0].Local != l.Addr().(*net.TCPAddr).AddrPort() {
		t.Fatalf("proc/%d/net: %+v, %v", os.Getpid(), got, err)
	}
}

func TestLiveUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Skip(err)
	}
	defer l.Close()
	ino := fixture.SocketInode(t, l.(*net.UnixListener))
	var r Reader
	for u, err := range r.UnixSockets(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if u.Inode == ino {
			if u.Path != path || !u.Listening() || u.Type != Stream {
				t.Errorf("our unix socket: %+v", u)
			}
			return
		}
	}
	t.Errorf("unix socket %s (inode %d) not found", path, ino)
}
