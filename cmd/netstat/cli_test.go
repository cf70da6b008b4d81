package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/procnet/procnet/flows"
	fixture "github.com/procnet/procnet/procnettest"
)

// fakeResolver answers from a table and records what it was asked. It
// never touches the network.
type fakeResolver struct {
	mu    sync.Mutex
	names map[string]string
	asked []string
	delay time.Duration // wait this long, or until ctx ends, before answering
}

func (r *fakeResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r.mu.Lock()
	r.asked = append(r.asked, addr)
	r.mu.Unlock()
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n, ok := r.names[addr]; ok {
		return []string{n}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

// refuseResolver fails the test if any lookup is made.
type refuseResolver struct{ t *testing.T }

func (r refuseResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r.t.Errorf("a DNS lookup of %s was made", addr)
	return nil, errors.New("refused")
}

// runCLI runs the command in-process and returns stdout, stderr and the
// exit status main would give.
func runCLI(t *testing.T, res Resolver, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runWith(args, &out, &errb, res)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

var hostNames = map[string]string{
	"162.216.184.93": "www.example.org.",
	"10.0.2.2":       "gateway.example.",
}

// TestGolden runs the command over fixture trees and compares stdout and
// stderr with golden files (go test -update rewrites them).
func TestGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, tc := range []struct {
		name string
		args string
		code int
	}{
		{"tan", "-tan", 0},
		{"tanp", "-tanp", 0},
		{"tunap", "-tunap", 0},
		{"lntp", "-lntp", 0},
		{"default-n", "-n", 0},
		{"tane", "-tane", 0},
		{"taneep", "-taneep", 0},
		{"tano", "-tano", 0},
		{"tanW", "-tanW", 0},
		{"uan", "-uan", 0},
		{"wan", "-wan", 0},
		{"xa", "-xa", 0},
		{"xap", "-xap", 0},
		{"6lnp", "-6lnp", 0},
		{"A-inet", "-A inet -an", 0},
		{"names-ta", "-ta", 0},
		{"names-tae", "-tae", 0},
		{"names-ua", "-ua", 0},
		{"json", "--json -tunap", 0},
		{"json-x", "--json -xap", 0},
		{"csv", "--csv -tunap", 0},
		{"state", "--state established,time-wait -tanp", 0},
		{"port", "--port 22 -tanp", 0},
		{"sport", "--sport 631 -tlnp", 0},
		{"dport", "--dport 443 -tanp", 0},
		{"pid", "--pid 400 -tunapx", 0},
		{"program", "--program nginx -tanp", 0},
		{"bad-flag", "-tz", 2},
		{"bad-state", "--state bogus -t", 2},
		{"bad-family", "-A bogus", 2},
		{"bad-arg", "-t extra", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(strings.Fields(tc.args), "--root", root)
			var res Resolver = &fakeResolver{names: hostNames}
			if strings.Contains(tc.args, "n") && !strings.HasPrefix(tc.name, "names") {
				res = refuseResolver{t}
			}
			stdout, stderr, code := runCLI(t, res, args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			fixture.Golden(t, "testdata/golden/"+tc.name+".stdout", []byte(stdout))
			fixture.Golden(t, "testdata/golden/"+tc.name+".stderr", []byte(stderr))
		})
	}
}

func TestUnreadableRoot(t *testing.T) {
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "-tan", "--root", "/nonexistent/dir")
	if code != 1 || stdout != "" || stderr != "netstat: cannot read /nonexistent/dir/proc: no such file or directory\n" {
		t.Errorf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, stderr, code := runCLI(t, refuseResolver{t}, "-tan", "--root", f); code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("root is a file: code %d stderr %q", code, stderr)
	}
}

// TestDNSBudget: a resolver that never answers must not hold the listing
// for more than the budget; the addresses stay numeric.
func TestDNSBudget(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	res := &fakeResolver{names: hostNames, delay: time.Hour}
	start := time.Now()
	stdout, _, code := runCLI(t, res, "-ta", "--dns-timeout", "200ms", "--root", root)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("listing took %v with a 200ms DNS budget", el)
	}
	if code != 0 || !strings.Contains(stdout, "162.216.184.93:https") {
		t.Errorf("code %d, stdout:\n%s", code, stdout)
	}
	// Lookups abandoned at the budget may still be running: lock.
	res.mu.Lock()
	asked := len(res.asked)
	res.mu.Unlock()
	if asked == 0 {
		t.Errorf("the resolver was never asked")
	}
}

