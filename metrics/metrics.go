// Package metrics is a Prometheus collector of socket counts: by protocol
// and state, per program, per network namespace, and the listeners on the
// ports a user cares about. Every label set is bounded by Options, so
// ephemeral listeners, restarted processes and new PIDs never add series.
//
//	c := metrics.New(metrics.Options{})
//	prometheus.MustRegister(c)
//	http.Handle("/metrics", promhttp.Handler())
//
// # Families
//
//	procnet_sockets{proto,state}                 gauge: sockets per table (tcp,
//	                                             tcp6, udp, …, unix) and state;
//	                                             every TCP state and UDP's
//	                                             UNCONN/ESTABLISHED are there,
//	                                             0 included
//	procnet_program_sockets{program,state}       gauge: sockets each program
//	                                             holds (comm, or argv[0] with
//	                                             Options.Cmdline; not the PID)
//	procnet_netns_sockets{netns,container,state} gauge, with AllNetns: sockets
//	                                             per network namespace
//	procnet_listener_info{proto,address,port,program} gauge 1: a listener on
//	                                             one of Options.ListenerPorts
//	                                             (with AllNetns also netns,
//	                                             container)
//	procnet_other_listening_sockets              gauge: every other listener
//	procnet_denied_processes                     gauge: processes whose fds
//	                                             could not be read (a non-root
//	                                             caller's view of others)
//	procnet_scrape_duration_seconds              gauge: the last scrape's time
//	procnet_scrape_errors_total                  counter: tables that could not
//	                                             be read and bad rows, summed
//	                                             over scrapes
//	procnet_program_tcp_sent_bytes_total{program}     counter, with Traffic:
//	procnet_program_tcp_received_bytes_total{program} TCP payload bytes of each
//	                                             program's connections, open
//	                                             and closed (# Traffic)
//	procnet_traffic_lost_events_total{source}    counter, with Traffic: events
//	                                             the close feed dropped
//
// The state label is the kernel's TCP state (ESTABLISHED … NEW_SYN_RECV);
// for UDP, UDP-Lite and raw sockets UNCONN (unconnected) or ESTABLISHED
// (connected); for unix sockets LISTEN, UNCONNECTED, CONNECTING,
// CONNECTED, DISCONNECTING or FREE; UNKNOWN for a state with no name here.
// A listener is a TCP socket in LISTEN, or a UDP (UDP-Lite) socket bound
// to a port and connected to no peer.
//
// # Counting
//
// The rule the command's --summary shares: a socket counts once in each
// group it belongs to. A socket held by several processes belongs to the
// group of each distinct program among them, and never counts twice in
// one group (a prefork server's shared listener is one LISTEN socket of
// nginx). The groups beyond a bound are folded into one series with an
// empty label (program="", netns="" container=""): it counts the sockets
// that belong to at least one folded group, once each, and, in
// procnet_program_sockets, the sockets no visible process holds
// (TIME_WAIT, request sockets, other users' processes for a non-root
// caller). Which programs and namespaces keep their own series is decided
// at each scrape: those with the most sockets, ties broken by name.
//
// Program names are read from the system (any local user chooses comm
// and argv[0]) and pass through internal/escape, procnet's one escaping
// rule, before they become label values: control characters, bidi
// overrides and invalid UTF-8 arrive as \xNN, \uNNNN text.
//
// # Series bound
//
// With S = 19 state values, the worst case of one scrape is
//
//	procnet_sockets                  9 × S        = 171
//	procnet_program_sockets          (MaxPrograms + 1) × S
//	procnet_netns_sockets            (MaxNamespaces + 1) × S, with AllNetns
//	procnet_listener_info            MaxListeners
//	procnet_other_listening_sockets, _denied_processes, _scrape_*   4
//
// //	procnet_program_tcp_*_bytes_total  2 × (MaxPrograms + 1) + 1, with Traffic
//
// which with the defaults (50 programs, 50 namespaces, 100 listeners) is
// 171 + 969 + 969 + 100 + 4 = 2213 series (1244 without AllNetns),
// whatever the host holds; a typical host shows a few dozen. Over time,
// a label changes only when a program of another name, a namespace or a
// listener on a listed port appears: ephemeral ports, PIDs and restarts
// add nothing.
//
// # Traffic
//
// With Options.Traffic, procnet_program_tcp_sent_bytes_total and
// procnet_program_tcp_received_bytes_total count the TCP payload bytes
// (tcp_info's, retransmissions once, no headers) of each program's
// connections in the collector's network namespace: the open ones as a
// scrape reads them, and every one that closed since New, with its final
// counters from a flows feed that New starts and Close stops. They are
// counters, and never fall, by one rule: at each sight of a connection
// (a scrape listing it, its close event) the bytes it moved since the last
// sight are added, once, to each distinct program among its owners then
// (to program="" when it has no visible owner or one of them is beyond
// the bound). So a connection listed at one scrape and closed before the
// next adds its final bytes less what was already counted; when its owner
// changes, the old program keeps what it had and the new one counts what
// moves after; the same addresses on another socket inode (a reused
// 4-tuple, a reused inode number) are another connection. A connection
// that opens and closes between two scrapes counts under the close event's
// program (comm, even with Cmdline). The bytes a connection moves after
// its last listing are lost only if its close event is: the feed's ring
// buffer overflowing, or a connection kept out of the tables (a reset
// socket its process still holds) for more than 10 minutes before the
// destroy source reports it.
//
// The programs with traffic series are the first MaxPrograms to move a
// byte, for the collector's life, unlike procnet_program_sockets' choice
// at each scrape: a counter cannot move into or out of the fold without
// falling. Restart the collector to choose again.
//
// Why only with a close feed: without the final bytes of the connections
// that closed, a sum over the open connections falls whenever a busy one
// closes, and rate() reads every fall as a counter reset (a gain of the
// whole value). A gauge of it under another name would invite rate() all
// the same, while procnet_program_sockets already shows what is open. So
// the families are sent only when the tracepoint source (root, BTF: exact)
// or the destroy source (any user; one more received byte per connection
// whose peer sent a FIN) works; with the poll source, AllNetns, PID,
// another Root, NoOwners or a state Filter (the tables and ports of Filter
// apply), they are not, and TrafficSource says why.
//
// Cost: every TCP row carries its tcp_info (Reader.Traffic), the ledger
// holds one entry per open TCP connection, and the feed runs one goroutine
// (its overhead on connect/close loops: see package flows).
//
// # Cost
//
// One scrape reads the tables once (over netlink on the live system) and
// walks the processes' fds once, as netstat -tunap does; counting adds a
// slot increment per socket and a map look-up per owner. No per-socket
// value is made beyond the library's rows.
//
// # Concurrency
//
// A Collector may be collected from several goroutines (concurrent
// scrapes); scrapes run one at a time.
package metrics

