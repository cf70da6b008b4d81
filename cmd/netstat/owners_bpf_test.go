package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/procnet/procnet/procmap"
)

// TestListenersOwnedBPF: with the BPF owner source, -l narrows the owner
// pass to the listed sockets; the unix listeners listed beside the TCP and
// UDP ones must keep their owner (they printed "-").
func TestListenersOwnedBPF(t *testing.T) {
	if _, err := procmap.Build(context.Background(), procmap.Options{Source: procmap.SourceBPF, Inodes: map[uint64]bool{}}); err != nil {
		t.Skipf("BPF owner source unavailable: %v", err)
	}
	path := filepath.Join(t.TempDir(), "listener.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tl, err := net.Listen("tcp4", "127.0.0.1:0") // a TCP row to narrow to
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	owner := strconv.Itoa(os.Getpid()) + "/"
	for _, args := range []string{"-lnp", "-ltxp -n", "-lxp"} {
		t.Run(args, func(t *testing.T) {
			c, err := parse(strings.Fields(args))
			if err != nil {
				t.Fatal(err)
			}
			c.resolver, c.ownerSource = refuseResolver{t}, procmap.SourceBPF
			var out, errb bytes.Buffer
			if err := c.run(context.Background(), &out, &errb); err != nil {
				t.Fatalf("%v: %s", err, errb.String())
			}
			var unixRow, tcpRow string
			for line := range strings.Lines(out.String()) {
				switch {
				case strings.HasSuffix(strings.TrimRight(line, "\n"), " "+path):
					unixRow = line
				case strings.Contains(line, " "+tl.Addr().String()+" "):
					tcpRow = line
				}
			}
			if !strings.Contains(unixRow, " "+owner) {
				t.Errorf("unix listener row %q has no owner %s", unixRow, owner)
			}
			if args != "-lxp" && !strings.Contains(tcpRow, " "+owner) {
				t.Errorf("tcp listener row %q has no owner %s", tcpRow, owner)
			}
		})
	}
}

// TestProgNameEmptyArgv0 pins a deliberate difference (README): an empty
// argv[0] is named by comm where net-tools prints "PID/".
func TestProgNameEmptyArgv0(t *testing.T) {
	for _, tc := range []struct {
		cmdline []string
		want    string
	}{
		{nil, "sshd"},
		{[]string{""}, "sshd"},
		{[]string{"", "-D"}, "sshd"},
		{[]string{"/usr/sbin/sshd", "-D"}, "sshd"},
		{[]string{"sshd: user [priv]"}, "sshd: user [priv]"},
	} {
		if got := (&procmap.Process{Comm: "sshd", Cmdline: tc.cmdline}).Name(); got != tc.want {
			t.Errorf("cmdline %q: %q, want %q", tc.cmdline, got, tc.want)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte("**An empty argv[0] is named by comm.**")) {
		t.Error("README does not list the empty argv[0] among the deliberate differences")
	}
}
