package procmap

import (
	"context"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/procnet/procnet/internal/inoset"
)

// An inodeSet is a set of inodes, held either as a map whose members have
// the value true (Options.Inodes) or as an inoset.Set (a Tracker's). The
// zero value is no set. It is a plain struct, so that the walk's per-fd
// membership test is a direct call, never through an interface.
type inodeSet struct {
	m map[uint64]bool
	s *inoset.Set
}

// inodesOf is the set of m's inodes with the value true; nil is no set.
func inodesOf(m map[uint64]bool) inodeSet { return inodeSet{m: m} }

// none reports whether there is no set (as opposed to an empty one).
func (i inodeSet) none() bool { return i.m == nil && i.s == nil }

// has reports whether ino is a member.
func (i inodeSet) has(ino uint64) bool {
	if i.s != nil {
		return i.s.Has(ino)
	}
	return i.m[ino]
}

// count returns how many inodes are members.
func (i inodeSet) count() int {
	if i.s != nil {
		return i.s.Len()
	}
	n := 0
	for _, v := range i.m {
		if v {
			n++
		}
	}
	return n
}

// A hit is one socket fd found in one process.
type hit struct {
	inode uint64
	pid   int32
	fd    int32
}

// A walk is one pass over a list of processes, spread over workers.
type walk struct {
	ctx    context.Context // done: stop between processes
	procfd int
	pids   []int
	// Processes pids[:prefix] are walked even after an early exit.
	prefix int
	// want selects the inodes to record; none records every socket.
	want inodeSet
	// need, when not none, makes the walk stop once each of its inodes
	// has an owner.
	need    inodeSet
	cmdline bool
	// known returns details already read for a process with this PID and
	// start time, or nil; it must be safe for concurrent calls (a read of
	// a map nobody writes during the walk). May be nil.
	known func(pid int, start uint64, comm []byte) *Process

	next      atomic.Int64
	stop      atomic.Bool
	skipped   atomic.Bool // a process was left unread because of stop
	remaining atomic.Int64
	mu        sync.Mutex
	found     inoset.Set // needed inodes found so far
}

// workerState holds one worker's buffers and results. Buffers are reused
// from walk to walk (a Tracker keeps its workers; Build takes them from a
// pool).
type workerState struct {
	dents []byte // getdents buffer for an fd directory
	link  []byte // readlink target
	path  []byte // NUL-terminated relative paths
	file  []byte // stat, status, cmdline
	hits  []hit
	procs []*Process
	// walked lists the processes whose fd tables were read in full,
	// gone the processes that vanished.
	walked, gone []int
	denied       int
}

var workerPool = sync.Pool{New: func() any { return newWorker() }}

func newWorker() *workerState {
	return &workerState{
		dents: make([]byte, 32<<10),
		link:  make([]byte, 128),
		path:  make([]byte, 0, 64),
		file:  make([]byte, 4<<10),
	}
}

func (w *workerState) reset() {
	w.hits = w.hits[:0]
	clear(w.procs)
	w.procs = w.procs[:0]
	w.walked = w.walked[:0]
	w.gone = w.gone[:0]
	w.denied = 0
}

// run walks wk.pids with the given workers (one goroutine each).
func (wk *walk) run(workers []*workerState) {
	for _, w := range workers {
		w.reset()
	}
	if !wk.need.none() {
		n := wk.need.count()
		wk.remaining.Store(int64(n))
		wk.found.Reset(n)
		if n == 0 && wk.prefix == 0 {
			return
		}
	}
	if len(workers) == 1 {
		wk.work(workers[0])
		return
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { wk.work(w) })
	}
	wg.Wait()
}

// numWorkers is how many goroutines share a walk of n processes.
func numWorkers(n int) int {
	return max(1, min(runtime.GOMAXPROCS(0), n))
}

func (wk *walk) work(w *workerState) {
	for {
		i := int(wk.next.Add(1) - 1)
		if i >= len(wk.pids) {
			return
		}
		if i >= wk.prefix && wk.stop.Load() {
			wk.skipped.Store(true)
			return
		}
		if wk.ctx != nil && wk.ctx.Err() != nil {
			wk.skipped.Store(true)
			return
		}
		wk.process(w, wk.pids[i])
	}
}

