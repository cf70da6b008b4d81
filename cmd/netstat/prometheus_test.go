package main

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseExposition parses text with the Prometheus reference parser and
// fails the test on any error.
func parseExposition(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses the output: %v\n%s", err, text)
	}
	for name, f := range fams {
		if f.GetHelp() == "" || f.Type == nil {
			t.Errorf("%s: no HELP or TYPE", name)
		}
	}
	return fams
}

// value returns the sample of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		default:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestPrometheusGolden(t *testing.T) {
	for _, tc := range []struct{ txtar, name, args string }{
		{"host", "host", "--format prometheus"},
		{"host", "host-per-process", "--format prometheus --per-process -tu"},
		{"host", "host-l", "--format prometheus -l"},
		{"netns", "netns", "--format prometheus --all-netns --per-process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := fixture.Root(t, "testdata/"+tc.txtar+".txtar")
			stdout, stderr, code := runCLI(t, refuseResolver{t}, append(strings.Fields(tc.args), "--root", root)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			parseExposition(t, stdout)
			fixture.Golden(t, "testdata/prometheus/"+tc.name+".prom", []byte(stdout))
		})
	}
}

func TestPrometheusValues(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	stdout, _, _ := runCLI(t, refuseResolver{t}, "--format", "prometheus", "--all-netns", "--per-process", "--root", root)
	fams := parseExposition(t, stdout)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"procnet_sockets", map[string]string{"proto": "tcp", "state": "LISTEN", "netns": "4026532301", "container": "3f4e5d6c7b8a"}, 1},
		{"procnet_sockets", map[string]string{"proto": "tcp", "state": "TIME_WAIT", "netns": "4026532402"}, 1},
		{"procnet_sockets", map[string]string{"proto": "tcp", "state": "CLOSE_WAIT", "netns": "4026531840"}, 0},
		{"procnet_sockets", map[string]string{"proto": "unix", "state": "LISTEN", "netns": "4026532301"}, 1},
		{"procnet_listening", map[string]string{"proto": "tcp", "port": "80", "address": "0.0.0.0", "netns": "4026531840"}, 1},
		{"procnet_listening", map[string]string{"proto": "tcp", "port": "6379", "address": "0.0.0.0", "container": "a1b2c3d4e5f6"}, 1},
		{"procnet_process_sockets", map[string]string{"pid": "301", "program": "nginx: worker process", "state": "ESTABLISHED"}, 1},
		{"procnet_process_sockets", map[string]string{"pid": "301", "state": "LISTEN"}, 1},
		{"procnet_interface_receive_bytes_total", map[string]string{"iface": "eth0", "netns": "4026531840"}, 158526390},
		{"procnet_interface_transmit_bytes_total", map[string]string{"iface": "eth0", "netns": "4026532301"}, 7000},
		{"procnet_interface_transmit_carrier_total", map[string]string{"iface": "eth0", "netns": "4026531840"}, 11},
		{"procnet_netns_info", map[string]string{"netns": "4026532402", "container": "a1b2c3d4e5f6"}, 1},
	} {
		got, ok := value(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

// TestPrometheusHostileLabels: label values from the system (program
// names with quotes, backslashes, newlines, invalid UTF-8) still parse.
func TestPrometheusHostileLabels(t *testing.T) {
	var b strings.Builder
	escapeLabel(&b, "a\"b\\c\nd\xffe")
	if got, want := b.String(), `a\"b\\c\nd`+"\uFFFD"+`e`; got != want {
		t.Errorf("escapeLabel = %q, want %q", got, want)
	}
	f := newMetricFamily("procnet_x", "gauge", "x")
	f.samples[labels("program", "evil\" } 1\n# HELP x\n", "pid", "1")] = 1
	var out strings.Builder
	w := newTestWriter(&out)
	writeFamily(w, f)
	w.Flush()
	fams := parseExposition(t, out.String())
	if v, ok := value(fams, "procnet_x", map[string]string{"program": "evil\" } 1\n# HELP x\n"}); !ok || v != 1 {
		t.Errorf("hostile label lost:\n%s", out.String())
	}
}

// TestPrometheusLive parses the live system's exposition and finds a
// listener the test opens.
func TestPrometheusLive(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	stdout, stderr, code := runCLI(t, refuseResolver{t}, "--format", "prometheus", "--per-process")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fams := parseExposition(t, stdout)
	if v, ok := value(fams, "procnet_listening", map[string]string{"proto": "tcp", "address": "127.0.0.1", "port": port}); !ok || v != 1 {
		t.Errorf("our listener on %s: %v %v", port, v, ok)
	}
	if v, ok := value(fams, "procnet_interface_receive_bytes_total", map[string]string{"iface": "lo"}); !ok || v < 0 {
		t.Errorf("lo counters: %v %v", v, ok)
	}
	_, _, code = runCLI(t, refuseResolver{t}, "--format", "prometheus", "-c")
	if code != 2 {
		t.Errorf("--format prometheus -c: exit %d, want 2", code)
	}
	_, _, code = runCLI(t, refuseResolver{t}, "--per-process")
	if code != 2 {
		t.Errorf("--per-process alone: exit %d, want 2", code)
	}
}

func newTestWriter(b *strings.Builder) *bufio.Writer { return bufio.NewWriter(b) }
