package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestCompatFlags: every command line of net-tools 2.10 that has no
// table of its own here (-g, -C, -N, -F, -M, -Z, -S, the families ax25,
// ipx, netrom, x25, rose, ddp, bluetooth, …) is accepted and prints what
// net-tools prints: stdout, stderr and exit status, checked against
// golden files and against net-tools itself run over the same tree.
func TestCompatFlags(t *testing.T) {
	root := fixture.Root(t, "testdata/compat.txtar")
	for _, tc := range []struct {
		name, args string
		code       int
	}{
		{"M", "-M", 1}, {"Mn", "-Mn", 1},
		{"Z", "-Z", 1}, {"tZ", "-tnZ", 1},
		{"S", "-Sn", 1}, {"tS", "-tSn", 1}, {"Sl", "-Sln", 1}, {"tuS", "-tuSn", 1},
		{"ax25", "-A ax25", 1}, {"ax25-long", "--ax25", 1},
		{"ipx", "-A ipx", 1}, {"ipx-long", "--ipx", 1},
		{"netrom", "-A netrom", 1}, {"netrom-long", "--netrom", 1},
		{"x25", "-A x25", 1}, {"x25-long", "--x25", 1},
		{"rose", "-A rose", 1}, {"rose-long", "--rose", 1},
		{"bluetooth", "-A bluetooth", 1}, {"bluetooth-long", "--bluetooth", 1},
		{"ipx-ax25", "-A ipx,ax25", 1}, {"x-ax25", "-xn --ax25", 1}, {"t-ax25", "-tn --ax25", 1},
		{"ax25-unix", "-n -A ax25,unix", 1},
		{"ddp", "-A ddp -n", 0}, {"appletalk", "--appletalk -n", 0}, {"econet", "-A econet -n", 0},
		{"ash", "-A ash -n", 0}, {"ip", "-A ip -tn", 0}, {"ip-long", "--ip -tn", 0}, {"ip6", "-A ip6 -tn", 0},
		{"N", "-N -tn", 0}, {"F", "-F -tn", 0}, {"C", "-C -tn", 0},
		{"rC", "-rC", 0}, {"rCe", "-rCe", 0}, {"rCee", "-rCee", 0}, {"rC6", "-rCn -6", 0},
		{"rC46", "-rCn -A inet,inet6", 0}, {"rF", "-rFn", 0}, {"rN", "-rN", 0}, {"rN6", "-rN -6", 0},
		{"g", "-gn", 0}, {"g4", "-gn -4", 0}, {"g6", "-gn -6", 0}, {"gx", "-gxn", 0}, {"gt", "-gtn", 0},
		{"gl", "-gln", 0}, {"ga", "-gan", 0}, {"gN", "-gnN", 0}, {"g-ax25", "-gn -A ax25", 1},
		{"d", "-d -tn", 0}, {"l2cap", "-2", 1}, {"l2cap-long", "--l2cap", 1}, {"rfcomm", "-f", 1},
		{"rfcomm-long", "--rfcomm", 1}, {"t-l2cap", "-t2n", 1}, {"tcpip", "--tcpip -tn", 0}, {"tcpip-r6", "--tcpip -rn -6", 0},
		{"v", "-v -tn", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := strings.Fields(tc.args)
			stdout, stderr, code := runCLI(t, refuseResolver{t}, append(args, "--root", root)...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			fixture.Golden(t, "testdata/compat/"+tc.name+".stdout", []byte(stdout))
			fixture.Golden(t, "testdata/compat/"+tc.name+".stderr", []byte(stderr+"exit status "+strconv.Itoa(code)+"\n"))
			nout, nerr, ncode := runNetTools(t, root, args...)
			if nout != stdout || nerr != stderr || ncode != code {
				t.Errorf("net-tools differs (exit %d, ours %d):\nstdout:\n%s\nstderr:\n%s", ncode, code,
					fixture.Diff([]byte(nout), []byte(stdout)), fixture.Diff([]byte(nerr), []byte(stderr)))
			}
		})
	}
}

// TestGroupsNames: without -n the groups are named as hosts, from the
// root's etc/hosts, as net-tools names them.
func TestGroupsNames(t *testing.T) {
	root := fixture.Root(t, "testdata/compat.txtar")
	stdout, stderr, code := runCLI(t, &fakeResolver{names: map[string]string{}}, "-g", "--root", root)
	if code != 0 || stderr != "" {
		t.Errorf("exit status %d, stderr %q", code, stderr)
	}
	fixture.Golden(t, "testdata/compat/g-names.stdout", []byte(stdout))
}

