package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/internal/fixture"
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

func TestNstrcmpOrder(t *testing.T) {
	names := []string{"lo", "eth10", "eth2", "eth0:1", "eth0", "br0", "eth2", "veth1a", "eth1"}
	var got []string
	ifs := sortIfaces(ifacesNamed(names...))
	for _, f := range ifs {
		got = append(got, f.Name)
	}
	// net-tools' nstrcmp puts "eth10" before "eth1" (a digit against the
	// end of the name), and insertion walks back from the end, so eth1,
	// read last, lands after eth10 — as net-tools would print it.
	want := []string{"br0", "eth0", "eth0:1", "eth2", "eth10", "eth1", "lo", "veth1a"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
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

func ifacesNamed(names ...string) []iface.Interface {
	var l []iface.Interface
	for _, n := range names {
		l = append(l, iface.Interface{Name: n})
	}
	return l
}
