package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unicode/utf8"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestMalformed runs the command over broken trees (testdata/malformed):
// for each, the golden stdout holds the rows that must still be shown, the
// golden stderr the exact error text (file:line), and the exit status is
// checked. docs/reliability.md lists the cases.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, fixture, args string
		code                int
		nobody              bool              // run the built binary as nobody
		mutate              func(root string) // after materializing
	}{
		{name: "truncated", args: "-tan", code: 0},
		{name: "columns", args: "-tan", code: 0},
		{name: "nonhex", args: "-tan", code: 0},
		{name: "longline", args: "-tan", code: 0, mutate: func(root string) {
			p := filepath.Join(root, "proc/net/tcp")
			b, _ := os.ReadFile(p)
			b = append(b, "   9: "+strings.Repeat("0", 1<<20)+"\n"...)
			b = append(b, "   2: 0F02000A:0016 0202000A:C9A4 01 00000024:00000000 02:0008F9A2 00000000     0        0 2003 4 0000000000000000 20 4 31 10 -1\n"...)
			os.WriteFile(p, b, 0o644)
		}},
		{name: "nul", args: "-tanpx", code: 0},
		{name: "nul-json", fixture: "nul", args: "--json -tapx -n", code: 0},
		{name: "nul-csv", fixture: "nul", args: "--csv -tapx -n", code: 0},
		{name: "missing", args: "-tan", code: 0},
		{name: "isdir", args: "-tan", code: 1},
		{name: "fdloop", args: "-tanp", code: 0},
		{name: "fdloop-json", fixture: "fdloop", args: "--json -tanp", code: 0},
		{name: "denied", args: "-tan", code: 1, nobody: true},
		{name: "escape", args: "-tuanx", code: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := tc.fixture
			if fx == "" {
				fx = tc.name
			}
			root := fixture.Root(t, "testdata/malformed/"+fx+".txtar")
			if tc.mutate != nil {
				tc.mutate(root)
			}
			args := append(strings.Fields(tc.args), "--root", root)
			var stdout, stderr string
			var code int
			if tc.nobody {
				stdout, stderr, code = runAsNobody(t, root, args...)
			} else {
				stdout, stderr, code = runCLI(t, refuseResolver{t}, args...)
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			checkNoControl(t, "stdout", stdout)
			checkNoControl(t, "stderr", stderr)
			fixture.Golden(t, "testdata/malformed/"+tc.name+".stdout", []byte(stdout))
			fixture.Golden(t, "testdata/malformed/"+tc.name+".stderr", []byte(strings.ReplaceAll(stderr, root, "$ROOT")))
		})
	}
}

// checkNoControl fails if out holds anything that could steer a
// terminal: C0 controls but newline, DEL, C1 controls (a raw byte or UTF-8
// encoded), or bytes that are not UTF-8.
func checkNoControl(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i < len(out); {
		r, size := utf8.DecodeRuneInString(out[i:])
		if r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f || r == utf8.RuneError && size == 1 {
			t.Errorf("%s: control %q at %d: %q", what, out[i:i+size], i, out[max(0, i-20):min(len(out), i+20)])
			return
		}
		i += size
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// builtBinary builds the command once into a directory every user can
// read (the nobody runs need it) and returns its path.
func builtBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "netstat-bin")
		if err != nil {
			binErr = err
			return
		}
		os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "netstat")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{err, out}
		}
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// runAsNobody runs the built binary as user nobody (65534) over root,
// which it makes reachable. Root is needed to switch users.
func runAsNobody(t *testing.T, root string, args ...string) (string, string, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as nobody")
	}
	// Every directory from / down to root must be searchable by nobody.
	for d := root; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(d, fi.Mode().Perm()|0o055)
		}
	}
	cmd := exec.Command(builtBinary(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestNoCmdline: with --no-cmdline argv is never read, so it appears
// nowhere; the PID/Program column names processes by comm and JSON says
// "cmdline":null.
func TestNoCmdline(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, tc := range []struct{ name, args string }{
		{"no-cmdline-tanp", "--no-cmdline -tanp"},
		{"no-cmdline-json", "--no-cmdline --json -tunapx"},
		{"no-cmdline-csv", "--no-cmdline --csv -tunapx"},
		{"no-cmdline-program", "--no-cmdline --program sshd -tanp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, refuseResolver{t}, append(strings.Fields(tc.args), "--root", root)...)
			if code != 0 || stderr != "" {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
			for _, argv := range []string{"splash", "[listener]", "http.server", "[priv]", "cupsd\x00-l", "worker process", "master process"} {
				if strings.Contains(stdout, argv) {
					t.Errorf("argv text %q in the output", argv)
				}
			}
			if strings.Contains(tc.args, "--json") && (!strings.Contains(stdout, `"cmdline":null`) || strings.Contains(stdout, `"cmdline":[`)) {
				t.Errorf("JSON without cmdline: null")
			}
			fixture.Golden(t, "testdata/golden/"+tc.name+".stdout", []byte(stdout))
		})
	}
	// Without the flag argv is read (the test above would notice nothing
	// if the fixture had none).
	if stdout, _, _ := runCLI(t, refuseResolver{t}, "-tanp", "--root", root); !strings.Contains(stdout, "python3") || !strings.Contains(stdout, "sshd: alice") {
		t.Errorf("argv not shown without --no-cmdline:\n%s", stdout)
	}
}

// TestStreamNamesPass checks that a listing with names, which reads the
// tables twice (a first pass collects the addresses to resolve), reports
// each bad row once and prints what the numeric listing prints.
func TestStreamNamesPass(t *testing.T) {
	root := fixture.Root(t, "testdata/malformed/truncated.txtar")
	numOut, numErr, numCode := runCLI(t, refuseResolver{t}, "-tan", "--root", root)
	res := &fakeResolver{}
	out, errs, code := runCLI(t, res, "-ta", "--numeric-ports", "--root", root)
	if errs != numErr || code != numCode {
		t.Errorf("-ta: exit %d, stderr:\n%s\nwant exit %d, stderr:\n%s", code, errs, numCode, numErr)
	}
	if len(res.asked) == 0 {
		t.Errorf("-ta asked the resolver nothing")
	}
	// The fake resolver knows no name: the same rows (only "::" becomes
	// "[::]" without -n, as in net-tools).
	if strings.Count(out, "\n") != strings.Count(numOut, "\n") || !strings.Contains(out, "127.0.0.1:631") {
		t.Errorf("-ta stdout:\n%s\nwant the rows of -tan:\n%s", out, numOut)
	}
}
