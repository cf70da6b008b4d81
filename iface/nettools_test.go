package iface

import (
	"math"
	"net"
	"net/netip"
	"slices"
	"testing"
)

// TestSortOrder: the order net-tools 2.10 printed for `netstat -ia`
// in a namespace whose /proc/net/dev listed lo x10 eth10 x2 eth2 x1 eth1
// br0 veth1a, with eth2 holding addresses labelled eth2:1, eth2:x,
// eth2:10 and eth2:9 (SIOCGIFCONF's names, added after proc's).
func TestSortOrder(t *testing.T) {
	names := []string{"lo", "x10", "eth10", "x2", "eth2", "x1", "eth1", "br0", "veth1a",
		"eth2", "eth2:1", "eth2:x", "eth2:10", "eth2:9", "lo"}
	var got []string
	ifs := Sort(named(names...))
	for _, f := range ifs {
		got = append(got, f.Name)
	}
	want := []string{"br0", "eth1", "eth2", "eth2:1", "eth2:9", "eth2:10", "eth10", "eth2:x",
		"lo", "veth1a", "x1", "x2", "x10"}
	if !slices.Equal(want, got) {
		t.Errorf("order %q, want %q", got, want)
	}
}

func named(names ...string) []Interface {
	var l []Interface
	for _, n := range names {
		l = append(l, Interface{Name: n})
	}
	return l
}

// TestAppendAliases: labels that name no interface become rows with
// their parent's MTU and flags; labels of interfaces, IPv6 addresses and
// repeats add nothing.
func TestAppendAliases(t *testing.T) {
	list := []Interface{{Name: "eth0", MTU: 1500, Flags: FlagUp, HasLink: true}, {Name: "lo", MTU: 65536, HasLink: true}}
	addrs := []Addr{
		{Iface: "eth0", Label: "eth0", Prefix: netip.MustParsePrefix("10.0.0.1/24")},
		{Iface: "eth0", Label: "eth0:1", Prefix: netip.MustParsePrefix("10.0.1.1/24")},
		{Iface: "eth0", Label: "eth0:1", Prefix: netip.MustParsePrefix("10.0.2.1/24")},
		{Iface: "eth0", Label: "eth0:6", Prefix: netip.MustParsePrefix("fd00::1/64")},
		{Iface: "lo", Label: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")},
	}
	got, added := AppendAliases(list, addrs)
	if !slices.Equal(added, []string{"eth0:1"}) || len(got) != 3 {
		t.Fatalf("added %q, rows %+v", added, got)
	}
	if a := got[2]; a.Name != "eth0:1" || a.MTU != 1500 || a.Flags != FlagUp || a.HasLink {
		t.Errorf("alias row %+v, want eth0's MTU and flags without a link", a)
	}
}

// TestNetToolsHW: ifconfig's hardware line, as net-tools 2.10 printed it
// for each type (TestIfaceLongLive checks the live ones byte for byte).
func TestNetToolsHW(t *testing.T) {
	mac := net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0xab}
	ib := make(net.HardwareAddr, 20)
	ib[0], ib[19] = 0x80, 0xfe
	for _, tc := range []struct {
		link        Link
		name, title string
		addr        string
		printsAddr  bool
	}{
		{Link{Type: HWEther, HardwareAddr: mac}, "ether", "Ethernet", "52:54:00:12:34:ab", true},
		{Link{Type: HWInfiniBand, HardwareAddr: ib}, "infiniband", "InfiniBand",
			"80:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:FE", true},
		{Link{Type: HWLoopback, HardwareAddr: make(net.HardwareAddr, 6)}, "loop", "Local Loopback", "", false},
		{Link{Type: HWTunnel, HardwareAddr: net.HardwareAddr{1, 2, 3, 4}}, "tunnel", "IPIP Tunnel", "", true},
		{Link{Type: HWIPGRE, HardwareAddr: net.HardwareAddr{0xc0, 0, 2, 7}}, "unspec", "UNSPEC",
			"C0-00-02-07-00-00-00-00-00-00-00-00-00-00-00-00", true},
		{Link{Type: HWNone}, "unspec", "UNSPEC", "00-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00", true},
		{Link{Type: HWCSLIP}, "cslip", "VJ Serial Line IP", "", false},
		// net-tools copies 8 bytes of an unspec address.
		{Link{Type: HWVoid, HardwareAddr: ib}, "unspec", "UNSPEC", "80-00-00-00-00-00-00-00-00-00-00-00-00-00-00-00", true},
	} {
		name, title := tc.link.Type.NetTools()
		addr, ok := tc.link.NetToolsAddr()
		if name != tc.name || title != tc.title || addr != tc.addr || ok != tc.printsAddr {
			t.Errorf("type %d: %q %q %q %v, want %q %q %q %v", tc.link.Type, name, title, addr, ok,
				tc.name, tc.title, tc.addr, tc.printsAddr)
		}
	}
}

// TestNetToolsText: ifconfig's inet6 address keeps an IPv4-compatible
// address's dotted tail; other addresses print as netip does.
func TestNetToolsText(t *testing.T) {
	for in, want := range map[string]string{
		"::1.2.3.4/96": "::1.2.3.4", "::1/128": "::1", "::/0": "::", "::0.0.1.2/96": "::102",
		"fe80::1/64": "fe80::1", "10.0.0.1/8": "10.0.0.1",
	} {
		if got := (Addr{Prefix: netip.MustParsePrefix(in)}).NetToolsText(); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

// TestNetToolsBytes: ifconfig's rounding, its "greater than" units and
// the counts whose tenfold overflows.
func TestNetToolsBytes(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0.0 B", 1024: "1024.0 B", 1025: "1.0 KiB", 1536: "1.5 KiB", 1<<20 + 1<<19: "1.5 MiB",
		5 << 40: "5.0 TiB", math.MaxInt64/10 + 1: "819.2 PiB", math.MaxUint64: "16384.0 PiB",
	} {
		if got := NetToolsBytes(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
