// Package promcore is package metrics without client_golang: the socket
// counts, their bounds and the traffic ledger, made into samples of plain
// values; the text exposition format 0.0.4 written from them; and a
// minimal HTTP server of it. Package metrics adapts a Collector to
// prometheus.Collector for Go programs; cmd/netstat writes and serves the
// text with this package alone, so that it links neither client_golang,
// protobuf nor net/http: their size and package initialisation cost every
// run of the command, whatever it was asked (an empty run: 10.6 MiB of
// RSS with them, 6.8 without). The families, labels, bounds and
// behaviour are documented in package metrics.
package promcore

import (
	"context"
	"sync"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Defaults of the Options bounds.
const (
	DefaultMaxPrograms   = 50
	DefaultMaxNamespaces = 50
	DefaultMaxListeners  = 100
)

// Options are metrics.Options (documented there); the two convert into
// each other.
type Options struct {
	Root          string
	PID           int
	Filter        netstat.Filter
	NoUnix        bool
	AllNetns      bool
	NoOwners      bool
	Cmdline       bool
	ListenerPorts []uint16
	MaxListeners  int
	MaxPrograms   int
	MaxNamespaces int
	Traffic       bool
	TrafficSource flows.Source
	OnError       func(error)
}

// Type is a family's type.
type Type uint8

const (
	Gauge Type = iota
	Counter
)

func (t Type) String() string {
	if t == Counter {
		return "counter"
	}
	return "gauge"
}

// Desc describes a family: what prometheus.NewDesc is given.
type Desc struct {
	Name, Help string
	Type       Type
	Labels     []string          // the variable labels, in the order of a sample's values
	Const      map[string]string // constant labels; nil for none
}

// Emit receives one sample of a scrape: its family, value and label
// values (in the order of d.Labels; the callee must not keep lv).
type Emit func(d *Desc, v float64, lv ...string)

// Collector counts the sockets of one read of the system per Collect.
type Collector struct {
	opts  Options
	ports [65536 / 64]uint64 // ListenerPorts as a bit set

	sockets, programs, netns, listener, otherListening *Desc
	denied                                             *Desc
	duration, errors                                   *Desc

	mu     sync.Mutex
	reader netstat.Reader // kept for its buffers between scrapes
	errs   uint64         // errors over every scrape

	traffic    *traffic // nil without Options.Traffic or a close feed
	trafficErr error    // why traffic is nil under Options.Traffic
}

// New returns a Collector reading as opts say.
func New(opts Options) *Collector {
	if opts.MaxPrograms <= 0 {
		opts.MaxPrograms = DefaultMaxPrograms
	}
	if opts.MaxNamespaces <= 0 {
		opts.MaxNamespaces = DefaultMaxNamespaces
	}
	if opts.MaxListeners <= 0 {
		opts.MaxListeners = DefaultMaxListeners
	}
	c := &Collector{opts: opts}
	if opts.ListenerPorts == nil {
		for p := 1; p < 1024; p++ {
			c.ports[p/64] |= 1 << (p % 64)
		}
	}
	for _, p := range opts.ListenerPorts {
		c.ports[p/64] |= 1 << (p % 64)
	}
	c.sockets = &Desc{Name: "procnet_sockets",
		Help:   "Sockets by protocol (the table under /proc/net, or unix) and state.",
		Labels: []string{"proto", "state"}}
	c.programs = &Desc{Name: "procnet_program_sockets",
		Help:   "Sockets held by each program (its comm, or argv[0]), by state; a shared socket counts once for each program holding it. program=\"\" counts the sockets of the programs beyond the bound and those no visible process holds.",
		Labels: []string{"program", "state"}}
	c.netns = &Desc{Name: "procnet_netns_sockets",
		Help:   "Sockets by network namespace (inode) and state, with the container that runs there; netns=\"\" counts the namespaces beyond the bound.",
		Labels: []string{"netns", "container", "state"}}
	ll := []string{"proto", "address", "port"}
	if !opts.NoOwners {
		ll = append(ll, "program")
	}
	if opts.AllNetns {
		ll = append(ll, "netns", "container")
	}
	c.listener = &Desc{Name: "procnet_listener_info",
		Help:   "A listening TCP socket or bound unconnected UDP socket on one of the listed ports, with the program holding it.",
		Labels: ll}
	c.otherListening = &Desc{Name: "procnet_other_listening_sockets",
		Help: "Listening TCP sockets and bound unconnected UDP sockets without a series in procnet_listener_info (ports not listed, or beyond the bound)."}
	c.denied = &Desc{Name: "procnet_denied_processes",
		Help: "Processes whose open files could not be read for lack of permission: their sockets count under program=\"\"."}
	c.duration = &Desc{Name: "procnet_scrape_duration_seconds",
		Help: "Time the last scrape took to read and count the sockets."}
	c.errors = &Desc{Name: "procnet_scrape_errors_total", Type: Counter,
		Help: "Socket tables that could not be read and bad rows, over every scrape."}
	if opts.Traffic {
		c.traffic, c.trafficErr = startTraffic(&c.opts)
	}
	return c
}

// TrafficSource returns the source of the close feed behind the traffic
// counters, or, under Options.Traffic, why there are none (an error
// wrapping the feed's when it could not start).
func (c *Collector) TrafficSource() (flows.Source, error) {
	if c.traffic == nil {
		return flows.SourceAuto, c.trafficErr
	}
	return c.traffic.src, nil
}

// Close stops the close feed of Options.Traffic; the traffic counters
// stop growing. Without Options.Traffic it does nothing.
func (c *Collector) Close() error {
	if c.traffic == nil {
		return nil
	}
	return c.traffic.close()
}

// Descs returns the descriptions of every family Collect may emit.
func (c *Collector) Descs() []*Desc {
	ds := []*Desc{c.sockets}
	if !c.opts.NoOwners {
		ds = append(ds, c.programs, c.denied)
	}
	if c.opts.AllNetns {
		ds = append(ds, c.netns)
	}
	ds = append(ds, c.listener, c.otherListening, c.duration, c.errors)
	if c.traffic != nil {
		ds = append(ds, c.traffic.sent, c.traffic.received, c.traffic.lostDesc)
	}
	return ds
}

// Collect reads the sockets once and emits the samples. Scrapes run one
// at a time; emit is called with the Collector locked.
func (c *Collector) Collect(emit Emit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	start := time.Now()
	report := func(err error) {
		c.errs++
		if c.opts.OnError != nil {
			c.opts.OnError(err)
		}
	}
	t := tally{c: c}
	tr := c.traffic
	if tr != nil {
		// Held while the tables are read, so that a close event is
		// credited before or after the read, never during it.
		tr.mu.Lock()
		defer tr.mu.Unlock()
		tr.pmu.Lock()
		errs := tr.errs
		tr.errs = nil
		tr.pmu.Unlock()
		for _, err := range errs {
			report(err)
		}
		tr.credit() // the closes received before this read
		tr.l.begin()
		t.now = time.Now()
	}
	c.reader.Traffic = tr != nil
	// A Collector has no context: prometheus.Collector's Collect takes
	// none.
	read(context.Background(), &c.reader, &c.opts, report, &t)
	t.send(emit)
	if tr != nil {
		tr.l.prune(t.now)
		tr.send(emit)
	}
	emit(c.duration, time.Since(start).Seconds())
	emit(c.errors, float64(c.errs))
}

// The state slots: TCP states by number (1-12), then the others.
const (
	slotUnknown = iota + int(netstat.NewSynRecv) + 1
	slotUnconn
	slotUnixConnecting
	slotUnixConnected
	slotUnixDisconnecting
	slotUnixFree
	nSlots // slot 0 is never counted: 19 state values
)

var slotNames = func() [nSlots]string {
	var n [nSlots]string
	for s := netstat.Established; s <= netstat.NewSynRecv; s++ {
		n[s] = s.String()
	}
	n[0] = "UNKNOWN"
	n[slotUnknown] = "UNKNOWN"
	n[slotUnconn] = "UNCONN"
	n[slotUnixConnecting] = netstat.Connecting.String()
	n[slotUnixConnected] = netstat.Connected.String()
	n[slotUnixDisconnecting] = netstat.Disconnecting.String()
	n[slotUnixFree] = netstat.Free.String()
	return n
}()

// inetSlot is the state slot of an Internet socket.
func inetSlot(s *netstat.Socket) int {
	switch {
	case !s.Proto.IsTCP() && s.State == netstat.Close:
		return slotUnconn
	case s.State >= netstat.Established && s.State <= netstat.NewSynRecv:
		return int(s.State)
	}
	return slotUnknown
}

// unixSlot is the state slot of a unix socket: LISTEN for a listener.
func unixSlot(u *netstat.UnixSocket) int {
	if u.Listening() {
		return int(netstat.Listen)
	}
	switch u.State {
	case netstat.Free:
		return slotUnixFree
	case netstat.Unconnected:
		return slotUnconn // the one vocabulary: UNCONN, as in JSON and CSV
	case netstat.Connecting:
		return slotUnixConnecting
	case netstat.Connected:
		return slotUnixConnected
	case netstat.Disconnecting:
		return slotUnixDisconnecting
	}
	return slotUnknown
}

// isListener reports a TCP listener, or a UDP (UDP-Lite) socket bound to a
// port and connected to no peer.
func isListener(s *netstat.Socket) bool {
	switch s.Proto {
	case netstat.TCP, netstat.TCP6:
		return s.State == netstat.Listen
	case netstat.UDP, netstat.UDP6, netstat.UDPLite, netstat.UDPLite6:
		return s.State == netstat.Close && s.Local.Port() != 0 && s.Remote.Addr().IsUnspecified()
	}
	return false
}

// programName is the program a process is counted under: comm, or with
// Options.Cmdline argv[0] (its base name when it starts with '/'; comm
// when argv is empty), escaped by procnet's one rule. It is "" for a nil
// process.
func programName(p *procmap.Process) string {
	if p == nil {
		return ""
	}
	name := p.Comm
	if len(p.Cmdline) > 0 && p.Cmdline[0] != "" {
		name = p.Cmdline[0]
		if name[0] == '/' {
			name = name[lastSlash(name)+1:]
		}
	}
	return escape.String(name)
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func (c *Collector) listed(port uint16) bool { return c.ports[port/64]&(1<<(port%64)) != 0 }
