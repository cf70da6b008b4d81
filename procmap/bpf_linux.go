package procmap

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/procnet/procnet/internal/kbtf"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"

	"github.com/procnet/procnet/internal/procfile"
)

// The BPF owner source: a task_file iterator program (bpf_iter, Linux 5.8+)
// that the kernel runs for every open file of every task in the reader's
// pid namespace, writing a fixed-size record for each socket fd of a
// thread-group leader. One read(2) of the iterator replaces the getdents
// and one readlinkat per fd of the /proc walk.
//
// Record (native byte order, bpfRecordSize bytes):
//
//	u32 pid    PID in the reader's pid namespace
//	u32 fd
//	u64 inode  socket inode (i_ino of a sockfs inode, as in "socket:[N]")
//	u64 start  task->start_boottime, ns (checked against /proc/PID/stat)
//
// The first record of an iteration (written for its first file, whatever
// it is) is a header: pid 0, fd ^0, inode bpfHeaderMagic and the start of
// the reading process itself, which calibrates start times against
// /proc/PID/stat's clock ticks.
const (
	bpfRecordSize  = 24
	bpfHeaderMagic = 0x3174656e636f7270 // "procnet1" read little-endian
	sockfsMagic    = 0x534F434B         // SOCKFS_MAGIC, include/uapi/linux/magic.h
)

// kernelLayout holds the offsets (and load sizes) the program needs, read
// from the running kernel's BTF.
type kernelLayout struct {
	taskPid, taskTgid, taskThreadPid, taskStart, taskLeader field
	pidLevel, pidNumbers                                    field
	upidNr                                                  field
	upidSize                                                int
	fileInode                                               field
	inodeIno, inodeSb                                       field
	sbMagic                                                 field
}

type field struct {
	off  int
	size asm.Size
}

// fillLayout sets every member of l that the program reads with find
// (struct, member, size in bytes; 0 takes 4, 8 or an array), stopping at
// the first error: the one list for both BTF readers (readLayout,
// btfScan.layout).
func fillLayout(l *kernelLayout, find func(typ, name string, size int) (field, error)) error {
	for _, m := range []struct {
		dst       *field
		typ, name string
		size      int
	}{
		{&l.taskPid, "task_struct", "pid", 4},
		{&l.taskTgid, "task_struct", "tgid", 4},
		{&l.taskThreadPid, "task_struct", "thread_pid", 8},
		{&l.taskStart, "task_struct", "start_boottime", 8},
		{&l.taskLeader, "task_struct", "group_leader", 8},
		{&l.pidLevel, "pid", "level", 4},
		{&l.pidNumbers, "pid", "numbers", 0},
		{&l.upidNr, "upid", "nr", 4},
		{&l.fileInode, "file", "f_inode", 8},
		{&l.inodeIno, "inode", "i_ino", 8},
		{&l.inodeSb, "inode", "i_sb", 8},
		{&l.sbMagic, "super_block", "s_magic", 0},
	} {
		f, err := find(m.typ, m.name, m.size)
		if err != nil {
			return err
		}
		*m.dst = f
	}
	return nil
}

// readLayout looks up every member the program reads.
func readLayout(spec *btf.Spec) (*kernelLayout, error) {
	var l kernelLayout
	err := fillLayout(&l, func(typ, name string, size int) (field, error) {
		return member(spec, typ, name, size)
	})
	if err != nil {
		return nil, err
	}
	var upid *btf.Struct
	if err := spec.TypeByName("upid", &upid); err != nil {
		return nil, fmt.Errorf("btf: struct upid: %w", err)
	}
	l.upidSize = int(upid.Size)
	return &l, nil
}

// member finds a member of struct typ by name, looking into anonymous
// structs and unions, and checks its size (want 0: 4 or 8 accepted).
func member(spec *btf.Spec, typ, name string, want int) (field, error) {
	off, t, err := kbtf.Member(spec, typ, name)
	if err != nil {
		return field{}, err
	}
	if _, isArray := btf.UnderlyingType(t).(*btf.Array); isArray && want == 0 {
		return field{off: off}, nil
	}
	n, err := btf.Sizeof(t)
	if err != nil {
		return field{}, fmt.Errorf("btf: %s.%s: %w", typ, name, err)
	}
	if (want != 0 && n != want) || (want == 0 && n != 4 && n != 8) {
		return field{}, fmt.Errorf("btf: %s.%s has size %d", typ, name, n)
	}
	size := asm.Word
	if n == 8 {
		size = asm.DWord
	}
	return field{off: off, size: size}, nil
}

