package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/internal/promcore"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// usageError is a command line we cannot run: usage goes to stderr and
// the exit status is 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError ends the run with a status and no message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// exitCode prints err the way a person should see it, escaped (a path or
// an argument may hold anything), and returns the process's exit status:
// the one reporter of the errors that end a run, as report is of those a
// run goes on from.
func exitCode(err error, stderr io.Writer) int {
	if ee, ok := errors.AsType[exitError](err); ok {
		return ee.code
	}
	switch ue, ok := errors.AsType[usageError](err); {
	case err == nil, errors.Is(err, syscall.EPIPE):
		return 0
	case ok:
		fmt.Fprintf(stderr, "netstat: %s\n%s", escape.String(ue.msg), usage)
		return 2
	}
	fmt.Fprintf(stderr, "netstat: %s\n", escape.String(err.Error()))
	return 1
}

// report prints each error joined in err, escaped, and returns the exit
// status they call for: none for rows that could not be parsed (every
// parser's ParseError is procfile's, aliased: the rows around them are
// listed), 1 for anything else.
func report(stderr io.Writer, err error) error {
	var failed error
	for _, e := range splitJoined(err) {
		fmt.Fprintf(stderr, "netstat: %s\n", escape.String(e.Error()))
		if _, ok := errors.AsType[*netstat.ParseError](e); !ok {
			failed = exitError{1}
		}
	}
	return failed
}

// splitJoined returns the errors joined in err (errors.Join), or err.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

const usage = `usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}
       netstat [-vWnNcaeol] [<Socket> ...]
       netstat { [-vWeenNac] -i | [-cnNe] -M | -s [-6tuw] }

        -r, --route              display routing table
        -i, --interfaces         display interface table
        -g, --groups             display multicast group memberships
        -s, --statistics         display networking statistics (like SNMP)
        -W, --wide               don't truncate IP addresses
        -n, --numeric            don't resolve names
        --numeric-hosts          don't resolve host names
        --numeric-ports          don't resolve port names
        --numeric-users          don't resolve user names
        -e, --extend             display other/more information
        -p, --programs           display PID/Program name for sockets
        -o, --timers             display timers
        -c, --continuous[=SECS]  continuous listing (every SECS, default 1)
        -l, --listening          display listening server sockets
        -a, --all                display all sockets (default: connected)
        -C, --cache              with -r: the routing cache instead of the FIB
        -V, --version            module version and VCS revision

  <Socket>={-t|--tcp} {-u|--udp} {-U|--udplite} {-w|--raw} {-x|--unix}
  <AF>=Use '-6|-4' or '-A <af>' or '--<af>'; default: inet,inet6,unix
  Taken as net-tools 2.10 takes them, with its messages: -N -F -M -Z -S,
  -A ax25|netrom|rose|ipx|ddp|x25|bluetooth (no table of these here).

  Beyond net-tools:
        --json                   JSON Lines, one object per socket
        --csv                    CSV with a header row (as tcpvcon -c)
        --state LIST             only these states (e.g. established,time-wait)
        --port N                 only sockets with local or remote port N
        --sport N, --dport N     only this local (source) / remote port
        --pid N                  only sockets held by process N
        --program NAME           only sockets held by a program named NAME
        --root DIR               read DIR/proc, DIR/etc instead of /
        --dns-timeout DUR        bound on all reverse DNS of one listing (1s)
        --summary                counts per process and state, most ESTABLISHED first
        --by process|remote|port group --summary per process, remote address or local port
        --traffic                bytes and packets sent and received per connection (per process with --summary)
        --max-established N      mark groups above N ESTABLISHED with "!"; exit status 3 if any
        --rate                   with -i: bytes and packets per second (over -c SECS, 1s)
        --no-cmdline             never read argv (it may hold secrets); programs named by comm
        --all-netns              sockets of every network namespace, with a NetNS column
        --netns PID              sockets of the network namespace of process PID
        --capture DIR            also write the files read to DIR, a fixture for --root DIR
        --format FMT             table (default), json, csv or prometheus (text exposition)
        --per-process            (accepted; per-program series are always in the metrics)
        --listen ADDR            serve the metrics at http://ADDR/metrics until SIGTERM
        --textfile PATH          write the metrics to PATH atomically (node_exporter)
        --textfile-interval SECS rewrite the --textfile every SECS until SIGTERM
        --metrics-traffic        per-program TCP byte counters (--listen, --textfile-interval)
        --listener-ports LIST    listeners with series of their own (1-1023; "none")
        --max-programs N         programs with metric series of their own (50)
        --max-netns N            namespaces with metric series of their own (50)
        --max-listeners N        listeners with metric series of their own (100)
        --quiet                  no notes on stderr (owners or namespaces not readable); errors still
        --events                 stream TCP connections opened and closed (table or --json)
        --count N                with --events: stop after N events
        --events-source SRC      auto (default), tracepoint, destroy or poll
        --state-changes          with --events: every TCP state change too (tracepoint)
`

