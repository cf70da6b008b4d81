package iface

import (
	"encoding/binary"
	enchex "encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readHexDump reads datagrams captured from a NETLINK_ROUTE socket, one
// hex line each (testdata/rtnl: a private namespace with lo at MTU 16436
// and a veth pair v0/v1, v0 holding a /32, a /24 with brd, a peer
// address labelled v0:p, a secondary and two IPv6 addresses). They are in
// the capturing machine's (little-endian) byte order.
func readHexDump(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range strings.Fields(string(b)) {
		d, err := enchex.DecodeString(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func TestDecodeCaptured(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the capture is little-endian")
	}
	links, err := decodeLinkDump(readHexDump(t, "testdata/rtnl/link.hex"), 7)
	if err != nil {
		t.Fatal(err)
	}
	type lk struct {
		Index      int
		Name       string
		MTU        int
		Flags      string
		Type       HWType
		HW, BC     string
		TxQueueLen int
	}
	var got []lk
	for _, l := range links {
		got = append(got, lk{l.Index, l.Name, l.MTU, l.Flags.String(), l.Type, l.HardwareAddr.String(), l.Broadcast.String(), l.TxQueueLen})
	}
	want := []lk{
		{1, "lo", 16436, "LRU", HWLoopback, "00:00:00:00:00:00", "00:00:00:00:00:00", 1000},
		{2, "v1", 1500, "BM", HWEther, "4e:d0:93:48:f8:d1", "ff:ff:ff:ff:ff:ff", 1000},
		{3, "v0", 1400, "BMU", HWEther, "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", 500},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("links (-want +got):\n%s", d)
	}
	if links[0].Flags != FlagUp|FlagLoopback|FlagRunning|FlagLowerUp || links[0].Counters != (Counters{}) {
		t.Errorf("lo: flags %#x, counters %+v", uint32(links[0].Flags), links[0].Counters)
	}
	// What /proc/net/dev and net-tools showed for v0 at the capture: the
	// IPv6 packet sent into a veth without carrier was dropped.
	if links[2].Counters != (Counters{TxDrop: 1}) {
		t.Errorf("v0 counters %+v, want TxDrop 1 alone", links[2].Counters)
	}

	addrs, err := decodeAddrDump(readHexDump(t, "testdata/rtnl/addr.hex"), 7, links)
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	wantAddrs := []Addr{
		{Index: 1, Iface: "lo", Label: "lo", Prefix: p("127.0.0.1/8"), Scope: ScopeHost, Flags: AddrPermanent},
		{Index: 3, Iface: "v0", Label: "v0", Prefix: p("192.0.2.7/32"), Flags: AddrPermanent},
		{Index: 3, Iface: "v0", Label: "v0", Prefix: p("198.51.100.1/24"), Broadcast: a("198.51.100.255"), Flags: AddrPermanent},
		{Index: 3, Iface: "v0", Label: "v0:p", Prefix: p("10.9.0.1/32"), Peer: a("10.9.0.2"), Flags: AddrPermanent},
		{Index: 3, Iface: "v0", Label: "v0", Prefix: p("198.51.100.2/24"), Flags: AddrPermanent | AddrSecondary},
		{Index: 1, Iface: "lo", Label: "lo", Prefix: p("::1/128"), Scope: ScopeHost, Flags: AddrPermanent},
		{Index: 3, Iface: "v0", Label: "v0", Prefix: p("2001:db8::8/64"), Flags: AddrPermanent | AddrNoDAD},
		{Index: 3, Iface: "v0", Label: "v0", Prefix: p("2001:db8::7/64"), Flags: AddrPermanent | AddrNoDAD},
	}
	if d := cmp.Diff(wantAddrs, addrs, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
		cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); d != "" {
		t.Errorf("addrs (-want +got):\n%s", d)
	}

	// if_inet6 listed 2001:db8::7 first: ifconfig's order within v0.
	file, err := parseIfInet6(strings.NewReader("20010db8000000000000000000000007 03 40 00 82       v0\n"+
		"00000000000000000000000000000001 01 80 10 80       lo\n"+
		"20010db8000000000000000000000008 03 40 00 82       v0\n"), "proc/net/if_inet6")
	if err != nil {
		t.Fatal(err)
	}
	orderLike6(addrs, file)
	var order []string
	for _, x := range addrs {
		order = append(order, x.Prefix.String())
	}
	wantOrder := []string{"127.0.0.1/8", "192.0.2.7/32", "198.51.100.1/24", "10.9.0.1/32", "198.51.100.2/24",
		"::1/128", "2001:db8::7/64", "2001:db8::8/64"}
	if d := cmp.Diff(wantOrder, order); d != "" {
		t.Errorf("order like if_inet6 (-want +got):\n%s", d)
	}
	// The scope as if_inet6 shows it, rebuilt from rtnetlink's.
	for i, want := range []int{0, 0, 0, 0, 0, 0x10, 0, 0} {
		if got := addrs[i].ScopeID(); got != want {
			t.Errorf("%v: ScopeID %#x, want %#x", addrs[i].Prefix, got, want)
		}
	}
	file[0], file[1] = file[1], file[0] // now in the order of addrs
	for i, x := range file {
		if x.Prefix != addrs[5+i].Prefix || x.Flags != addrs[5+i].Flags || x.Scope != addrs[5+i].Scope || x.Index != addrs[5+i].Index {
			t.Errorf("if_inet6 row %d = %+v, rtnetlink %+v", i, x, addrs[5+i])
		}
	}
}

// TestDecodeErrors: truncated and hostile messages are errors, never a
// panic, and the messages around them are kept.
func TestDecodeErrors(t *testing.T) {
	ne := binary.NativeEndian
	msg := func(typ uint16, seq uint32, payload []byte) []byte {
		b := make([]byte, 16, 16+len(payload)+3)
		ne.PutUint32(b[0:], uint32(16+len(payload)))
		ne.PutUint16(b[4:], typ)
		ne.PutUint32(b[8:], seq)
		b = append(b, payload...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	attr := func(typ uint16, v []byte) []byte {
		b := make([]byte, 4, 8+len(v))
		ne.PutUint16(b[0:], uint16(4+len(v)))
		ne.PutUint16(b[2:], typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	link := func(index int, name string, extra ...[]byte) []byte {
		p := make([]byte, ifinfoLen)
		ne.PutUint32(p[4:], uint32(index))
		p = append(p, attr(iflaIfname, append([]byte(name), 0))...)
		for _, e := range extra {
			p = append(p, e...)
		}
		return p
	}
	var d []byte
	d = append(d, msg(rtmNewLink, 9, link(1, "a"))...)
	d = append(d, msg(rtmNewLink, 9, link(2, "b", attr(iflaMTU, []byte{1})))...)           // MTU of 1 byte
	d = append(d, msg(rtmNewLink, 9, link(3, "c", attr(iflaStats64, make([]byte, 8))))...) // short stats
	d = append(d, msg(rtmNewLink, 9, link(4, "d", []byte{200, 0, 1, 0}))...)               // attribute past the end
	d = append(d, msg(rtmNewLink, 9, []byte{1, 2, 3})...)                                  // short ifinfomsg
	d = append(d, msg(rtmNewLink, 9, link(5, "e"))...)
	d = append(d, msg(nlmsgDone, 9, make([]byte, 4))...)
	links, err := decodeLinkDump([][]byte{d}, 9)
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
	}
	if d := cmp.Diff([]string{"a", "e"}, names); d != "" {
		t.Errorf("links kept (-want +got):\n%s", d)
	}
	var nerr *NetlinkError
	if !errors.As(err, &nerr) || nerr.Op != "RTM_GETLINK" || len(err.(interface{ Unwrap() []error }).Unwrap()) != 4 {
		t.Errorf("errors: %v", err)
	}

	// An NLMSG_ERROR carries a negative errno.
	e := make([]byte, 20)
	eperm := -int32(syscall.EPERM)
	ne.PutUint32(e, uint32(eperm))
	_, err = decodeLinkDump([][]byte{msg(nlmsgError, 9, e)}, 9)
	if !errors.Is(err, syscall.EPERM) {
		t.Errorf("NLMSG_ERROR: %v", err)
	}
	// Another request's reply, a truncated header, an interrupted dump.
	for _, bad := range [][]byte{msg(rtmNewLink, 8, link(1, "a")), d[:10], func() []byte {
		m := msg(rtmNewLink, 9, link(1, "a"))
		ne.PutUint16(m[6:], nlmFDumpIntr)
		return m
	}()} {
		if _, err := decodeLinkDump([][]byte{bad}, 9); err == nil {
			t.Errorf("% x: no error", bad[:16])
		}
	}

	// Addresses: a wrong length, a prefix too long, no address at all.
	addr := func(family, plen byte, extra ...[]byte) []byte {
		p := []byte{family, plen, 0, 0, 1, 0, 0, 0}
		for _, e := range extra {
			p = append(p, e...)
		}
		return p
	}
	d = d[:0]
	d = append(d, msg(rtmNewAddr, 9, addr(afInet, 8, attr(ifaLocal, []byte{127, 0, 0, 1})))...)
	d = append(d, msg(rtmNewAddr, 9, addr(afInet, 8, attr(ifaLocal, []byte{127, 0, 1})))...)
	d = append(d, msg(rtmNewAddr, 9, addr(afInet, 33, attr(ifaLocal, []byte{127, 0, 0, 1})))...)
	d = append(d, msg(rtmNewAddr, 9, addr(afInet6, 64))...)
	d = append(d, msg(rtmNewAddr, 9, addr(7, 8, attr(ifaLocal, []byte{1})))...) // another family: skipped
	d = append(d, msg(rtmNewAddr, 9, addr(afInet6, 128, attr(ifaAddress, net.IPv6loopback)))...)
	addrs, err := decodeAddrDump([][]byte{d}, 9, []Link{{Index: 1, Name: "lo"}})
	if len(addrs) != 2 || addrs[0].Prefix.String() != "127.0.0.1/8" || addrs[1].Prefix.String() != "::1/128" ||
		addrs[1].Iface != "lo" || addrs[1].Label != "lo" {
		t.Errorf("addresses kept: %+v", addrs)
	}
	if err == nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 3 {
		t.Errorf("errors: %v", err)
	}
}