// bpf_iter__task_file context offsets (fixed by the kernel ABI of the
// iterator: meta, task, u32 fd aligned to 8, file).
const (
	ctxMeta = 0
	ctxTask = 8
	ctxFD   = 16
	ctxFile = 24
	// struct bpf_iter_meta { struct seq_file *seq; u64 session_id; u64 seq_num; }
	metaSeq    = 0
	metaSeqNum = 16
)

// program assembles the iterator program for a kernel layout.
func program(l *kernelLayout) asm.Instructions {
	const (
		rCtx  = asm.R6
		rTask = asm.R7
		rFile = asm.R8
		rIno  = asm.R9
		out   = "out"
		body  = "body"
	)
	ld := func(dst, src asm.Register, f field) asm.Instruction {
		return asm.LoadMem(dst, src, int16(f.off), f.size)
	}
	seqWrite := asm.Instructions{
		asm.LoadMem(asm.R1, rCtx, ctxMeta, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, metaSeq, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -bpfRecordSize),
		asm.Mov.Imm(asm.R3, bpfRecordSize),
		asm.FnSeqWrite.Call(),
	}
	insns := asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		asm.LoadMem(rTask, rCtx, ctxTask, asm.DWord),
		asm.JEq.Imm(rTask, 0, out),
		asm.LoadMem(rFile, rCtx, ctxFile, asm.DWord),
		asm.JEq.Imm(rFile, 0, out),

		// First object of the read: the header.
		asm.LoadMem(asm.R1, rCtx, ctxMeta, asm.DWord),
		asm.LoadMem(asm.R1, asm.R1, metaSeqNum, asm.DWord),
		asm.JNE.Imm(asm.R1, 0, body),
		asm.FnGetCurrentTaskBtf.Call(),
		ld(asm.R1, asm.R0, l.taskLeader),
		ld(asm.R1, asm.R1, l.taskStart),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.LoadImm(asm.R1, bpfHeaderMagic, asm.DWord),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		asm.StoreImm(asm.RFP, -20, -1, asm.Word),
		asm.StoreImm(asm.RFP, -24, 0, asm.Word),
	}
	insns = append(insns, seqWrite...)
	insns = append(insns,
		// Thread-group leaders only: /proc/PID/fd shows the leader's table.
		ld(asm.R1, rTask, l.taskPid).WithSymbol(body),
		ld(asm.R2, rTask, l.taskTgid),
		asm.JNE.Reg(asm.R1, asm.R2, out),
		// Sockets only: an inode of sockfs (not a socket file on disk
		// opened with O_PATH, whose link is a path).
		ld(rIno, rFile, l.fileInode),
		asm.JEq.Imm(rIno, 0, out),
		ld(asm.R1, rIno, l.inodeSb),
		asm.JEq.Imm(asm.R1, 0, out),
		ld(asm.R1, asm.R1, l.sbMagic),
		asm.JNE.Imm(asm.R1, sockfsMagic, out),

		ld(asm.R1, rIno, l.inodeIno),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rCtx, ctxFD, asm.Word),
		asm.StoreMem(asm.RFP, -20, asm.R1, asm.Word),
		ld(asm.R1, rTask, l.taskStart),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),

		// PID at the reader's pid namespace level:
		// task->thread_pid->numbers[current->thread_pid->level].nr
		asm.FnGetCurrentTaskBtf.Call(),
		ld(asm.R1, asm.R0, l.taskThreadPid),
		ld(asm.R2, asm.R1, l.pidLevel),
		ld(asm.R1, rTask, l.taskThreadPid),
		asm.JEq.Imm(asm.R1, 0, out),
		ld(asm.R3, asm.R1, l.pidLevel),
		asm.JLT.Reg(asm.R3, asm.R2, out),
		asm.Mul.Imm(asm.R2, int32(l.upidSize)),
		asm.Add.Reg(asm.R1, asm.R2),
		asm.Add.Imm(asm.R1, int32(l.pidNumbers.off+l.upidNr.off)),
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, -bpfRecordSize),
		asm.Mov.Imm(asm.R2, 4),
		asm.FnProbeReadKernel.Call(),
		asm.JNE.Imm(asm.R0, 0, out),
	)
	insns = append(insns, seqWrite...)
	insns = append(insns,
		asm.Mov.Imm(asm.R0, 0).WithSymbol(out),
		asm.Return(),
	)
	return insns
}

