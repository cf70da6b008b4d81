package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
)

// namesResolver answers reverse lookups from a table and never touches
// the network; with refuse set, any lookup fails the test (for -n runs).
type namesResolver struct {
	t      *testing.T
	names  map[string]string
	refuse bool
}

func (r namesResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if r.refuse {
		r.t.Errorf("a DNS lookup of %s was made", addr)
	}
	if n, ok := r.names[addr]; ok {
		return []string{n}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

// runMode runs the command in-process and returns stdout, stderr and the
// exit status main would give.
func runMode(t *testing.T, res Resolver, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := exitCode(runWith(args, &out, &errb, res), &errb)
	return out.String(), errb.String(), code
}

type modeCase struct {
	name  string
	args  []string
	names map[string]string // nil: -n, and any lookup fails the test
}

// runGoldens runs each case against root and compares stdout with
// testdata/dir/NAME.stdout; stderr must be empty and the status 0.
func runGoldens(t *testing.T, root, dir string, cases []modeCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := namesResolver{t: t, names: tc.names, refuse: tc.names == nil}
			out, errs, code := runMode(t, res, append([]string{"--root", root}, tc.args...)...)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			fixture.Golden(t, filepath.Join("testdata", dir, tc.name+".stdout"), []byte(out))
		})
	}
}

var routeNames = map[string]string{
	"192.0.2.254": "gw2.example.",
	"fe80::1":     "rtr6.example.",
}

func TestRouteGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/route.txtar")
	runGoldens(t, root, "route", []modeCase{
		{"rn", []string{"-rn"}, nil},
		{"ren", []string{"-ren"}, nil},
		{"reen", []string{"-reen"}, nil},
		{"rn6", []string{"-rn", "-6"}, nil},
		{"r", []string{"-r"}, routeNames},
		{"re", []string{"-re"}, routeNames},
		{"ree", []string{"-ree"}, routeNames},
		{"r6", []string{"-r", "-A", "inet6"}, routeNames},
		{"json", []string{"-r", "--json"}, nil},
		{"json6", []string{"-r6", "--json"}, nil},
		{"rn46", []string{"-rn", "-4", "-6"}, nil},
		{"rn64", []string{"-rn", "-6", "-4"}, nil},
		{"rnA64", []string{"-rn", "-A", "inet6,inet"}, nil},
		{"rn44", []string{"-rn", "-4", "--inet"}, nil},
		{"r46", []string{"-r", "-4", "-6"}, routeNames},
		{"json64", []string{"-r", "-6", "-4", "--json"}, nil},
		{"csv", []string{"-r", "-4", "-6", "--csv"}, nil},
	})
}

func TestRouteNoUnix(t *testing.T) {
	root := fixture.Root(t, "testdata/route.txtar")
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-rn", "-x")
	if code != 1 || out != "" || errs == "" {
		t.Errorf("-r -x: exit %d, stdout %q, stderr %q; want exit 1 and a message", code, out, errs)
	}
}

// TestRouteUnixAmongFamilies: as net-tools, -r -4 -x says there is no
// unix table and still prints the IPv4 one.
func TestRouteUnixAmongFamilies(t *testing.T) {
	root := fixture.Root(t, "testdata/route.txtar")
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-rn", "-4", "-x")
	want, _, _ := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-rn", "-4")
	if code != 1 || out != want || errs != "netstat: no routing for address family `unix'\n" {
		t.Errorf("-r -4 -x: exit %d, stderr %q, stdout:\n%s", code, errs, out)
	}
}

// TestStatsBothFamilies: net-tools' -s reads one family's counters and
// refuses a list.
func TestStatsBothFamilies(t *testing.T) {
	root := fixture.Root(t, "testdata/stats.txtar")
	for _, args := range [][]string{{"-s", "-4", "-6"}, {"-s", "-A", "inet6,inet"}, {"-s", "-x"}} {
		out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, append([]string{"--root", root}, args...)...)
		if code != 1 || out != "" || !strings.Contains(errs, "no statistics support for specified address family") {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errs, out)
		}
	}
}

