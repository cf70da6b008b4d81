package procmap

import (
	"cmp"
	"context"
	"strings"

	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/procnet/procnet/internal/latewant"
)

// Owner is one file descriptor that refers to a socket.
type Owner struct {
	PID int
	FD  int
}

// Process describes a process that owns at least one recorded socket.
type Process struct {
	PID int
	// Comm is the kernel's name for the process (at most 15 bytes), raw as
	// /proc/PID/stat holds it: it may contain spaces and parentheses.
	Comm string
	// Cmdline is argv from /proc/PID/cmdline, read only with
	// Options.Cmdline. It is empty for kernel threads and zombies. Only
	// the first 64 KiB of the file are read: the arguments that start
	// later are dropped and the one that straddles the bound is cut
	// short, as ps cuts a command line at its width (Linux before 4.2
	// itself showed only the first page).
	Cmdline []string
	// UID is the real user ID (first number of the "Uid:" line of status).
	UID uint32
	// NetNS is the inode of the process's network namespace (the number
	// in the ns/net link), 0 when that link is unreadable (another user's
	// process, for a non-root caller).
	NetNS uint64
	// StartTime is field 22 of /proc/PID/stat: clock ticks after boot at
	// which the process started. With PID it names one process for good:
	// a reused PID has a later start time.
	StartTime uint64
}

// Name is the program name net-tools prints in its PID/Program name
// column: argv[0], cut to its base name when it starts with '/', or Comm
// when argv is empty (not read, a kernel thread, a zombie). The result is
// raw: escape it before printing. A nil Process has the name "".
func (p *Process) Name() string {
	if p == nil {
		return ""
	}
	if len(p.Cmdline) == 0 || p.Cmdline[0] == "" {
		return p.Comm
	}
	a := p.Cmdline[0]
	if strings.HasPrefix(a, "/") {
		a = a[strings.LastIndexByte(a, '/')+1:]
	}
	return a
}

// Runs reports whether p runs the program name, as netstat's --program
// matches it: its comm, its Name, or the base name of its argv[0]. A nil
// Process runs nothing.
func (p *Process) Runs(name string) bool {
	if p == nil {
		return false
	}
	return p.Comm == name || p.Name() == name || len(p.Cmdline) > 0 && path.Base(p.Cmdline[0]) == name
}

// Options say where to look and what to record.
type Options struct {
	// Root is the directory holding proc/ ("" or "/" for the live system;
	// a fixture tree otherwise).
	Root string
	// Cmdline makes Build read each owning process's argv.
	Cmdline bool
	// Inodes, when non-nil, restricts the map to the inodes whose value is
	// true, and ends the walk as soon as each has an owner. A socket held
	// by several processes may then list only the owners met before the
	// walk ended (with SourceBPF every owner is listed). Ignored by
	// Tracker (give Refresh the inodes instead).
	Inodes map[uint64]bool
	// Source selects how owners are found: SourceAuto (the zero value)
	// uses a BPF iterator on the live system where it can, else the
	// /proc walk.
	Source Source

	// FullEvery bounds how stale a Tracker may get: a full walk at least
	// every FullEvery calls to Refresh. 0 means DefaultFullEvery; 1 makes
	// every refresh a full walk.
	FullEvery int
	// MaxAge also bounds it in time: a Refresh more than MaxAge after the
	// last full walk walks in full. 0 means no bound in time.
	MaxAge time.Duration
}

// DefaultFullEvery is the Tracker's full-walk period when
// Options.FullEvery is 0.
const DefaultFullEvery = 10

// Map is the result of a walk: who owns which socket. A Map is never
// modified after it is returned, so it may be shared and read by any
// number of goroutines.
type Map struct {
	// Owners maps a socket inode to every fd found referring to it,
	// sorted by PID then FD.
	Owners map[uint64][]Owner
	// Procs holds the details of the processes in Owners, by PID.
	Procs map[int]*Process
	// Denied counts processes whose fd directory could not be read for
	// lack of permission (EACCES, EPERM): their sockets are missing from
	// Owners. A non-root caller meets one for every other user's process,
	// and should warn that not all processes could be identified. With
	// SourceBPF, which sees every process, it counts only owners whose
	// details could not be read for lack of permission (0 as root).
	Denied int
}

// Lookup returns the owners of a socket inode, nil if none is known.
// Inode 0 (TIME_WAIT and request sockets) never has owners.
func (m *Map) Lookup(inode uint64) []Owner {
	if m == nil || inode == 0 {
		return nil
	}
	return m.Owners[inode]
}

// Process returns the details of an owning process, nil if unknown.
func (m *Map) Process(pid int) *Process {
	if m == nil {
		return nil
	}
	return m.Procs[pid]
}

// rootDir returns the directory to read for opts.Root.
func rootDir(root string) string {
	if root == "" {
		return "/"
	}
	return root
}

// openProc opens root/proc. Failing that is Build's only error.
func openProc(root string) (int, error) {
	path := filepath.Join(rootDir(root), "proc")
	fd, err := openDir(path)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: "proc", Err: err}
	}
	return fd, nil
}

