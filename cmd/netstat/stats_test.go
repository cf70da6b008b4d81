package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

var statsArgs = [][]string{
	{"-s"}, {"-st"}, {"-su"}, {"-sw"}, {"-s", "-6"}, {"-st", "-6"}, {"-su", "-A", "inet6"},
}

func TestStatsGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/stats.txtar")
	var cases []modeCase
	for _, a := range statsArgs {
		cases = append(cases, modeCase{strings.TrimPrefix(strings.Join(a, ""), "-"), a, nil})
	}
	cases = append(cases, modeCase{"json", []string{"-s", "--json"}, nil},
		modeCase{"json-t6", []string{"-st6", "--json"}, nil},
		modeCase{"csv", []string{"-s", "--csv"}, nil},
		modeCase{"csv-u6", []string{"-su6", "--csv"}, nil})
	runGoldens(t, root, "stats", cases)
}

// TestStatsNetToolsOnFixture runs net-tools itself on the fixture.
func TestStatsNetToolsOnFixture(t *testing.T) {
	root := fixture.Root(t, "testdata/stats.txtar")
	for _, args := range statsArgs {
		want := netToolsOn(t, root, args...)
		got, errs, code := runMode(t, namesResolver{t: t, refuse: true}, append([]string{"--root", root}, args...)...)
		if code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		if d := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); d != "" {
			t.Errorf("%v differs from net-tools (-net-tools +ours):\n%s", args, d)
		}
	}
}

func TestStatsNoUnix(t *testing.T) {
	root := fixture.Root(t, "testdata/stats.txtar")
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-sx")
	if code != 1 || out != "" || !strings.Contains(errs, "unix") {
		t.Errorf("-sx: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestStatsLive compares with net-tools on the live counters, digits
// masked. A counter that leaves zero between the two runs adds a line, so
// net-tools runs before and after ours and either may match.
func TestStatsLive(t *testing.T) {
	nt := netTools(t)
	for _, args := range statsArgs {
		var diff string
		for try := 0; try < 3; try++ {
			before, err := exec.Command(nt, args...).Output()
			if err != nil {
				t.Fatalf("netstat %v: %v", args, err)
			}
			got, errs, code := runMode(t, namesResolver{t: t, refuse: true}, args...)
			if code != 0 || errs != "" {
				t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
			}
			after, _ := exec.Command(nt, args...).Output()
			g := strings.Split(maskDigits(got), "\n")
			diff = cmp.Diff(strings.Split(maskDigits(string(before)), "\n"), g)
			if diff == "" || cmp.Equal(strings.Split(maskDigits(string(after)), "\n"), g) {
				diff = ""
				break
			}
		}
		if diff != "" {
			t.Errorf("%v differs from net-tools (-net-tools +ours):\n%s", args, diff)
		}
	}
}
