package metrics

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/internal/promtest"
	fixture "github.com/procnet/procnet/procnettest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/tools/txtar"
)

// families are the families whose values a fixture fixes (not the
// scrape's duration).
var families = []string{
	"procnet_sockets", "procnet_program_sockets", "procnet_netns_sockets",
	"procnet_listener_info", "procnet_other_listening_sockets", "procnet_denied_processes",
	"procnet_scrape_errors_total",
}

// golden compares what c collects with testdata/name (rewritten by
// -update), through testutil.CollectAndCompare, and lints it.
func golden(t *testing.T, c prometheus.Collector, name string) {
	t.Helper()
	path := "testdata/" + name
	if *fixture.Update {
		got, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, families...)
		if err != nil {
			t.Fatal(err)
		}
		fixture.Golden(t, path, got)
	}
	want := readFile(t, path)
	if err := testutil.CollectAndCompare(c, bytes.NewReader(want), families...); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestGolden(t *testing.T) {
	t.Run("host", func(t *testing.T) {
		golden(t, New(Options{Root: fixture.Root(t, "testdata/host.txtar")}), "host.prom")
	})
	t.Run("netns", func(t *testing.T) {
		root := fixture.Root(t, "../cmd/netstat/testdata/netns.txtar")
		golden(t, New(Options{Root: root, AllNetns: true}), "netns.prom")
	})
	t.Run("bounds", func(t *testing.T) {
		root := fixture.Root(t, "testdata/host.txtar")
		golden(t, New(Options{Root: root, MaxPrograms: 1, MaxListeners: 1, ListenerPorts: []uint16{80, 8080}}), "bounds.prom")
	})
}

// collect and value are promtest's.
var (
	collect = promtest.Gather
	value   = promtest.Value
)

// TestCountingRule: a shared socket counts once in each program holding
// it, never twice in one; unowned sockets and folded programs go to
// program="", each socket once.
func TestCountingRule(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	fams := collect(t, New(Options{Root: root}))
	for _, c := range []struct {
		name string
		lv   []string
		want float64
	}{
		// 3001 (nginx 100 and 101, haproxy 102) and 3201 (nginx 100, 101).
		{"procnet_program_sockets", []string{"program=nginx", "state=LISTEN"}, 2},
		{"procnet_program_sockets", []string{"program=haproxy", "state=LISTEN"}, 1},
		{"procnet_program_sockets", []string{"program=nginx", "state=ESTABLISHED"}, 1},
		{"procnet_program_sockets", []string{"program=python3", "state=CLOSE_WAIT"}, 1},
		{"procnet_program_sockets", []string{"program=python3", "state=UNCONN"}, 1},
		{"procnet_program_sockets", []string{"program=python3", "state=CONNECTED"}, 1},
		{"procnet_program_sockets", []string{"program=", "state=TIME_WAIT"}, 1},
		{"procnet_program_sockets", []string{"program=", "state=LISTEN"}, 1}, // 631, no owner
		{"procnet_sockets", []string{"proto=tcp", "state=LISTEN"}, 4},
		{"procnet_sockets", []string{"proto=tcp", "state=SYN_SENT"}, 0},
		{"procnet_sockets", []string{"proto=udp", "state=UNCONN"}, 2},
		{"procnet_sockets", []string{"proto=unix", "state=LISTEN"}, 1},
		{"procnet_sockets", []string{"proto=unix", "state=CONNECTED"}, 1},
		{"procnet_listener_info", []string{"proto=tcp", "address=0.0.0.0", "port=80", "program=nginx"}, 1},
		{"procnet_listener_info", []string{"proto=tcp", "address=0.0.0.0", "port=80", "program=haproxy"}, 1},
		{"procnet_listener_info", []string{"proto=tcp", "address=127.0.0.1", "port=631", "program="}, 1},
		{"procnet_listener_info", []string{"proto=tcp6", "address=::1", "port=443", "program=nginx"}, 1},
		{"procnet_listener_info", []string{"proto=udp", "address=127.0.0.53", "port=53", "program=systemd-resolve"}, 1},
		{"procnet_other_listening_sockets", nil, 2}, // 8080, udp 45000
	} {
		if got, ok := value(fams, c.name, c.lv...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.lv, got, ok, c.want)
		}
	}
	if _, ok := value(fams, "procnet_listener_info", "proto=tcp", "address=127.0.0.1", "port=8080", "program=python3"); ok {
		t.Error("a listener on an unlisted port has a series of its own")
	}

	// Folded: python3 (5 sockets) keeps its series; the rest share
	// program="", where 3001 (nginx and haproxy, both folded) counts once
	// and 3301 (python3 and evil) once.
	fams = collect(t, New(Options{Root: root, MaxPrograms: 1}))
	for _, c := range []struct {
		lv   []string
		want float64
	}{
		{[]string{"program=python3", "state=ESTABLISHED"}, 1},
		{[]string{"program=", "state=LISTEN"}, 5}, // 3001, 3201, 3002, 3008, unix 15872
		{[]string{"program=", "state=ESTABLISHED"}, 2},
		{[]string{"program=", "state=CONNECTED"}, 1},
		{[]string{"program=", "state=TIME_WAIT"}, 1},
	} {
		if got, ok := value(fams, "procnet_program_sockets", c.lv...); !ok || got != c.want {
			t.Errorf("MaxPrograms 1: procnet_program_sockets%v = %v (found %v), want %v", c.lv, got, ok, c.want)
		}
	}
	if n := len(fams["procnet_program_sockets"].GetMetric()); n > 2*nStateValues {
		t.Errorf("MaxPrograms 1: %d series", n)
	}
}

