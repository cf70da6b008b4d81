package main

// --summary: connection counts per process, remote address or local port.
//
// Layout (one header line, one row per group, fixed columns):
//
//	Active Internet connections per process (servers and established)
//	! PID     Program              User        ESTAB    SYN    FIN C-WAIT T-WAIT LISTEN  OTHER  TOTAL
//	!     101 sshd: alice [priv]   root            1      0      0      0      0      0      0      1
//
//   - "! " (2 columns) only with --max-established N: "!" marks a group
//     holding more than N ESTABLISHED sockets, blank otherwise.
//   - "+ ", "- ", "~ " (2 columns) only with -c: the group is new, gone
//     (shown one more round) or its counts changed; it comes first.
//   - The key: --by process (default): PID (7, right-aligned; "-" for
//     sockets no visible process owns), program (20: argv[0] as in
//     net-tools' PID/Program name), user of the process (10).
//     --by remote: the remote address (24; "*" for listeners and
//     unconnected sockets). --by port: Proto (5: tcp, udp, udpl, raw, both
//     families together) and the local port (10, its name without -n).
//     Without -W long keys are cut to their width.
//   - Counts (6 each, right-aligned): ESTAB (ESTABLISHED, and connected
//     UDP/raw), SYN (SYN_SENT, SYN_RECV, NEW_SYN_RECV), FIN (FIN_WAIT1,
//     FIN_WAIT2, CLOSING, LAST_ACK), C-WAIT (CLOSE_WAIT), T-WAIT
//     (TIME_WAIT), LISTEN (TCP LISTEN and unconnected UDP/raw, as -l
//     lists them), OTHER (the rest, TCP CLOSE), TOTAL (their sum).
//
// Rows are sorted by ESTAB, then TOTAL (both descending), then by key.
// Counting rule (README): a socket counts once in each group it belongs
// to. --by remote and --by port give each socket one group; --by process
// puts a socket several processes share (a pre-forked server's listener)
// in the group of each distinct PID that holds it, so it counts in each of
// them — as procnet_process_sockets counts it — but never twice in one,
// however many fds of the process hold it.

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
	"github.com/spf13/pflag"
)

// summaryFlags are --summary, --by and --max-established.
type summaryFlags struct {
	summary        bool
	by             string
	maxEstablished int // -1: no threshold
}

func (s *summaryFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&s.summary, "summary", false, "")
	fs.StringVar(&s.by, "by", "process", "")
	fs.IntVar(&s.maxEstablished, "max-established", -1, "")
}

// check validates the flags once parsed; --by and --max-established
// imply --summary.
func (s *summaryFlags) check(fs *pflag.FlagSet, c *config) error {
	if fs.Changed("by") || fs.Changed("max-established") {
		s.summary = true
	}
	if !s.summary {
		return nil
	}
	if by, _ := procnet.ParseBy(s.by); by != procnet.ByProcess && by != procnet.ByRemote && by != procnet.ByPort {
		return usageError{"--by: " + strconv.Quote(s.by) + " (process, remote, port)"}
	}
	if fs.Changed("max-established") && s.maxEstablished < 0 {
		return usageError{"--max-established: not a count: " + strconv.Itoa(s.maxEstablished)}
	}
	if c.route || c.interfaces || c.stats {
		return usageError{"--summary counts sockets: not with -r, -i or -s"}
	}
	return nil
}

// The count slots of a group: the kernel's states by number, 0 for an
// unconnected UDP or raw socket, nStates for a state we have no name for.
const nStates = int(netstat.NewSynRecv) + 1

func slotName(i int) string {
	switch i {
	case 0:
		return "UNCONN"
	case nStates:
		return "UNKNOWN"
	}
	return netstat.State(i).String()
}

// The table's count columns, each a sum of slots.
var summaryColumns = []struct {
	title string
	slots []int
}{
	{"ESTAB", []int{int(netstat.Established)}},
	{"SYN", []int{int(netstat.SynSent), int(netstat.SynRecv), int(netstat.NewSynRecv)}},
	{"FIN", []int{int(netstat.FinWait1), int(netstat.FinWait2), int(netstat.Closing), int(netstat.LastAck)}},
	{"C-WAIT", []int{int(netstat.CloseWait)}},
	{"T-WAIT", []int{int(netstat.TimeWait)}},
	{"LISTEN", []int{int(netstat.Listen), 0}},
	{"OTHER", []int{int(netstat.Close), nStates}},
}

// group is one of procnet's groups (counted by its rule for shared
// sockets, sorted for printing; with --traffic, procnet.AddTraffic's) as
// a round shows it, marked under -c.
type group = procnet.MarkedGroup

// slotCount is g's count in slot s.
func slotCount(g *group, s int) int {
	if s == nStates {
		return g.Unknown
	}
	return g.States[s]
}

