package promcore

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// promCollector is package metrics' adapter, for these tests to gather
// and lint a Collector with client_golang (metrics imports promcore).
type promCollector struct {
	*Collector
	descs map[*Desc]*prometheus.Desc
}

func adapt(c *Collector) promCollector {
	p := promCollector{c, map[*Desc]*prometheus.Desc{}}
	for _, d := range c.Descs() {
		p.descs[d] = prometheus.NewDesc(d.Name, d.Help, d.Labels, d.Const)
	}
	return p
}

func (p promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range p.Descs() {
		ch <- p.descs[d]
	}
}

func (p promCollector) Collect(ch chan<- prometheus.Metric) {
	p.Collector.Collect(func(d *Desc, v float64, lv ...string) {
		t := prometheus.GaugeValue
		if d.Type == Counter {
			t = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(p.descs[d], t, v, lv...)
	})
}

// collect gathers c into families by name.
func collect(t *testing.T, c *Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(adapt(c))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// value is the value of the series of family name with exactly labels
// lv ("k=v" pairs); ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, lv ...string) (float64, bool) {
	want := map[string]string{}
	for _, kv := range lv {
		k, v, _ := strings.Cut(kv, "=")
		want[k] = v
	}
next:
	for _, m := range fams[name].GetMetric() {
		if len(m.Label) != len(want) {
			continue
		}
		for _, l := range m.Label {
			if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		if m.Counter != nil {
			return m.Counter.GetValue(), true
		}
		return m.Gauge.GetValue(), true
	}
	return 0, false
}