// config is a parsed command line.
type config struct {
	tcp, udp, udplite, raw, unix bool
	inet, inet6                  bool
	listening, all               bool
	numHosts, numPorts, numUsers bool
	programs                     bool
	extend                       int
	timers, wide                 bool
	continuous                   bool
	interval                     time.Duration
	route, interfaces, stats     bool
	json, csv                    bool
	rate                         bool // --rate: -i shows per-second rates
	summaryFlags                      // --summary, --by, --max-established (summary.go)
	noCmdline                    bool // --no-cmdline: never read argv; name processes by comm
	beyondFlags                       // --all-netns, --netns, --capture, --format, --per-process (netns.go)
	compatFlags                       // -V, -g, -M, -Z, -S, -C, --tcpip, what -A names (compat.go)
	metricsFlags                      // --listen, --textfile, --listener-ports, --max-* (prometheus.go)
	eventsFlags                       // --events, --count, --events-source, --state-changes (events.go)
	trafficFlags                      // --traffic (traffic.go)
	// families are the address families named (-4, -6, -x, --inet,
	// --inet6, --unix, -A), in command-line order, repeats kept: net-tools'
	// afname list, which orders the tables of -r and picks the counters of
	// -s.
	families []string

	states       netstat.StateSet
	port         int // -1 when not given
	sport, dport int
	pid          int
	program      string
	root         string
	dnsTimeout   time.Duration
	resolver     Resolver
	isTerminal   bool
	quiet        bool           // --quiet: stderr gets errors, not notes (see quietWriter)
	ownerSource  procmap.Source // how owners are found (tests force one)
}

