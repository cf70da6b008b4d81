package procnet

// mark.go holds the marks a watch puts before rows and groups.

import "strconv"

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
