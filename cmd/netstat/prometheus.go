package main

// --format prometheus, --listen ADDR, --textfile PATH: the socket metrics
// of package metrics (docs/prometheus.md), in the Prometheus text
// exposition format.
//
//	--format prometheus   print one exposition on stdout
//	--textfile PATH       write it to PATH atomically (a temporary file in
//	                      the same directory, then rename), for
//	                      node_exporter's textfile collector
//	--listen ADDR         serve it at http://ADDR/metrics, one read of the
//	                      system per scrape, until SIGTERM or SIGINT
//	--textfile-interval SECS
//	                      with --textfile: rewrite the file every SECS
//	                      until SIGTERM or SIGINT, from one collector
//	--metrics-traffic     add procnet_program_tcp_sent_bytes_total and
//	                      _received_bytes_total (per-program TCP bytes, from
//	                      tcp_info and a flows close feed); only with
//	                      --listen or --textfile-interval, where one process
//	                      lives across scrapes: a one-shot exposition
//	                      (--format prometheus, a single --textfile) has no
//	                      history of closed connections, so its "counters"
//	                      would be the open connections' bytes and fall when
//	                      one closes; it is refused there (exit 2). Where no
//	                      close feed works (only polling), a note goes to
//	                      stderr and the families are left out.
//
// The families, their labels and the worst-case series count are the
// metrics package's. The flags bound the label sets:
//
//	--listener-ports LIST   ports whose listeners get a series each in
//	                        procnet_listener_info: numbers and ranges
//	                        ("22,80,443,8000-8099"), or "none"; default
//	                        1-1023; every other listener is counted in
//	                        procnet_other_listening_sockets
//	--max-programs N        programs with series of their own (50)
//	--max-netns N           namespaces with series of their own (50)
//	--max-listeners N       series of procnet_listener_info (100)
//
// The filters narrow what is counted: -t, -u, -4, -6 (tables), --state,
// --port, --sport, --dport, -l (listeners only), -x alone (unix only);
// --all-netns adds procnet_netns_sockets, --netns PID reads that
// process's namespace. Programs are named by comm (argv is never read).
// --per-process, which once added per-PID series, is accepted and does
// nothing: the per-program series are always there.

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
	"github.com/spf13/pflag"
)

// metricsFlags are --listen, --textfile and the bounds of the series.
type metricsFlags struct {
	listen, textfile string
	listenerPorts    string
	ports            []uint16 // --listener-ports parsed; nil: the default
	maxPrograms      int
	maxNetns         int
	maxListeners     int
	metricsTraffic   bool    // --metrics-traffic
	textfileEvery    float64 // --textfile-interval, seconds; 0: write once
}

func (m *metricsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&m.listen, "listen", "", "")
	fs.StringVar(&m.textfile, "textfile", "", "")
	fs.StringVar(&m.listenerPorts, "listener-ports", "1-1023", "")
	fs.IntVar(&m.maxPrograms, "max-programs", promcore.DefaultMaxPrograms, "")
	fs.IntVar(&m.maxNetns, "max-netns", promcore.DefaultMaxNamespaces, "")
	fs.IntVar(&m.maxListeners, "max-listeners", promcore.DefaultMaxListeners, "")
	fs.BoolVar(&m.metricsTraffic, "metrics-traffic", false, "")
	fs.Float64Var(&m.textfileEvery, "textfile-interval", 0, "")
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
	if c.listen == "" && c.textfileEvery <= 0 { // one exposition
		if c.textfile == "" {
			return cmp.Or(col.WriteText(stdout), failed)
		}
		if err := col.WriteTextfile(c.textfile); err != nil {
			return fmt.Errorf("--textfile: %v", err)
		}
		return failed
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if c.listen != "" {
		return serveMetrics(ctx, c.listen, col, stderr)
	}
	// --textfile-interval: rewrite the file every SECS until SIGTERM or
	// SIGINT.
	tick := time.NewTicker(time.Duration(c.textfileEvery * float64(time.Second)))
	defer tick.Stop()
	for {
		if err := col.WriteTextfile(c.textfile); err != nil {
			return fmt.Errorf("--textfile: %v", err)
		}
		select {
		case <-ctx.Done():
			return failed
		case <-tick.C:
		}
	}
}

// serveMetrics serves col at http://addr/metrics, at most 4 scrapes at a
// time, until ctx ends (SIGTERM or SIGINT); then it lets the scrapes
// under way finish (5 s at most).
func serveMetrics(ctx context.Context, addr string, col *promcore.Collector, stderr io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--listen: %v", err)
	}
	fmt.Fprintf(stderr, "netstat: serving http://%s/metrics\n", ln.Addr())
	if err := col.Serve(ctx, ln, 4, 5*time.Second); err != nil {
		return fmt.Errorf("--listen: %v", err)
	}
	return nil
}
