package main

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/iface"
	fixture "github.com/procnet/procnet/procnettest"
)

func TestIfaceGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/iface.txtar")
	runGoldens(t, root, "iface", []modeCase{
		{"i", []string{"-i"}, nil},
		{"ia", []string{"-ia"}, nil},
		{"json", []string{"-ia", "--json"}, nil},
		{"csv", []string{"-ia", "--csv"}, nil},
	})
}

// TestIfaceLongGolden: -ie, -ei, -i -e and -iee are net-tools' long
// listing (its flag_exp of 2 or more); TestIfaceLongLive checks the
// layout against net-tools itself.
func TestIfaceLongGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/iface_long.txtar")
	runGoldens(t, root, "iface", []modeCase{
		{"long-ie", []string{"-ie"}, nil},
		{"long-iea", []string{"-iea"}, nil},
		{"long-ie-split", []string{"-i", "-e", "-a"}, nil},
	})
	a, _ := os.ReadFile("testdata/iface/long-iea.stdout")
	b, _ := os.ReadFile("testdata/iface/long-ie-split.stdout")
	if string(a) != string(b) {
		t.Errorf("-i -e -a differs from -iea")
	}
}

// TestIfaceRate replaces the clock and the pause between samples: the
// pause rewrites proc/net/dev with grown counters, one reset (eth2) and
// one vanished interface (tun0).
func TestIfaceRate(t *testing.T) {
	for _, tc := range []struct{ name, args string }{
		{"rate", "-i --rate"},
		{"rate-json", "-ia --rate --json -c 2"},
		{"rate-csv", "-ia --rate --csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture.Root(t, "testdata/iface.txtar")
			clock := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			oldNow, oldSleep := now, sleep
			t.Cleanup(func() { now, sleep = oldNow, oldSleep })
			now = func() time.Time { return clock }
			rounds := 0
			sleep = func(d time.Duration) {
				rounds++
				if rounds > 1 {
					// -c: stop the endless loop after one round.
					panic(stopLoop{})
				}
				clock = clock.Add(d)
				dev := "Inter-|   Receive                                                |  Transmit\n" +
					" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
					"    lo:    5193      49    0    0    0     0          0         0     5193      49    0    0    0     0       0          0\n" +
					"  eth0:158726390  912300    1    5    3     4          5         6   297735    1008    7    8    9    10      11         12\n" +
					"eth0:1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
					" eth10:    1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0\n" +
					"  eth2:     100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0\n" +
					"  ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n" +
					"verylongname12345:  1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
				if err := os.WriteFile(filepath.Join(root, "proc/net/dev"), []byte(dev), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out string
			func() {
				defer func() {
					if r := recover(); r != nil {
						if _, ok := r.(stopLoop); !ok {
							panic(r)
						}
					}
				}()
				var errs string
				var code int
				out, errs, code = runModeCapture(t, &out, append([]string{"--root", root}, strings.Fields(tc.args)...)...)
				if code != 0 || errs != "" {
					t.Errorf("exit %d, stderr %q", code, errs)
				}
			}()
			fixture.Golden(t, filepath.Join("testdata/iface", tc.name+".stdout"), []byte(out))
		})
	}
}

type stopLoop struct{}

// runModeCapture is runMode that keeps what was written in *out even when
// the run is stopped by a panic.
func runModeCapture(t *testing.T, out *string, args ...string) (string, string, int) {
	t.Helper()
	var o, e strings.Builder
	defer func() { *out = o.String() }()
	code := exitCode(runWith(args, &o, &e, namesResolver{t: t, refuse: true}), &e)
	return o.String(), e.String(), code
}

func TestIfaceRateNeedsI(t *testing.T) {
	_, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--rate")
	if code != 2 || !strings.Contains(errs, "--rate") {
		t.Errorf("--rate alone: exit %d, stderr %q", code, errs)
	}
}

// TestIfaceLive compares the live table with net-tools' on what does not
// move between two runs: names, MTU and flags, row by row.
func TestIfaceLive(t *testing.T) {
	nt := netTools(t)
	for _, args := range [][]string{{"-i"}, {"-ia"}} {
		want, err := exec.Command(nt, args...).Output()
		if err != nil {
			t.Fatalf("netstat %v: %v", args, err)
		}
		got, errs, code := runMode(t, namesResolver{t: t, refuse: true}, args...)
		if code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		if d := cmp.Diff(stableIfaceColumns(string(want)), stableIfaceColumns(got)); d != "" {
			t.Errorf("%v differs from net-tools (-net-tools +ours):\n%s", args, d)
		}
		if d := cmp.Diff(maskDigits(string(want)), maskDigits(got)); d != "" {
			t.Logf("%v with digits masked (-net-tools +ours; column drift from counters is possible):\n%s", args, d)
		}
	}
}

// stableIfaceColumns keeps the headers whole and, of each row, the name,
// MTU and flags.
func stableIfaceColumns(s string) []string {
	var out []string
	for i, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		f := strings.Fields(line)
		if i < 2 || len(f) < 3 {
			out = append(out, line)
			continue
		}
		out = append(out, f[0]+" "+f[1]+" "+f[len(f)-1])
	}
	return out
}

