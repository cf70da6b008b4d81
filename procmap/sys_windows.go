package procmap

import (
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// The system calls of sys_linux.go on Windows, where the walk serves
// fixture trees: descriptors are indices into a table of open paths, a
// directory is listed with os.ReadDir and handed out as linux_dirent64
// records (dirent.go reads them), links are read with os.Readlink.

const (
	oDirectory = 1 << 30
	oNoFollow  = 1 << 29
	dirFlags   = oDirectory | oNoFollow
	fileFlags  = oNoFollow
)

type winFile struct {
	path string
	dir  bool
	f    *os.File      // a file's
	ents []os.DirEntry // a directory's, read on the first getdents
	pos  int
}

var fdTable struct {
	sync.Mutex
	next  int
	files map[int]*winFile
}

func lookupFD(fd int) *winFile {
	fdTable.Lock()
	defer fdTable.Unlock()
	return fdTable.files[fd]
}

func addFD(f *winFile) int {
	fdTable.Lock()
	defer fdTable.Unlock()
	if fdTable.files == nil {
		fdTable.files = map[int]*winFile{}
	}
	fdTable.next++
	fdTable.files[fdTable.next] = f
	return fdTable.next
}

func errno(err error) syscall.Errno {
	var e syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	}
	return syscall.EIO
}

func cpath(path []byte) string {
	if n := len(path); n > 0 && path[n-1] == 0 {
		path = path[:n-1]
	}
	return string(path)
}

func openPath(path string, flags int) (int, syscall.Errno) {
	fi, err := os.Lstat(path)
	if err != nil {
		return -1, errno(err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if flags&oNoFollow != 0 {
			return -1, syscall.ELOOP
		}
		if fi, err = os.Stat(path); err != nil {
			return -1, errno(err)
		}
	}
	if fi.IsDir() {
		return addFD(&winFile{path: path, dir: true}), 0
	}
	if flags&oDirectory != 0 {
		return -1, syscall.ENOTDIR
	}
	if !fi.Mode().IsRegular() {
		return -1, syscall.EINVAL
	}
	f, err := os.Open(path)
	if err != nil {
		return -1, errno(err)
	}
	return addFD(&winFile{path: path, f: f}), 0
}

func openDir(path string) (int, error) {
	fd, e := openPath(path, oDirectory)
	if e != 0 {
		return -1, e
	}
	return fd, nil
}

func openat(dirfd int, path []byte, flags int) (int, syscall.Errno) {
	d := lookupFD(dirfd)
	if d == nil || !d.dir {
		return -1, syscall.EBADF
	}
	return openPath(filepath.Join(d.path, filepath.FromSlash(cpath(path))), flags)
}

// readlinkat reads the link path (relative to dirfd) into buf and returns
// its length, cut to len(buf).
func readlinkat(dirfd int, path []byte, buf []byte) (int, syscall.Errno) {
	d := lookupFD(dirfd)
	if d == nil || !d.dir {
		return 0, syscall.EBADF
	}
	target, err := os.Readlink(filepath.Join(d.path, filepath.FromSlash(cpath(path))))
	if err != nil {
		return 0, errno(err)
	}
	return copy(buf, filepath.ToSlash(target)), 0
}

// getdents writes linux_dirent64 records of the directory's next entries.
func getdents(fd int, buf []byte) (int, syscall.Errno) {
	d := lookupFD(fd)
	if d == nil || !d.dir {
		return 0, syscall.EBADF
	}
	if d.ents == nil {
		ents, err := os.ReadDir(d.path)
		if err != nil {
			return 0, errno(err)
		}
		d.ents = append(ents, nil)[:len(ents)] // non-nil when empty
	}
	n := 0
	for ; d.pos < len(d.ents); d.pos++ {
		name := d.ents[d.pos].Name()
		reclen := (19 + len(name) + 1 + 7) &^ 7
		if n+reclen > len(buf) {
			if n == 0 {
				return 0, syscall.EINVAL
			}
			break
		}
		rec := buf[n : n+reclen]
		clear(rec)
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		copy(rec[19:], name)
		n += reclen
	}
	return n, 0
}

func rewind(fd int) error {
	d := lookupFD(fd)
	if d == nil {
		return syscall.EBADF
	}
	d.ents, d.pos = nil, 0
	return nil
}

func read(fd int, buf []byte) (int, syscall.Errno) {
	d := lookupFD(fd)
	if d == nil || d.f == nil {
		return 0, syscall.EBADF
	}
	n, err := d.f.Read(buf)
	if err == io.EOF {
		err = nil
	}
	return n, errno(err)
}

func closefd(fd int) {
	fdTable.Lock()
	d := fdTable.files[fd]
	delete(fdTable.files, fd)
	fdTable.Unlock()
	if d != nil && d.f != nil {
		d.f.Close()
	}
}