// bpfIter is the loaded program and its iterator link, kept open for the
// life of the process (two fds): loading costs a scan of the kernel's BTF
// and a verifier run, some 6 ms (25–40 ms when cilium/ebpf has to decode
// the BTF: see loadBPF), so it is done once.
type bpfIter struct {
	prog *ebpf.Program
	iter *link.Iter
}

func (b *bpfIter) close() {
	b.iter.Close()
	b.prog.Close()
}

var bpfLoad struct {
	once sync.Once
	done atomic.Bool // once has run
	it   *bpfIter
	err  error
}

// lastBPFErr is why the last Build that could have used BPF did not.
var lastBPFErr atomic.Pointer[error]

func noteBPFErr(err error) {
	if err == nil {
		lastBPFErr.Store(nil)
		return
	}
	lastBPFErr.Store(&err)
}

// bpfError reports why the BPF owner source is not in use: the reason the
// program could not be loaded or, once loaded, why the last Build that
// wanted it fell back to the /proc walk. It is nil when the last such Build
// used BPF (or none tried yet). For tests; SourceAuto falls back silently.
func bpfError() error {
	if p := lastBPFErr.Load(); p != nil {
		return *p
	}
	return nil
}

// loadedBPF loads the program on first use and returns it, or why not.
func loadedBPF() (*bpfIter, error) {
	bpfLoad.once.Do(func() {
		bpfLoad.it, bpfLoad.err = loadBPF()
		if bpfLoad.err != nil {
			bpfLoad.err = fmt.Errorf("%w: %w", ErrBPFUnavailable, bpfLoad.err)
		}
		bpfLoad.done.Store(true)
	})
	return bpfLoad.it, bpfLoad.err
}

const vmlinuxBTF = "/sys/kernel/btf/vmlinux"

// loadBPF loads the program the fast way (loadBPFFast) or, should that
// fail for any reason, with cilium/ebpf.
func loadBPF() (*bpfIter, error) {
	if it, err := loadBPFFast(); err == nil {
		return it, nil
	}
	return loadBPFCilium()
}

// loadBPFCilium loads the program with cilium/ebpf, which decodes the
// kernel's BTF to find the attach target.
func loadBPFCilium() (*bpfIter, error) {
	// Tracing programs need the kernel's own BTF, which such kernels
	// expose here; without it, btf would go looking for a vmlinux file on
	// disk, slowly and for nothing.
	if _, err := os.Stat(vmlinuxBTF); err != nil {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	// One cache, so that the layout lookup and the attach target lookup
	// share a single decoding of the kernel's BTF.
	cache := btf.NewCache()
	spec, err := cache.Kernel()
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: %w", err)
	}
	l, err := readLayout(spec)
	if err != nil {
		return nil, err
	}
	coll, err := ebpf.NewCollectionWithOptions(&ebpf.CollectionSpec{
		Programs: map[string]*ebpf.ProgramSpec{"sockfd": {
			Name:         "procnet_sockfd",
			Type:         ebpf.Tracing,
			AttachType:   ebpf.AttachTraceIter,
			AttachTo:     "task_file",
			License:      "Dual MIT/GPL", // bpf_seq_write is GPL-only
			Instructions: program(l),
		}},
	}, ebpf.CollectionOptions{Cache: cache})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("load: %+v", ve)
		}
		return nil, fmt.Errorf("load: %w", err)
	}
	prog := coll.DetachProgram("sockfd")
	coll.Close()
	it, err := link.AttachIter(link.IterOptions{Program: prog})
	if err != nil {
		prog.Close()
		return nil, fmt.Errorf("attach: %w", err)
	}
	return &bpfIter{prog: prog, iter: it}, nil
}

// useBPF reports whether opts may try the BPF source at all.
func useBPF(opts *Options) bool {
	switch opts.Source {
	case SourceProc:
		return false
	case SourceAuto:
		return filepath.Clean(rootDir(opts.Root)) == "/"
	}
	return true
}

// bpfMinFiles is the number of open files in the system under which a
// one-shot Build under SourceAuto walks /proc rather than load the BPF
// program. Loading costs some 6 ms once per process (loadBPFFast; 25–40
// ms through cilium/ebpf's full BTF decoding), what the walk spends on
// about 1,000 fds; file-nr counts every open file, sockets or not, so
// twice that keeps a small machine on the walk.
const bpfMinFiles = 2048

