package flows

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/procnet/procnet/netstat"
)

// Kind says what an Event reports.
type Kind uint8

const (
	// Open: a TCP connection reached ESTABLISHED (connect(2) answered, or
	// a connection accepted by a listener).
	Open Kind = iota + 1
	// Close: a TCP connection's socket left the connection for good: its
	// state became CLOSE (the tracepoint source; after FIN or RST), the
	// kernel freed it (the destroy source), or it left the tables or went
	// to TIME_WAIT (the polling source).
	Close
	// StateChange: any other TCP state change, only with
	// Options.States (tracepoint source only).
	StateChange
)

var kindNames = [...]string{"", "open", "close", "state"}

// String returns "open", "close" or "state".
func (k Kind) String() string {
	if k != 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Attribution says how an Event's PID was found, that is, how far it can
// be trusted.
type Attribution uint8

const (
	// AttrNone: no process is known (PID 0).
	AttrNone Attribution = iota
	// AttrTask: the process itself was running when the kernel changed
	// the socket's state, in its own system call: connect(2) for an
	// active open, close(2) or shutdown(2) for a close. Exact.
	AttrTask
	// AttrListener: an accepted connection that its process has not
	// (yet) closed itself: the owner of the listener it came from. Exact
	// for a server with one process; a prefork server's listener has
	// several owners and the lowest PID is given.
	AttrListener
	// AttrTracker: the last owner a procmap scan of the fd tables saw
	// for the connection (destroy and polling sources): it may have
	// changed since, and a connection shorter than a scan has none.
	AttrTracker
)

var attrNames = [...]string{"none", "task", "listener", "tracker"}

// String returns "none", "task", "listener" or "tracker".
func (a Attribution) String() string {
	if int(a) < len(attrNames) {
		return attrNames[a]
	}
	return "attribution(" + strconv.Itoa(int(a)) + ")"
}

// Event is one connection opened or closed (or a state change).
type Event struct {
	Kind Kind
	// Time is when the kernel saw it (tracepoint, destroy) or when the
	// poll that noticed it ran (polling).
	Time time.Time
	// Proto is netstat.TCP or netstat.TCP6, as the socket tables list
	// the connection.
	Proto         netstat.Proto
	Local, Remote netip.AddrPort
	// OldState and NewState are the transition that made the event, where
	// the source knows it (tracepoint); zero otherwise.
	OldState, NewState netstat.State
	// Passive marks a connection accepted from a listener (the server
	// side), where the source can tell.
	Passive bool
	// PID and Program name the process, as Attribution says. Program is
	// the kernel's comm (at most 15 bytes) for the tracepoint source and
	// the owning process's comm for the others; raw bytes: escape before
	// printing.
	PID         int
	Program     string
	Attribution Attribution
	// Duration is the time since the connection opened, on Close: exact
	// from the tracepoint source, measured from the first scan that saw
	// the connection for the destroy and polling sources (so up to an
	// Interval short); zero when unknown (a connection older than the
	// tracepoint feed, or one no scan saw).
	Duration time.Duration
	// Traffic is the connection's final counters, on Close. Exact from
	// the tracepoint and destroy sources; the polling source gives the
	// last values it read (Known false when it never read any).
	Traffic netstat.Traffic
}

// Source is where a Feed gets its events.
type Source uint8

const (
	// SourceAuto takes the best source that works here: tracepoint, then
	// destroy, then polling.
	SourceAuto Source = iota
	// SourceTracepoint attaches a BPF program to the tracepoint
	// sock:inet_sock_set_state (tp_btf) writing to a BPF ring buffer.
	// Needs root (CAP_BPF and CAP_PERFMON) and kernel BTF. It sees every
	// connection of the caller's network namespace, with the PID of the
	// process that connected or closed.
	SourceTracepoint
	// SourceDestroy reads the sock_diag destroy notifications (what
	// `ss -E` shows): every TCP socket the kernel frees, with its final
	// tcp_info, but no process; owners come from periodic scans. Opens
	// are found by polling.
	SourceDestroy
	// SourcePoll compares the socket tables every Options.Interval:
	// connections shorter than the interval may be missed entirely.
	SourcePoll
)

var sourceNames = [...]string{"auto", "tracepoint", "destroy", "poll"}

// String returns "auto", "tracepoint", "destroy" or "poll".
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "source(" + strconv.Itoa(int(s)) + ")"
}

// ParseSource returns the Source that String spells s.
func ParseSource(s string) (Source, bool) {
	for i, n := range sourceNames {
		if n == s {
			return Source(i), true
		}
	}
	return 0, false
}

// DefaultInterval is the polling period of the destroy and polling
// sources when Options.Interval is zero.
const DefaultInterval = time.Second

// Options configure a Feed.
type Options struct {
	// Source chooses the event source; SourceAuto the best that works.
	Source Source
	// States also reports the other TCP state changes (StateChange
	// events); tracepoint source only. The CLOSE→SYN_SENT of a connect
	// comes before the kernel picks the local port: its Local port is 0.
	// A listener's opening and closing are state changes too.
	States bool
	// Interval is the period of the scans of the destroy and polling
	// sources (DefaultInterval if zero).
	Interval time.Duration
	// RingSize is the BPF ring buffer's size in bytes, a power of two
	// multiple of the page size (default 4 MiB, some 30,000 events).
	// The reader is woken when an eighth of it is full, and reads what
	// is there every 50 ms otherwise: events reach Next up to 50 ms after
	// they happened (Event.Time is the kernel's).
	RingSize int
	// NoOldOwners (tracepoint source) leaves out what the feed would
	// learn at its start of the connections already open: the owner of
	// each (a walk of every process's fds, and some 100 bytes a
	// connection kept while it lives). Their events then come without a
	// PID, unless a process closes them itself; accepted connections still
	// get their listener's owner. For a caller that knows those owners
	// already, as procnet's Poller does from its last round.
	NoOldOwners bool
}