func TestRouteMissingTables(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A root without the table (a capture made for other flags) says so
	// rather than print an empty table with exit 0 (issue 13 §2).
	out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, "--root", root, "-rn")
	if code != 1 || !strings.Contains(errs, "holds no routing table") || out != "" {
		t.Errorf("exit %d, stderr %q, stdout %q", code, errs, out)
	}
}

// netTools returns the path of net-tools' netstat, or skips the test.
func netTools(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("netstat")
	if err != nil {
		t.Skip("net-tools netstat is not installed")
	}
	if out, _ := exec.Command(p, "--version").Output(); !bytes.Contains(out, []byte("net-tools")) {
		t.Skip("netstat is not net-tools'")
	}
	return p
}

// TestRouteLive compares the live tables with net-tools, byte for byte.
func TestRouteLive(t *testing.T) {
	nt := netTools(t)
	for _, args := range [][]string{{"-rn"}, {"-rn", "-6"}, {"-ren"}, {"-reen"}, {"-rn", "-A", "inet6"},
		{"-rn", "-4", "-6"}, {"-rn", "-6", "-4"}, {"-ren", "-A", "inet6,inet"}, {"-rn", "-4", "-4"}} {
		want, err := exec.Command(nt, args...).Output()
		if err != nil {
			t.Fatalf("netstat %v: %v", args, err)
		}
		got, errs, code := runMode(t, namesResolver{t: t, refuse: true}, args...)
		if code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		if got != string(want) {
			t.Errorf("%v differs from net-tools:\n--- net-tools\n%s--- ours\n%s", args, want, got)
		}
	}
}

// TestRouteNetToolsOnFixture compares with net-tools run on the fixture.
func TestRouteNetToolsOnFixture(t *testing.T) {
	root := fixture.Root(t, "testdata/route.txtar")
	for _, args := range [][]string{{"-r"}, {"-rn"}, {"-re"}, {"-ree"}, {"-ren"}, {"-r", "-6"}, {"-rn", "-6"},
		{"-rn", "-4", "-6"}, {"-r", "-6", "-4"}, {"-rn", "-A", "inet6,inet"}, {"-rn", "--inet", "-4"}} {
		want := netToolsOn(t, root, args...)
		got, errs, code := runMode(t, namesResolver{t: t}, append([]string{"--root", root}, args...)...)
		if code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		if got != want {
			t.Errorf("%v differs from net-tools:\n--- net-tools\n%s--- ours\n%s", args, want, got)
		}
	}
}

// netToolsOn runs net-tools' netstat on a fixture tree and returns its
// stdout: in a new mount and network namespace (root only) the fixture's
// proc is bind-mounted over /proc and its etc/hosts and etc/networks over
// /etc's, with a resolv.conf naming 127.0.0.1. With no network, its DNS
// lookups fail at once and never leave the machine, so its names come
// from the files alone — as ours do with a resolver that knows nothing.
func netToolsOn(t *testing.T, root string, args ...string) string {
	t.Helper()
	nt := netTools(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("no unshare")
	}
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hosts", "networks"} {
		p := filepath.Join(root, "etc", f)
		if _, err := os.Stat(p); err != nil {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `mount --bind "$1/proc" /proc && mount --bind "$1/etc/hosts" /etc/hosts &&
		mount --bind "$1/etc/networks" /etc/networks && mount --bind "$1/etc/resolv.conf" /etc/resolv.conf &&
		shift && exec timeout 20 "$@"`
	cmd := exec.Command("unshare", append([]string{"-n", "-m", "sh", "-c", script, "sh", root, nt}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("cannot run net-tools in a namespace: %v", err)
	}
	return string(out)
}

var digits = regexp.MustCompile(`[0-9]+`)

// maskDigits replaces every number by N: counters move between two runs.
func maskDigits(s string) string { return digits.ReplaceAllString(s, "N") }