// TestVersion: -V and --version print the module's version and the VCS
// revision the build recorded.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"-V", "--version", "-tV"} {
		stdout, stderr, code := runCLI(t, refuseResolver{t}, arg)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "netstat (procnet) ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, stdout, stderr)
		}
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/procnet/procnet", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-11-30T11:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "netstat (procnet) github.com/procnet/procnet v1.2.3\n" +
		"revision 0123456789abcdef0123456789abcdef01234567 (2026-11-30T11:00:00Z) with local changes\n" +
		"built with go1.26.8\n"
	if got := versionText(bi, true); got != want {
		t.Errorf("versionText:\n%s\nwant:\n%s", got, want)
	}
	if got := versionText(nil, false); !strings.Contains(got, "no build information") {
		t.Errorf("without build info: %q", got)
	}
}

// TestLiveCompat compares with net-tools on the live system the command
// lines whose output does not change between two runs (numeric: no DNS):
// -g, and the flags for tables this netstat does not list.
func TestLiveCompat(t *testing.T) {
	// (-g -4 lists the Internet tables too: not deterministic live.)
	for _, args := range []string{"-gn", "-gn -6", "-gnN", "-M", "-Z", "-Sn", "-Sln", "-A ax25", "--ipx",
		"-A netrom,rose", "--x25", "-A bluetooth", "-rCn", "-rCn -6", "-rCen", "-V"} {
		t.Run(args, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, refuseResolver{t}, strings.Fields(args)...)
			nout, nerr, ncode := runNetTools(t, "", strings.Fields(args)...)
			if args == "-V" { // net-tools names itself; we name this module
				nout, stdout = "", ""
			}
			if nout != stdout || nerr != stderr || ncode != code {
				t.Errorf("net-tools differs (exit %d, ours %d):\n%s\nstderr ours %q, net-tools %q", ncode, code,
					fixture.Diff([]byte(nout), []byte(stdout)), stderr, nerr)
			}
		})
	}
}

// TestCompatTablesPresent: where the kernel has a table net-tools would
// list and this netstat does not parse, it says so instead of
// net-tools' "no support".
func TestCompatTablesPresent(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"proc/net/sctp/assocs", "proc/net/sctp/eps", "proc/net/ax25", "proc/net/ip_masquerade", "sys/fs/selinux/enforce"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for args, want := range map[string]string{
		"-S":        "netstat: proc/net/sctp/assocs exists, but this netstat does not list `AF INET (sctp)' sockets.\n",
		"-Sl":       "netstat: proc/net/sctp/eps exists, but this netstat does not list `AF INET (sctp)' sockets.\n",
		"-A ax25":   "netstat: proc/net/ax25 exists, but this netstat does not list `AF AX25' sockets.\n",
		"-A ipx":    "netstat: no support for `AF IPX' on this system.\n",
		"-M":        "netstat: proc/net/ip_masquerade exists, but this netstat does not list masqueraded connections.\n",
		"-A x25 -n": "netstat: no support for `AF X25' on this system.\n",
		"-tZ":       "netstat: SELinux contexts (-Z) are not listed by this netstat.\n",
	} {
		_, stderr, code := runCLI(t, refuseResolver{t}, append(strings.Fields(args), "--root", root)...)
		if code != 1 || stderr != want {
			t.Errorf("%s: exit %d, stderr %q, want %q", args, code, stderr, want)
		}
	}
}

// TestGroupsContinuous: -g -c prints the table again every interval.
func TestGroupsContinuous(t *testing.T) {
	root := fixture.Root(t, "testdata/compat.txtar")
	rounds := 0
	defer func(s func(time.Duration)) { sleep = s }(sleep)
	sleep = func(time.Duration) {
		if rounds++; rounds == 3 {
			panic(errStop)
		}
	}
	var out bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != errStop {
				panic(r)
			}
		}()
		runWith([]string{"-gnc", "--root", root}, &out, io.Discard, refuseResolver{t})
	}()
	one, err := os.ReadFile("testdata/compat/g.stdout")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat(string(one), 3); out.String() != want {
		t.Errorf("-gnc:\n%s", fixture.Diff([]byte(want), out.Bytes()))
	}
}

var errStop = errors.New("stop")

// TestGroupsAlone: -g has no JSON, CSV, Prometheus, summary or
// namespace form: a usage error, not a silently missing table.
func TestGroupsAlone(t *testing.T) {
	root := fixture.Root(t, "testdata/compat.txtar")
	for _, args := range []string{"-g --json", "-g --csv", "-g --format json", "-g --format prometheus", "-gt --summary", "-g --all-netns", "-g --netns 1"} {
		if _, stderr, code := runCLI(t, refuseResolver{t}, append(strings.Fields(args), "--root", root)...); code != 2 || !strings.HasPrefix(stderr, "netstat: -g prints a table alone") {
			t.Errorf("%s: exit %d, stderr %q", args, code, firstLine([]byte(stderr)))
		}
	}
}