// TestProgramLabelEscaped: issue 13 saw ESC, BEL, DEL, BS, CR and U+009B
// pass raw into the program label; comm and argv[0] both carry them here.
func TestProgramLabelEscaped(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	for _, tc := range []struct {
		cmdline bool
		raw     string
	}{
		{false, "ev\x1b[1m\x07\x7f\x08\r\u009b\u202e"},
		{true, "evil\x1b[31m\x07\x7f\x08\r\u009b\u202e"},
	} {
		fams := collect(t, New(Options{Root: root, Cmdline: tc.cmdline}))
		want := escape.String(tc.raw)
		if want == tc.raw {
			t.Fatal("escape left the test name as it is")
		}
		if _, ok := value(fams, "procnet_program_sockets", "program="+want, "state=ESTABLISHED"); !ok {
			t.Errorf("Cmdline %v: no series for program %q", tc.cmdline, want)
		}
		for _, mf := range fams {
			for _, m := range mf.Metric {
				for _, l := range m.Label {
					v := l.GetValue()
					if !utf8.ValidString(v) || escape.Needed(v) {
						t.Errorf("%s: label %s=%q holds what the escaping rule removes", mf.GetName(), l.GetName(), v)
					}
				}
			}
		}
	}
}

// nStateValues is the number of state label values (S in the doc).
const nStateValues = 19

// bound is the worst-case series count the package doc promises.
func bound(o Options) int {
	c := New(o)
	maxPrograms := cmp.Or(o.MaxPrograms, DefaultMaxPrograms)
	n := 9*nStateValues + cmp.Or(o.MaxListeners, DefaultMaxListeners) + 3
	if !o.NoOwners {
		n++ // procnet_denied_processes
		n += (maxPrograms + 1) * nStateValues
	}
	if o.AllNetns {
		n += (cmp.Or(o.MaxNamespaces, DefaultMaxNamespaces) + 1) * nStateValues
	}
	if _, err := c.TrafficSource(); o.Traffic && err == nil {
		n += 2*(maxPrograms+1) + 1 // the traffic counters, lost events
	}
	c.Close()
	return n
}