// worthBPF reports whether a Build under SourceAuto should use BPF: it is
// loaded already, or the system holds enough open files
// (proc/sys/fs/file-nr, system-wide) for the load to pay for itself in
// one Build. A Tracker, which runs many times, does not ask.
func worthBPF(w *workerState, procfd int) bool {
	if bpfLoad.done.Load() {
		return bpfLoad.err == nil
	}
	b, e := w.readFile(procfd, "sys/fs/file-nr")
	return e != 0 || manyFiles(b)
}

// manyFiles reports whether file-nr's first number, the open files, is at
// least bpfMinFiles.
func manyFiles(b []byte) bool {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		if n >= bpfMinFiles {
			return true
		}
	}
	return false
}

// bpfSelf is what the BPF path needs to know about the calling process.
type bpfSelf struct {
	startTicks uint64 // field 22 of /proc/self/stat
}

// checkSelf verifies, from proc/self under the open proc directory, that
// the caller may load tracing programs and that this proc shows the pid
// namespace the iterator walks (the caller's), and returns the caller's
// start time.
func checkSelf(w *workerState, procfd int) (bpfSelf, error) {
	b, e := w.readFile(procfd, "self/status")
	if e != 0 {
		return bpfSelf{}, fmt.Errorf("%w: proc/self/status: %w", ErrBPFUnavailable, e)
	}
	nspid, caps, ok := parseSelfStatus(b)
	if !ok {
		return bpfSelf{}, fmt.Errorf("%w: proc/self/status: no NSpid or CapEff line", ErrBPFUnavailable)
	}
	if nspid != 1 {
		// NSpid lists our PID from proc's pid namespace down to ours.
		return bpfSelf{}, fmt.Errorf("%w: proc shows a pid namespace %d levels above ours", ErrBPFUnavailable, nspid-1)
	}
	const capSysAdmin, capPerfmon, capBPF = 21, 38, 39
	if caps&(1<<capSysAdmin) == 0 && caps&(1<<capPerfmon|1<<capBPF) != 1<<capPerfmon|1<<capBPF {
		return bpfSelf{}, fmt.Errorf("%w: needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)", ErrBPFUnavailable)
	}
	_, start, e := statResult(w.readFile(procfd, "self/stat"))
	if e != 0 {
		return bpfSelf{}, fmt.Errorf("%w: proc/self/stat: %w", ErrBPFUnavailable, e)
	}
	return bpfSelf{startTicks: start}, nil
}

// parseSelfStatus returns the number of PIDs on the NSpid line and the
// CapEff bit mask of /proc/self/status.
func parseSelfStatus(b []byte) (nspid int, capEff uint64, ok bool) {
	haveNS, haveCap := false, false
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		switch {
		case bytes.HasPrefix(line, []byte("NSpid:")):
			f := line[len("NSpid:"):]
			for i := 0; i < len(f); {
				for i < len(f) && (f[i] == ' ' || f[i] == '\t') {
					i++
				}
				j := i
				for j < len(f) && f[j] != ' ' && f[j] != '\t' {
					j++
				}
				if j > i {
					nspid++
				}
				i = j
			}
			haveNS = nspid > 0
		case bytes.HasPrefix(line, []byte("CapEff:")):
			f := bytes.TrimSpace(line[len("CapEff:"):])
			v, okHex := procfile.Hex(f)
			if !okHex || len(f) > 16 {
				return 0, 0, false
			}
			capEff, haveCap = v, true
		}
	}
	return nspid, capEff, haveNS && haveCap
}

// bpfRecord is one decoded record of the iterator.
type bpfRecord struct {
	pid, fd uint32
	inode   uint64
	start   uint64 // ns since boot (task->start_boottime)
}

// bpfStream decodes the iterator's output, which may arrive cut anywhere.
type bpfStream struct {
	header  bool   // the header was seen
	selfNs  uint64 // the reader's start, from the header
	partial [bpfRecordSize]byte
	npart   int
}

// errBPFStream is wrapped by every decoding error.
var errBPFStream = errors.New("procmap: bad BPF iterator output")

// feed decodes the records in b (after any partial record left by the
// previous call), calling fn for each socket record.
func (s *bpfStream) feed(b []byte, fn func(bpfRecord)) error {
	if s.npart > 0 {
		n := copy(s.partial[s.npart:], b)
		s.npart += n
		b = b[n:]
		if s.npart < bpfRecordSize {
			return nil
		}
		s.npart = 0
		if err := s.record(s.partial[:], fn); err != nil {
			return err
		}
	}
	for len(b) >= bpfRecordSize {
		if err := s.record(b[:bpfRecordSize], fn); err != nil {
			return err
		}
		b = b[bpfRecordSize:]
	}
	s.npart = copy(s.partial[:], b)
	return nil
}

