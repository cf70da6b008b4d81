package iface

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

func TestLinksRoot(t *testing.T) {
	r := Reader{Root: fixture.Root(t, "testdata/addrs.txtar")}
	links, err := r.Links()
	type lk struct {
		Index      int
		Name       string
		MTU        int
		Flags      string
		Type       HWType
		HW, BC     string
		TxQueueLen int
		RxPackets  uint64
	}
	var got []lk
	for _, l := range links {
		got = append(got, lk{l.Index, l.Name, l.MTU, l.Flags.String(), l.Type, l.HardwareAddr.String(), l.Broadcast.String(), l.TxQueueLen, l.RxPackets})
	}
	want := []lk{
		{1, "lo", 65536, "LRU", HWLoopback, "00:00:00:00:00:00", "00:00:00:00:00:00", 1000, 29},
		{2, "eth0", 1500, "BMRU", HWEther, "52:54:00:12:34:56", "ff:ff:ff:ff:ff:ff", 500, 91},
		{0, "eth1", 1500, "BM", HWEther, "", "", -1, 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("links (-want +got):\n%s", d)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "sys/class/net/eth1/address" || pe.Line != 1 ||
		err.Error() != "sys/class/net/eth1/address:1: invalid syntax" {
		t.Errorf("error %v, want eth1's address named", err)
	}
}

func TestAddrsRoot(t *testing.T) {
	r := Reader{Root: fixture.Root(t, "testdata/addrs.txtar")}
	addrs, err := r.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	want := []Addr{
		{Iface: "lo", Label: "lo", Prefix: p("127.0.0.1/8"), Broadcast: a("127.255.255.255"), Scope: ScopeHost},
		{Iface: "eth0", Label: "eth0", Prefix: p("192.0.2.7/24"), Broadcast: a("192.0.2.127")},
		{Iface: "eth0", Label: "eth0", Prefix: p("192.0.2.10/24"), Broadcast: a("192.0.2.127")},
		{Index: 1, Iface: "lo", Label: "lo", Prefix: p("::1/128"), Scope: ScopeHost, Flags: AddrPermanent},
		{Index: 2, Iface: "eth0", Label: "eth0", Prefix: p("fe80::5054:0:fe12:3456/64"), Scope: ScopeLink, Flags: AddrPermanent},
		{Index: 2, Iface: "eth0", Label: "eth0", Prefix: p("::192.0.2.7/96"), Flags: AddrPermanent | AddrNoDAD},
	}
	if d := cmp.Diff(want, addrs, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
		cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); d != "" {
		t.Errorf("addrs (-want +got):\n%s", d)
	}
	var ids []int
	for _, x := range addrs {
		ids = append(ids, x.ScopeID())
	}
	if d := cmp.Diff([]int{0, 0, 0, 0x10, 0x20, 0x80}, ids); d != "" {
		t.Errorf("scope ids as if_inet6 shows them (-want +got):\n%s", d)
	}
}

func TestAddrsMissing(t *testing.T) {
	r := Reader{Root: t.TempDir()}
	if addrs, err := r.Addrs(); addrs != nil || err != nil {
		t.Errorf("Addrs of an empty root = %v, %v", addrs, err)
	}
	if links, err := r.Links(); len(links) != 0 || err != nil {
		t.Errorf("Links of an empty root = %v, %v", links, err)
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{HWEther.String(), "ether"}, {HWType(9999).String(), "hw(9999)"},
		{ScopeLink.String(), "link"}, {Scope(7).String(), "7"},
		{(AddrSecondary | AddrNoDAD).String(), "secondary nodad"},
		{(AddrPermanent | 0x10000).String(), "permanent 0x10000"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

// TestSysfsRoundTrip: the links of the captured rtnetlink dump, written
// as sysfs files beside a proc/net/dev, read back the same from a root.
func TestSysfsRoundTrip(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the capture is little-endian")
	}
	links, err := decodeLinkDump(readHexDump(t, "testdata/rtnl/link.hex"), 7)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dev := "Inter-|   Receive\n face |bytes\n"
	for _, l := range links {
		c := l.Counters
		dev += fmt.Sprintf("%s: %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d\n", l.Name,
			c.RxBytes, c.RxPackets, c.RxErrs, c.RxDrop, c.RxFifo, c.RxFrame, c.RxCompressed, c.RxMulticast,
			c.TxBytes, c.TxPackets, c.TxErrs, c.TxDrop, c.TxFifo, c.TxColls, c.TxCarrier, c.TxCompressed)
		for name, body := range l.Sysfs() {
			p := filepath.Join(root, "sys/class/net", l.Name, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/net/dev"), []byte(dev), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Reader{Root: root}
	back, err := r.Links()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(links, back); d != "" {
		t.Errorf("links read back (-rtnetlink +sysfs):\n%s", d)
	}
}
