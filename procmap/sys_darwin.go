package procmap

import (
	"golang.org/x/sys/unix"
)

// The system calls of sys_linux.go on macOS, where the walk serves
// fixture trees: paths are NUL-terminated byte slices as there, passed to
// x/sys's string wrappers (which copy them), and a directory is read with
// getdirentries into darwin's struct dirent.

func cpath(path []byte) string {
	if n := len(path); n > 0 && path[n-1] == 0 {
		path = path[:n-1]
	}
	return string(path)
}

func errno(err error) unix.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(unix.Errno); ok {
		return e
	}
	return unix.EIO
}

func openat(dirfd int, path []byte, flags int) (int, unix.Errno) {
	fd, err := unix.Openat(dirfd, cpath(path), flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, errno(err)
	}
	return fd, 0
}

// readlinkat reads the link path (relative to dirfd) into buf and returns
// its length, cut to len(buf).
func readlinkat(dirfd int, path []byte, buf []byte) (int, unix.Errno) {
	n, err := unix.Readlinkat(dirfd, cpath(path), buf)
	return n, errno(err)
}

func getdents(fd int, buf []byte) (int, unix.Errno) {
	var base uintptr
	n, err := unix.Getdirentries(fd, buf, &base)
	return n, errno(err)
}

func read(fd int, buf []byte) (int, unix.Errno) {
	n, err := unix.Read(fd, buf)
	return n, errno(err)
}

func closefd(fd int) { unix.Close(fd) }

// dirent walks darwin's struct dirent records in buf[:n]: it returns the
// name of the record at off (with its terminating NUL) and the offset of
// the next record.
//
//	struct dirent { u64 d_ino; u64 d_seekoff; u16 d_reclen; u16 d_namlen; u8 d_type; char d_name[1024]; }
func dirent(buf []byte, off int) (name []byte, next int, ok bool) {
	const nameOff = 21
	if off+nameOff > len(buf) {
		return nil, 0, false
	}
	reclen := int(buf[off+16]) | int(buf[off+17])<<8
	namlen := int(buf[off+18]) | int(buf[off+19])<<8
	if reclen < nameOff+1 || off+reclen > len(buf) || nameOff+namlen >= reclen {
		return nil, 0, false
	}
	rec := buf[off+nameOff : off+reclen]
	if rec[namlen] != 0 {
		return nil, 0, false
	}
	return rec[:namlen+1], off + reclen, true
}
