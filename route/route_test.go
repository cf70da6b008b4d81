package route

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
var cmpPrefix = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func ip(s string) netip.Addr    { return netip.MustParseAddr(s) }

var want4 = []Entry{
	{Dest: pfx("0.0.0.0/0"), Gateway: ip("192.0.2.1"), Flags: FlagUp | FlagGateway, Metric: 100, Iface: "eth0"},
	{Dest: pfx("192.0.2.0/24"), Gateway: ip("0.0.0.0"), Flags: FlagUp, Iface: "eth0"},
	{Dest: pfx("198.51.100.7/32"), Gateway: ip("192.0.2.254"), Flags: FlagUp | FlagGateway | FlagHost, Iface: "eth0"},
	{Dest: pfx("10.7.0.0/16"), Gateway: ip("0.0.0.0"), Flags: FlagUp | FlagReject},
	{Dest: pfx("10.8.0.1/32"), Gateway: ip("0.0.0.0"), Flags: FlagUp | FlagReject | FlagHost},
	{Dest: pfx("10.6.0.0/16"), Gateway: ip("0.0.0.0"), Flags: FlagUp},
	{Dest: pfx("10.5.0.0/16"), Gateway: ip("0.0.0.0"), Flags: FlagUp, Metric: 0xffffffff, MTU: 1440, Window: 5000, IRTT: 30, Iface: "wg0"},
	{Dest: pfx("172.16.0.0/12"), Gateway: ip("0.0.0.0"), Flags: FlagUp, Metric: 7, Iface: "eth1"},
}

func TestIPv4(t *testing.T) {
	root := fixture.Root(t, "testdata/routes.txtar")
	got, err := IPv4(root)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want4, got, cmpAddr, cmpPrefix); d != "" {
		t.Errorf("IPv4 (-want +got):\n%s", d)
	}
}

func TestBigEndian(t *testing.T) {
	defer func(le bool) { littleEndian = le }(littleEndian)
	littleEndian = false
	root := fixture.Root(t, "testdata/bigendian.txtar")
	got, err := IPv4(root)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want4, got, cmpAddr, cmpPrefix); d != "" {
		t.Errorf("IPv4 on a big-endian host (-want +got):\n%s", d)
	}
}

