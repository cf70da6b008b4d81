package procmap

import (
	"context"
	"io/fs"
	"iter"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/procnet/procnet/internal/inoset"
)

// Tracker keeps a Map up to date for a program that polls (a watch mode):
// each Refresh checks what it already knows cheaply and walks only to find
// sockets it has not seen. See the package documentation for how stale
// its answers can get.
//
// A Tracker is not safe for concurrent use. The Maps it returns are
// immutable and may be kept and shared freely.
type Tracker struct {
	opts    Options
	workers []*workerState
	pids    []int

	cur *Map
	// want holds the inodes of the current Refresh (all if wantAll),
	// need those of them a search looks for. Both are kept from call to
	// call, so that a steady watch reuses their tables.
	want, need inoset.Set
	wantAll    bool
	// missing holds inodes searched for in full and found without owner;
	// they are not searched again before the next full walk.
	missing inoset.Set
	// seen holds the PIDs present at the last full walk: a search walks
	// known owners first, then processes born since, then the rest.
	seen     map[int]struct{}
	rounds   int // refreshes since the last full walk
	lastFull time.Time
	// bpf is set while full refreshes use the BPF iterator; searches
	// are then full refreshes too.
	bpf bool

	// Stats counts the kinds of refresh done so far, for tests and tuning.
	Stats TrackerStats
}

// TrackerStats counts what a Tracker's refreshes did.
type TrackerStats struct {
	Full     int // full walks
	Searches int // partial walks that looked for new inodes
	Checks   int // refreshes answered from what was known, after checks
}

// NewTracker returns a Tracker reading under opts.Root. opts.Inodes is
// ignored: each Refresh names the inodes of interest.
func NewTracker(opts Options) *Tracker {
	opts.Inodes = nil
	if opts.FullEvery <= 0 {
		opts.FullEvery = DefaultFullEvery
	}
	return &Tracker{opts: opts}
}