// finish reports an incomplete stream.
func (s *bpfStream) finish() error {
	if s.npart != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errBPFStream, s.npart)
	}
	if !s.header {
		return fmt.Errorf("%w: no header", errBPFStream)
	}
	return nil
}

func (s *bpfStream) record(b []byte, fn func(bpfRecord)) error {
	r := bpfRecord{
		pid:   binary.NativeEndian.Uint32(b),
		fd:    binary.NativeEndian.Uint32(b[4:]),
		inode: binary.NativeEndian.Uint64(b[8:]),
		start: binary.NativeEndian.Uint64(b[16:]),
	}
	if !s.header {
		if r.pid != 0 || r.fd != ^uint32(0) || r.inode != bpfHeaderMagic {
			return fmt.Errorf("%w: no header", errBPFStream)
		}
		s.header, s.selfNs = true, r.start
		return nil
	}
	if r.pid == 0 || r.pid > 1<<31-1 || r.fd > 1<<31-1 || r.inode == 0 {
		return fmt.Errorf("%w: record pid=%d fd=%d inode=%d", errBPFStream, r.pid, r.fd, r.inode)
	}
	fn(r)
	return nil
}

// startCheck tells whether a process's /proc/PID/stat start time (clock
// ticks, in the reader's time namespace) is that of the task the iterator
// saw (start_boottime, ns). The reader's own pair calibrates it: its
// ticks pin the time namespace offset to within one tick, so a matching
// process reads as one of two consecutive tick counts.
type startCheck struct {
	nsPerTick int64
	offLo     int64 // lowest offset, ns, consistent with the reader's pair
}

// atClkTck is AT_CLKTCK of <elf.h>: the auxv entry holding USER_HZ.
const atClkTck = 17

func newStartCheck(selfNs, selfTicks uint64) startCheck {
	hz := int64(100)
	if auxv, err := unix.Auxv(); err == nil {
		for _, kv := range auxv {
			if kv[0] == atClkTck && kv[1] > 0 && kv[1] <= 1e9 {
				hz = int64(kv[1])
			}
		}
	}
	q := 1e9 / hz
	return startCheck{nsPerTick: q, offLo: int64(selfTicks)*q - int64(selfNs)}
}

func (c startCheck) same(startNs, ticks uint64) bool {
	lo := (int64(startNs) + c.offLo) / c.nsPerTick
	t := int64(ticks)
	return t == lo || t == lo+1
}