func TestIPv6(t *testing.T) {
	root := fixture.Root(t, "testdata/routes.txtar")
	got, err := IPv6(root)
	if err != nil {
		t.Fatal(err)
	}
	any6 := pfx("::/0")
	unspec := ip("::")
	want := []Entry{
		{Dest: pfx("fd00::/64"), Source: any6, Gateway: unspec, Metric: 256, RefCnt: 1, Flags: FlagUp, Iface: "eth0"},
		{Dest: pfx("fe80::/64"), Source: any6, Gateway: unspec, Metric: 256, RefCnt: 2, Flags: FlagUp, Iface: "eth0"},
		{Dest: any6, Source: any6, Gateway: ip("fd00::1"), Metric: 1024, RefCnt: 2, Flags: FlagUp | FlagGateway, Iface: "eth0"},
		{Dest: pfx("2001:db8:6::/48"), Source: pfx("2001:db8::/64"), Gateway: ip("2001:db8::fe"), Metric: 1024, RefCnt: 3, Flags: FlagUp | FlagGateway, Iface: "eth0"},
		{Dest: pfx("2001:db8:7::/48"), Source: any6, Gateway: ip("2001:db8::fe"), Metric: 1024, RefCnt: 1, Flags: FlagUp | FlagGateway | FlagExpires, Iface: "eth0"},
		{Dest: pfx("2001:db8:2::/48"), Source: any6, Gateway: unspec, Metric: 1024, RefCnt: 2, Flags: FlagReject | FlagNoNextHop, Iface: "lo"},
		{Dest: any6, Source: any6, Gateway: ip("fe80::211:22ff:fe33:4455"), Metric: 1024, RefCnt: 1, Flags: FlagUp | FlagGateway | FlagDefault | FlagAddrConf | FlagExpires, Iface: "wlp0s20f3"},
		{Dest: pfx("2001:db8:9::/48"), Source: any6, Gateway: unspec, Metric: 1024, RefCnt: 1, Flags: FlagUp},
		{Dest: pfx("::1/128"), Source: any6, Gateway: unspec, RefCnt: 2, Flags: FlagUp | FlagNoNextHop | FlagLocal, Iface: "lo"},
		{Dest: pfx("fd00::2/128"), Source: any6, Gateway: unspec, RefCnt: 3, Flags: FlagUp | FlagNoNextHop | FlagLocal, Iface: "eth0"},
		{Dest: pfx("fe80::fc:ff:fe00:1/128"), Source: any6, Gateway: unspec, RefCnt: 2, Flags: FlagUp | FlagNoNextHop | FlagLocal, Iface: "eth0"},
		{Dest: pfx("ff00::/8"), Source: any6, Gateway: unspec, Metric: 256, RefCnt: 3, Flags: FlagUp, Iface: "eth0"},
		{Dest: any6, Source: any6, Gateway: unspec, Metric: 0xffffffff, RefCnt: 1, Flags: FlagReject | FlagNoNextHop, Iface: "lo"},
	}
	if d := cmp.Diff(want, got, cmpAddr, cmpPrefix); d != "" {
		t.Errorf("IPv6 (-want +got):\n%s", d)
	}
	var flags []string
	for _, e := range got {
		flags = append(flags, e.FlagString())
	}
	// As net-tools 2.10 `netstat -rn -6` prints them.
	wantFlags := []string{"U", "U", "UG", "UG", "UGe", "!n", "UGDAe", "U", "Un", "Un", "Un", "U", "!n"}
	if d := cmp.Diff(wantFlags, flags); d != "" {
		t.Errorf("IPv6 flag letters (-want +got):\n%s", d)
	}
}

func TestFlagString(t *testing.T) {
	for _, tc := range []struct {
		f      Flags
		v4, v6 string
	}{
		{0, "", ""},
		{FlagUp, "U", "U"},
		{FlagUp | FlagGateway, "UG", "UG"},
		{FlagUp | FlagGateway | FlagHost, "UGH", "UGH"},
		{FlagUp | FlagReject, "!", "U!"},
		{FlagUp | FlagGateway | FlagReject | FlagHost, "!H", "U!GH"},
		{FlagUp | FlagDynamic | FlagModified, "UDM", "Um"},
		{FlagUp | FlagDefault | FlagAddrConf, "Udc", "UDA"},
		{FlagUp | FlagNoNextHop | FlagLocal, "Uol", "Un"},
		{FlagReject | FlagNoNextHop, "!o", "!n"},
		{FlagUp | FlagCache | FlagExpires, "Uec", "UCe"},
		{FlagUp | FlagReinstate | FlagMTU | FlagWindow | FlagIRTT | FlagNotCached, "URuwin", "U"},
		{FlagAllOnLink | FlagFlow | FlagPolicy, "afp", "af"},
	} {
		if got := tc.f.String(); got != tc.v4 {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint32(tc.f), got, tc.v4)
		}
		if got := tc.f.String6(); got != tc.v6 {
			t.Errorf("Flags(%#x).String6() = %q, want %q", uint32(tc.f), got, tc.v6)
		}
	}
	if !(FlagUp | FlagGateway).Has(FlagGateway) || FlagUp.Has(FlagUp|FlagGateway) {
		t.Error("Has is wrong")
	}
}