// process reads the fd table of one process and, if it holds a recorded
// socket, its details.
func (wk *walk) process(w *workerState, pid int) {
	w.path = appendPID(w.path[:0], pid)
	// Everything about the process is read through this directory fd: if
	// the PID dies and is reused meanwhile, reads fail instead of
	// describing the newcomer.
	pidfd, e := openat(wk.procfd, w.path, dirFlags)
	if e != 0 {
		wk.fail(w, pid, e)
		return
	}
	defer closefd(pidfd)
	fdfd, e := openat(pidfd, append(w.path[:0], "fd\x00"...), dirFlags)
	if e != 0 {
		wk.fail(w, pid, e)
		return
	}
	first := len(w.hits)
	e = wk.readFDs(w, fdfd, pid)
	closefd(fdfd)
	if e != 0 {
		w.hits = w.hits[:first]
		wk.fail(w, pid, e)
		return
	}
	if len(w.hits) > first {
		p, e := wk.details(w, pidfd, pid)
		if e != 0 {
			// Gone before we could name it: its fds are closed now.
			w.hits = w.hits[:first]
			wk.fail(w, pid, e)
			return
		}
		w.procs = append(w.procs, p)
		if !wk.need.none() {
			wk.noteFound(w.hits[first:])
		}
	}
	w.walked = append(w.walked, pid)
}

func (wk *walk) fail(w *workerState, pid int, e syscall.Errno) {
	switch classify(e) {
	case errGone:
		w.gone = append(w.gone, pid)
	case errDenied:
		w.denied++
	}
}

// readFDs lists the fd directory and reads each link. The per-fd path
// allocates nothing: names come NUL-terminated from the getdents buffer and
// links land in w.link.
func (wk *walk) readFDs(w *workerState, fdfd int, pid int) syscall.Errno {
	for {
		n, e := getdents(fdfd, w.dents)
		if e != 0 {
			return e
		}
		if n == 0 {
			return 0
		}
		buf := w.dents[:n]
		for off := 0; ; {
			name, next, ok := dirent(buf, off)
			if !ok {
				break
			}
			off = next
			if name[0] == '.' {
				continue
			}
			l, e := readlinkat(fdfd, name, w.link)
			if e != 0 {
				if classify(e) == errDenied {
					return e
				}
				continue // closed meanwhile
			}
			ino, ok := parseSocketLink(w.link[:l])
			if !ok || (!wk.want.none() && !wk.want.has(ino)) {
				continue
			}
			fd, ok := dec(name[:len(name)-1])
			if !ok || fd > 1<<31-1 {
				continue
			}
			w.hits = append(w.hits, hit{inode: ino, pid: int32(pid), fd: int32(fd)})
		}
	}
}

// noteFound counts newly found needed inodes and raises the stop flag once
// none remain.
func (wk *walk) noteFound(hits []hit) {
	wk.mu.Lock()
	for _, h := range hits {
		if !wk.need.has(h.inode) || !wk.found.Add(h.inode) {
			continue
		}
		if wk.remaining.Add(-1) == 0 {
			wk.stop.Store(true)
		}
	}
	wk.mu.Unlock()
}

// maxFile bounds what is read of one process's stat, status or cmdline:
// the rest is left unread, so a worker's buffer never grows past it
// whatever a hostile tree holds. A real stat is a few hundred bytes and
// the Uid line comes early in status; only an argv can be longer (see
// Process.Cmdline).
const maxFile = 64 << 10

// readFile reads a small proc file relative to dirfd into w.file (grown
// as needed, up to maxFile) and returns its contents, cut at
// maxFile.
func (w *workerState) readFile(dirfd int, name string) ([]byte, syscall.Errno) {
	w.path = append(append(w.path[:0], name...), 0)
	return w.readPath(dirfd, w.path)
}