// TestClosedPipe: a reader that goes away ends the listing quietly.
func TestClosedPipe(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	var errb bytes.Buffer
	err = runWith([]string{"-tunapx", "-n", "--root", root}, w, &errb, refuseResolver{t})
	w.Close()
	if code := exitCode(err, &errb); code != 0 || errb.Len() != 0 {
		t.Errorf("closed pipe: exit %d, stderr %q", code, errb.String())
	}
}

// TestErrorsEscaped: an error that ends the run goes through the one
// escaping rule, as the rows do: a root or a flag holding a control
// sequence does not reach the terminal as one.
func TestErrorsEscaped(t *testing.T) {
	for _, args := range [][]string{{"-tn", "--root", "/nonexistent/\x1b[31mred"}, {"--bo\x1bgus"}} {
		_, stderr, code := runCLI(t, refuseResolver{t}, args...)
		if code == 0 || strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `\x1b`) {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "-h")
	if code != 0 || !strings.HasPrefix(stdout, "usage: netstat") || stderr != "" {
		t.Errorf("-h: code %d stderr %q", code, stderr)
	}
}

// parse is parseFor as most tests want it: no resolver, not a terminal.
func parse(args []string) (*config, error) { return parseFor(args, nil, false) }

// runWith is run with reverse DNS going to resolver.
func runWith(args []string, stdout, stderr io.Writer, resolver Resolver) error {
	return runContext(context.Background(), args, stdout, stderr, resolver)
}

// TestParseDerives: what the flags imply is in the config parse returns
// (nothing sets it later): --format json is --json, --listen writes the
// exposition with its owners and listener ports, --by is --summary, -2
// names Bluetooth, --events-source its source, --port the event filter.
func TestParseDerives(t *testing.T) {
	for _, tc := range []struct {
		args string
		ok   func(c *config) bool
	}{
		{"--format json", func(c *config) bool { return c.json && c.format == "" }},
		{"--format csv", func(c *config) bool { return c.csv && c.format == "" }},
		{"--format table", func(c *config) bool { return !c.json && !c.csv && c.format == "" }},
		{"--listen 127.0.0.1:0", func(c *config) bool {
			return c.format == "prometheus" && c.perProcess && len(c.ports) == 1023
		}},
		{"--format prometheus --listener-ports 22,80", func(c *config) bool { return len(c.ports) == 2 }},
		{"--by port", func(c *config) bool { return c.summary && !c.programs }},
		{"--max-established 3", func(c *config) bool { return c.summary && c.programs }},
		{"-2", func(c *config) bool { return c.noTable == "bluetooth" }},
		{"-A ax25,ipx", func(c *config) bool { return c.noTable == "ipx" }},
		{"--tcpip", func(c *config) bool { return len(c.families) == 0 }},
		{"-6 -A ip", func(c *config) bool { return c.inet && c.inet6 && !c.unix && c.tcp }},
		{"--events --events-source poll", func(c *config) bool { return c.source == flows.SourcePoll }},
		{"--events --port 80 -4", func(c *config) bool {
			f := c.eventFilter
			return len(f.Ports) == 1 && f.Ports[0] == 80 && f.IPv4 && !f.IPv6
		}},
	} {
		c, err := parse(strings.Fields(tc.args))
		if err != nil || !tc.ok(c) {
			t.Errorf("%s: err %v, config %+v", tc.args, err, c)
		}
	}
}