// TestIfaceLongLive compares -ie and friends with net-tools in a private
// network and mount namespace (sysfs mounted again, so that it shows the
// namespace's interfaces): lo, a veth whose peer is down (IPv4 with a
// broadcast, IPv6), the peer without addresses, a tun (point-to-point,
// ARPHRD_NONE) and a bridge that is down. Only loopback and the test's
// own devices: nothing leaves the namespace.
func TestIfaceLongLive(t *testing.T) {
	nt := netTools(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	dir := t.TempDir()
	ours := filepath.Join(dir, "netstat-ours")
	if out, err := exec.Command("go", "build", "-o", ours, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cases := []string{"-ie", "-iea", "-ei", "-i -e", "-iee", "-ie -n"}
	var script strings.Builder
	script.WriteString(`set -e
mount -t sysfs sysfs /sys
ip link set lo up
ip link add v0 type veth peer name v1
ip link set v0 up
ip addr add 192.0.2.5/24 brd + dev v0
ip addr add 2001:db8::5/64 dev v0 nodad
ip tuntap add tun0 mode tun 2>/dev/null && ip link set tun0 up && ip addr add 10.8.0.1/24 dev tun0 || true
ip link add br0 type bridge 2>/dev/null || true
sleep 0.3
`)
	for i, c := range cases {
		fmt.Fprintf(&script, "%s %s > %s/nt.%d 2>&1 || true\n", nt, c, dir, i)
		fmt.Fprintf(&script, "%s %s > %s/ours.%d 2>&1 || true\n", ours, c, dir, i)
		fmt.Fprintf(&script, "%s %s > %s/nt2.%d 2>&1 || true\n", nt, c, dir, i)
	}
	cmd := exec.Command("unshare", "-n", "-m", "sh", "-c", script.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot set up a namespace: %v\n%s", err, out)
	}
	for i, c := range cases {
		want, _ := os.ReadFile(fmt.Sprintf("%s/nt.%d", dir, i))
		want2, _ := os.ReadFile(fmt.Sprintf("%s/nt2.%d", dir, i))
		got, _ := os.ReadFile(fmt.Sprintf("%s/ours.%d", dir, i))
		if !strings.Contains(string(want), "inet 192.0.2.5  netmask 255.255.255.0  broadcast 192.0.2.255") {
			t.Errorf("netstat %s: net-tools printed too little to prove anything:\n%s", c, want)
		}
		if string(got) == string(want) || string(got) == string(want2) {
			continue
		}
		if string(want) != string(want2) && maskDigits(string(got)) == maskDigits(string(want)) {
			continue // counters moved between the runs
		}
		t.Errorf("netstat %s differs from net-tools (- net-tools, + ours):\n%s", c, fixture.Diff(want, got))
	}
}

// TestIfaceLongMalformed: bad rows of fib_trie and if_inet6 are reported
// with file and line, and the rows around them still count.
func TestIfaceLongMalformed(t *testing.T) {
	root := fixture.Root(t, "testdata/iface_long.txtar")
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/net/fib_trie", "Local:\n"+
		"  +-- 0.0.0.0/0 3 0 5\n"+
		"     |-- 192.0.2.7\n"+
		"        /32 host LOCAL\n"+
		"     |-- 999.0.2.8\n"+ // line 5: not an address
		"        /32 host LOCAL\n"+ // line 6: an alias of no leaf
		"     |-- 10.8.0.1\n"+
		"        /33 host LOCAL\n"+ // line 8: prefix out of range
		"        garbage\n"+ // line 9
		"     |-- 127.0.0.0\n"+
		"        /8 host LOCAL\n"+
		"     |-- 127.0.0.1\n"+
		"        /32 host LOCAL\n")
	write("proc/net/if_inet6", "00000000000000000000000000000001 01 80 10 80       lo\n"+
		"zz0db8000000000000000000000000007 02 40 00 80     eth0\n"+ // line 2
		"20010db8000000000000000000000007 02 40 00\n"+ // line 3
		"20010db8000000000000000000000007 02 ff 00 80     eth0\n"+ // line 4: prefix 255
		"20010db8000000000000000000000008 02 40 00 80     eth0\n")
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-ie")
	if code != 0 {
		t.Errorf("exit %d, want 0 (bad rows are not a failure)", code)
	}
	for _, want := range []string{"proc/net/fib_trie:5:", "proc/net/fib_trie:6:", "proc/net/fib_trie:8:", "proc/net/fib_trie:9:",
		"proc/net/if_inet6:2:", "proc/net/if_inet6:3:", "proc/net/if_inet6:4:"} {
		if !strings.Contains(errs, "netstat: "+want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	for _, want := range []string{"inet 192.0.2.7  netmask 255.255.255.0", "inet 127.0.0.1  netmask 255.0.0.0",
		"inet6 ::1  prefixlen 128", "inet6 2001:db8::8  prefixlen 64"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(out, "10.8.0.1") {
		t.Errorf("an address from a bad alias line was shown:\n%s", out)
	}
}

// TestIfaceTitleOnce: under -c net-tools prints "Kernel Interface table"
// once, then each round's table (the column header every round for -i).
func TestIfaceTitleOnce(t *testing.T) {
	root := fixture.Root(t, "testdata/iface_long.txtar")
	for _, args := range []string{"-i -c", "-ie -c"} {
		oldSleep := sleep
		rounds := 0
		sleep = func(time.Duration) {
			if rounds++; rounds == 2 {
				panic(stopLoop{})
			}
		}
		var out string
		func() {
			defer func() {
				if r := recover(); r != nil {
					if _, ok := r.(stopLoop); !ok {
						panic(r)
					}
				}
			}()
			runModeCapture(t, &out, append([]string{"--root", root}, strings.Fields(args)...)...)
		}()
		sleep = oldSleep
		if n := strings.Count(out, "Kernel Interface table"); n != 1 {
			t.Errorf("%s: the title %d times in 2 rounds", args, n)
		}
		if n := strings.Count(out, "\nlo"); n != 2 {
			t.Errorf("%s: lo %d times in 2 rounds", args, n)
		}
	}
}

// netnsEnv marks the re-executed test binary that TestIfaceNetnsLive runs
// inside `unshare --net`.
const netnsEnv = "PROCNET_TEST_IFACE_NETNS"

// TestIfaceNetnsLive compares -i, -ia, -ie and -iea with net-tools, byte
// for byte, inside a private network namespace whose /sys is still the
// host's (unshare --net, no remount: how people debug a container with
// nsenter -n). There sysfs lists the host's interfaces, so MTU and flags
// must come from the namespace itself (rtnetlink): lo is set to MTU 16436.
// A veth holds a /32 first (the address net-tools shows, which no subnet
// route holds), a /24 with brd, a secondary, a peer address labelled
// v0:p (an alias row without statistics) and two IPv6 addresses; a tun
// (where the kernel has it) holds a peer address (its destination). The
// namespace dies with the re-executed test binary.
func TestIfaceNetnsLive(t *testing.T) {
	if os.Getenv(netnsEnv) == "1" {
		ifaceNetnsChild(t)
		return
	}
	netTools(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --net")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	cmd := exec.Command("unshare", "--net", os.Args[0], "-test.run=^TestIfaceNetnsLive$", "-test.v")
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("SKIP-NETNS:")) {
			t.Skipf("cannot set up the namespace:\n%s", out)
		}
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("compared 4 listings")) {
		t.Fatalf("the child did not compare:\n%s", out)
	}
}

func ifaceNetnsChild(t *testing.T) {
	nt := netTools(t)
	for _, c := range []string{
		"link set lo mtu 16436 up",
		"link add v0 type veth peer name v1",
		"link set v0 up",
		"addr add 192.0.2.7/32 dev v0",
		"addr add 198.51.100.1/24 brd + dev v0",
		"addr add 198.51.100.2/24 dev v0",
		"addr add 10.9.0.1 peer 10.9.0.2/32 dev v0 label v0:p",
		"addr add 2001:db8::7/64 dev v0 nodad",
		"addr add 2001:db8::8/64 dev v0 nodad",
	} {
		if out, err := exec.Command("ip", strings.Fields(c)...).CombinedOutput(); err != nil {
			fmt.Printf("SKIP-NETNS: ip %s: %v %s\n", c, err, out)
			t.Fatalf("ip %s: %v", c, err)
		}
	}
	// A point-to-point tun with a peer (destination): where tun exists.
	if exec.Command("ip", "tuntap", "add", "tun0", "mode", "tun").Run() == nil {
		for _, c := range []string{"link set tun0 up", "addr add 10.8.0.1 peer 10.8.0.2/32 dev tun0"} {
			if out, err := exec.Command("ip", strings.Fields(c)...).CombinedOutput(); err != nil {
				t.Fatalf("ip %s: %v %s", c, err, out)
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // let the veth's first packets settle
	n := 0
	for _, args := range [][]string{{"-i"}, {"-ia"}, {"-ie"}, {"-iea"}} {
		want, err := exec.Command(nt, args...).Output()
		if err != nil {
			t.Fatalf("netstat %v: %v", args, err)
		}
		got, errs, code := runMode(t, namesResolver{t: t, refuse: true}, args...)
		if code != 0 || errs != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
		want2, _ := exec.Command(nt, args...).Output()
		for _, s := range []string{"lo              16436", "lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 16436", "v0:p "} {
			if strings.HasPrefix(args[0], "-ie") == strings.Contains(s, "flags=") && !bytes.Contains(want, []byte(s)) {
				t.Errorf("netstat %v: net-tools lacks %q, the namespace is not as set up:\n%s", args, s, want)
			}
		}
		if got != string(want) && got != string(want2) {
			t.Errorf("netstat %v differs from net-tools (- net-tools, + ours):\n%s", args, fixture.Diff(want, []byte(got)))
		}
		n++
	}
	// A capture taken here records the namespace's links, not the host's
	// sysfs: its replay shows the same names, MTUs and flags (the alias
	// row needs the address labels a capture cannot hold).
	dir := filepath.Join(t.TempDir(), "capture")
	if _, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--capture", dir, "-ia"); code != 0 {
		t.Fatalf("--capture: exit %d, stderr %q", code, errs)
	}
	replay, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", dir, "-ia")
	want, _ := exec.Command(nt, "-ia").Output()
	var noAlias []string
	for _, l := range stableIfaceColumns(string(want)) {
		if !strings.HasPrefix(l, "v0:p ") {
			noAlias = append(noAlias, l)
		}
	}
	if code != 0 || errs != "" {
		t.Errorf("replay: exit %d, stderr %q", code, errs)
	}
	if d := cmp.Diff(noAlias, stableIfaceColumns(replay)); d != "" {
		t.Errorf("replay of a capture in the namespace (-net-tools +replay):\n%s", d)
	}
	fmt.Printf("compared %d listings\n", n)
}

// TestIfaceAliasRows: an address label that is not an interface is a row
// of its own with its parent's MTU and flags and no statistics, as
// net-tools 2.10 printed it for `ip addr add 10.9.0.1 peer 10.9.0.2/32 dev
// v0 label v0:p` (-i) and for -ie (no RX/TX lines).
func TestIfaceAliasRows(t *testing.T) {
	p := netip.MustParsePrefix
	flags := iface.FlagUp | iface.FlagBroadcast | iface.FlagMulticast
	link := &iface.Link{Name: "v0", Type: iface.HWEther,
		HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}, TxQueueLen: 500}
	list := []iface.Entry{
		{Interface: iface.Interface{Name: "v0", MTU: 1400, Flags: flags, HasLink: true, Counters: iface.Counters{TxDrop: 1}},
			Link: link, Inet: iface.Addr{Iface: "v0", Label: "v0", Prefix: p("192.0.2.7/32")}},
		{Interface: iface.Interface{Name: "v0:p", MTU: 1400, Flags: flags}, Alias: true, Link: link,
			Inet: iface.Addr{Iface: "v0", Label: "v0:p", Prefix: p("10.9.0.1/32"), Peer: netip.MustParseAddr("10.9.0.2")}},
	}
	got := string(appendIfTable(nil, list, true))
	want := "Kernel Interface table\n" + ifHeader +
		"v0               1400        0      0      0 0             0      0      1      0 BMU\n" +
		"v0:p             1400      - no statistics available -                        BMU\n"
	if got != want {
		t.Errorf("-i:\n%s", fixture.Diff([]byte(want), []byte(got)))
	}
	got = string(appendLong(nil, list, true))
	want = "Kernel Interface table\n" +
		"v0: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1400\n" +
		"        inet 192.0.2.7  netmask 255.255.255.255  broadcast 0.0.0.0\n" +
		"        ether 02:00:00:00:00:01  txqueuelen 500  (Ethernet)\n" +
		"        RX packets 0  bytes 0 (0.0 B)\n" +
		"        RX errors 0  dropped 0  overruns 0  frame 0\n" +
		"        TX packets 0  bytes 0 (0.0 B)\n" +
		"        TX errors 0  dropped 1 overruns 0  carrier 0  collisions 0\n" +
		"\n" +
		"v0:p: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1400\n" +
		"        inet 10.9.0.1  netmask 255.255.255.255  broadcast 0.0.0.0\n" +
		"        ether 02:00:00:00:00:01  txqueuelen 500  (Ethernet)\n" +
		"\n"
	if got != want {
		t.Errorf("-ie:\n%s", fixture.Diff([]byte(want), []byte(got)))
	}
}

// TestIfaceRateErrorOnce: --rate reads two samples before it prints; a
// bad row of proc/net/dev is reported once, and the rates of the good
// rows are printed.
func TestIfaceRateErrorOnce(t *testing.T) {
	root := fixture.Root(t, "testdata/iface.txtar")
	dev := filepath.Join(root, "proc/net/dev")
	b, err := os.ReadFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dev, append(b, "  bad0: 1 x\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	oldSleep := sleep
	t.Cleanup(func() { sleep = oldSleep })
	sleep = func(time.Duration) {}
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-i", "--rate")
	if code != 0 || strings.Count(errs, "proc/net/dev:11:") != 1 || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 0 and proc/net/dev:11 once", code, errs)
	}
	if !strings.Contains(out, "\neth0 ") {
		t.Errorf("no rate of eth0:\n%s", out)
	}
}

// TestIfaceUnreadableMidway: under -c, a proc/net/dev that cannot be
// read any more ends the listing with exit status 1, as it does in the
// first round, instead of printing an empty table.
func TestIfaceUnreadableMidway(t *testing.T) {
	root := fixture.Root(t, "testdata/iface.txtar")
	dev := filepath.Join(root, "proc/net/dev")
	oldSleep := sleep
	t.Cleanup(func() { sleep = oldSleep })
	rounds := 0
	sleep = func(time.Duration) {
		if rounds++; rounds > 1 {
			t.Fatal("a third round")
		}
		if err := os.Remove(dev); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dev, 0o755); err != nil { // opens, cannot be read
			t.Fatal(err)
		}
	}
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-i", "-c")
	if code != 1 || !strings.Contains(errs, "proc/net/dev") || strings.Count(out, ifHeader) != 1 {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
}