// bpfBufPool holds read buffers for the iterator (its seq_file hands out
// at most 8 pages per read).
var bpfBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// buildBPF builds the Map with the BPF iterator, keeping the sockets in
// keep (every socket if none); opts.Inodes is not read. known is as for
// walk.
//
// want, when set (with keep none), supplies the inodes to keep after the
// fd pass (see internal/latewant).
func buildBPF(ctx context.Context, opts *Options, keep inodeSet, want func() map[uint64]bool, known func(pid int, start uint64, comm []byte) *Process) (*Map, error) {
	if filepath.Clean(rootDir(opts.Root)) != "/" {
		return nil, fmt.Errorf("%w: Root %q is not the live system", ErrBPFUnavailable, opts.Root)
	}
	procfd, err := openProc("")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBPFUnavailable, err)
	}
	defer closefd(procfd)
	w0 := workerPool.Get().(*workerState)
	defer workerPool.Put(w0)
	w0.reset()
	// Checked first: it is cheap, and spares a caller that lacks the
	// privileges the cost of a load bound to fail.
	self, err := checkSelf(w0, procfd)
	if err != nil {
		return nil, err
	}
	it, err := loadedBPF()
	if err != nil {
		return nil, err
	}

	// Read the iterator: records come ordered by PID, then fd.
	var (
		s      bpfStream
		starts []bpfRecord // one per PID: pid and start
		sorted = true
	)
	onRecord := func(r bpfRecord) {
		if !keep.none() && !keep.has(r.inode) {
			return
		}
		h := hit{inode: r.inode, pid: int32(r.pid), fd: int32(r.fd)}
		if n := len(w0.hits); n > 0 {
			last := w0.hits[n-1]
			if h.pid < last.pid || (h.pid == last.pid && h.fd <= last.fd) {
				sorted = false
			}
		}
		if n := len(starts); n == 0 || starts[n-1].pid != r.pid {
			starts = append(starts, bpfRecord{pid: r.pid, start: r.start})
		}
		w0.hits = append(w0.hits, h)
	}
	f, err := it.iter.Open()
	if err != nil {
		return nil, err
	}
	bufp := bpfBufPool.Get().(*[]byte)
	err = readIter(f, *bufp, &s, onRecord)
	bpfBufPool.Put(bufp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.finish()
	}
	if err != nil {
		return nil, fmt.Errorf("procmap: reading the BPF iterator: %w", err)
	}
	if !sorted {
		// Not expected: the iterator walks PIDs upwards and fds upwards.
		// Keep the walk's promise of one owner per (PID, fd) anyway.
		slices.SortFunc(w0.hits, func(a, b hit) int {
			return cmp.Or(cmp.Compare(a.pid, b.pid), cmp.Compare(a.fd, b.fd), cmp.Compare(a.inode, b.inode))
		})
		w0.hits = slices.CompactFunc(w0.hits, func(a, b hit) bool { return a.pid == b.pid && a.fd == b.fd })
		slices.SortFunc(starts, func(a, b bpfRecord) int { return cmp.Compare(a.pid, b.pid) })
		starts = slices.CompactFunc(starts, func(a, b bpfRecord) bool { return a.pid == b.pid })
	}
	if keep.none() && want != nil {
		// The fd pass ran beside the caller's search for the inodes:
		// keep the wanted ones, and describe only their owners.
		if keep = inodesOf(want()); !keep.none() {
			w0.hits = slices.DeleteFunc(w0.hits, func(h hit) bool { return !keep.has(h.inode) })
			starts = keepOwners(starts, w0.hits)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Details of the owners, from /proc.
	check := newStartCheck(s.selfNs, self.startTicks)
	workers := []*workerState{w0}
	for i := 1; i < numWorkers(len(starts)/16+1); i++ {
		w := workerPool.Get().(*workerState)
		defer workerPool.Put(w)
		w.reset()
		workers = append(workers, w)
	}
	wk := &walk{procfd: procfd, cmdline: opts.Cmdline, known: known}
	drop := make([]bool, len(starts))
	var next atomic.Int64
	describe := func(w *workerState) {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(starts) || ctx.Err() != nil {
				return
			}
			pid := int(starts[i].pid)
			w.path = appendPID(w.path[:0], pid)
			pidfd, e := openat(procfd, w.path, dirFlags)
			var p *Process
			if e == 0 {
				p, e = wk.details(w, pidfd, pid)
				closefd(pidfd)
			}
			if e == 0 && !check.same(starts[i].start, p.StartTime) {
				e = unix.ESRCH // the PID names another process now
			}
			if e != 0 {
				drop[i] = true
				if classify(e) == errDenied {
					w.denied++
				}
				continue
			}
			w.procs = append(w.procs, p)
		}
	}
	if len(workers) == 1 {
		describe(w0)
	} else {
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() { describe(w) })
		}
		wg.Wait()
	}
	if slices.Contains(drop, true) {
		gone := make(map[int32]bool)
		for i, d := range drop {
			if d {
				gone[int32(starts[i].pid)] = true
			}
		}
		w0.hits = slices.DeleteFunc(w0.hits, func(h hit) bool { return gone[h.pid] })
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return collect(workers), nil
}

// keepOwners keeps the starts (sorted by PID, one per PID) whose PID has a
// hit (hits sorted by PID).
func keepOwners(starts []bpfRecord, hits []hit) []bpfRecord {
	kept := starts[:0]
	i := 0
	for _, s := range starts {
		for i < len(hits) && hits[i].pid < int32(s.pid) {
			i++
		}
		if i < len(hits) && hits[i].pid == int32(s.pid) {
			kept = append(kept, s)
		}
	}
	return kept
}

// readIter reads the iterator to its end. A read may fail with EAGAIN when
// the kernel visited a million fds without filling the buffer: the next
// read goes on from there.
func readIter(f io.Reader, buf []byte, s *bpfStream, fn func(bpfRecord)) error {
	for again := 0; ; {
		n, err := f.Read(buf)
		if n > 0 {
			if err := s.feed(buf[:n], fn); err != nil {
				return err
			}
		}
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, unix.EAGAIN) && n == 0 && again < 1000:
			again++
		case err != nil:
			return err
		}
	}
}
