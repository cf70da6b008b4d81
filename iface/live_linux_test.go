package iface

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLiveNetstat compares names, MTU and flag letters with net-tools
// `netstat -ia` (counters move between two reads, so they are left out).
func TestLiveNetstat(t *testing.T) {
	if _, err := os.Stat("/proc/net/dev"); err != nil {
		t.Skip("no /proc/net/dev")
	}
	if _, err := exec.LookPath("netstat"); err != nil {
		t.Skip("net-tools netstat is not installed")
	}
	for _, all := range []bool{false, true} {
		args := []string{"-i"}
		if all {
			args = []string{"-ia"}
		}
		out, err := exec.Command("netstat", args...).Output()
		if err != nil {
			t.Skipf("netstat %v: %v", args, err)
		}
		var want []string
		for _, l := range strings.Split(string(out), "\n")[2:] {
			f := strings.Fields(l)
			if len(f) < 11 {
				continue
			}
			want = append(want, f[0]+" "+f[1]+" "+f[10])
		}
		got, err := Interfaces("")
		if err != nil {
			t.Fatal(err)
		}
		var have []string
		for _, ifc := range got {
			if !all && !ifc.Flags.Has(FlagUp) {
				continue
			}
			name := ifc.Name
			if len(name) > 15 {
				name = name[:15]
			}
			have = append(have, name+" "+strconv.Itoa(ifc.MTU)+" "+ifc.Flags.String())
		}
		slices.Sort(have) // netstat sorts by name; this file is in kernel order
		slices.Sort(want)
		if d := cmp.Diff(want, have); d != "" {
			t.Errorf("netstat %v differs (-netstat +ours):\n%s", args, d)
		}
	}
}

// TestLiveSys checks, where /sys is our namespace's, that every interface
// has its link attributes and the MTU sysfs shows, and that the counters
// only grow between two reads.
func TestLiveSys(t *testing.T) {
	if _, err := os.Stat("/sys/class/net"); err != nil {
		t.Skip("no /sys/class/net")
	}
	var r Reader
	s1, err := r.Sample()
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	var names, sys []string
	for _, ifc := range s1.Interfaces {
		names = append(names, ifc.Name)
	}
	for _, e := range ents {
		if _, err := os.Stat("/sys/class/net/" + e.Name() + "/flags"); err == nil {
			sys = append(sys, e.Name())
		}
	}
	slices.Sort(names)
	if !slices.Equal(sys, names) {
		// unshare -n without remounting /sys: TestLiveNetns's case.
		t.Skipf("/sys/class/net (%v) shows another network namespace than ours (%v)", sys, names)
	}
	// Here sysfs is our namespace's: rtnetlink's links agree with it.
	for _, ifc := range s1.Interfaces {
		if !ifc.HasLink {
			t.Errorf("%s: no link attributes", ifc.Name)
		}
		b, _ := os.ReadFile("/sys/class/net/" + ifc.Name + "/mtu")
		if strings.TrimSpace(string(b)) != strconv.Itoa(ifc.MTU) {
			t.Errorf("%s: MTU %d, sysfs says %q", ifc.Name, ifc.MTU, b)
		}
	}
	s2, err := r.Sample()
	if err != nil {
		t.Fatal(err)
	}
	for _, rate := range Rates(s1, s2) {
		if rate.RxBytes < 0 || rate.Interval <= 0 {
			t.Errorf("rate %+v", rate)
		}
	}
}

// netnsEnv marks the re-executed test binary that TestLiveNetns runs
// inside `unshare --net`.
const netnsEnv = "PROCNET_TEST_IFACE_LIB_NETNS"

// TestLiveNetns reads a private network namespace whose /sys is still the
// host's (unshare --net without a remount): Interfaces, Links and Addrs
// must show the namespace's lo at MTU 16436 and a veth's addresses with
// their label, peer, broadcast and flags, whatever sysfs says.
func TestLiveNetns(t *testing.T) {
	if os.Getenv(netnsEnv) == "1" {
		liveNetnsChild(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --net")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
	cmd := exec.Command("unshare", "--net", os.Args[0], "-test.run=^TestLiveNetns$", "-test.v")
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "SKIP-NETNS:") {
			t.Skipf("cannot set up the namespace:\n%s", out)
		}
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "checked the namespace") {
		t.Fatalf("the child did not check:\n%s", out)
	}
}

