// Package procmap tells which processes own each socket: it maps socket
// inodes (the inode column of /proc/net/tcp and friends) to every
// (PID, fd) that refers to them, with a few details of each owning process.
//
// # Walking
//
// Build lists proc/ under Options.Root and reads each process's fd
// directory with getdents64 and each link with readlinkat relative to the
// open directory, into buffers reused across fds and processes: the per-fd
// path makes no allocation, and links are read, never followed. The walk is
// spread over GOMAXPROCS goroutines. Details (stat, status, ns/net and, if
// asked, cmdline) are read only for processes that own a recorded socket,
// through a directory fd opened on proc/PID before its fds were read: a
// process that exits meanwhile makes those reads fail rather than let a new
// process with the same PID be described.
//
// Every owner is kept: after fork, in prefork servers or after SCM_RIGHTS
// one socket has several owners, sorted by PID then fd.
//
// # Sources
//
// On the live system, when it can, Build asks the kernel instead of
// walking (Options.Source, SourceAuto by default): a BPF task_file
// iterator (Linux 5.8+, kernel BTF, CAP_BPF and CAP_PERFMON or root) reports
// every socket fd of every process in the caller's pid namespace in one
// read(2), and only the owners' details are read from /proc, as above. The
// program is assembled in Go, its struct offsets and attach target read
// from /sys/kernel/btf/vmlinux by a small scanner (cilium/ebpf's full
// decoding of that BTF is the fallback), so it needs no compiler at run
// time; it is loaded once per process (some 6 ms) and stays loaded. The
// result is the walk's: a socket is a sockfs inode (what a "socket:[N]"
// link names), the fd table is the thread-group leader's (what
// /proc/PID/fd shows), PIDs are those of the caller's pid namespace, and
// an owner whose PID names another process by the time its details are
// read is dropped. Two differences remain. Map.Denied counts only owners
// whose details could not be read: the iterator itself sees every
// process, so as root it is 0 where the walk may count a process whose
// fds it may not read. With Options.Inodes every owner is listed, since
// nothing is gained by stopping early.
//
// Anything that keeps the iterator from working (a fixture root, no BPF
// or BTF, too few privileges, a /proc of another pid namespace, a verifier
// that refuses the program, an error while reading) makes SourceAuto walk
// /proc instead, silently; the reason is kept for the package's tests. SourceProc always walks;
// SourceBPF fails instead of walking.
//
// # Tolerance
//
// Processes that exit during the walk (ENOENT, ESRCH) are left out
// silently. Processes whose fd directory the caller may not read (EACCES,
// EPERM: other users' processes for a non-root caller) are counted in
// Map.Denied, so a tool can warn like net-tools that not all processes could
// be identified. Kernel threads and zombies have empty fd tables and empty
// cmdlines. The only error is a proc directory that cannot be opened or
// listed.
//
// # Queries
//
// With Options.Inodes set, Build records only those inodes and stops as soon
// as each has an owner. The cost is then that of the processes read before
// the last owner was met: a query for a socket of an early process is very
// cheap, one for an unowned inode costs a full walk. Owners in processes
// not read before the stop are missing (a shared socket may list only some
// of its owners); use a full Build when all owners matter.
//
// # Polling
//
// A Tracker keeps what it learnt between calls to Refresh, which takes the
// inodes of interest as an iter.Seq[uint64] (typically every inode of the
// tables just read, yielded straight from them) and copies them into a set
// it reuses from call to call, about 12 bytes an inode. Each
// refresh re-reads proc/PID/stat of each owning process (one small read per
// process, not per socket): an owner whose process exited, or whose PID now
// names a process with another start time, is dropped at once. Inodes
// without a live owner are searched for, reading known owners first, then
// processes started since the last full walk, then the rest, and stopping
// once all are found; what that search reads of a process replaces what was
// known of it. An inode not found by a search (which then read everything)
// is remembered as ownerless until the next full walk, so a socket nobody
// can be seen to own does not force a full walk every round.
//
// How stale can a Tracker's Map be? For sockets still in the tables and
// processes still alive, the Map may lack an owner that gained the socket
// after that socket was first found (a child that inherited it through
// fork, a process that received it with SCM_RIGHTS), and may keep an owner
// that closed its fd or moved it with dup2 while the socket lived on
// elsewhere; a comm change (execve) is seen at once, but a changed UID
// (setuid) or argv without a comm change is not. A socket that was ownerless
// at a full walk stays ownerless until the next one. All of this is bounded:
// a full walk happens on every Options.FullEvery-th refresh (default
// DefaultFullEvery) and whenever the last one is older than Options.MaxAge
// (if set), so no owner is staler than FullEvery refreshes or MaxAge. A
// search may correct it earlier. FullEvery: 1 makes every refresh exact.
// On the BPF source a search is a full pass of the iterator (it costs less
// than most partial walks), so any new socket makes the refresh exact.
//
// # Concurrency
//
// A Map is never modified after Build or Refresh returns it: share it
// read-only between any number of goroutines. Maps returned by successive
// refreshes share unchanged owner slices and Process values, which is safe
// because neither is ever written. Build may be called concurrently. A
// Tracker is not safe for concurrent use: one goroutine refreshes it.
package procmap
