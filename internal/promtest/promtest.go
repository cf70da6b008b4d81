// Package promtest gathers a prometheus.Collector the way a scrape does
// and reads its series back, for the tests of the packages that make
// metrics (metrics, internal/promcore). Only tests import it.
package promtest

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Gather registers c alone in a pedantic registry (which checks every
// metric against its Desc), gathers it, and returns its families by
// name. A gathering error fails t.
func Gather(t testing.TB, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
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

// Value is the value of the series of family name with exactly labels
// lv ("k=v" pairs); ok is false when there is none.
func Value(fams map[string]*dto.MetricFamily, name string, lv ...string) (float64, bool) {
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