// countBy is --by as procnet groups (its String spells --by).
func (c *config) countBy() procnet.By {
	by, _ := procnet.ParseBy(c.by)
	return by
}

func groupsOf(gs []procnet.Group) []group {
	out := make([]group, len(gs))
	for i := range gs {
		out[i] = group{Group: gs[i], Mark: procnet.MarkNone}
	}
	return out
}

func (c *config) over(g *group) bool {
	return c.maxEstablished >= 0 && g.Established() > c.maxEstablished
}

// summaryTitle is the line above the header.
func (c *config) summaryTitle() string {
	per := "process"
	switch c.by {
	case "remote":
		per = "remote address"
	case "port":
		per = "local port"
	}
	return "Active Internet connections per " + per + " " + c.title() + "\n"
}

// appendSummary appends the summary table; marks adds the -c column.
func (l *lister) appendSummary(b []byte, gs []group, marks bool, colour bool) []byte {
	c := l.c
	b = append(b, c.summaryTitle()...)
	if marks {
		b = append(b, "  "...)
	}
	if c.maxEstablished >= 0 {
		b = append(b, "! "...)
	}
	switch c.by {
	case "remote":
		b = pad(b, "Remote Address", 24)
	case "port":
		b = pad(b, "Proto", 5)
		b = append(b, ' ')
		b = pad(b, "Local Port", 10)
	default:
		b = append(b, "    PID Program              User      "...)
	}
	for _, col := range summaryColumns {
		b = append(b, ' ')
		b = padLeft(b, col.title, 6)
	}
	b = append(b, "  TOTAL"...)
	if c.traffic {
		b = c.appendSummaryTrafficHeader(b)
	}
	b = append(b, '\n')
	if c.by == "remote" && !c.numHosts {
		var addrs []netip.Addr
		for i := range gs {
			if gs[i].Remote.IsValid() {
				addrs = append(addrs, gs[i].Remote)
			}
		}
		l.names.Resolve(context.Background(), addrs)
	}
	for i := range gs {
		g := &gs[i]
		if marks {
			b = markStart(b, g.Mark, colour)
		}
		if c.maxEstablished >= 0 {
			if c.over(g) {
				b = append(b, "! "...)
			} else {
				b = append(b, "  "...)
			}
		}
		switch c.by {
		case "remote":
			b = pad(b, l.cut(l.remoteName(g.Remote), 24), 24)
		case "port":
			b = pad(b, protoName(g.Proto), 5)
			b = append(b, ' ')
			b = pad(b, l.cut(l.portName(g.Proto, g.Port), 10), 10)
		default:
			pid, name, user := "-", "-", "-" // no visible owner
			if g.PID != 0 {
				pid, name, user = strconv.Itoa(g.PID), "", ""
			}
			if p := g.Process; g.PID != 0 && p != nil {
				name, user = escape.String(p.Name()), l.user(p.UID)
			}
			b = padLeft(b, pid, 7)
			b = append(b, ' ')
			b = pad(b, l.cut(name, 20), 20)
			b = append(b, ' ')
			b = pad(b, l.cut(user, 10), 10)
		}
		for _, col := range summaryColumns {
			n := 0
			for _, s := range col.slots {
				n += slotCount(g, s)
			}
			b = append(b, ' ')
			b = padNum(b, uint64(n), 6)
		}
		b = append(b, ' ')
		b = padNum(b, uint64(g.Total), 6)
		if c.traffic {
			b = c.appendSummaryTraffic(b, &g.Traffic)
		}
		if marks && colour && g.Mark != procnet.MarkNone {
			b = append(b, sgrReset...)
		}
		b = append(b, '\n')
	}
	return b
}

// cut shortens s to n bytes unless -W, never inside a UTF-8 sequence.
func (l *lister) cut(s string, n int) string {
	if l.c.wide || len(s) <= n {
		return s
	}
	return s[:runeCut([]byte(s), n)]
}

func (l *lister) remoteName(a netip.Addr) string {
	if !a.IsValid() {
		return "*"
	}
	if !l.c.numHosts {
		if h := l.names.Host(a); h != "" {
			return h
		}
	}
	return a.String()
}

func (l *lister) portName(p netstat.Proto, port uint16) string {
	if !l.c.numPorts && p != netstat.Raw {
		if s, ok := l.names.Service(port, serviceProto(p)); ok {
			return s
		}
	}
	return strconv.Itoa(int(port))
}

// appendSummaryFields appends the groups as --json's objects or --csv's
// records (asCSV): under -c CSV's header, of the JSON keys, is written
// once, with a leading "time" column.
func (l *lister) appendSummaryFields(b []byte, gs []group, asCSV bool) []byte {
	var fs []field
	if asCSV && !l.csvHeader {
		b = appendHeader(b, l.summaryFields(fs, &group{}, true))
		l.csvHeader = true
	}
	for i := range gs {
		fs = l.summaryFields(fs[:0], &gs[i], asCSV)
		b = appendFields(b, fs, asCSV)
	}
	return b
}

