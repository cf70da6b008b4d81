package iface

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
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

// TestLiveSys checks that every interface has its sysfs entry on the live
// system and that the counters of lo only grow between two reads.
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
		if !ifc.HasLink {
			t.Errorf("%s: no sysfs entry", ifc.Name)
		}
		b, _ := os.ReadFile("/sys/class/net/" + ifc.Name + "/mtu")
		if strings.TrimSpace(string(b)) != strconv.Itoa(ifc.MTU) {
			t.Errorf("%s: MTU %d, sysfs says %q", ifc.Name, ifc.MTU, b)
		}
	}
	for _, e := range ents {
		if _, err := os.Stat("/sys/class/net/" + e.Name() + "/flags"); err == nil {
			sys = append(sys, e.Name())
		}
	}
	slices.Sort(names)
	if d := cmp.Diff(sys, names); d != "" {
		t.Errorf("interfaces differ from /sys/class/net (-sys +ours):\n%s", d)
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
