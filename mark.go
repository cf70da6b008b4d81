package procnet

// mark.go holds the marks a watch puts before rows and groups, and the
// rows of a round in the order a watch shows them.

import (
	"cmp"
	"iter"
	"slices"
	"strconv"

	"github.com/procnet/procnet/flows"
)

// Mark says how a row or a group changed since the last poll. Its value
// is the marker a watch prints before it (as `netstat -c` does).
type Mark byte

const (
	MarkNone    Mark = ' ' // as before, or the first poll
	MarkNew     Mark = '+' // not there at the last poll
	MarkChanged Mark = '~' // its state (a group: its Tally) changed
	MarkClosed  Mark = '-' // there at the last poll, gone now
	MarkBrief   Mark = '*' // opened and closed since the last poll
)

// String returns "none", "new", "changed", "closed" or "brief".
func (m Mark) String() string {
	switch m {
	case MarkNone:
		return "none"
	case MarkNew:
		return "new"
	case MarkChanged:
		return "changed"
	case MarkClosed:
		return "closed"
	case MarkBrief:
		return "brief"
	}
	return "mark(" + strconv.Itoa(int(m)) + ")"
}

// Marks sets dst to the mark of each of the n rows of the snapshot's
// Conns: MarkNew (New), MarkChanged (Changed), MarkBrief (NewClosed) or
// MarkNone, and returns it.
func (c *Changes) Marks(dst []Mark, n int) []Mark {
	dst = fill(dst, n)
	for _, i := range c.New {
		dst[i] = MarkNew
	}
	for _, s := range c.Changed {
		dst[s.Index] = MarkChanged
	}
	for _, i := range c.NewClosed {
		dst[i] = MarkBrief
	}
	return dst
}

// UnixMarks is Marks for the n rows of the snapshot's Unix.
func (c *Changes) UnixMarks(dst []Mark, n int) []Mark {
	dst = fill(dst, n)
	for _, i := range c.NewUnix {
		dst[i] = MarkNew
	}
	for _, s := range c.ChangedUnix {
		dst[s.Index] = MarkChanged
	}
	return dst
}

func fill(dst []Mark, n int) []Mark {
	if cap(dst) < n {
		dst = make([]Mark, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = MarkNone
	}
	return dst
}

// Rows is one poll's rows as Changes.All, Changes.AllUnix and
// GroupWatch.Round read them: the *Snapshot that Poll returns or the
// *Round that PollRound returns (a nil one has no rows).
type Rows interface {
	Processes
	// inetRows and unixRows return how many rows there are and an
	// iterator over them in order, with their index.
	inetRows() (int, iter.Seq2[int, *Conn])
	unixRows() (int, iter.Seq2[int, *UnixConn])
}

// noRows reports whether rows is nil, or a nil *Snapshot or *Round.
func noRows(rows Rows) bool {
	switch r := rows.(type) {
	case *Snapshot:
		return r == nil
	case *Round:
		return r == nil
	}
	return rows == nil
}

// inetRows and unixRows are rows's, none for nil.
func inetRows(rows Rows) (int, iter.Seq2[int, *Conn]) {
	if noRows(rows) {
		return 0, func(func(int, *Conn) bool) {}
	}
	return rows.inetRows()
}

func unixRows(rows Rows) (int, iter.Seq2[int, *UnixConn]) {
	if noRows(rows) {
		return 0, func(func(int, *UnixConn) bool) {}
	}
	return rows.unixRows()
}

// MarkedConn is an Internet row of a round as a watch shows it
// (Changes.All).
type MarkedConn struct {
	*Conn
	Mark Mark
	// Procs describes the row's owners: the Rows for its rows, the
	// Changes for closed rows, the BriefConn for brief ones.
	Procs Processes
	// Traffic is the row's measure in the round (Changes.Traffic); nil
	// for closed and brief rows, and without a meter.
	Traffic *flows.ConnTraffic
}

// MarkedUnix is a unix row of a round as a watch shows it
// (Changes.AllUnix).
type MarkedUnix struct {
	*UnixConn
	Mark  Mark
	Procs Processes
}

// All ranges over the Internet rows of a round as a watch shows them:
// the rows of rows, the Snapshot or Round a poll returned with c, in
// order and marked, each closed row (MarkClosed) right after the row
// that preceded it at the last poll (ClosedAfter; first if none did),
// then the brief connections (MarkBrief). A Round's row is decoded into
// a Conn that is valid until the loop goes on.
func (c *Changes) All(rows Rows) iter.Seq[MarkedConn] {
	return func(yield func(MarkedConn) bool) {
		n, conns := inetRows(rows)
		marks := c.Marks(nil, n)
		gone, g := byAfter(c.ClosedAfter), 0
		closed := func(after int) bool {
			for ; g < len(gone) && c.ClosedAfter[gone[g]] == after; g++ {
				if !yield(MarkedConn{Conn: &c.Closed[gone[g]], Mark: MarkClosed, Procs: c}) {
					return false
				}
			}
			return true
		}
		if !closed(-1) {
			return
		}
		for i, cn := range conns {
			m := MarkedConn{Conn: cn, Mark: marks[i], Procs: rows}
			if i < len(c.Traffic) {
				m.Traffic = &c.Traffic[i]
			}
			if !yield(m) || !closed(i) {
				return
			}
		}
		for i := range c.Brief {
			if !yield(MarkedConn{Conn: &c.Brief[i].Conn, Mark: MarkBrief, Procs: &c.Brief[i]}) {
				return
			}
		}
	}
}

// AllUnix is All for the unix rows: rows's, each closed one after the
// row that preceded it (ClosedUnixAfter).
func (c *Changes) AllUnix(rows Rows) iter.Seq[MarkedUnix] {
	return func(yield func(MarkedUnix) bool) {
		n, unix := unixRows(rows)
		marks := c.UnixMarks(nil, n)
		gone, g := byAfter(c.ClosedUnixAfter), 0
		closed := func(after int) bool {
			for ; g < len(gone) && c.ClosedUnixAfter[gone[g]] == after; g++ {
				if !yield(MarkedUnix{UnixConn: &c.ClosedUnix[gone[g]], Mark: MarkClosed, Procs: c}) {
					return false
				}
			}
			return true
		}
		if !closed(-1) {
			return
		}
		for i, u := range unix {
			if !yield(MarkedUnix{UnixConn: u, Mark: marks[i], Procs: rows}) || !closed(i) {
				return
			}
		}
	}
}

// byAfter returns the indices of after, ordered by their value (stably).
func byAfter(after []int) []int {
	out := make([]int, len(after))
	for k := range out {
		out[k] = k
	}
	slices.SortStableFunc(out, func(x, y int) int { return cmp.Compare(after[x], after[y]) })
	return out
}
