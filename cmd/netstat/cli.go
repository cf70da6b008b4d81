package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/procnet/procnet/netstat"
	"github.com/spf13/pflag"
)

// usageError is a command line we cannot run: usage goes to stderr and
// the exit status is 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError ends the run with a status and no message of its own.
type exitError struct{ code int }

func (e exitError) Error() string { return "exit status " + strconv.Itoa(e.code) }

// exitCode prints err the way a person should see it and returns the
// process's exit status.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil, errors.Is(err, syscall.EPIPE):
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "netstat: %s\n%s", ue.msg, usage)
		return 2
	}
	fmt.Fprintf(stderr, "netstat: %v\n", err)
	return 1
}

const usage = `usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}
       netstat [-vWnNcaeol] [<Socket> ...]
       netstat { [-vWeenNac] -i | [-cnNe] -M | -s [-6tuw] }

        -r, --route              display routing table
        -i, --interfaces         display interface table
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

  <Socket>={-t|--tcp} {-u|--udp} {-U|--udplite} {-w|--raw} {-x|--unix}
  <AF>=Use '-6|-4' or '-A <af>' or '--<af>'; default: inet,inet6,unix

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
        --max-established N      mark groups above N ESTABLISHED with "!"; exit status 3 if any
        --rate                   with -i: bytes and packets per second (over -c SECS, 1s)
        --no-cmdline             never read argv (it may hold secrets); programs named by comm
        --all-netns              sockets of every network namespace, with a NetNS column
        --netns PID              sockets of the network namespace of process PID
        --capture DIR            also write the files read to DIR, a fixture for --root DIR
        --format FMT             table (default), json, csv or prometheus (text exposition)
        --per-process            with --format prometheus: socket counts per process
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
	eventsFlags                       // --events, --count, --events-source, --state-changes (events.go)
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
}

// parse reads net-tools' flags and ours. Short flags combine (-tunap).
func parse(args []string) (*config, error) {
	c := &config{port: -1, sport: -1, dport: -1, pid: -1}
	fs := pflag.NewFlagSet("netstat", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.BoolVarP(&c.tcp, "tcp", "t", false, "")
	fs.BoolVarP(&c.udp, "udp", "u", false, "")
	fs.BoolVarP(&c.udplite, "udplite", "U", false, "")
	fs.BoolVarP(&c.raw, "raw", "w", false, "")
	fs.BoolVarP(&c.unix, "unix", "x", false, "")
	fs.BoolVar(&c.inet, "inet", false, "")
	fs.BoolVar(&c.inet6, "inet6", false, "")
	v4 := fs.BoolP("ipv4", "4", false, "")
	v6 := fs.BoolP("ipv6", "6", false, "")
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
	c.beyondFlags.register(fs)
	c.summaryFlags.register(fs)
	c.eventsFlags.register(fs)

	err := fs.ParseAll(args, func(f *pflag.Flag, v string) error {
		if err := fs.Set(f.Name, v); err != nil {
			return err
		}
		switch f.Name {
		case "ipv4", "inet", "ipv6", "inet6", "unix":
			if on, _ := strconv.ParseBool(v); on {
				c.families = append(c.families, map[string]string{
					"ipv4": "inet", "inet": "inet", "ipv6": "inet6", "inet6": "inet6", "unix": "unix"}[f.Name])
			}
		case "protocol":
			for _, f := range strings.Split(v, ",") {
				if f != "" {
					c.families = append(c.families, f)
				}
			}
		}
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
	if *v4 {
		c.inet = true
	}
	if *v6 {
		c.inet6 = true
	}
	for _, f := range *families {
		switch f {
		case "inet":
			c.inet = true
		case "inet6":
			c.inet6 = true
		case "unix":
			c.unix = true
		default:
			return nil, usageError{"unknown address family " + strconv.Quote(f) + " (inet, inet6, unix)"}
		}
	}
	for _, s := range *states {
		st, ok := netstat.ParseState(s)
		if !ok {
			return nil, usageError{"--state: unknown state " + strconv.Quote(s)}
		}
		c.states |= netstat.States(st)
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"--port", c.port}, {"--sport", c.sport}, {"--dport", c.dport}} {
		if p.v < -1 || p.v > 65535 {
			return nil, usageError{p.name + ": not a port: " + strconv.Itoa(p.v)}
		}
	}
	if c.json && c.csv {
		return nil, usageError{"--json and --csv exclude each other"}
	}
	if n := btoi(c.route) + btoi(c.interfaces) + btoi(c.stats); n > 1 {
		return nil, usageError{"-r, -i and -s exclude each other"}
	}
	if c.rate && !c.interfaces {
		return nil, usageError{"--rate goes with -i"}
	}
	if err := c.beyondFlags.check(fs, c); err != nil {
		return nil, err
	}
	if err := c.summaryFlags.check(fs, c); err != nil {
		return nil, err
	}
	if err := c.eventsFlags.check(fs, c); err != nil {
		return nil, err
	}
	// As net-tools: an address family alone means all its protocols; a
	// protocol alone means both families.
	anyProto := c.tcp || c.udp || c.udplite || c.raw
	if (c.inet || c.inet6) && !anyProto {
		c.tcp, c.udp, c.udplite, c.raw = true, true, true, true
	}
	if (c.tcp || c.udp || c.udplite || c.raw) && !c.inet && !c.inet6 {
		c.inet, c.inet6 = true, true
	}
	if !c.tcp && !c.udp && !c.udplite && !c.raw && !c.unix {
		// No socket kind named: everything, unix included.
		c.tcp, c.udp, c.udplite, c.raw, c.unix = true, true, true, true, true
		c.inet, c.inet6 = true, true
	}
	if c.pid >= 0 || c.program != "" {
		c.programs = c.programs || c.json || c.csv
	}
	return c, nil
}

var errHelp = errors.New("help")

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// run is the whole command: main is a shim over it, tests call it.
func run(args []string, stdout, stderr io.Writer) error {
	return runWith(args, stdout, stderr, net.DefaultResolver)
}

func runWith(args []string, stdout, stderr io.Writer, resolver Resolver) error {
	c, err := parse(args)
	if err == errHelp {
		_, err := io.WriteString(stdout, usage)
		return err
	}
	if err != nil {
		return err
	}
	c.resolver = resolver
	if f, ok := stdout.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			c.isTerminal = true
		}
	}
	return c.run(stdout, stderr)
}

// run runs a parsed command line.
func (c *config) run(stdout, stderr io.Writer) error {
	if c.capture != "" {
		return capture(c, stdout, stderr) // capture.go: then runs over the capture
	}
	if fi, err := os.Stat(filepath.Join(c.root, "proc")); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return fmt.Errorf("cannot read %s: %v", filepath.Join(c.root, "proc"), unwrapPath(err))
	}
	switch {
	case c.events:
		return c.runEvents(stdout, stderr) // events.go
	case c.route:
		return routes(c, stdout, stderr)
	case c.interfaces:
		return interfaces(c, stdout, stderr)
	case c.stats:
		return statistics(c, stdout, stderr)
	case c.format == "prometheus":
		return prometheus(c, stdout, stderr)
	}
	return sockets(c, stdout, stderr)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sanitize makes s safe to print: control bytes (a newline in a unix
// socket path, escape sequences in a process name) are written as \n,
// \t or \xNN, so nothing the kernel reports can steer the terminal. C1
// controls count too, both as a raw byte (0x9b is CSI to a terminal that
// is not in UTF-8 mode) and UTF-8 encoded (U+009B); so does any byte that
// is not valid UTF-8.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r >= 0x7f && r <= 0x9f || r == utf8.RuneError && size == 1:
			for _, ch := range []byte(s[i : i+size]) {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[ch>>4])
				b.WriteByte("0123456789abcdef"[ch&15])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