// readPath is readFile for a NUL-terminated path. A symbolic link is not
// followed (ELOOP): proc's own stat, status and cmdline are never links,
// and in a fixture or container root a link could point out of the tree.
// The open does not block (O_NONBLOCK): a hostile tree's FIFO reads as
// empty or EAGAIN instead of hanging the walk.
func (w *workerState) readPath(dirfd int, path []byte) ([]byte, syscall.Errno) {
	fd, e := openat(dirfd, path, fileFlags)
	if e != 0 {
		return nil, e
	}
	defer closefd(fd)
	n := 0
	for {
		if n == maxFile {
			return w.file[:n], 0 // the rest stays unread
		}
		if n == len(w.file) {
			grown := make([]byte, min(2*n, maxFile))
			copy(grown, w.file[:n])
			w.file = grown
		}
		m, e := read(fd, w.file[n:])
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return nil, e
		}
		if m == 0 {
			return w.file[:n], 0
		}
		n += m
	}
}

// readStat returns the command name and start time of the process whose
// directory is dirfd.
func (w *workerState) readStat(dirfd int) (comm []byte, start uint64, e syscall.Errno) {
	b, e := w.readFile(dirfd, "stat")
	return statResult(b, e)
}

// readPIDStat is readStat for proc/PID/stat relative to the proc directory.
func (w *workerState) readPIDStat(procfd, pid int) (comm []byte, start uint64, e syscall.Errno) {
	w.path = strconv.AppendInt(w.path[:0], int64(pid), 10)
	w.path = append(w.path, "/stat\x00"...)
	b, e := w.readPath(procfd, w.path)
	return statResult(b, e)
}

func statResult(b []byte, e syscall.Errno) (comm []byte, start uint64, _ syscall.Errno) {
	if e != 0 {
		return nil, 0, e
	}
	comm, start, ok := parseStat(b)
	if !ok {
		return nil, 0, syscall.EINVAL
	}
	return comm, start, 0
}

// details reads what Process holds. Only stat is essential (it names the
// process and proves which incarnation of the PID it is); status, ns/net
// and cmdline are best effort.
func (wk *walk) details(w *workerState, pidfd, pid int) (*Process, syscall.Errno) {
	comm, start, e := w.readStat(pidfd)
	if e != 0 {
		return nil, e
	}
	if wk.known != nil {
		if p := wk.known(pid, start, comm); p != nil {
			return p, 0
		}
	}
	p := &Process{PID: pid, Comm: string(comm), StartTime: start}
	readDetails(w, pidfd, p, wk.cmdline)
	return p, 0
}

// readDetails fills in the UID, network namespace and (if asked) argv.
func readDetails(w *workerState, pidfd int, p *Process, cmdline bool) {
	if b, e := w.readFile(pidfd, "status"); e == 0 {
		p.UID, _ = parseStatusUID(b)
	}
	w.path = append(w.path[:0], "ns/net\x00"...)
	if n, e := readlinkat(pidfd, w.path, w.link); e == 0 {
		p.NetNS, _ = parseNetNS(w.link[:n])
	}
	if cmdline {
		if b, e := w.readFile(pidfd, "cmdline"); e == 0 {
			p.Cmdline = splitCmdline(b)
		}
	}
}

// listPIDs appends the PIDs in the open proc directory to dst, sorted
// (procfs lists them in order; a fixture tree may not).
func listPIDs(dst []int, procfd int, buf []byte) ([]int, syscall.Errno) {
	if err := rewind(procfd); err != nil {
		e, ok := err.(syscall.Errno)
		if !ok {
			e = syscall.EIO
		}
		return dst, e
	}
	start := len(dst)
	for {
		n, e := getdents(procfd, buf)
		if e != 0 {
			return dst, e
		}
		if n == 0 {
			slices.Sort(dst[start:])
			return dst, 0
		}
		for off := 0; ; {
			name, next, ok := dirent(buf[:n], off)
			if !ok {
				break
			}
			off = next
			if pid, ok := parsePID(name[:len(name)-1]); ok {
				dst = append(dst, pid)
			}
		}
	}
}