// parseFor reads net-tools' flags and ours (short flags combine: -tunap)
// for a run whose reverse DNS goes to resolver and whose stdout is a
// terminal or not. The config is complete when it returns, and never
// changed afterwards: every value the flags imply is derived here, and
// every command line refused is refused here, by a table of rules.
func parseFor(args []string, resolver Resolver, terminal bool) (*config, error) {
	c := &config{port: -1, sport: -1, dport: -1, pid: -1, resolver: resolver, isTerminal: terminal}
	fs := pflag.NewFlagSet("netstat", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.BoolVarP(&c.tcp, "tcp", "t", false, "")
	fs.BoolVarP(&c.udp, "udp", "u", false, "")
	fs.BoolVarP(&c.udplite, "udplite", "U", false, "")
	fs.BoolVarP(&c.raw, "raw", "w", false, "")
	fs.BoolVarP(&c.unix, "unix", "x", false, "")
	fs.Bool("inet", false, "")
	fs.Bool("inet6", false, "")
	fs.BoolP("ipv4", "4", false, "")
	fs.BoolP("ipv6", "6", false, "")
	families := fs.StringSliceP("protocol", "A", nil, "")
	fs.BoolVarP(&c.listening, "listening", "l", false, "")
	fs.BoolVarP(&c.all, "all", "a", false, "")
	numeric := fs.BoolP("numeric", "n", false, "")
	fs.BoolVar(&c.numHosts, "numeric-hosts", false, "")
	fs.BoolVar(&c.numPorts, "numeric-ports", false, "")
	fs.BoolVar(&c.numUsers, "numeric-users", false, "")
	fs.BoolVarP(&c.programs, "programs", "p", false, "")
	fs.BoolVar(&c.programs, "program-names", false, "")
	fs.CountVarP(&c.extend, "extend", "e", "")
	fs.BoolVarP(&c.timers, "timers", "o", false, "")
	fs.BoolVarP(&c.wide, "wide", "W", false, "")
	secs := fs.Float64P("continuous", "c", 0, "")
	fs.Lookup("continuous").NoOptDefVal = "1"
	fs.BoolVarP(&c.route, "route", "r", false, "")
	fs.BoolVarP(&c.interfaces, "interfaces", "i", false, "")
	fs.BoolVarP(&c.stats, "statistics", "s", false, "")
	fs.BoolP("verbose", "v", false, "")
	help := fs.BoolP("help", "h", false, "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.BoolVar(&c.csv, "csv", false, "")
	fs.BoolVar(&c.rate, "rate", false, "")
	fs.BoolVar(&c.noCmdline, "no-cmdline", false, "")
	states := fs.StringSlice("state", nil, "")
	fs.IntVar(&c.port, "port", -1, "")
	fs.IntVar(&c.sport, "sport", -1, "")
	fs.IntVar(&c.dport, "dport", -1, "")
	fs.IntVar(&c.pid, "pid", -1, "")
	fs.StringVar(&c.program, "program", "", "")
	fs.StringVar(&c.root, "root", "/", "")
	fs.DurationVar(&c.dnsTimeout, "dns-timeout", time.Second, "")
	fs.BoolVar(&c.quiet, "quiet", false, "")
	c.beyondFlags.register(fs)
	c.summaryFlags.register(fs)
	fs.BoolVarP(&c.version, "version", "V", false, "")
	fs.BoolVarP(&c.groups, "groups", "g", false, "")
	fs.BoolVarP(&c.masquerade, "masquerade", "M", false, "")
	fs.BoolVarP(&c.selinux, "context", "Z", false, "")
	fs.BoolVarP(&c.sctp, "sctp", "S", false, "")
	fs.BoolVarP(&c.cache, "cache", "C", false, "")
	// -F asks for the FIB, the default. -N (resolve hardware names)
	// changes nothing but -r, which it makes numeric: net-tools' route
	// printers take any bit of its flag word for "numeric".
	symbolic := fs.BoolP("symbolic", "N", false, "")
	fs.BoolP("fib", "F", false, "")
	fs.BoolP("debug", "d", false, "") // net-tools' -d: no effect
	// -2 and -f are Bluetooth's sockets (l2cap, rfcomm): noTable.
	l2cap := fs.BoolP("l2cap", "2", false, "")
	rfcomm := fs.BoolP("rfcomm", "f", false, "")
	fs.BoolVar(&c.tcpip, "tcpip", false, "")
	for _, af := range afLongOptions {
		fs.Bool(af, false, "")
	}
	fs.StringVar(&c.listen, "listen", "", "")
	fs.StringVar(&c.textfile, "textfile", "", "")
	listenerPorts := fs.String("listener-ports", "1-1023", "")
	fs.IntVar(&c.maxPrograms, "max-programs", promcore.DefaultMaxPrograms, "")
	fs.IntVar(&c.maxNetns, "max-netns", promcore.DefaultMaxNamespaces, "")
	fs.IntVar(&c.maxListeners, "max-listeners", promcore.DefaultMaxListeners, "")
	fs.BoolVar(&c.metricsTraffic, "metrics-traffic", false, "")
	fs.Float64Var(&c.textfileEvery, "textfile-interval", 0, "")
	fs.BoolVar(&c.events, "events", false, "")
	fs.IntVar(&c.count, "count", 0, "")
	evSource := fs.String("events-source", "auto", "")
	fs.BoolVar(&c.allStates, "state-changes", false, "")
	c.trafficFlags.register(fs)

	err := fs.ParseAll(args, func(f *pflag.Flag, v string) error {
		if err := fs.Set(f.Name, v); err != nil {
			return err
		}
		c.families = append(c.families, flagFamilies(f.Name, v)...)
		return nil
	})
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if *help {
		return nil, errHelp
	}
	rest := fs.Args()
	if fs.Changed("continuous") {
		c.continuous = true
		// net-tools' -c takes no value; "-c 5" gives it one, as watch does.
		if len(rest) > 0 {
			if v, err := strconv.ParseFloat(rest[0], 64); err == nil {
				*secs, rest = v, rest[1:]
			}
		}
		if *secs <= 0 {
			return nil, usageError{"-c: the interval must be positive"}
		}
		c.interval = time.Duration(*secs * float64(time.Second))
	}
	if len(rest) > 0 {
		return nil, usageError{"unexpected argument " + strconv.Quote(rest[0])}
	}
	if *numeric {
		c.numHosts, c.numPorts, c.numUsers = true, true, true
	}
	if *symbolic && c.route {
		c.numHosts = true // as net-tools: -N above
	}
	for _, f := range *families {
		if _, ok := afAliases[f]; !ok {
			return nil, usageError{"unknown address family " + strconv.Quote(f) + " (inet, inet6, unix)"}
		}
	}
	c.inet, c.inet6 = slices.Contains(c.families, "inet"), slices.Contains(c.families, "inet6")
	c.unix = c.unix || slices.Contains(c.families, "unix")
	// -g shows igmp and igmp6 unless a family was named.
	c.groups4, c.groups6 = c.inet || !c.inet6, c.inet6 || !c.inet
	c.noTable = firstNoTable(c.families, *l2cap || *rfcomm)
	for _, s := range *states {
		st, ok := netstat.ParseState(s)
		if !ok {
			return nil, usageError{"--state: unknown state " + strconv.Quote(s)}
		}
		c.states |= netstat.States(st)
	}
	if err := refuse(
		rule{c.port < -1 || c.port > 65535, "--port: not a port: " + strconv.Itoa(c.port)},
		rule{c.sport < -1 || c.sport > 65535, "--sport: not a port: " + strconv.Itoa(c.sport)},
		rule{c.dport < -1 || c.dport > 65535, "--dport: not a port: " + strconv.Itoa(c.dport)},
		rule{c.json && c.csv, "--json and --csv exclude each other"},
		// --format names the one output format: with --json or --csv it
		// must be the same one (--format json --json is redundant, not
		// wrong).
		rule{fs.Changed("format") && (c.json && c.format != "json" || c.csv && c.format != "csv"), "--format " + c.format + " excludes --json and --csv"},
		rule{btoi(c.route)+btoi(c.interfaces)+btoi(c.stats)+btoi(c.masquerade) > 1, "-r, -i, -s and -M exclude each other"},
		rule{c.rate && !c.interfaces, "--rate goes with -i"},
	); err != nil {
		return nil, err
	}
	if (c.listen != "" || c.textfile != "") && c.format == "" {
		c.format = "prometheus" // what --listen and --textfile write
	}
	prom := c.format == "prometheus"
	if err := refuse(
		rule{c.listen != "" && c.textfile != "", "--listen and --textfile exclude each other"},
		rule{(c.listen != "" || c.textfile != "") && !prom, "--listen and --textfile write --format prometheus"},
		rule{fs.Changed("textfile-interval") && (c.textfile == "" || c.textfileEvery <= 0), "--textfile-interval: a positive number of seconds, with --textfile"},
		rule{c.metricsTraffic && c.listen == "" && c.textfileEvery == 0, "--metrics-traffic needs --listen or --textfile-interval: its counters need one process living across scrapes (a one-shot exposition has no closed connections to count)"},
		rule{fs.Changed("listener-ports") && !prom, "--listener-ports goes with --format prometheus, --listen or --textfile"},
		rule{fs.Changed("max-programs") && !prom, "--max-programs goes with --format prometheus, --listen or --textfile"},
		rule{fs.Changed("max-netns") && !prom, "--max-netns goes with --format prometheus, --listen or --textfile"},
		rule{fs.Changed("max-listeners") && !prom, "--max-listeners goes with --format prometheus, --listen or --textfile"},
		rule{prom && (c.pid >= 0 || c.program != ""), "--format prometheus counts every process: no --pid or --program (see procnet_program_sockets)"},
		rule{prom && c.maxPrograms < 1, "--max-programs: must be at least 1"},
		rule{prom && c.maxNetns < 1, "--max-netns: must be at least 1"},
		rule{prom && c.maxListeners < 1, "--max-listeners: must be at least 1"},
	); err != nil {
		return nil, err
	}
	if prom {
		if c.ports, err = promcore.ParsePorts(*listenerPorts); err != nil {
			return nil, usageError{"--listener-ports: " + err.Error()}
		}
	}
	switch c.format { // --format json and csv are --json and --csv
	case "table":
		c.format = ""
	case "json":
		c.json, c.format = true, ""
	case "csv":
		c.csv, c.format = true, ""
	}
	c.summary = c.summary || fs.Changed("by") || fs.Changed("max-established")
	by, _ := procnet.ParseBy(c.by)
	source, sourceOK := flows.ParseSource(*evSource)
	c.source = source
	tables := c.route || c.interfaces || c.stats // -r, -i or -s
	if err := refuse(
		rule{fs.Changed("netns") && c.netnsPID <= 0, "--netns: not a PID: " + strconv.Itoa(c.netnsPID)},
		rule{c.allNetns && c.netnsPID > 0, "--all-netns and --netns exclude each other"},
		rule{prom && (c.json || c.csv), "--format prometheus excludes --json and --csv"},
		rule{prom && tables, "--format prometheus goes with the socket listing, not -r, -i or -s"},
		rule{prom && c.continuous, "--format prometheus prints one exposition: no -c"},
		rule{c.format != "" && !prom, "--format: unknown format " + strconv.Quote(c.format) + " (table, json, csv, prometheus)"},
		rule{c.perProcess && !prom, "--per-process goes with --format prometheus"},
		rule{c.nsMode() && tables, "--all-netns and --netns go with the socket listing, not -r, -i or -s"},
		rule{c.capture != "" && (c.continuous || c.rate), "--capture takes one snapshot: no -c or --rate"},
		rule{c.summary && by != procnet.ByProcess && by != procnet.ByRemote && by != procnet.ByPort, "--by: " + strconv.Quote(c.by) + " (process, remote, port)"},
		rule{c.summary && fs.Changed("max-established") && c.maxEstablished < 0, "--max-established: not a count: " + strconv.Itoa(c.maxEstablished)},
		rule{c.summary && tables, "--summary counts sockets: not with -r, -i or -s"},
		// -g is a table of the host's own namespace, like net-tools'.
		rule{c.groups && (c.json || c.csv || c.format != "" || c.summary || c.nsMode()), "-g prints a table alone: not with --json, --csv, --format, --summary, --all-netns or --netns"},
		rule{!c.events && fs.Changed("count"), "--count goes with --events"},
		rule{!c.events && fs.Changed("events-source"), "--events-source goes with --events"},
		rule{!c.events && fs.Changed("state-changes"), "--state-changes goes with --events"},
		rule{c.events && !sourceOK, "--events-source: unknown source " + strconv.Quote(*evSource) + " (auto, tracepoint, destroy, poll)"},
		rule{c.events && c.count < 0, "--count: must not be negative"},
		rule{c.events && (c.csv || tables || c.summary || prom), "--events goes with the table or --json only"},
		rule{c.events && c.root != "/" && c.root != "", "--events watches the live system: no --root"},
		rule{c.traffic && (tables || c.events || prom), "--traffic goes with the socket listing or --summary"},
		rule{c.traffic && c.summary && c.by != "process", "--traffic counts per process: not with --by " + c.by},
	); err != nil {
		return nil, err
	}
	c.perProcess = prom // owners are read (and --capture keeps them)
	// As net-tools: an address family alone means all its protocols; a
	// protocol alone means both families.
	anyProto := c.tcp || c.udp || c.udplite || c.raw || c.sctp
	if (c.inet || c.inet6) && !anyProto {
		c.tcp, c.udp, c.udplite, c.raw = true, true, true, true
	}
	if (c.tcp || c.udp || c.udplite || c.raw) && !c.inet && !c.inet6 {
		c.inet, c.inet6 = true, true
	}
	if c.sctp {
		// net-tools stops at SCTP, which it reads after TCP: no
		// table after it is listed.
		c.udp, c.udplite, c.raw, c.unix, c.groups, c.noTable = false, false, false, false, false, ""
	}
	if !c.tcp && !c.udp && !c.udplite && !c.raw && !c.unix && !c.compatFlags.named() {
		// No socket kind named: everything, unix included.
		c.tcp, c.udp, c.udplite, c.raw, c.unix = true, true, true, true, true
		c.inet, c.inet6 = true, true
	}
	if c.pid >= 0 || c.program != "" {
		c.programs = c.programs || c.json || c.csv
	}
	if c.summary {
		// Counts are of Internet sockets; per process they need owners.
		if !c.inetWanted() {
			return nil, usageError{"--summary counts Internet sockets (-t, -u, -U, -w)"}
		}
		c.unix = false
		c.programs = c.programs || c.by == "process"
	}
	c.eventFilter = c.flowsFilter()
	return c, nil
}

// rule is a command line refused when bad holds, for the reason msg.
type rule struct {
	bad bool
	msg string
}

// refuse returns the usage error of the first rule that holds.
func refuse(rules ...rule) error {
	for _, r := range rules {
		if r.bad {
			return usageError{r.msg}
		}
	}
	return nil
}

// flagFamilies returns the address families a flag names, in net-tools'
// words (its afname list, which orders the tables of -r and picks the
// counters of -s): -4, -6, -x, --inet, --inet6, --unix and the other
// --<af> when set, each name -A takes (an unknown name is kept as it is,
// and refused once the flags are parsed). --ip is -A inet.
func flagFamilies(name, v string) []string {
	if name == "protocol" {
		var afs []string
		for _, f := range strings.Split(v, ",") {
			if f != "" {
				afs = append(afs, cmp.Or(afAliases[f], f))
			}
		}
		return afs
	}
	if on, _ := strconv.ParseBool(v); !on || name == "tcpip" {
		return nil // net-tools' --tcpip is past the end of its table: no family
	}
	switch name {
	case "ipv4":
		name = "inet"
	case "ipv6":
		name = "inet6"
	}
	if af, ok := afAliases[name]; ok {
		return []string{af}
	}
	return nil
}

var errHelp = errors.New("help")

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// run is the whole command: main is a shim over it, tests call it. ctx
// ends the listing; -c ends it on SIGINT, SIGTERM, SIGHUP and SIGQUIT
// too (watch.go).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runContext(ctx, args, stdout, stderr, net.DefaultResolver)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer, resolver Resolver) error {
	c, err := parseFor(args, resolver, isTerminal(stdout))
	if err == errHelp {
		_, err := io.WriteString(stdout, usage)
		return err
	}
	if err != nil {
		return err
	}
	if c.quiet {
		stderr = quietWriter{stderr}
	}
	return c.run(ctx, stdout, stderr)
}

// quietWriter is stderr under --quiet: errors pass, notes (a run that
// went well but could not see everything, which a timer would otherwise
// log every run) are dropped by the note writers, which ask quiet.
type quietWriter struct{ io.Writer }

func (quietWriter) quiet() bool { return true }

// quiet reports whether notes to w are to be dropped.
func quiet(w io.Writer) bool {
	q, ok := w.(interface{ quiet() bool })
	return ok && q.quiet()
}

// isTerminal reports whether w is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run runs a parsed command line.
func (c *config) run(ctx context.Context, stdout, stderr io.Writer) error {
	if done, err := c.compatFlags.run(stdout, stderr, (&netstat.Reader{Root: c.root}).Has, c.selinux && procmap.SELinux(c.root)); done {
		return err
	}
	if c.capture != "" {
		return capture(ctx, c, stdout, stderr) // capture.go: then runs over the capture
	}
	if err := procnet.Readable(c.root); err != nil {
		return err
	}
	if err := c.replayable(); err != nil {
		return err // capture.go: a capture made for other flags
	}
	switch {
	case c.events:
		return c.runEvents(ctx, stdout, stderr) // events.go
	case c.route:
		return routes(c, stdout, stderr)
	case c.interfaces:
		return interfaces(c, stdout, stderr)
	case c.stats:
		return statistics(c, stdout, stderr)
	case c.format == "prometheus":
		return prometheus(c, stdout, stderr)
	}
	return sockets(ctx, c, stdout, stderr)
}

// sanitize is escape.String, the one escaping rule (internal/escape),
// for the files that still call it by this name.
func sanitize(s string) string { return escape.String(s) }