func liveNetnsChild(t *testing.T) {
	for _, c := range []string{
		"link set lo mtu 16436 up",
		"link add v0 type veth peer name v1",
		"link set v0 mtu 1400 txqueuelen 77 address 02:00:00:00:00:05 up",
		"addr add 192.0.2.7/32 dev v0",
		"addr add 198.51.100.1/24 brd + dev v0",
		"addr add 198.51.100.2/24 dev v0",
		"addr add 10.9.0.1 peer 10.9.0.2/32 dev v0 label v0:p",
		"addr add 2001:db8::7/64 dev v0 nodad",
	} {
		if out, err := exec.Command("ip", strings.Fields(c)...).CombinedOutput(); err != nil {
			fmt.Printf("SKIP-NETNS: ip %s: %v %s\n", c, err, out)
			t.Fatalf("ip %s: %v", c, err)
		}
	}
	var r Reader
	ifs, err := r.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ifc := range ifs {
		got = append(got, fmt.Sprintf("%s %d %s %v", ifc.Name, ifc.MTU, ifc.Flags, ifc.HasLink))
	}
	slices.Sort(got)
	if d := cmp.Diff([]string{"lo 16436 LRU true", "v0 1400 BMU true", "v1 1500 BM true"}, got); d != "" {
		t.Errorf("Interfaces (-want +got):\n%s", d)
	}
	links, err := r.Links()
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, l := range links {
		if l.Name == "v1" {
			continue // a random address
		}
		got = append(got, fmt.Sprintf("%s %d %s %s %s %d", l.Name, l.MTU, l.Type, l.HardwareAddr, l.Broadcast, l.TxQueueLen))
	}
	if d := cmp.Diff([]string{"lo 16436 loopback 00:00:00:00:00:00 00:00:00:00:00:00 1000",
		"v0 1400 ether 02:00:00:00:00:05 ff:ff:ff:ff:ff:ff 77"}, got); d != "" {
		t.Errorf("Links (-want +got):\n%s", d)
	}
	addrs, err := r.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, a := range addrs {
		got = append(got, fmt.Sprintf("%s %s %s peer=%v brd=%v %s [%s]", a.Iface, a.Label, a.Prefix, a.Peer, a.Broadcast, a.Scope, a.Flags))
	}
	want := []string{
		"lo lo 127.0.0.1/8 peer=invalid IP brd=invalid IP host [permanent]",
		"v0 v0 192.0.2.7/32 peer=invalid IP brd=invalid IP global [permanent]",
		"v0 v0 198.51.100.1/24 peer=invalid IP brd=198.51.100.255 global [permanent]",
		"v0 v0:p 10.9.0.1/32 peer=10.9.0.2 brd=invalid IP global [permanent]",
		"v0 v0 198.51.100.2/24 peer=invalid IP brd=invalid IP global [secondary permanent]",
		"lo lo ::1/128 peer=invalid IP brd=invalid IP host [permanent]",
		"v0 v0 2001:db8::7/64 peer=invalid IP brd=invalid IP global [nodad permanent]",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Addrs (-want +got):\n%s", d)
	}
	fmt.Println("checked the namespace")
}

// TestLiveNoRtnetlink: where no rtnetlink socket can be had (a sandbox),
// the live system is read from its files, as a root is, without an error.
func TestLiveNoRtnetlink(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skip("no /sys/class/net/lo")
	}
	oldL, oldA := dumpLinksFunc, dumpAddrsFunc
	t.Cleanup(func() { dumpLinksFunc, dumpAddrsFunc = oldL, oldA })
	denied := &NetlinkError{Op: "RTM_GETLINK", Err: syscall.EAFNOSUPPORT}
	dumpLinksFunc = func() ([]Link, error) { return nil, denied }
	dumpAddrsFunc = func() ([]Addr, error) { return nil, denied }
	var r Reader
	ifs, err := r.Interfaces()
	if err != nil || len(ifs) == 0 || !slices.ContainsFunc(ifs, func(i Interface) bool { return i.Name == "lo" && i.HasLink && i.MTU > 0 }) {
		t.Errorf("Interfaces = %+v, %v; want lo from sysfs", ifs, err)
	}
	links, err := r.Links()
	if err != nil || !slices.ContainsFunc(links, func(l Link) bool { return l.Name == "lo" && l.Type == HWLoopback }) {
		t.Errorf("Links = %+v, %v; want lo from sysfs", links, err)
	}
	addrs, err := r.Addrs()
	if err != nil || !slices.ContainsFunc(addrs, func(a Addr) bool { return a.Prefix.String() == "127.0.0.1/8" && a.Iface == "lo" }) {
		t.Errorf("Addrs = %+v, %v; want 127.0.0.1/8 on lo from fib_trie", addrs, err)
	}
}
