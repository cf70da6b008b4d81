package procmap

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Thin system call wrappers. Paths are NUL-terminated byte slices from
// reused buffers (or straight from a getdents buffer), so no call
// allocates: the string-taking wrappers of x/sys copy every path.

func openat(dirfd int, path []byte, flags int) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(flags|unix.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// readlinkat reads the link path (relative to dirfd) into buf and returns
// its length. A link longer than buf is cut to len(buf); procmap only looks
// at short links ("socket:[…]", "net:[…]").
func readlinkat(dirfd int, path []byte, buf []byte) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(&path[0])), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

func getdents(fd int, buf []byte) (int, unix.Errno) {
	r, _, e := unix.Syscall(unix.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

func read(fd int, buf []byte) (int, unix.Errno) {
	r, _, e := unix.Syscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
	if e != 0 {
		return 0, e
	}
	return int(r), 0
}

func closefd(fd int) { unix.Close(fd) }