// listenersRoot writes a root with n processes, each of its own name,
// each holding a listener on its own ephemeral port (and an established
// connection), beside an sshd on port 22.
func listenersRoot(t *testing.T, n int) string {
	var ar txtar.Archive
	add := func(name, body string) {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(body)})
	}
	var tcp strings.Builder
	tcp.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	row := func(i int, local, remote uint16, st string, inode int) {
		fmt.Fprintf(&tcp, "  %d: 0100007F:%04X 0100007F:%04X %s 00000000:00000000 00:00000000 00000000     0        0 %d 1 0000000000000000 100 0 0 10 0\n",
			i, local, remote, st, inode)
	}
	for i := 0; i <= n; i++ {
		pid, name, port := 1000+i, fmt.Sprintf("worker-%d", i), uint16(32768+i)
		if i == n {
			name, port = "sshd", 22
		}
		add(fmt.Sprintf("proc/%d/stat", pid), fmt.Sprintf("%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %d 23000000 3000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", pid, name, pid, pid, pid))
		add(fmt.Sprintf("proc/%d/status", pid), "Name:\t"+name+"\nUid:\t0\t0\t0\t0\n")
		add(fmt.Sprintf("proc/%d/comm", pid), name+"\n")
		add(fmt.Sprintf("proc/%d/cmdline", pid), name+"\x00")
		add(fmt.Sprintf("proc/%d/fd/3 -> socket:[%d]", pid, 10000+2*i), "")
		add(fmt.Sprintf("proc/%d/fd/4 -> socket:[%d]", pid, 10001+2*i), "")
		row(2*i, port, 0, "0A", 10000+2*i)
		row(2*i+1, uint16(60000-i), port, "01", 10001+2*i)
	}
	add("proc/net/tcp", tcp.String())
	dir := t.TempDir()
	if err := fixture.Write(dir, &ar); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSeriesBound: 1,000 ephemeral listeners held by 1,000 programs of
// distinct names add no series over 10 of them: the options bound every
// label set.
func TestSeriesBound(t *testing.T) {
	o := Options{MaxPrograms: 5, MaxListeners: 10, NoUnix: true}
	count := func(n int) int {
		o := o
		o.Root = listenersRoot(t, n)
		fams := collect(t, New(o))
		if v, _ := value(fams, "procnet_other_listening_sockets"); v != float64(n) {
			t.Errorf("%d listeners: procnet_other_listening_sockets = %v", n, v)
		}
		if _, ok := value(fams, "procnet_listener_info", "proto=tcp", "address=127.0.0.1", "port=22", "program=sshd"); !ok {
			t.Errorf("%d listeners: the sshd listener has no series", n)
		}
		total := 0
		for _, mf := range fams {
			total += len(mf.Metric)
		}
		return total
	}
	small, large := count(10), count(1000)
	if large != small {
		t.Errorf("series: %d with 10 ephemeral listeners, %d with 1000", small, large)
	}
	if b := bound(o); large > b {
		t.Errorf("series: %d, beyond the documented bound %d", large, b)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrentCollect: concurrent scrapes of one Collector (promhttp
// serves them in parallel) give the same series; run it with -race.
func TestConcurrentCollect(t *testing.T) {
	c := New(Options{Root: fixture.Root(t, "testdata/host.txtar")})
	want := testutil.CollectAndCount(c)
	done := make(chan int)
	for range 4 {
		go func() { done <- testutil.CollectAndCount(c) }()
	}
	for range 4 {
		if got := <-done; got != want {
			t.Errorf("concurrent scrape: %d series, want %d", got, want)
		}
	}
}

// TestScrapeErrors: a bad row is reported, counted in
// procnet_scrape_errors_total over every scrape, and the rows around it
// are still counted.
func TestScrapeErrors(t *testing.T) {
	root := t.TempDir()
	ar := txtar.Parse([]byte(`-- proc/net/tcp --
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 100 1 0000000000000000 100 0 0 10 0
   1: garbage
   2: 0100007F:9C40 0100007F:0016 01 00000000:00000000 00:00000000 00000000     0        0 101 1 0000000000000000 100 0 0 10 0
`))
	if err := fixture.Write(root, ar); err != nil {
		t.Fatal(err)
	}
	var reported []string
	c := New(Options{Root: root, NoOwners: true, OnError: func(err error) { reported = append(reported, err.Error()) }})
	collect(t, c)
	fams := collect(t, c)
	if v, _ := value(fams, "procnet_scrape_errors_total"); v != 2 {
		t.Errorf("procnet_scrape_errors_total = %v after two scrapes, want 2", v)
	}
	if len(reported) != 2 || !strings.HasPrefix(reported[0], "proc/net/tcp:3:") {
		t.Errorf("reported %q", reported)
	}
	for _, st := range []string{"LISTEN", "ESTABLISHED"} {
		if v, _ := value(fams, "procnet_sockets", "proto=tcp", "state="+st); v != 1 {
			t.Errorf("tcp %s = %v, want 1", st, v)
		}
	}
}
