package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
	fixture "github.com/procnet/procnet/procnettest"
)

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("JSON %q: %v", line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

func csvRecords(t *testing.T, out string) (header []string, recs []map[string]string) {
	t.Helper()
	all, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("CSV: %v, %d records", err, len(all))
	}
	for _, r := range all[1:] {
		m := map[string]string{}
		for i, k := range all[0] {
			m[k] = r[i]
		}
		recs = append(recs, m)
	}
	return all[0], recs
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runCLI(t, refuseResolver{t}, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
	}
	return out
}

// tableWord is the table's state rule (README): net-tools' words. TCP:
// the kernel's name; UDP and UDP-Lite: ESTABLISHED when connected, blank
// when not; raw: the kernel's number; unix: LISTENING for a listener,
// blank for another unconnected socket, else the kernel's name. It is
// derived here from the machine outputs' state, the library's StateName.
func tableWord(proto, state string) string {
	switch {
	case proto == "unix" && state == "LISTEN":
		return "LISTENING"
	case state == "UNCONN":
		if strings.HasPrefix(proto, "raw") {
			return strconv.Itoa(int(netstat.Close))
		}
		return ""
	case strings.HasPrefix(proto, "raw"):
		st, _ := netstat.ParseState(state)
		return strconv.Itoa(int(st))
	}
	return state
}

// TestStateVocabulary: every output follows its rule for every socket of
// the fixture. JSON and CSV print the library's StateName and Listening;
// the table prints net-tools' word for the same state; "listening" is
// true exactly for LISTEN and for a non-unix UNCONN.
func TestStateVocabulary(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	objs := jsonLines(t, mustRun(t, "--json", "-tuwxan", "--root", root))
	_, recs := csvRecords(t, mustRun(t, "--csv", "-tuwxan", "--root", root))
	table := strings.Split(mustRun(t, "-tuwxan", "--root", root), "\n")
	var rows []string // the table's socket rows, in order
	for _, l := range table {
		if strings.HasPrefix(l, "tcp") || strings.HasPrefix(l, "udp") || strings.HasPrefix(l, "raw") || strings.HasPrefix(l, "unix") {
			rows = append(rows, l)
		}
	}
	if len(objs) != len(recs) || len(objs) != len(rows) || len(objs) < 20 {
		t.Fatalf("%d JSON objects, %d CSV records, %d table rows", len(objs), len(recs), len(rows))
	}
	vocab := map[string]bool{"UNCONN": true, "LISTEN": true, "CONNECTED": true, "CONNECTING": true, "DISCONNECTING": true, "FREE": true}
	for st := netstat.Established; st <= netstat.NewSynRecv; st++ {
		vocab[st.String()] = true
	}
	seen := map[string]bool{}
	for i, o := range objs {
		proto, state := o["proto"].(string), o["state"].(string)
		seen[proto+" "+state] = true
		if !vocab[state] {
			t.Errorf("%d: JSON state %q is not in the vocabulary", i, state)
		}
		wantListening := state == "LISTEN" || state == "UNCONN" && proto != "unix"
		if o["listening"] != wantListening {
			t.Errorf("%d: %s %s: listening %v", i, proto, state, o["listening"])
		}
		if recs[i]["State"] != state || recs[i]["Listening"] != strconv.FormatBool(wantListening) {
			t.Errorf("%d: CSV %q/%q, JSON %q/%v", i, recs[i]["State"], recs[i]["Listening"], state, wantListening)
		}
		var got string
		if proto == "unix" {
			got = strings.TrimSpace(rows[i][36:49])
			if recs[i]["Type"] != o["type"] {
				t.Errorf("%d: CSV type %q, JSON %q", i, recs[i]["Type"], o["type"])
			}
		} else {
			got = strings.TrimSpace(rows[i][68:79])
		}
		if want := tableWord(proto, state); got != want {
			t.Errorf("%d: table %q, want %q (JSON %s %s):\n%s", i, got, want, proto, state, rows[i])
		}
	}
	// The fixture has each kind the rule tells apart.
	for _, k := range []string{"tcp LISTEN", "tcp TIME_WAIT", "udp UNCONN", "udp ESTABLISHED", "raw UNCONN", "unix LISTEN", "unix UNCONN", "unix CONNECTED"} {
		if !seen[k] {
			t.Errorf("no %s row in the fixture", k)
		}
	}
	// Prometheus's state label has the same words, for every proto.
	promSeen := map[string]bool{}
	for _, l := range strings.Split(mustRun(t, "--format", "prometheus", "-tuwxan", "--root", root), "\n") {
		if !strings.HasPrefix(l, "procnet_sockets{") {
			continue
		}
		proto := l[strings.Index(l, `proto="`)+7:]
		proto = proto[:strings.IndexByte(proto, '"')]
		state := l[strings.Index(l, `state="`)+7:]
		state = state[:strings.IndexByte(state, '"')]
		if !vocab[state] {
			t.Errorf("Prometheus state %q is not in the vocabulary: %s", state, l)
		}
		if !strings.HasSuffix(l, " 0") {
			promSeen[proto+" "+state] = true
		}
	}
	for k := range seen {
		if !promSeen[k] {
			t.Errorf("JSON has %s sockets, Prometheus none", k)
		}
	}
}

