package main

import (
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestTrafficGolden replays a fixture whose tree carries a traffic file
// (proc/net/procnet-traffic): --traffic's columns, JSON keys and CSV
// columns show its counters, "-", null or "" for the rows it does not
// list; without --traffic nothing changes.
func TestTrafficGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/traffic.txtar")
	for _, tc := range []struct {
		name string
		args string
		code int
	}{
		{"tanp", "--traffic -tanp", 0},
		{"tan-plain", "-tan", 0},
		{"tuan-wide", "--traffic -tuanW", 0},
		{"json", "--traffic --json -tan", 0},
		{"json-plain", "--json -tan", 0},
		{"csv", "--traffic --csv -tan", 0},
		{"summary", "--summary --traffic -tan", 0},
		{"summary-json", "--summary --traffic --json -tan", 0},
		{"bad-by", "--summary --traffic --by port -tan", 2},
		{"bad-route", "--traffic -rn", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(strings.Fields(tc.args), "--root", root)
			stdout, stderr, code := runCLI(t, refuseResolver{t}, args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.code == 2 {
				line, _, _ := strings.Cut(stderr, "\n")
				fixture.Golden(t, "testdata/traffic/"+tc.name+".err", []byte(line+"\n"))
				return
			}
			fixture.Golden(t, "testdata/traffic/"+tc.name+".stdout", []byte(stdout))
			fixture.Golden(t, "testdata/traffic/"+tc.name+".stderr", []byte(stderr))
		})
	}
}
