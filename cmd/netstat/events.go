package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/internal/escape"
)

// eventsFlags are --events, --count, --events-source and
// --state-changes, and the filters of the listing as the event feed
// takes them (flowsFilter).
type eventsFlags struct {
	events      bool
	count       int          // --count N: stop after N events; 0: until a signal
	allStates   bool         // --state-changes: state changes too
	source      flows.Source // --events-source
	eventFilter flows.Filter
}

// flowsFilter is the command line's filters as the event feed takes them:
// ports, PID, program, and the address families of -4/-6.
func (c *config) flowsFilter() flows.Filter {
	f := c.filter()
	ef := flows.Filter{Ports: f.Ports, LocalPorts: f.LocalPorts, RemotePorts: f.RemotePorts, IPv4: c.inet, IPv6: c.inet6}
	if c.pid >= 0 {
		ef.PIDs = []int{c.pid}
	}
	if c.program != "" {
		ef.Programs = []string{c.program}
	}
	return ef
}

// runEvents streams connection events until a signal, --count events, or
// the feed's end.
func (c *config) runEvents(ctx context.Context, stdout, stderr io.Writer) error {
	interval := cmp.Or(c.interval, flows.DefaultInterval) // -c SECS, if given
	f, err := flows.Start(flows.Options{Source: c.source, States: c.allStates, Interval: interval})
	if err != nil {
		return fmt.Errorf("--events: %v", err)
	}
	defer f.Close()
	switch f.Source() {
	case flows.SourceDestroy:
		fmt.Fprintf(stderr, "netstat: closes from the kernel's destroy notifications; opens and owners from scans every %v: connections shorter than that show no open and no process\n", interval)
	case flows.SourcePoll:
		fmt.Fprintf(stderr, "netstat: events by polling every %v: connections shorter than that may be missed\n", interval)
	}
	if c.allStates && f.Source() != flows.SourceTracepoint {
		fmt.Fprintf(stderr, "netstat: --state-changes needs the tracepoint source; showing opens and closes only\n")
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	appendEvent, buf := appendEventRow, []byte(eventsHeader)
	if c.json {
		appendEvent, buf = appendEventJSON, nil
	}
	// One write per event as it happens: a pipe reader stays current.
	if _, err := stdout.Write(buf); err != nil {
		return err
	}
	for n := 0; c.count == 0 || n < c.count; {
		ev, err := f.Next(ctx)
		if err == io.EOF || ctx.Err() != nil {
			break
		}
		if err != nil {
			report(stderr, err) // a bad record: the feed goes on
			continue
		}
		if !c.eventFilter.Match(&ev) {
			continue
		}
		n++
		buf = appendEvent(buf[:0], &ev)
		if _, err := stdout.Write(buf); err != nil {
			return err
		}
	}
	if st := f.Stats(); st.Lost > 0 || st.Missed > 0 {
		fmt.Fprintf(stderr, "netstat: %d events lost (the reader fell behind), up to %d state changes missed (the kernel skipped the program)\n", st.Lost, st.Missed)
	}
	return nil
}

const eventsHeader = "Time         Event  Proto Local Address           Foreign Address         PID/Program name     By       Duration       Sent   Received\n"

// appendEventRow appends one table line.
func appendEventRow(b []byte, ev *flows.Event) []byte {
	b = ev.Time.Local().AppendFormat(b, "15:04:05.000")
	kind := ev.Kind.String()
	switch {
	case ev.Kind == flows.Open && ev.Passive:
		kind = "accept"
	case ev.Kind == flows.StateChange:
		kind = ev.NewState.String()
	}
	b = pad(append(b, ' '), kind, 6)
	b = pad(append(b, ' '), ev.Proto.String(), 5)
	b = pad(append(b, ' '), eventAddr(ev.Local), 23)
	b = pad(append(b, ' '), eventAddr(ev.Remote), 23)
	who, by := "-", "-"
	if ev.PID != 0 {
		who, by = strconv.Itoa(ev.PID)+"/"+escape.String(ev.Program), ev.Attribution.String()
	}
	b = pad(append(b, ' '), who, 20)
	b = pad(append(b, ' '), by, 8)
	dur, sent, recv := "-", "-", "-"
	if ev.Kind == flows.Close {
		if ev.Duration > 0 {
			dur = ev.Duration.Round(time.Microsecond).String()
		}
		if ev.Traffic.Known {
			sent = strconv.FormatUint(ev.Traffic.BytesSent, 10)
			recv = strconv.FormatUint(ev.Traffic.BytesReceived, 10)
		}
	}
	b = padLeft(append(b, ' '), dur, 8)
	b = padLeft(append(b, ' '), sent, 10)
	b = padLeft(append(b, ' '), recv, 10)
	return append(b, '\n')
}

// eventAddr prints an address as the listing does: IPv4-mapped as IPv4,
// IPv6 without brackets.
func eventAddr(a netip.AddrPort) string {
	return a.Addr().Unmap().String() + ":" + strconv.Itoa(int(a.Port()))
}

// appendEventJSON appends one JSON object and a newline: the socket keys
// of the --json listing, then the event's own; null where the event does
// not know (a state, a process, a duration, the traffic).
func appendEventJSON(b []byte, ev *flows.Event) []byte {
	oldState := field{"old_state", ev.OldState.String(), fAbsent}
	if ev.Kind == flows.StateChange {
		oldState.kind = fText
	}
	pid, duration := "", ""
	if ev.PID != 0 {
		pid = strconv.Itoa(ev.PID)
	}
	if ev.Kind == flows.Close && ev.Duration > 0 {
		duration = strconv.FormatFloat(ev.Duration.Seconds(), 'f', -1, 64)
	}
	t := ev.Traffic
	count := func(v uint64) string {
		if !t.Known {
			return ""
		}
		return strconv.FormatUint(v, 10)
	}
	return appendFields(b, []field{
		textField("proto", ev.Proto.String()),
		textField("local_address", ev.Local.Addr().Unmap().String()),
		uintField("local_port", uint64(ev.Local.Port())),
		textField("remote_address", ev.Remote.Addr().Unmap().String()),
		uintField("remote_port", uint64(ev.Remote.Port())),
		optText("state", ev.NewState.String(), ev.NewState != 0),
		textField("event", ev.Kind.String()), oldState,
		textField("time", ev.Time.UTC().Format(time.RFC3339Nano)),
		{"passive", strconv.FormatBool(ev.Passive), fNumber},
		{"pid", pid, fNumber}, optText("program", ev.Program, ev.PID != 0),
		textField("attribution", ev.Attribution.String()), {"duration", duration, fNumber},
		{"bytes_sent", count(t.BytesSent), fNumber}, {"bytes_received", count(t.BytesReceived), fNumber},
		{"segs_out", count(uint64(t.SegsOut)), fNumber}, {"segs_in", count(uint64(t.SegsIn)), fNumber},
	}, false)
}
