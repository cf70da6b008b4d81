package netstat

// dedupWindow is how far apart, in rows, a repeated row may stand and
// still be dropped: between dedupWindow and 2*dedupWindow.
//
// A kernel dump that does not fit one read(2) is resumed at a position:
// TCP resumes at the hash bucket and offset where it stopped, so it can
// only repeat rows of that one bucket; UDP, raw and unix walk back to a row
// number, so they repeat as many rows as were inserted ahead of it between
// two reads. Either way a repeat stands close to its first appearance.
// Remembering only recent inodes keeps the set in cache: checking every
// row against every earlier row of a 100k-row table made the set the
// largest cost of a scan.
const dedupWindow = 4096

// recentInodes remembers the non-zero inodes of the last dedupWindow to
// 2*dedupWindow rows, in two generations of fixed-size tables.
type recentInodes struct {
	cur, prev inodeSet
}

func (r *recentInodes) reset() {
	r.cur.reset()
	r.prev.reset()
}

// add records v and reports whether it was not seen recently.
func (r *recentInodes) add(v uint64) bool {
	if r.prev.has(v) || !r.cur.add(v) {
		return false
	}
	if r.cur.n == dedupWindow {
		r.cur, r.prev = r.prev, r.cur
		r.cur.reset()
	}
	return true
}

// inodeSet is an open-addressing hash set of at most dedupWindow non-zero
// inodes, in a table twice that size.
type inodeSet struct {
	slots []uint64 // 0 marks an empty slot
	n     int
}

const setBits = 13 // 1<<setBits == 2*dedupWindow

func (s *inodeSet) reset() {
	if s.slots == nil {
		s.slots = make([]uint64, 1<<setBits)
	}
	if s.n > 0 {
		clear(s.slots)
		s.n = 0
	}
}

func slot(v uint64) uint64 { return (v * 0x9E3779B97F4A7C15) >> (64 - setBits) }

func (s *inodeSet) has(v uint64) bool {
	for i := slot(v); ; i = (i + 1) & (1<<setBits - 1) {
		switch s.slots[i] {
		case v:
			return true
		case 0:
			return false
		}
	}
}

// add inserts v and reports whether it was absent. The caller keeps
// s.n below the table size.
func (s *inodeSet) add(v uint64) bool {
	for i := slot(v); ; i = (i + 1) & (1<<setBits - 1) {
		switch s.slots[i] {
		case v:
			return false
		case 0:
			s.slots[i] = v
			s.n++
			return true
		}
	}
}