// summaryFields appends g's fields: its key (null when unknown), its
// states (one object in JSON, the nonzero ones; a column each in CSV),
// the totals, and the round's time (last in JSON, first in CSV).
func (l *lister) summaryFields(fs []field, g *group, asCSV bool) []field {
	c := l.c
	if asCSV && l.stamp != "" {
		fs = append(fs, textField("time", l.stamp))
	}
	switch c.by {
	case "remote":
		fs = append(fs, optText("remote_address", g.Remote.String(), g.Remote.IsValid()))
	case "port":
		fs = append(fs, textField("proto", g.Proto.String()), uintField("local_port", uint64(g.Port)))
	default:
		pid, uid := field{"pid", "", fNumber}, field{"uid", "", fNumber}
		var prog, name, user string
		p, userKnown := g.Process, false
		if g.PID != 0 {
			pid = uintField("pid", uint64(g.PID))
		} else {
			p = nil
		}
		if p != nil {
			prog, name, uid = p.Name(), p.Comm, uintField("uid", uint64(p.UID))
			user, userKnown = l.names.User(p.UID)
		}
		fs = append(fs, pid, optText("program", prog, p != nil), optText("name", name, p != nil), uid,
			optText("user", user, userKnown))
	}
	if asCSV {
		for _, s := range jsonSlotOrder {
			fs = append(fs, uintField(slotName(s), uint64(slotCount(g, s))))
		}
	} else {
		b := []byte{'{'}
		for _, s := range jsonSlotOrder {
			if slotCount(g, s) != 0 {
				b = appendKey(b, len(b) == 1, slotName(s))
				b = strconv.AppendInt(b, int64(slotCount(g, s)), 10)
			}
		}
		fs = append(fs, field{"states", string(append(b, '}')), fRaw})
	}
	fs = append(fs, uintField("established", uint64(g.Established())), uintField("total", uint64(g.Total)))
	if c.maxEstablished >= 0 {
		fs = append(fs, field{"over", strconv.FormatBool(c.over(g)), fNumber})
	}
	if c.traffic {
		fs = c.summaryTrafficFields(fs, &g.Traffic)
	}
	if !asCSV && l.stamp != "" {
		fs = append(fs, textField("time", l.stamp))
	}
	return fs
}

// jsonSlotOrder lists the states in the kernel's order, then UNCONN and
// UNKNOWN.
var jsonSlotOrder = func() []int {
	var s []int
	for i := 1; i < nStates; i++ {
		s = append(s, i)
	}
	return append(s, 0, nStates)
}()

// summary prints the counts once. With --max-established N, a group above
// N makes the exit status 3. A whole listing is counted as it is read
// (the owners, then one row at a time), as -tanp streams it.
func summary(ctx context.Context, c *config, stdout, stderr io.Writer) error {
	l := newLister(c)
	snap, err := l.listing(ctx, stderr)
	if snap == nil {
		return err
	}
	warnDenied(stderr, snap.owners)
	k := procnet.NewCounter(c.countBy())
	var meter *flows.Meter
	if c.traffic {
		meter = flows.NewMeter(false)
		meter.Begin(time.Now(), nil)
	}
	var cn procnet.Conn
	for _, r := range snap.inet() {
		cn.Socket, cn.Owners = r.Socket, r.Owners
		k.Add(&cn, snap.owners)
		if meter != nil {
			var o flows.Owner
			if len(r.Owners) > 0 {
				o.PID = r.Owners[0].PID // the one the listing shows: a connection's bytes count once
			}
			meter.Add(&r.Socket, o)
		}
	}
	if snap.scanErr != nil && err == nil {
		err = snap.scanErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	groups := k.Groups()
	if meter != nil {
		groups = procnet.AddTraffic(groups, meter.End(), snap.owners)
	}
	gs := groupsOf(groups)
	var b []byte
	if c.json || c.csv {
		b = l.appendSummaryFields(b, gs, c.csv)
	} else {
		b = l.appendSummary(b, gs, false, false)
	}
	if _, werr := stdout.Write(b); werr != nil {
		return werr
	}
	over := 0
	for i := range gs {
		if c.over(&gs[i]) {
			over++
		}
	}
	if over > 0 {
		what := map[string]string{"process": "process(es)", "remote": "remote address(es)", "port": "local port(s)"}[c.by]
		fmt.Fprintf(stderr, "netstat: %d %s above %d ESTABLISHED\n", over, what, c.maxEstablished)
		return exitError{3}
	}
	return err
}