// Refresh returns the owners of the given inodes. inodes yields the
// inodes of interest (0 and repeats ignored), typically every inode of the
// socket tables just read; nil asks for every socket and makes each
// refresh a full walk. Refresh reads inodes once, before it walks, into a
// set the Tracker keeps from call to call: a steady watch allocates no
// set of its own for them.
//
// It walks in full on the first call, every Options.FullEvery calls, and
// when the last full walk is older than Options.MaxAge. Otherwise it
//   - drops inodes no longer asked for;
//   - re-reads proc/PID/stat of every owning process, dropping the owners
//     of a process that exited or whose PID now names a process with
//     another start time, and renaming one that changed its comm (execve);
//   - looks for inodes without a live owner that it has not searched for
//     before, walking known owners first, then processes started since
//     the last full walk, then the rest, and stopping once all are found.
//     Every process this walk reads replaces what was known of it. An inode
//     not found by that (then complete) walk is remembered as ownerless
//     until the next full walk.
//
// Errors are as for Build. When ctx is done, Refresh stops between
// processes and returns ctx.Err(), keeping what it knew before the call,
// except when the call was a full walk: that one lets go of the owners it
// knew before it starts (a full walk does not need them), so the next
// Refresh walks in full.
func (t *Tracker) Refresh(ctx context.Context, inodes iter.Seq[uint64]) (*Map, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// About as many as last time, with room for a few more.
	t.want.Reset(t.want.Len() + t.want.Len()/32)
	t.wantAll = inodes == nil
	if inodes != nil {
		for ino := range inodes {
			t.want.Add(ino)
		}
	}
	procfd, err := openProc(t.opts.Root)
	if err != nil {
		return nil, err
	}
	defer closefd(procfd)
	if t.workers == nil {
		t.workers = make([]*workerState, numWorkers(1<<20))
		for i := range t.workers {
			t.workers[i] = newWorker()
		}
	}
	w0 := t.workers[0]
	pids, e := listPIDs(t.pids[:0], procfd, w0.dents)
	t.pids = pids
	if e != 0 {
		return nil, &fs.PathError{Op: "readdir", Path: "proc", Err: e}
	}

	if t.cur == nil || t.wantAll || t.rounds+1 >= t.opts.FullEvery ||
		(t.opts.MaxAge > 0 && time.Since(t.lastFull) >= t.opts.MaxAge) {
		return t.full(ctx, procfd)
	}
	t.rounds++

	next := &Map{Owners: t.cur.Owners, Procs: t.cur.Procs, Denied: t.cur.Denied}
	cloned := false
	mutate := func() {
		if !cloned {
			next.Owners = maps.Clone(next.Owners)
			next.Procs = maps.Clone(next.Procs)
			cloned = true
		}
	}

	// Inodes no longer asked for are closed sockets: forget them.
	for ino := range next.Owners {
		if !t.want.Has(ino) {
			mutate()
			delete(next.Owners, ino)
		}
	}
	t.missing.DeleteFunc(func(ino uint64) bool { return !t.want.Has(ino) })

	// Is every owning process still the one we know?
	var dead map[int]bool
	for pid, p := range next.Procs {
		comm, start, e := w0.readPIDStat(procfd, pid)
		switch {
		case e != 0 || start != p.StartTime:
			if dead == nil {
				dead = make(map[int]bool)
			}
			dead[pid] = true
		case string(comm) != p.Comm:
			mutate()
			q := &Process{PID: pid, Comm: string(comm), StartTime: start}
			w0.path = appendPID(w0.path[:0], pid)
			if fd, e := openat(procfd, w0.path, dirFlags); e == 0 {
				readDetails(w0, fd, q, t.opts.Cmdline)
				closefd(fd)
			}
			next.Procs[pid] = q
		}
	}
	if dead != nil {
		mutate()
		dropOwners(next, dead)
	}

	// Which inodes need a search?
	t.need.Reset(t.need.Len()) // about as many new sockets as last time
	for ino := range t.want.All() {
		if _, ok := next.Owners[ino]; ok || t.missing.Has(ino) {
			continue
		}
		t.need.Add(ino)
	}
	if t.need.Len() == 0 {
		t.Stats.Checks++
		pruneProcs(next, mutate)
		if cloned {
			t.cur = next
		}
		return t.cur, nil
	}

	if t.bpf {
		// One pass of the iterator reads every process for less than
		// most partial walks cost: search by reading everything.
		return t.full(ctx, procfd)
	}

	// Search: known owners first, then newcomers, then everyone else.
	order := make([]int, 0, len(pids))
	for pid := range next.Procs {
		order = append(order, pid)
	}
	slices.Sort(order)
	for _, pid := range pids {
		if _, ok := t.seen[pid]; !ok {
			if _, ok := next.Procs[pid]; !ok {
				order = append(order, pid)
			}
		}
	}
	for _, pid := range pids {
		if _, ok := t.seen[pid]; ok {
			if _, ok := next.Procs[pid]; !ok {
				order = append(order, pid)
			}
		}
	}
	known := t.cur.Procs
	wk := &walk{ctx: ctx, procfd: procfd, pids: order, want: t.wanted(), need: inodeSet{s: &t.need}, cmdline: t.opts.Cmdline,
		known: func(pid int, start uint64, comm []byte) *Process {
			if p := known[pid]; p != nil && p.StartTime == start && p.Comm == string(comm) {
				return p
			}
			return nil
		}}
	wk.run(t.workers[:numWorkers(len(order))])
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !wk.skipped.Load() {
		// Nothing stopped the walk: it read every process, a full walk.
		return t.fullFrom(collect(t.workers[:numWorkers(len(order))]), pids), nil
	}
	t.Stats.Searches++
	mutate()
	// Every process read now replaces what was known of it.
	read := make(map[int]bool)
	for _, w := range t.workers[:numWorkers(len(order))] {
		for _, pid := range w.walked {
			read[pid] = true
		}
		for _, pid := range w.gone {
			read[pid] = true
		}
	}
	dropOwners(next, read)
	found := collect(t.workers[:numWorkers(len(order))])
	for ino, owners := range found.Owners {
		if old := next.Owners[ino]; len(old) > 0 {
			owners = sortOwners(append(slices.Clip(old), owners...))
		}
		next.Owners[ino] = owners
	}
	for pid, p := range found.Procs {
		next.Procs[pid] = p
	}
	pruneProcs(next, mutate)
	t.cur = next
	return next, nil
}