import (
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/promcore"
	"github.com/procnet/procnet/netstat"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of the Options bounds.
const (
	DefaultMaxPrograms   = promcore.DefaultMaxPrograms
	DefaultMaxNamespaces = promcore.DefaultMaxNamespaces
	DefaultMaxListeners  = promcore.DefaultMaxListeners
)

// Options say what a Collector reads and bound its series. The zero
// Options read the live system's own namespace, every Internet and unix
// socket, with owners, and give the listeners on ports 1-1023 their own
// series.
type Options struct {
	// Root is the directory holding proc/: "" or "/" for the live system,
	// a fixture tree or a container's root otherwise.
	Root string
	// PID, when positive (and AllNetns unset), reads the tables of that
	// process's network namespace instead of the reader's own.
	PID int
	// Filter narrows the Internet sockets counted (tables, states,
	// ports); the zero Filter counts them all.
	Filter netstat.Filter
	// NoUnix leaves out unix sockets. They are left out too when Filter
	// names states or ports.
	NoUnix bool
	// AllNetns reads every network namespace (those of the processes
	// under Root): the counts are their sums, and procnet_netns_sockets
	// and the listeners' netns, container labels tell them apart.
	AllNetns bool
	// NoOwners skips the walk of the processes' fds: no
	// procnet_program_sockets, and listeners have no program label.
	NoOwners bool
	// Cmdline names programs by argv[0] (its base name when it starts
	// with '/'), as netstat -p does, instead of by comm, the kernel's
	// name of the executable (15 bytes). Daemons that rewrite argv to show
	// their status (sshd, nginx, postgres) then give a series per status
	// text, and argv, which may hold secrets, is read; comm is stable for
	// a process's life and groups a daemon's processes under one name.
	Cmdline bool
	// ListenerPorts are the local ports whose listeners get a series of
	// their own in procnet_listener_info. Nil means 1-1023 (the
	// privileged ports); an empty, non-nil slice lists none.
	ListenerPorts []uint16
	// MaxListeners bounds procnet_listener_info (0: DefaultMaxListeners);
	// the listeners beyond it, lowest ports first kept, are counted in
	// procnet_other_listening_sockets.
	MaxListeners int
	// MaxPrograms bounds the programs with series of their own (0:
	// DefaultMaxPrograms).
	MaxPrograms int
	// MaxNamespaces bounds the namespaces with series of their own (0:
	// DefaultMaxNamespaces).
	MaxNamespaces int
	// Traffic adds procnet_program_tcp_sent_bytes_total and
	// procnet_program_tcp_received_bytes_total: the TCP payload bytes of
	// each program's connections, those open (tcp_info, read with the
	// tables) and those closed since New (their final counters, from a
	// flows feed New starts and Close stops). They are counters only
	// because the close feed sees every connection's end: the tracepoint
	// source (root, BTF) or the destroy source (anyone). Where only the
	// poll source works, or with AllNetns, PID, another Root, NoOwners or
	// a state Filter, New sends no traffic family: TrafficSource says why.
	Traffic bool
	// TrafficSource forces the close feed's source (flows.SourceAuto:
	// the tracepoint, else the destroy notifications). flows.SourcePoll
	// turns the counters off.
	TrafficSource flows.Source
	// OnError, when set, is called (from Collect) with each error of a
	// scrape: a table that could not be read (*fs.PathError), a bad row
	// (*netstat.ParseError). Each is also counted in
	// procnet_scrape_errors_total.
	OnError func(error)
}

// Collector is a prometheus.Collector of socket counts. Its metrics are
// made afresh at each Collect, from one read of the system.
type Collector struct {
	core  *promcore.Collector // the counting, without client_golang
	descs map[*promcore.Desc]*prometheus.Desc
}

// New returns a Collector reading as opts say.
func New(opts Options) *Collector {
	c := &Collector{core: promcore.New(promcore.Options(opts)), descs: map[*promcore.Desc]*prometheus.Desc{}}
	for _, d := range c.core.Descs() {
		c.descs[d] = prometheus.NewDesc(d.Name, d.Help, d.Labels, d.Const)
	}
	return c
}

// TrafficSource returns the source of the close feed behind the traffic
// counters, or, under Options.Traffic, why there are none (an error
// wrapping the feed's when it could not start).
func (c *Collector) TrafficSource() (flows.Source, error) { return c.core.TrafficSource() }

// Close stops the close feed of Options.Traffic; the traffic counters
// stop growing. Without Options.Traffic it does nothing.
func (c *Collector) Close() error { return c.core.Close() }

// Describe sends the descriptors of every family the Collector may send.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.core.Descs() {
		ch <- c.descs[d]
	}
}

// Collect reads the sockets once and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.core.Collect(func(d *promcore.Desc, v float64, lv ...string) {
		t := prometheus.GaugeValue
		if d.Type == promcore.Counter {
			t = prometheus.CounterValue
		}
		ch <- prometheus.MustNewConstMetric(c.descs[d], t, v, lv...)
	})
}

// ParsePorts parses a list of ports for Options.ListenerPorts: numbers
// and ranges separated by commas ("22,80,443,8000-8099"), or "none" for
// an empty, non-nil list (no listener gets a series of its own).
func ParsePorts(s string) ([]uint16, error) { return promcore.ParsePorts(s) }
