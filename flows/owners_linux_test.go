package flows

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// The tracepoint source's scanner keeps owners in a compact key that
// still tells an IPv4 address from its IPv4-mapped form.
func TestOwnKeyKeepsFamilies(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:80")
	mapped := netip.MustParseAddrPort("[::ffff:127.0.0.1]:80")
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	if ownKeyOf(v4, peer) == ownKeyOf(mapped, peer) {
		t.Error("127.0.0.1 and ::ffff:127.0.0.1 share a key")
	}
	if ownKeyOf(v4, peer) == ownKeyOf(peer, v4) {
		t.Error("the ends swapped share a key")
	}
}

// An owners-only scan finds the owner of a live connection and keeps
// neither the rows nor the full per-connection records (issue 15 item 5:
// a watch's feed keeps no copy of the rows).
func TestOwnerScannerKeepsOwnersOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := c.RemoteAddr().(*net.TCPAddr).AddrPort()

	sc := newOwnerScanner()
	sc.scan(time.Now(), nil, nil)
	if sc.rows != nil || sc.conns != nil {
		t.Errorf("the scanner keeps %d rows and %d connection records", len(sc.rows), len(sc.conns))
	}
	o, ok := sc.ownerOf(local, remote)
	if !ok || o.pid != os.Getpid() {
		t.Fatalf("owner of %v→%v: %+v, %v; want pid %d", local, remote, o, ok, os.Getpid())
	}
	if _, ok := sc.ownerOf(netip.AddrPortFrom(netip.AddrFrom16(local.Addr().As16()), local.Port()), remote); ok {
		t.Error("the IPv4-mapped form of the local end has an owner")
	}
	sc.forget(local, remote)
	if _, ok := sc.ownerOf(local, remote); ok {
		t.Error("a forgotten connection keeps its owner")
	}
	if _, ok := sc.listeners[ln.Addr().(*net.TCPAddr).AddrPort()]; !ok {
		t.Error("the listener has no owner")
	}
}

// A listener's address comes back from the compact key as the table
// gave it, for the listener map that attribute looks up.
func TestOwnKeyLocalRoundTrip(t *testing.T) {
	peer := netip.MustParseAddrPort("[::1]:1")
	for _, s := range []string{"127.0.0.1:80", "[::ffff:127.0.0.1]:80", "[::1]:443", "0.0.0.0:22", "[::]:22"} {
		a := netip.MustParseAddrPort(s)
		k := ownKeyOf(a, peer)
		if got := k.localAddrPort(); got != a {
			t.Errorf("%v comes back as %v", a, got)
		}
	}
}
