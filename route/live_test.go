package route

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// netstatRows renders entries the way `netstat -rn` (net-tools 2.10)
// prints the columns that do not change between two reads: destination,
// gateway, genmask, flags and interface (reject routes print "-").
func netstatRows4(es []Entry) []string {
	var rows []string
	for _, e := range es {
		if !e.Flags.Has(FlagUp) {
			continue // netstat skips them
		}
		gw, iface := e.Gateway.String(), e.Iface
		if iface == "" {
			iface = "*"
		}
		if e.Flags.Has(FlagReject) {
			gw, iface = "-", "-"
		}
		mask := netipMask(e.Dest.Bits())
		rows = append(rows, strings.Join([]string{e.Dest.Addr().String(), gw, mask, e.FlagString(), iface}, " "))
	}
	return rows
}

func netipMask(bits int) string {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return strconv.Itoa(int(m>>24)) + "." + strconv.Itoa(int(m>>16&0xff)) + "." + strconv.Itoa(int(m>>8&0xff)) + "." + strconv.Itoa(int(m&0xff))
}

func netstatRows6(es []Entry) []string {
	var rows []string
	for _, e := range es {
		if e.Flags.Has(FlagCache) {
			continue // netstat lists cached routes only with -C
		}
		f := []string{e.Dest.String(), e.Gateway.String(), e.FlagString(), strconv.Itoa(int(int32(e.Metric)))}
		if e.Iface != "" {
			f = append(f, e.Iface)
		}
		rows = append(rows, strings.Join(f, " "))
	}
	return rows
}

// parseNetstat4 keeps columns 1-4 and 8 of `netstat -rn` rows.
func parseNetstat4(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n")[2:] {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		rows = append(rows, strings.Join([]string{f[0], f[1], f[2], f[3], f[7]}, " "))
	}
	return rows
}

// parseNetstat6 keeps destination, next hop, flags, metric and interface
// of `netstat -rn -6` rows (the Ref column changes between reads).
func parseNetstat6(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n")[2:] {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		r := []string{f[0], f[1], f[2], f[3]}
		if len(f) > 6 {
			r = append(r, f[6])
		}
		rows = append(rows, strings.Join(r, " "))
	}
	return rows
}

func netstat(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("netstat"); err != nil {
		t.Skip("net-tools netstat is not installed")
	}
	out, err := exec.Command("netstat", args...).Output()
	if err != nil {
		t.Skipf("netstat %v: %v", args, err)
	}
	return string(out)
}

func TestLiveNetstat(t *testing.T) {
	if _, err := os.Stat("/proc/net/route"); err != nil {
		t.Skip("no /proc/net/route")
	}
	// Routes rarely change within a test; read ours between two netstat
	// runs and accept either.
	out := netstat(t, "-rn")
	got, err := IPv4("")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(parseNetstat4(out), netstatRows4(got)); d != "" {
		t.Errorf("IPv4 routes differ from netstat -rn (-netstat +ours):\n%s", d)
	}
	if _, err := os.Stat("/proc/net/ipv6_route"); err != nil {
		return
	}
	out = netstat(t, "-rn", "-6")
	got, err = IPv6("/")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(parseNetstat6(out), netstatRows6(got)); d != "" {
		t.Errorf("IPv6 routes differ from netstat -rn -6 (-netstat +ours):\n%s", d)
	}
}

