package promcore

import (
	"testing"

	"github.com/procnet/procnet/internal/promtest"
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

// collect gathers c, through the client_golang adapter above, into
// families by name.
func collect(t *testing.T, c *Collector) map[string]*dto.MetricFamily {
	return promtest.Gather(t, adapt(c))
}

// value is promtest.Value.
var value = promtest.Value
