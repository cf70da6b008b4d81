// Command scrape measures the metrics collector: one scrape of the live
// system, as `netstat --listen` serves each Prometheus scrape, or, with
// -churn N, the series that N ephemeral listeners leave behind.
//
//	scrape              one scrape: prints the exposition's size, then
//	                    "sockets=N series=M seconds=S" (N: TCP sockets
//	                    counted, for compare's "sockets" rule)
//	scrape -churn 1000  scrapes before, while and after 1000 ephemeral
//	                    loopback listeners are open, and prints the
//	                    series of each scrape and of their union (what a
//	                    Prometheus server stores over the three)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/procnet/procnet/metrics"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

func main() {
	churn := flag.Int("churn", 0, "open and close this many ephemeral listeners between scrapes")
	allNetns := flag.Bool("all-netns", false, "read every network namespace")
	memprofile := flag.String("memprofile", "", "write a heap profile (all allocations) of one scrape to this file")
	flag.Parse()
	if *memprofile != "" {
		runtime.MemProfileRate = 4096
		defer func() {
			f, err := os.Create(*memprofile)
			if err != nil {
				fail(err)
			}
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.New(metrics.Options{AllNetns: *allNetns}))
	if *churn == 0 {
		start := time.Now()
		mfs, err := reg.Gather()
		if err != nil {
			fail(err)
		}
		var b bytes.Buffer
		for _, mf := range mfs {
			expfmt.MetricFamilyToText(&b, mf)
		}
		elapsed := time.Since(start)
		fmt.Printf("exposition_bytes=%d\n", b.Len())
		fmt.Printf("sockets=%d series=%d seconds=%.3f\n", tcpSockets(mfs), len(series(mfs)), elapsed.Seconds())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Printf("heap_allocated_bytes=%d heap_sys_bytes=%d\n", ms.TotalAlloc, ms.HeapSys)
		return
	}

	seen := map[string]bool{}
	scrape := func(what string) {
		mfs, err := reg.Gather()
		if err != nil {
			fail(err)
		}
		s := series(mfs)
		for _, k := range s {
			seen[k] = true
		}
		fmt.Printf("%-32s sockets=%d series=%d\n", what, tcpSockets(mfs), len(s))
	}
	scrape("load")
	var lns []net.Listener
	for range *churn {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		lns = append(lns, ln)
	}
	scrape(fmt.Sprintf("load + %d listeners", *churn))
	for _, ln := range lns {
		ln.Close()
	}
	scrape(fmt.Sprintf("load, %d listeners gone", *churn))
	fmt.Printf("%-32s series=%d\n", "union of the three scrapes", len(seen))
}

// series names each series of mfs: family and labels.
func series(mfs []*dto.MetricFamily) []string {
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var b strings.Builder
			b.WriteString(mf.GetName())
			for _, l := range m.Label {
				fmt.Fprintf(&b, ",%s=%q", l.GetName(), l.GetValue())
			}
			out = append(out, b.String())
		}
	}
	return out
}

// tcpSockets sums procnet_sockets over tcp and tcp6.
func tcpSockets(mfs []*dto.MetricFamily) int {
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "procnet_sockets" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "proto" && (l.GetValue() == "tcp" || l.GetValue() == "tcp6") {
					n += m.GetGauge().GetValue()
				}
			}
		}
	}
	return int(n)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scrape:", err)
	os.Exit(1)
}
