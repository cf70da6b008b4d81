package netstat

import (
	"errors"
	"strconv"
)

// Source says where a Reader gets the live system's Internet tables.
//
// The kernel offers the same tables twice: as text in proc/net/… and as
// binary rows over a NETLINK_SOCK_DIAG socket (inet_diag, what `ss` uses).
// Netlink costs about a third of the text: no formatting in the kernel, no
// parsing here. The rows and their values are the same (the package doc
// says how SYN_RECV request sockets are made to agree), and so is their
// order: both walk the listening hash and then the established
// hash, bucket by bucket.
type Source uint8

const (
	// SourceAuto reads the live system's tcp, tcp6, udp, udp6, udplite
	// and udplite6 tables over netlink, and falls back to proc/net/…,
	// table by table and silently, when netlink fails (no permission, a
	// kernel without sock_diag or without a protocol's diag module). A
	// fixture root (Root not "" or "/"), another namespace (PID > 0) and
	// the raw tables are read from proc.
	SourceAuto Source = iota
	// SourceProc always reads proc/net/….
	SourceProc
	// SourceNetlink reads the tables netlink can give over netlink and
	// reports an error (a *DiagError) for each such table it cannot read
	// that way, including every table of a fixture root or of a PID's
	// namespace. The raw tables still come from proc.
	SourceNetlink
)

var sourceNames = [...]string{"auto", "proc", "netlink"}

// String returns "auto", "proc" or "netlink".
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

// DiagError reports a table that could not be read over netlink, or a
// netlink reply that could not be decoded.
type DiagError struct {
	Proto Proto
	Err   error
}

func (e *DiagError) Error() string { return "sock_diag " + e.Proto.String() + ": " + e.Err.Error() }
func (e *DiagError) Unwrap() error { return e.Err }

// ErrNotLive is a DiagError's reason when SourceNetlink is asked for a
// table netlink cannot give: the Reader reads a fixture root or another
// process's namespace.
var ErrNotLive = errors.New("netlink reads only the live system's own namespace")

func (r *Reader) live() bool { return (r.Root == "" || r.Root == "/") && r.PID <= 0 }

// scan reads table p from the Reader's source.
func (r *Reader) scan(p Proto, f *Filter, yield func(Socket, error) bool) bool {
	if _, _, ok := diagProto(p); ok {
		switch {
		case r.Source == SourceNetlink && !r.live():
			return yield(Socket{}, &DiagError{Proto: p, Err: ErrNotLive})
		case r.Source == SourceNetlink || r.Source == SourceAuto && r.live() && !r.diag.off:
			// Rows from netlink do not pass through a Lines, which
			// checks ctx: count them here.
			n, cancelled := 0, false
			y := func(s Socket, err error) bool {
				if n++; n&63 == 0 && r.ctx.Err() != nil {
					cancelled = true
					return false
				}
				return yield(s, err)
			}
			if done, cont := r.scanDiag(p, f, y); done {
				if cancelled {
					yield(Socket{}, r.ctx.Err())
					return false
				}
				return cont
			}
		}
	}
	if r.NoRetransmits && p.IsTCP() {
		// Netlink left them zero (no tcp_info asked for); the text has
		// them, and the Reader gives the same rows either way.
		all := yield
		yield = func(s Socket, err error) bool {
			s.Retransmits, s.Timeout = 0, 0
			return all(s, err)
		}
	}
	if r.Traffic && p.IsTCP() && !r.live() {
		return r.scanTraffic(p, f, yield) // a fixture's traffic file
	}
	return r.scanTable(p, f, yield)
}