// With -o, JSON has the timer fields and CSV the timer columns, equal;
// without it neither has them. -e and -ee change neither's fields: uid,
// user and inode are always there.
func TestMachineTimersAndExtend(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	objs := jsonLines(t, mustRun(t, "--json", "-tano", "--root", root))
	h, recs := csvRecords(t, mustRun(t, "--csv", "-tano", "--root", root))
	if !strings.Contains(strings.Join(h, ","), "Timer,Timer Seconds,Retransmits,Timeout") {
		t.Errorf("CSV -o header %v", h)
	}
	var on bool
	for i, o := range objs {
		for _, k := range []string{"timer", "timer_seconds", "retransmits", "timeout"} {
			if _, ok := o[k]; !ok {
				t.Fatalf("JSON -o lacks %q: %v", k, o)
			}
		}
		if recs[i]["Timer"] != o["timer"] || recs[i]["Timer Seconds"] != strconv.FormatFloat(o["timer_seconds"].(float64), 'f', -1, 64) ||
			recs[i]["Retransmits"] != strconv.Itoa(int(o["retransmits"].(float64))) || recs[i]["Timeout"] != strconv.Itoa(int(o["timeout"].(float64))) {
			t.Errorf("%d: CSV %v, JSON %v", i, recs[i], o)
		}
		on = on || o["timer"] == "on" && o["timer_seconds"].(float64) > 0
	}
	if !on {
		t.Errorf("no running timer in -o's JSON")
	}
	for _, args := range [][]string{{"--json", "-tan"}, {"--json", "-tane"}, {"--json", "-tanee"}} {
		for _, o := range jsonLines(t, mustRun(t, append(args, "--root", root)...)) {
			if _, ok := o["timer"]; ok {
				t.Errorf("%v: timer without -o", args)
			}
			for _, k := range []string{"uid", "user", "inode"} {
				if _, ok := o[k]; !ok {
					t.Errorf("%v: no %q", args, k)
				}
			}
		}
	}
}

// CSV with --all-netns (and --netns) has the namespace columns, equal to
// JSON's netns and container.
func TestCSVNetNS(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	for _, flag := range [][]string{{"--all-netns"}, {"--netns", "400"}} {
		args := append([]string{"-tuan", "--root", root}, flag...)
		objs := jsonLines(t, mustRun(t, append(args, "--json")...))
		h, recs := csvRecords(t, mustRun(t, append(args, "--csv")...))
		if h[len(h)-2] != "NetNS" || h[len(h)-1] != "Container" || len(recs) != len(objs) || len(recs) == 0 {
			t.Fatalf("%v: header %v, %d records, %d objects", flag, h, len(recs), len(objs))
		}
		for i, o := range objs {
			c, _ := o["container"].(string)
			if recs[i]["NetNS"] != strconv.FormatUint(uint64(o["netns"].(float64)), 10) || recs[i]["Container"] != c {
				t.Errorf("%v %d: CSV %q %q, JSON %v %v", flag, i, recs[i]["NetNS"], recs[i]["Container"], o["netns"], o["container"])
			}
		}
	}
	if h, _ := csvRecords(t, mustRun(t, "--csv", "-tuan", "--root", root)); strings.Contains(strings.Join(h, ","), "NetNS") {
		t.Errorf("NetNS without --all-netns: %v", h)
	}
}

// Under -c, CSV writes its header once and a Time column; every JSON
// object carries its round's time; so do --summary's.
func TestWatchStructured(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, tc := range []struct {
		args    []string
		csv     bool
		perLine int // records per round
	}{
		{[]string{"--csv", "-tan"}, true, 0},
		{[]string{"--json", "-tan"}, false, 0},
		{[]string{"--summary", "--csv", "-tan"}, true, 0},
		{[]string{"--summary", "--json", "-tan"}, false, 0},
	} {
		t.Run(strings.Join(tc.args, ""), func(t *testing.T) {
			c := watchConfig(t, root, append(tc.args, "-c", "0.01")...)
			// The clock ends the run when the fourth round starts (a cancel
			// ends the round it falls in, unprinted); the timeout, should the
			// loop not ask the clock, ends it all the same.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var out bytes.Buffer
			round := 0
			now := func() time.Time {
				round++
				if round == 4 {
					cancel()
				}
				return time.Date(2025, 1, 2, 3, 4, round, 0, time.UTC)
			}
			if err := watch(ctx, c, &out, &bytes.Buffer{}, now); err != nil {
				t.Fatal(err)
			}
			stamps := map[string]int{}
			if tc.csv {
				h, recs := csvRecords(t, out.String())
				if h[0] != "Time" && h[0] != "time" {
					t.Fatalf("header %v", h)
				}
				for _, r := range recs {
					stamps[r[h[0]]]++
				}
			} else {
				for _, o := range jsonLines(t, out.String()) {
					s, _ := o["time"].(string)
					stamps[s]++
				}
			}
			if len(stamps) != 3 || stamps["2025-01-02T03:04:01.000Z"] == 0 || stamps["2025-01-02T03:04:03.000Z"] != stamps["2025-01-02T03:04:01.000Z"] {
				t.Errorf("records per round's time: %v\n%s", stamps, out.String())
			}
		})
	}
}