func TestMalformed(t *testing.T) {
	root := fixture.Root(t, "testdata/malformed.txtar")
	got, err := IPv4(root)
	wantRows := []Entry{
		{Dest: pfx("0.0.0.0/0"), Gateway: ip("192.0.2.1"), Flags: FlagUp | FlagGateway, Iface: "eth0"},
		{Dest: pfx("192.0.2.0/24"), Gateway: ip("0.0.0.0"), Flags: FlagUp, Iface: "eth0"},
	}
	if d := cmp.Diff(wantRows, got, cmpAddr, cmpPrefix); d != "" {
		t.Errorf("IPv4 rows (-want +got):\n%s", d)
	}
	wantErrs := []string{
		"proc/net/route:3: wrong number of fields",
		"proc/net/route:4: destination: invalid syntax",
		"proc/net/route:5: mask: non-contiguous netmask",
		"proc/net/route:6: metric: invalid syntax",
		"proc/net/route:7: metric: value out of range",
		"proc/net/route:8: flags: invalid syntax",
	}
	checkErrs(t, err, wantErrs)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || !errors.Is(err, ErrMask) {
		t.Errorf("errors.As/Is on %v: got %+v", err, pe)
	}

	got, err = IPv6(root)
	if len(got) != 2 || got[0].Dest != pfx("fd00::/64") || got[1].Dest != pfx("ff00::/8") {
		t.Errorf("IPv6 rows: %v", got)
	}
	checkErrs(t, err, []string{
		"proc/net/ipv6_route:2: destination: invalid syntax",
		"proc/net/ipv6_route:3: destination prefix length: value out of range",
		"proc/net/ipv6_route:4: wrong number of fields",
		"proc/net/ipv6_route:5: metric: invalid syntax",
		"proc/net/ipv6_route:6: wrong number of fields",
	})
}

func checkErrs(t *testing.T, err error, want []string) {
	t.Helper()
	var got []string
	if err != nil {
		got = strings.Split(err.Error(), "\n")
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
}

func TestMissingAndPID(t *testing.T) {
	root := fixture.Root(t, "testdata/noipv6.txtar")
	r := Reader{Root: root, PID: 42}
	got, err := r.IPv6()
	if err != nil || got != nil {
		t.Errorf("IPv6 without the table = %v, %v; want nil, nil", got, err)
	}
	got, err = r.IPv4()
	if err != nil || len(got) != 1 || got[0].Gateway != ip("192.0.2.1") {
		t.Errorf("IPv4 of PID 42 = %v, %v", got, err)
	}
	got, err = IPv4(root) // proc/net/route is missing: not an error
	if err != nil || got != nil {
		t.Errorf("IPv4 without the table = %v, %v; want nil, nil", got, err)
	}
}

func TestUnreadable(t *testing.T) {
	root := fixture.Root(t, "testdata/unreadable.txtar")
	if _, err := IPv4(root); err == nil || err.Error() != "open proc/net/route: permission denied" {
		if !isRoot() {
			t.Errorf("IPv4 of an unreadable table: err = %v", err)
		}
	}
}

func TestAllocs(t *testing.T) {
	root := fixture.Root(t, "testdata/routes.txtar")
	var r Reader
	r.Root = root
	dst, _ := r.AppendIPv4(nil)
	dst6, _ := r.AppendIPv6(nil)
	n := testing.AllocsPerRun(20, func() {
		dst, _ = r.AppendIPv4(dst[:0])
		dst6, _ = r.AppendIPv6(dst6[:0])
	})
	// Opening the two files (os.File, path strings) allocates; rows do not.
	t.Logf("%v allocations per read of both tables", n)
	if n > 12 {
		t.Errorf("%v allocations per read of both tables; rows should not allocate", n)
	}
}

func TestGenmask(t *testing.T) {
	for p, want := range map[string]string{
		"0.0.0.0/0": "0.0.0.0", "10.0.0.0/8": "255.0.0.0", "192.0.2.128/25": "255.255.255.128",
		"192.0.2.7/32": "255.255.255.255", "fd00::/64": "ffff:ffff:ffff:ffff::", "::/0": "::",
		"::1/128": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::/10": "ffc0::",
	} {
		if got := (Entry{Dest: pfx(p)}).Genmask().String(); got != want {
			t.Errorf("Genmask of %s = %s, want %s", p, got, want)
		}
	}
}
