package procmap

import (
	"errors"
	"strconv"
)

// ErrBPFUnavailable is wrapped by every error of the BPF owner source that
// says it cannot be used here (as opposed to a failure while using it).
var ErrBPFUnavailable = errors.New("procmap: BPF owner source unavailable")

// Source selects how Build and Tracker find the owners of sockets.
type Source uint8

const (
	// SourceAuto uses SourceBPF on the live system when it works there
	// (root, BPF and kernel BTF available, /proc of the caller's pid
	// namespace) and SourceProc otherwise, silently. A
	// Build, unless the program is loaded already, loads it only when the
	// system has at least 2,048 open files (fs/file-nr): see bpfMinFiles.
	SourceAuto Source = iota
	// SourceProc walks /proc/PID/fd of every process.
	SourceProc
	// SourceBPF asks the kernel for every (process, fd, socket) with a
	// BPF task_file iterator, then reads /proc/PID for the owners'
	// details. Build fails (wrapping ErrBPFUnavailable) where it cannot
	// be used, including under any Root but the live system's.
	SourceBPF
)

var sourceNames = [...]string{"auto", "proc", "bpf"}

// String returns "auto", "proc" or "bpf".
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
