package promcore

import (
	"bytes"
	"math"
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// funcCollector is families and a function emitting their samples, as a
// prometheus.Collector.
type funcCollector struct {
	descs   []*Desc
	collect func(Emit)
}

func (f funcCollector) prom() map[*Desc]*prometheus.Desc {
	m := map[*Desc]*prometheus.Desc{}
	for _, d := range f.descs {
		m[d] = prometheus.NewDesc(d.Name, d.Help, d.Labels, d.Const)
	}
	return m
}

func (f funcCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range f.prom() {
		ch <- d
	}
}

func (f funcCollector) Collect(ch chan<- prometheus.Metric) {
	m := f.prom()
	f.collect(func(d *Desc, v float64, lv ...string) {
		t := prometheus.GaugeValue
		if d.Type == Counter {
			t = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(m[d], t, v, lv...)
	})
}

// expfmtText is what client_golang's registry and expfmt make of c.
func expfmtText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestWriteTextExpfmt: writeText is byte for byte client_golang's text
// for what the format escapes (\ " and newline in label values, \ and
// newline in HELP), constant labels, label and family order, families
// with no sample, and the values expfmt writes specially.
func TestWriteTextExpfmt(t *testing.T) {
	a := &Desc{Name: "b_info", Help: "A \\ help\nof two lines \"quoted\".", Labels: []string{"zeta", "alpha"},
		Const: map[string]string{"mid": `c"q\`}}
	b := &Desc{Name: "a_total", Help: "Counted.", Type: Counter}
	c := &Desc{Name: "c_empty", Help: "Never sent."}
	d := &Desc{Name: "d_values", Help: "Values.", Labels: []string{"v"}}
	f := funcCollector{[]*Desc{a, b, c, d}, func(emit Emit) {
		emit(a, 1, "z\"1", "a\\1")
		emit(a, 2, "z\n2", "")
		emit(a, 3, "", "a\\1")
		emit(a, 4, "é", "a")
		emit(a, 5, "z", "a")
		emit(b, 12345)
		for i, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e21, 123456789, 1e-7,
			math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64} {
			emit(d, v, string(rune('a'+i)))
		}
	}}
	want := expfmtText(t, f)
	var got bytes.Buffer
	if err := writeText(&got, f.descs, f.collect); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("writeText differs from expfmt:\n%s", fixture.Diff([]byte(want), got.Bytes()))
	}
}

// TestWriteTextCollector: a Collector's text over a fixture is expfmt's
// of the same Collector through client_golang (all but the duration).
func TestWriteTextCollector(t *testing.T) {
	for _, o := range []Options{
		{},
		{MaxPrograms: 1, MaxListeners: 1, ListenerPorts: []uint16{80, 8080}},
		{Cmdline: true, NoUnix: true},
		{NoOwners: true},
	} {
		o.Root = fixture.Root(t, "../../metrics/testdata/host.txtar")
		c := New(o)
		var got bytes.Buffer
		if err := c.WriteText(&got); err != nil {
			t.Fatal(err)
		}
		want := expfmtText(t, adapt(c))
		if untimed(got.String()) != untimed(want) {
			t.Errorf("%+v: WriteText differs from expfmt:\n%s", o, fixture.Diff([]byte(untimed(want)), []byte(untimed(got.String()))))
		}
	}
}

// untimed is a text less the scrape duration's value.
func untimed(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "procnet_scrape_duration_seconds ") {
			lines[i] = "procnet_scrape_duration_seconds (varies)"
		}
	}
	return strings.Join(lines, "\n")
}
