package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

// TestCSVMatchesJSON: --csv of -r, -i and -s holds what --json holds,
// value for value (an empty field where JSON has null, "" or lacks the
// key).
func TestCSVMatchesJSON(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		args    []string
	}{
		{"testdata/route.txtar", []string{"-r", "-4", "-6"}},
		{"testdata/iface.txtar", []string{"-ia"}},
		{"testdata/stats.txtar", []string{"-s"}},
		{"testdata/stats.txtar", []string{"-s", "-6"}},
	} {
		t.Run(strings.Join(tc.args, ""), func(t *testing.T) {
			root := fixture.Root(t, tc.fixture)
			run := func(format string) string {
				out, errs, code := runMode(t, namesResolver{t: t, refuse: true}, append([]string{"--root", root, format}, tc.args...)...)
				if code != 0 || errs != "" {
					t.Fatalf("%s: exit %d, stderr %q", format, code, errs)
				}
				return out
			}
			recs, err := csv.NewReader(strings.NewReader(run("--csv"))).ReadAll()
			if err != nil || len(recs) < 2 {
				t.Fatalf("CSV: %v, %d records", err, len(recs))
			}
			var fromCSV, fromJSON []map[string]string
			for _, r := range recs[1:] {
				m := map[string]string{}
				for i, k := range recs[0] {
					if r[i] != "" {
						m[k] = r[i]
					}
				}
				fromCSV = append(fromCSV, m)
			}
			for _, line := range strings.Split(strings.TrimSuffix(run("--json"), "\n"), "\n") {
				var obj map[string]any
				if err := json.Unmarshal([]byte(line), &obj); err != nil {
					t.Fatalf("JSON %q: %v", line, err)
				}
				flat := func(obj map[string]any) map[string]string {
					m := map[string]string{}
					for k, v := range obj {
						if v != nil && v != "" {
							m[k] = fmt.Sprint(v)
							if f, ok := v.(float64); ok {
								m[k] = fmt.Sprintf("%.0f", f)
							}
						}
					}
					return m
				}
				counters, ok := obj["counters"].(map[string]any)
				if !ok {
					fromJSON = append(fromJSON, flat(obj))
					continue
				}
				// -s: one CSV record per counter of the group.
				for _, name := range strings.Split(strings.Trim(strings.SplitN(line, `"counters":{`, 2)[1], "}"), ",") {
					name = strings.Trim(strings.SplitN(name, ":", 2)[0], `"`)
					m := flat(map[string]any{"group": obj["group"], "file": obj["file"], "name": name, "value": counters[name]})
					fromJSON = append(fromJSON, m)
				}
			}
			if d := cmp.Diff(fromJSON, fromCSV); d != "" {
				t.Errorf("CSV differs from JSON (-json +csv):\n%s", d)
			}
		})
	}
}
