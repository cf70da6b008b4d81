package procmap

import "golang.org/x/sys/unix"

const dirFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW

// Error classes of a per-process failure.
type errClass int

const (
	errGone   errClass = iota // the process (or fd) vanished: skip silently
	errDenied                 // permission: count in Map.Denied
	errOther                  // anything else: skip the process
)

// classify sorts an errno met while reading one process.
func classify(e unix.Errno) errClass {
	switch e {
	case unix.ENOENT, unix.ESRCH, unix.ENOTDIR:
		return errGone
	case unix.EACCES, unix.EPERM:
		return errDenied
	}
	return errOther
}
