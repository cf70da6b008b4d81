package iface

import (
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