// TestLiveIPRoute compares (destination, gateway, device) with iproute2,
// which reads the table over netlink rather than /proc.
func TestLiveIPRoute(t *testing.T) {
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("iproute2 ip is not installed")
	}
	out, err := exec.Command("ip", "-4", "route", "show", "table", "main").Output()
	if err != nil {
		t.Skipf("ip route: %v", err)
	}
	var want []string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ") {
			continue // blank, or a multipath nexthop line
		}
		dest, typ := f[0], "unicast"
		switch dest {
		case "unreachable", "prohibit", "blackhole", "throw", "unicast", "local", "broadcast", "multicast", "nat", "anycast":
			typ, f = dest, f[1:]
			dest = f[0]
		}
		if typ == "throw" || typ == "broadcast" || typ == "multicast" || typ == "local" {
			continue // not in /proc/net/route
		}
		if dest == "default" {
			dest = "0.0.0.0/0"
		} else if !strings.Contains(dest, "/") {
			dest += "/32"
		}
		gw, dev := "0.0.0.0", "*"
		for i := 1; i+1 < len(f); i++ {
			switch f[i] {
			case "via":
				gw = f[i+1]
			case "dev":
				dev = f[i+1]
			}
		}
		want = append(want, dest+" "+gw+" "+dev)
	}
	got, err := IPv4("/")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range got {
		dev := e.Iface
		if dev == "" {
			dev = "*"
		}
		have = append(have, e.Dest.String()+" "+e.Gateway.String()+" "+dev)
	}
	slices.Sort(want)
	slices.Sort(have)
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("IPv4 routes differ from ip -4 route show table main (-ip +ours):\n%s", d)
	}
}

// TestNamespaceFlags builds reject, host, metric, MSS and expiring routes
// in a private network namespace (unshare -n: no traffic leaves it, and
// it vanishes with the shell) and checks every row and flag string
// against net-tools reading the same tables. It needs root; otherwise it
// skips.
func TestNamespaceFlags(t *testing.T) {
	for _, tool := range []string{"unshare", "ip", "netstat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	if testing.Short() {
		t.Skip("-short")
	}
	script := `set -e
ip link set lo up
ip link add pn0 type veth peer name pn1
ip link set pn0 addrgenmode none; ip link set pn1 addrgenmode none
ip link set pn0 up; ip link set pn1 up
ip addr add 10.1.0.1/24 dev pn0
ip route add default via 10.1.0.254
ip route add 10.9.9.9/32 via 10.1.0.254
ip route add 10.5.0.0/16 dev pn0 advmss 1400 window 5000 rtt 30ms
ip route add 10.4.0.0/16 dev pn0 metric 4294967295
ip route add unreachable 10.7.0.0/16
ip route add prohibit 10.8.0.1
ip route add blackhole 10.6.0.0/16
ip -6 addr add 2001:db8::1/64 dev pn0 nodad
ip -6 route add 2001:db8:1::/48 via 2001:db8::fe
ip -6 route add 2001:db8:3::1/128 dev pn0
ip -6 route add 2001:db8:6::/48 from 2001:db8::/64 via 2001:db8::fe
ip -6 route add 2001:db8:7::/48 via 2001:db8::fe expires 300
ip -6 route add unreachable 2001:db8:2::/48
ip -6 route add prohibit 2001:db8:5::/48
sleep 0.3 # address routes appear asynchronously
cat /proc/net/route > "$D/proc/net/route"
cat /proc/net/ipv6_route > "$D/proc/net/ipv6_route"
netstat -rn > "$D/netstat4"
netstat -rn -6 > "$D/netstat6"
`
	d := t.TempDir()
	if err := os.MkdirAll(filepath.Join(d, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "-n", "sh", "-c", script)
	cmd.Env = append(os.Environ(), "D="+d)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build a network namespace (needs root, veth): %v\n%s", err, out)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(d, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	got, err := IPv4(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 8 {
		t.Errorf("only %d IPv4 routes: %v", len(got), got)
	}
	if diff := cmp.Diff(parseNetstat4(read("netstat4")), netstatRows4(got)); diff != "" {
		t.Errorf("IPv4 routes differ from netstat -rn (-netstat +ours):\n%s", diff)
	}
	for _, e := range got {
		if e.Dest == pfx("10.4.0.0/16") && e.Metric != 0xffffffff {
			t.Errorf("metric printed as -1 read as %d", e.Metric)
		}
		if e.Dest == pfx("10.5.0.0/16") && (e.MTU != 1440 || e.Window != 5000 || e.IRTT != 30) {
			t.Errorf("MSS/window/irtt: %+v", e)
		}
	}
	got, err = IPv6(d)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(parseNetstat6(read("netstat6")), netstatRows6(got)); diff != "" {
		t.Errorf("IPv6 routes differ from netstat -rn -6 (-netstat +ours):\n%s", diff)
	}
}
