package iface

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

// TestList reads a root as netstat -iea lists it: net-tools' order, the
// inet line of the lowest address of a subnet route (its broadcast the
// explicit one), the IPv6 addresses in if_inet6's order, the link of
// each interface (none for ghost0, which has no sysfs directory), and a
// bad sysfs attribute reported once although two reads meet it.
func TestList(t *testing.T) {
	r := Reader{Root: fixture.Root(t, "testdata/addrs.txtar")}
	es, err := r.List(ListOptions{All: true, Links: true})
	if err == nil || strings.Count(err.Error(), "sys/class/net/eth1/address:1:") != 1 {
		t.Errorf("error %v, want sys/class/net/eth1/address once", err)
	}
	type row struct {
		Name                            string
		Link                            bool
		Inet                            netip.Prefix
		Netmask, Broadcast, Destination netip.Addr
		Inet6                           []netip.Prefix
	}
	var got []row
	for _, e := range es {
		w := row{e.Name, e.Link != nil, e.Inet.Prefix, e.Netmask(), e.Broadcast(), e.Destination(), nil}
		for _, a := range e.Inet6 {
			w.Inet6 = append(w.Inet6, a.Prefix)
		}
		got = append(got, w)
	}
	p, a := netip.MustParsePrefix, netip.MustParseAddr
	want := []row{
		{"eth0", true, p("192.0.2.7/24"), a("255.255.255.0"), a("192.0.2.127"), netip.Addr{},
			[]netip.Prefix{p("fe80::5054:0:fe12:3456/64"), p("::192.0.2.7/96")}},
		{"eth1", true, netip.Prefix{}, netip.Addr{}, netip.Addr{}, netip.Addr{}, nil},
		{"ghost0", false, netip.Prefix{}, netip.Addr{}, netip.Addr{}, netip.Addr{}, nil},
		{"lo", true, p("127.0.0.1/8"), a("255.0.0.0"), netip.Addr{}, netip.Addr{}, []netip.Prefix{p("::1/128")}},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
		cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); d != "" {
		t.Errorf("List (-want +got):\n%s", d)
	}

	// Without All, only interfaces that are up; without Links, no Link.
	es, _ = r.List(ListOptions{})
	for _, e := range es {
		if !e.Flags.Has(FlagUp) || e.Link != nil {
			t.Errorf("%s: flags %v, link %v", e.Name, e.Flags, e.Link)
		}
	}
	if len(es) != 2 {
		t.Errorf("%d rows up, want eth0 and lo", len(es))
	}
}

// TestListRepeatedError: under a root Links reads proc/net/dev again; its
// bad row is reported once.
func TestListRepeatedError(t *testing.T) {
	root := fixture.Root(t, "testdata/addrs.txtar")
	dev := filepath.Join(root, "proc/net/dev")
	b, err := os.ReadFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dev, append(b, "  bad0: 1 2 x\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := Reader{Root: root}
	es, err := r.List(ListOptions{All: true, Links: true})
	if err == nil || strings.Count(err.Error(), "proc/net/dev:7:") != 1 {
		t.Errorf("error %v, want proc/net/dev:7 once", err)
	}
	if len(es) != 4 {
		t.Errorf("%d rows, want the 4 good ones", len(es))
	}
}

// TestListUnreadable: a proc/net/dev that cannot be read gives no rows
// and its error, without reading addresses.
func TestListUnreadable(t *testing.T) {
	root := fixture.Root(t, "testdata/addrs.txtar")
	dev := filepath.Join(root, "proc/net/dev")
	if err := os.Remove(dev); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dev, 0o755); err != nil { // opens, but cannot be read
		t.Fatal(err)
	}
	r := Reader{Root: root}
	es, err := r.List(ListOptions{})
	if es != nil || err == nil || strings.Contains(err.Error(), "eth1") {
		t.Errorf("List = %v, %v; want nil and proc/net/dev's error alone", es, err)
	}
}

