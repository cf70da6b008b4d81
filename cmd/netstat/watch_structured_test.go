package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
)

// listFeed is a connection feed that gives its events at the first Drain.
type listFeed []flows.Event

func (f *listFeed) Drain(dst []flows.Event) ([]flows.Event, error) {
	dst = append(dst, *f...)
	*f = nil
	return dst, nil
}

// TestWatchStructuredChanges: --json -c and --csv -c rounds carry each
// row's change (null, new, changed, closed, brief: the rows a feed told
// of included) and, with --traffic, the rates since the last round (null
// in the first).
func TestWatchStructuredChanges(t *testing.T) {
	for _, asCSV := range []bool{false, true} {
		root := watchRoot(t)
		traffic := func(line string) {
			if err := os.WriteFile(filepath.Join(root, "proc/net/procnet-traffic"), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		traffic("tcp 10.0.2.15:54004 162.216.184.93:443 3002 1000 10 1 1\n")
		format := "--json"
		if asCSV {
			format = "--csv"
		}
		w := newWatcher(watchConfig(t, root, format, "--traffic", "-tanp", "-c", "1"))
		feed := &listFeed{}
		w.poller.SetFeed(feed, w.feedOptions())
		w.l.stamp = "T"
		round := func() map[string]map[string]any {
			t.Helper()
			if err := w.update(context.Background(), io.Discard); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w.l.csvHeader = false // each round parsed alone
			if err := w.writeListing(&out); err != nil {
				t.Fatal(err)
			}
			rows := map[string]map[string]any{} // by local port
			if asCSV {
				h, recs := csvRecords(t, out.String())
				if h[len(h)-1] != "Change" || !slices.Contains(h, "Send B/s") {
					t.Fatalf("header %v", h)
				}
				for _, r := range recs {
					o := map[string]any{"change": r["Change"], "send_bps": r["Send B/s"], "pid": r["PID"]}
					_, port, _ := strings.Cut(r["Local Address"], ":")
					rows[port] = o
				}
				return rows
			}
			for _, o := range jsonLines(t, out.String()) {
				rows[fmt.Sprint(o["local_port"])] = o
			}
			return rows
		}
		null := any(nil)
		if asCSV {
			null = ""
		}
		r1 := round()
		if len(r1) != 3 || r1["54004"]["change"] != null || r1["54004"]["send_bps"] != null {
			t.Fatalf("round 1: %v", r1)
		}

		writeRound(t, root, round2)
		os.Remove(filepath.Join(root, "proc/400/fd/3"))
		traffic("tcp 10.0.2.15:54006 162.216.184.93:443 3004 5 5 1 1\n")
		*feed = listFeed{{Kind: flows.Close, Proto: netstat.TCP, Local: netip.MustParseAddrPort("127.0.0.1:9000"),
			Remote: netip.MustParseAddrPort("127.0.0.1:41000"), PID: 77, Program: "brief"}}
		r2 := round()
		for port, want := range map[string]string{"80": "", "54004": "changed", "8080": "closed", "54006": "new", "9000": "brief"} {
			got, ok := r2[port]["change"]
			if !ok || want == "" && got != null || want != "" && got != want {
				t.Errorf("round 2, port %s: change %v, want %q", port, got, want)
			}
		}
		if bps := fmt.Sprint(r2["54006"]["send_bps"]); bps == "" || bps == "<nil>" || bps == "0" || bps == "0.0" {
			t.Errorf("round 2, the new connection's rate: %q", bps)
		}
		if asCSV {
			if r2["8080"]["pid"] != "400" || r2["9000"]["pid"] != "77" {
				t.Errorf("round 2's closed and brief rows' owners: %v", r2)
			}
			continue
		}
		if p := r2["8080"]["processes"].([]any); len(p) != 1 || p[0].(map[string]any)["name"] != "python3" {
			t.Errorf("closed row's owners: %v", p)
		}
		if p := r2["9000"]["processes"].([]any); len(p) != 1 || p[0].(map[string]any)["name"] != "brief" {
			t.Errorf("brief row's owners: %v", p)
		}
	}
}