// exhaustive reports whether Build(opts) finds every owner in one pass
// whatever opts.Inodes holds — the BPF source, which asks the kernel for
// every (process, fd, socket) at once — so that a caller gains nothing by
// learning the inodes first. It is false when Build would walk /proc,
// which can stop early. Under SourceAuto it may load the BPF program
// (once per process).
func exhaustive(opts Options) bool {
	switch {
	case opts.Source == SourceBPF:
		return true
	case !useBPF(&opts):
		return false
	}
	procfd, err := openProc(opts.Root)
	if err != nil {
		return false
	}
	defer closefd(procfd)
	w := workerPool.Get().(*workerState)
	defer workerPool.Put(w)
	if !worthBPF(w, procfd) {
		return false
	}
	_, err = loadedBPF()
	return err == nil
}

// Build walks the fd tables of every process under opts.Root and returns
// which processes own each socket.
//
// Processes that exit during the walk are left out silently; processes
// whose fds may not be read are counted in Map.Denied. The only error is a
// proc directory that cannot be opened or listed (a *fs.PathError naming
// "proc"), or with SourceBPF, any failure of that source.
//
// When ctx is done, Build stops between processes and returns ctx.Err().
func Build(ctx context.Context, opts Options) (*Map, error) {
	var want func() map[uint64]bool
	if w, ok := latewant.FromContext(ctx); ok && opts.Inodes == nil {
		// Once, whichever source asks (SourceAuto may fall back from
		// BPF to the walk).
		want = sync.OnceValue(w.Inodes)
		if w.BPFOnly && !exhaustive(opts) {
			want = nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if opts.Source == SourceBPF {
		m, err := buildBPF(ctx, &opts, inodesOf(opts.Inodes), want, nil)
		noteBPFErr(err)
		return m, err
	}
	procfd, err := openProc(opts.Root)
	if err != nil {
		return nil, err
	}
	defer closefd(procfd)
	w0 := workerPool.Get().(*workerState)
	defer workerPool.Put(w0)
	if useBPF(&opts) && worthBPF(w0, procfd) {
		m, err := buildBPF(ctx, &opts, inodesOf(opts.Inodes), want, nil)
		noteBPFErr(err)
		if err == nil || ctx.Err() != nil {
			return m, err
		}
	}
	if want != nil && opts.Inodes == nil {
		opts.Inodes = want()
	}
	pids, e := listPIDs(make([]int, 0, 512), procfd, w0.dents)
	if e != 0 {
		return nil, &fs.PathError{Op: "readdir", Path: "proc", Err: e}
	}
	workers := make([]*workerState, numWorkers(len(pids)))
	workers[0] = w0
	for i := 1; i < len(workers); i++ {
		workers[i] = workerPool.Get().(*workerState)
		defer workerPool.Put(workers[i])
	}
	wk := &walk{ctx: ctx, procfd: procfd, pids: pids, want: inodesOf(opts.Inodes), need: inodesOf(opts.Inodes), cmdline: opts.Cmdline}
	wk.run(workers)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return collect(workers), nil
}

// keptHits is how many hits' room a worker keeps between walks (a
// variable for tests).
var keptHits = 4096

// collect turns the workers' hits into a Map. The owner lists share one
// backing array, each capped so that appending to one cannot write into
// the next.
func collect(workers []*workerState) *Map {
	n, np := 0, 0
	for _, w := range workers {
		n += len(w.hits)
		np += len(w.procs)
	}
	var hits []hit
	if len(workers) == 1 {
		hits = workers[0].hits // sorted in place, not copied
	} else {
		hits = make([]hit, 0, n)
	}
	m := &Map{Procs: make(map[int]*Process, np)}
	for _, w := range workers {
		if len(workers) > 1 {
			hits = append(hits, w.hits...)
		}
		for _, p := range w.procs {
			m.Procs[p.PID] = p
		}
		m.Denied += w.denied
		// A full walk's hits (16 bytes an owned socket) would stay with
		// the worker, which a Tracker keeps, until its next walk: drop
		// them unless few.
		if cap(w.hits) > keptHits {
			w.hits = nil
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.inode, b.inode); c != 0 {
			return c
		}
		if c := cmp.Compare(a.pid, b.pid); c != 0 {
			return c
		}
		return cmp.Compare(a.fd, b.fd)
	})
	owners := make([]Owner, len(hits))
	for i, h := range hits {
		owners[i] = Owner{PID: int(h.pid), FD: int(h.fd)}
	}
	distinct := 0
	for i := range hits {
		if i == 0 || hits[i].inode != hits[i-1].inode {
			distinct++
		}
	}
	m.Owners = make(map[uint64][]Owner, distinct)
	for i := 0; i < len(hits); {
		j := i + 1
		for j < len(hits) && hits[j].inode == hits[i].inode {
			j++
		}
		m.Owners[hits[i].inode] = owners[i:j:j]
		i = j
	}
	return m
}