// --summary --csv holds what --summary --json holds.
func TestSummaryCSVMatchesJSON(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, by := range []string{"process", "remote", "port"} {
		args := []string{"--by", by, "-tuan", "--root", root}
		objs := jsonLines(t, mustRun(t, append(args, "--json")...))
		h, recs := csvRecords(t, mustRun(t, append(args, "--csv")...))
		if len(objs) != len(recs) {
			t.Fatalf("--by %s: %d objects, %d records", by, len(objs), len(recs))
		}
		for i, o := range objs {
			states, _ := o["states"].(map[string]any)
			for _, k := range h {
				want := ""
				switch v := o[k].(type) {
				case string:
					want = v
				case float64:
					want = strconv.Itoa(int(v))
				case bool:
					want = strconv.FormatBool(v)
				case nil:
					if n, ok := states[k].(float64); ok {
						want = strconv.Itoa(int(n))
					} else if k == strings.ToUpper(k) {
						want = "0"
					}
				}
				if recs[i][k] != want {
					t.Errorf("--by %s %d: %s: CSV %q, JSON %q", by, i, k, recs[i][k], want)
				}
			}
		}
	}
}

// The counting rule: a socket counts once in the group of each distinct
// PID holding it, never twice in one; --by remote and --by port count
// each socket once.
func TestSummaryCounting(t *testing.T) {
	root := fixture.Root(t, "testdata/hostile.txtar")
	totals := map[string]int{}
	for _, o := range jsonLines(t, mustRun(t, "--summary", "--json", "-tuan", "--root", root)) {
		totals[strconv.Itoa(int(o["pid"].(float64)))] = int(o["total"].(float64))
	}
	// 100 holds 3001 (twice), 3002, 3003; 101 shares 3001.
	if totals["100"] != 3 || totals["101"] != 1 || len(totals) != 2 {
		t.Errorf("per process totals %v, want 100:3 101:1", totals)
	}
	for _, by := range []string{"remote", "port"} {
		sum := 0
		for _, o := range jsonLines(t, mustRun(t, "--summary", "--by", by, "--json", "-tuan", "--root", root)) {
			sum += int(o["total"].(float64))
		}
		if sum != 3 {
			t.Errorf("--by %s: %d sockets counted, want 3", by, sum)
		}
	}
}

// --format names one format: with another --json or --csv it is a usage
// error, as --json --csv is.
func TestFormatConflicts(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, args := range [][]string{
		{"--format", "json", "--csv"}, {"--csv", "--format", "json"}, {"--format", "csv", "--json"},
		{"--format", "table", "--json"}, {"--format", "prometheus", "--csv"}, {"--json", "--csv"},
	} {
		out, errs, code := runCLI(t, refuseResolver{t}, append(args, "-tn", "--root", root)...)
		if code != 2 || out != "" || !strings.Contains(errs, "exclude") {
			t.Errorf("%v: exit %d, stderr %.80q", args, code, errs)
		}
	}
	for _, args := range [][]string{{"--format", "json", "--json"}, {"--format", "csv", "--csv"}} {
		if _, errs, code := runCLI(t, refuseResolver{t}, append(args, "-tn", "--root", root)...); code != 0 {
			t.Errorf("%v: exit %d, stderr %.80q", args, code, errs)
		}
	}
}

// A name cut to its column is cut on a rune boundary.
func TestRuneCut(t *testing.T) {
	s := []byte("ab\U0001B6C8cd") // the 4-byte rune holds 0x9b
	for n, want := range map[int]int{0: 0, 2: 2, 3: 2, 4: 2, 5: 2, 6: 6, 7: 7, 100: 8} {
		if got := runeCut(s, n); got != want {
			t.Errorf("runeCut(%d) = %d, want %d", n, got, want)
		}
	}
	// -r's, -i's and --all-netns' columns too: an interface name keeps
	// no stray byte of a character at 15 bytes.
	if got := cut("interface-12345\U0001B6C8", 17); got != "interface-12345" {
		t.Errorf("cut = %q", got)
	}
	if got := cut("abc", 15); got != "abc" {
		t.Errorf("cut of a short name = %q", got)
	}
}