// wanted is the set of inodes the current Refresh asks for.
func (t *Tracker) wanted() inodeSet {
	if t.wantAll {
		return inodeSet{}
	}
	return inodeSet{s: &t.want}
}

// full reads every process (with the BPF iterator if the options allow
// and it works, else by walking) and starts afresh from the result.
func (t *Tracker) full(ctx context.Context, procfd int) (*Map, error) {
	var known map[int]*Process
	if t.cur != nil {
		// The walk needs only the processes it may reuse. Letting go of
		// the last Map's owners first keeps the heap from holding them and
		// the new ones at once (6.5 MB at 100k sockets); a cancelled full
		// walk then leaves nothing known, and the next Refresh walks in
		// full again.
		known = t.cur.Procs
		t.cur = nil
	}
	reuse := func(pid int, start uint64, comm []byte) *Process {
		if p := known[pid]; p != nil && p.StartTime == start && p.Comm == string(comm) {
			return p
		}
		return nil
	}
	if useBPF(&t.opts) {
		m, err := buildBPF(ctx, &t.opts, t.wanted(), nil, reuse)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		noteBPFErr(err)
		t.bpf = err == nil
		if err == nil {
			return t.fullFrom(m, t.pids), nil
		}
		if t.opts.Source == SourceBPF {
			return nil, err
		}
	}
	wk := &walk{ctx: ctx, procfd: procfd, pids: t.pids, want: t.wanted(), cmdline: t.opts.Cmdline, known: reuse}
	wk.run(t.workers[:numWorkers(len(t.pids))])
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.fullFrom(collect(t.workers[:numWorkers(len(t.pids))]), t.pids), nil
}

// fullFrom records m, the result of reading every process in pids.
func (t *Tracker) fullFrom(m *Map, pids []int) *Map {
	t.Stats.Full++
	t.cur = m
	t.rounds = 0
	t.lastFull = time.Now()
	t.seen = make(map[int]struct{}, len(pids))
	for _, pid := range pids {
		t.seen[pid] = struct{}{}
	}
	// Counted first, so that the set is sized once (it keeps its table
	// from one full walk to the next when the count changes little).
	n := 0
	for ino := range t.want.All() {
		if _, ok := m.Owners[ino]; !ok {
			n++
		}
	}
	t.missing.Reset(n)
	for ino := range t.want.All() {
		if _, ok := m.Owners[ino]; !ok {
			t.missing.Add(ino)
		}
	}
	return m
}

// dropOwners removes from m (already cloned) every owner whose PID is in
// pids, and inodes left without owners. Owner slices are replaced, never
// changed in place: earlier Maps share them.
func dropOwners(m *Map, pids map[int]bool) {
	for ino, owners := range m.Owners {
		keep := 0
		for _, o := range owners {
			if !pids[o.PID] {
				keep++
			}
		}
		switch {
		case keep == len(owners):
		case keep == 0:
			delete(m.Owners, ino)
		default:
			kept := make([]Owner, 0, keep)
			for _, o := range owners {
				if !pids[o.PID] {
					kept = append(kept, o)
				}
			}
			m.Owners[ino] = kept
		}
	}
	for pid := range pids {
		delete(m.Procs, pid)
	}
}

// pruneProcs drops processes that no longer own a recorded socket.
func pruneProcs(m *Map, mutate func()) {
	if len(m.Procs) == 0 {
		return
	}
	owning := make(map[int]bool, len(m.Procs))
	for _, owners := range m.Owners {
		for _, o := range owners {
			owning[o.PID] = true
		}
	}
	for pid := range m.Procs {
		if !owning[pid] {
			mutate()
			delete(m.Procs, pid)
		}
	}
}

func sortOwners(o []Owner) []Owner {
	slices.SortFunc(o, func(a, b Owner) int {
		if a.PID != b.PID {
			return a.PID - b.PID
		}
		return a.FD - b.FD
	})
	return slices.Compact(o)
}

// appendPID appends the NUL-terminated decimal PID.
func appendPID(dst []byte, pid int) []byte {
	return append(strconv.AppendInt(dst, int64(pid), 10), 0)
}
