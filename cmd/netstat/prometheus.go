package main

// --format prometheus, --listen ADDR, --textfile PATH: the socket metrics
// of package metrics in the Prometheus text exposition format.
// docs/prometheus.md says what each flag does (--textfile-interval,
// --metrics-traffic, --listener-ports, --max-*), the families, their
// labels and bounds, and why --metrics-traffic is refused in a one-shot
// exposition. --per-process, which once added per-PID series, is
// accepted and does nothing: the per-program series are always there.

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/procnet/procnet/internal/promcore"
)

// metricsFlags are --listen, --textfile and the bounds of the series.
type metricsFlags struct {
	listen, textfile string
	ports            []uint16 // --listener-ports, parsed with --format prometheus
	maxPrograms      int
	maxNetns         int
	maxListeners     int
	metricsTraffic   bool    // --metrics-traffic
	textfileEvery    float64 // --textfile-interval, seconds; 0: write once
}

// collectorOptions turns the command line into the collector's options.
func (c *config) collectorOptions() promcore.Options {
	return promcore.Options{
		Root:          c.root,
		PID:           c.netnsPID,
		Filter:        c.filter(), // no inet table when only -x is given
		NoUnix:        !c.unix,
		AllNetns:      c.allNetns,
		ListenerPorts: c.ports,
		MaxPrograms:   c.maxPrograms,
		MaxNamespaces: c.maxNetns,
		MaxListeners:  c.maxListeners,
		Traffic:       c.metricsTraffic,
	}
}

// prometheus prints, writes or serves the metrics, in the text format
// that package metrics' collector gives through client_golang (which the
// command does not link: its start-up cost every run).
func prometheus(c *config, stdout, stderr io.Writer) error {
	opts := c.collectorOptions()
	var failed error
	opts.OnError = func(err error) { failed = cmp.Or(report(stderr, err), failed) }
	col := promcore.New(opts)
	defer col.Close()
	if _, err := col.TrafficSource(); opts.Traffic && err != nil {
		fmt.Fprintf(stderr, "netstat: --metrics-traffic: %s\n", sanitize(err.Error()))
	}
	if c.listen == "" && c.textfile == "" { // one exposition on stdout
		return cmp.Or(col.WriteText(stdout), failed)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if c.listen != "" {
		// At most 4 scrapes at a time until SIGTERM or SIGINT; then the
		// scrapes under way finish (5 s at most).
		ln, err := net.Listen("tcp", c.listen)
		if err == nil {
			fmt.Fprintf(stderr, "netstat: serving http://%s/metrics\n", ln.Addr())
			err = col.Serve(ctx, ln, 4, 5*time.Second)
		}
		if err != nil {
			return fmt.Errorf("--listen: %v", err)
		}
		return nil
	}
	// --textfile: written once, or with --textfile-interval every SECS
	// until SIGTERM or SIGINT.
	var tick <-chan time.Time
	if c.textfileEvery > 0 {
		t := time.NewTicker(time.Duration(c.textfileEvery * float64(time.Second)))
		defer t.Stop()
		tick = t.C
	}
	for {
		if err := col.WriteTextfile(c.textfile); err != nil {
			return fmt.Errorf("--textfile: %v", err)
		}
		if tick == nil {
			return failed
		}
		select {
		case <-ctx.Done():
			return failed
		case <-tick:
		}
	}
}
