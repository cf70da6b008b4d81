package procmap

import "syscall"

// Error classes of a per-process failure.
type errClass int

const (
	errGone   errClass = iota // the process (or fd) vanished: skip silently
	errDenied                 // permission: count in Map.Denied
	errOther                  // anything else: skip the process
)

// classify sorts an errno met while reading one process.
func classify(e syscall.Errno) errClass {
	switch e {
	case syscall.ENOENT, syscall.ESRCH, syscall.ENOTDIR:
		return errGone
	case syscall.EACCES, syscall.EPERM:
		return errDenied
	}
	return errOther
}
