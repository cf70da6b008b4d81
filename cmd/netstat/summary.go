package main

// --summary: connection counts per process, remote address or local port.
//
// The layout and its columns are documented in docs/tcpview.md, the
// counting rule for shared sockets in README.md ("Counting rule"). Beyond
// them: under -c a 2-column mark comes first, "+ ", "- " or "~ " when the
// group is new, gone (shown one more round) or its counts changed.

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
	"github.com/procnet/procnet/names"
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

// The table's count columns, each a sum of states (procnet.Unconnected:
// unconnected UDP and raw sockets); OTHER also counts the states without
// a name (Tally.Unknown).
var summaryColumns = []struct {
	title  string
	states []netstat.State
}{
	{"ESTAB", []netstat.State{netstat.Established}},
	{"SYN", []netstat.State{netstat.SynSent, netstat.SynRecv, netstat.NewSynRecv}},
	{"FIN", []netstat.State{netstat.FinWait1, netstat.FinWait2, netstat.Closing, netstat.LastAck}},
	{"C-WAIT", []netstat.State{netstat.CloseWait}},
	{"T-WAIT", []netstat.State{netstat.TimeWait}},
	{"LISTEN", []netstat.State{netstat.Listen, procnet.Unconnected}},
	{"OTHER", []netstat.State{netstat.Close}},
}

// group is one of procnet's groups (counted by its rule for shared
// sockets, sorted for printing; with --traffic, procnet.AddTraffic's) as
// a round shows it, marked under -c.
type group = procnet.MarkedGroup

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

// byTitles are what a group of --by is called in the title and in the
// note of --max-established, and the header of its key's columns.
var byTitles = map[string]struct{ one, some, head string }{
	"process": {"process", "process(es)", "    PID Program              User      "},
	"remote":  {"remote address", "remote address(es)", "Remote Address          "},
	"port":    {"local port", "local port(s)", "Proto Local Port"},
}

// appendSummary appends the summary table; marks adds the -c column.
func (l *lister) appendSummary(b []byte, gs []group, marks bool, colour bool) []byte {
	c := l.c
	b = append(b, "Active Internet connections per "+byTitles[c.by].one+" "+c.title()+"\n"...)
	if marks {
		b = append(b, "  "...)
	}
	if c.maxEstablished >= 0 {
		b = append(b, "! "...)
	}
	b = append(b, byTitles[c.by].head...)
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
			b = pad(b, g.Proto.NetTools(), 5)
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
			for _, s := range col.states {
				n += g.States[s]
			}
			if col.title == "OTHER" {
				n += g.Unknown
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
	if l.c.wide {
		return s
	}
	return cut(s, n)
}

func (l *lister) remoteName(a netip.Addr) string {
	if !a.IsValid() {
		return "*"
	}
	return hostName(l.names, l.c.numHosts, a)
}

// hostName names a as a host: its name when Resolve found one and -n is
// not given (numeric), escaped by names; else its text.
func hostName(n *names.Resolver, numeric bool, a netip.Addr) string {
	if h := n.Host(a); h != "" && !numeric {
		return h
	}
	return a.String()
}

func (l *lister) portName(p netstat.Proto, port uint16) string {
	if !l.c.numPorts && p != netstat.Raw {
		if s, ok := l.names.Service(port, p.ServiceProto()); ok {
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
		for name, n := range g.Counts() {
			fs = append(fs, uintField(name, uint64(n)))
		}
	} else {
		b := []byte{'{'}
		for name, n := range g.Counts() {
			if n != 0 {
				b = appendKey(b, len(b) == 1, name)
				b = strconv.AppendInt(b, int64(n), 10)
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
	for r := range snap.inet {
		k.Add(r, snap.owners)
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
		fmt.Fprintf(stderr, "netstat: %d %s above %d ESTABLISHED\n", over, byTitles[c.by].some, c.maxEstablished)
		return exitError{3}
	}
	return err
}