// TestListAliases: a label that names no interface is an alias row
// without statistics, with its parent's MTU, flags and link, and its
// address on the inet line; an old kernel's alias row of proc/net/dev
// (eth0:2) is no Alias but gets the parent's link too. IPv6 addresses
// belong to the interface, not to its aliases.
func TestListAliases(t *testing.T) {
	p := netip.MustParsePrefix
	ifs := []Interface{
		{Name: "eth0", MTU: 1500, Flags: FlagUp | FlagPointToPoint, HasLink: true, Counters: Counters{RxBytes: 9}},
		{Name: "eth0:2", Counters: Counters{RxBytes: 1}},
	}
	addrs := []Addr{
		{Iface: "eth0", Label: "eth0", Prefix: p("10.0.0.1/24")},
		{Iface: "eth0", Label: "eth0:p", Prefix: p("10.9.0.1/32"), Peer: netip.MustParseAddr("10.9.0.2")},
		{Iface: "eth0", Label: "eth0", Prefix: p("fd00::1/64")},
	}
	links := []Link{{Name: "eth0", Type: HWEther, TxQueueLen: 7}}
	es := entries(ifs, addrs, links, false)
	var names []string
	for _, e := range es {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"eth0", "eth0:2", "eth0:p"}) {
		t.Fatalf("rows %q", names)
	}
	if e := es[2]; !e.Alias || e.MTU != 1500 || e.RxBytes != 0 || e.Link != &links[0] ||
		e.Inet.Prefix != p("10.9.0.1/32") || e.Destination() != netip.MustParseAddr("10.9.0.2") || e.Inet6 != nil {
		t.Errorf("alias row %+v", e)
	}
	if e := es[1]; e.Alias || e.Link != &links[0] || e.HasInet() {
		t.Errorf("old alias row %+v", e)
	}
	if e := es[0]; e.Destination() != netip.MustParseAddr("10.0.0.1") || e.Broadcast().IsValid() || len(e.Inet6) != 1 {
		t.Errorf("eth0: destination %v (want its own address: no peer), broadcast %v, inet6 %v",
			e.Destination(), e.Broadcast(), e.Inet6)
	}
}

// TestBroadcastUnset: an interface with FlagBroadcast whose address has
// no broadcast set shows 0.0.0.0, as SIOCGIFBRDADDR answers.
func TestBroadcastUnset(t *testing.T) {
	e := Entry{Interface: Interface{Flags: FlagBroadcast}, Inet: Addr{Prefix: netip.MustParsePrefix("192.0.2.7/32")}}
	if got := e.Broadcast(); got != netip.IPv4Unspecified() {
		t.Errorf("Broadcast = %v, want 0.0.0.0", got)
	}
	if got := e.Netmask(); got != netip.MustParseAddr("255.255.255.255") {
		t.Errorf("Netmask = %v", got)
	}
}

func TestMask4(t *testing.T) {
	for bits, want := range map[int]string{-1: "0.0.0.0", 0: "0.0.0.0", 8: "255.0.0.0", 25: "255.255.255.128", 32: "255.255.255.255", 40: "255.255.255.255"} {
		if got := mask4(bits).String(); got != want {
			t.Errorf("mask4(%d) = %s, want %s", bits, got, want)
		}
	}
}

// TestScopeNames: ifconfig's words for scope ids, as net-tools 2.10 prints
// them (0x80 for ::192.0.2.7 is "compat" then "global").
func TestScopeNames(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		scope Scope
		want  []string
	}{
		{"2001:db8::1", ScopeUniverse, []string{"global"}},
		{"fe80::1", ScopeLink, []string{"link"}},
		{"::1", ScopeHost, []string{"host"}},
		{"fec0::1", ScopeSite, []string{"site"}},
		{"::192.0.2.7", ScopeUniverse, []string{"compat", "global"}},
		{"192.0.2.7", ScopeUniverse, []string{"global"}},
	} {
		a := Addr{Prefix: netip.PrefixFrom(netip.MustParseAddr(tc.addr), 64), Scope: tc.scope}
		if got := a.ScopeNames(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.addr, got, tc.want)
		}
	}
}
