package main

import (
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestSummaryGolden runs --summary over the fixture host with every
// grouping, filters, JSON and the --max-established exit status.
func TestSummaryGolden(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, tc := range []struct {
		name string
		args string
		code int
	}{
		{"process", "--summary -tuan", 0},
		{"process-names", "--summary -tua", 0},
		{"process-wide", "--summary -tuanW", 0},
		{"remote", "--summary --by remote -tuan", 0},
		{"remote-names", "--by remote -ta", 0},
		{"port", "--summary --by port -tuan", 0},
		{"port-names", "--summary --by port -tua", 0},
		{"connected", "--summary -tn", 0},
		{"state", "--summary --state established,time-wait -tn", 0},
		{"tcp6", "--summary -6tan", 0},
		{"port-filter", "--summary --port 8080 -tan", 0},
		{"pid", "--summary --pid 400 -tuan", 0},
		{"program", "--summary --program sshd -tuan", 0},
		{"max-over", "--max-established 0 -tuan", 3},
		{"max-ok", "--summary --max-established 1 -tuan", 0},
		{"max-remote", "--by remote --max-established 0 -tan", 3},
		{"json", "--summary --json -tuan", 0},
		{"json-max", "--summary --json --max-established 0 -tuan", 3},
		{"json-remote", "--by remote --json -tuan", 0},
		{"json-port", "--by port --json -tuan", 0},
		{"bad-by", "--by user -t", 2},
		{"bad-max", "--max-established -1 -t", 2},
		{"csv", "--summary --csv -tuan", 0},
		{"csv-remote", "--by remote --csv --max-established 0 -tuan", 3},
		{"bad-unix", "--summary -x", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(strings.Fields(tc.args), "--root", root)
			var res Resolver = &fakeResolver{names: hostNames}
			if strings.Contains(tc.args, "n ") || strings.HasSuffix(tc.args, "n") || strings.Contains(tc.args, "nW") {
				res = refuseResolver{t}
			}
			stdout, stderr, code := runCLI(t, res, args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.code == 2 {
				// Usage errors: the first line only, so that flags others
				// add to the usage text do not churn golden files.
				line, _, _ := strings.Cut(stderr, "\n")
				fixture.Golden(t, "testdata/summary/"+tc.name+".err", []byte(line+"\n"))
				if stdout != "" {
					t.Errorf("stdout %q", stdout)
				}
				return
			}
			fixture.Golden(t, "testdata/summary/"+tc.name+".stdout", []byte(stdout))
			fixture.Golden(t, "testdata/summary/"+tc.name+".stderr", []byte(stderr))
		})
	}
}
