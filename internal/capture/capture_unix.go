//go:build unix && !capture_osroot

package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/procnet/procnet/internal/procfile"
	"golang.org/x/sys/unix"
)

// handle is the capture directory's file descriptor: every mkdir, file
// and link is made relative to it with openat and its kin.
type handle = int

// Create opens dir for a capture of the tree under src. dir is made if it
// does not exist (its parent must). It is refused when it is a symbolic
// link, when it is not empty (checked on the opened handle), when it
// cannot be read to tell, and, for root, when another user owns it or
// others may write to it.
func Create(dir, src string) (*Writer, error) {
	dir = filepath.Clean(dir) // "link/" would follow the link
	if err := unix.Mkdir(dir, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if fi, lerr := os.Lstat(dir); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symbolic link: give the directory itself", dir)
		}
		if errors.Is(err, unix.EACCES) { // write-only: its emptiness cannot be checked
			return nil, fmt.Errorf("cannot tell whether %s is empty: %w", dir, &fs.PathError{Op: "open", Path: dir, Err: err})
		}
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	w := &Writer{src: src, dir: fd, name: dir, made: map[string]bool{}}
	if err := w.check(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return w, nil
}

// check refuses a directory of another user's (as root) or one that is
// not empty, on the handle.
func (w *Writer) check() error {
	var st unix.Stat_t
	if err := unix.Fstat(w.dir, &st); err != nil {
		return &fs.PathError{Op: "stat", Path: w.name, Err: err}
	}
	if euid := os.Geteuid(); euid == 0 && int(st.Uid) != euid {
		return fmt.Errorf("%s is owned by uid %d: as root, capture only into a directory of root's", w.name, st.Uid)
	}
	if os.Geteuid() == 0 && st.Mode&0o022 != 0 {
		// Others could change the tree between the capture and its replay.
		return fmt.Errorf("%s is writable by others (mode %#o): as root, capture only into a directory only root can write", w.name, st.Mode&0o777)
	}
	dup, err := unix.Dup(w.dir)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dup), w.name)
	defer f.Close()
	names, err := f.Readdirnames(1)
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("cannot tell whether %s is empty: %w", w.name, procfile.PathError("readdir", w.name, err))
	case len(names) > 0:
		return fmt.Errorf("%s is not empty", w.name)
	}
	return nil
}

// Close releases the directory's handle.
func (w *Writer) Close() error {
	if w.dir < 0 {
		return nil
	}
	err := unix.Close(w.dir)
	w.dir = -1
	return err
}

// Root is the capture as a root to read it back through the handle
// Create opened (/proc/self/fd/N on Linux), so that a DIR renamed or
// replaced since is not what is read; the directory's name elsewhere. It
// is valid until Close.
func (w *Writer) Root() string {
	if runtime.GOOS == "linux" && w.dir >= 0 {
		return "/proc/self/fd/" + strconv.Itoa(w.dir)
	}
	return w.name
}

// parent returns a handle on the directory that holds rel, walking from
// the capture's handle one component at a time without following links,
// making the directories when mkdir is set. The caller closes it unless
// it is w.dir.
func (w *Writer) parent(rel string, mkdir bool) (int, string, error) {
	if !filepath.IsLocal(rel) || strings.Contains(rel, "\\") || filepath.Clean(rel) != rel {
		return -1, "", &fs.PathError{Op: "capture", Path: rel, Err: fs.ErrInvalid}
	}
	parts := strings.Split(rel, "/")
	cur := w.dir
	for _, p := range parts[:len(parts)-1] {
		if mkdir {
			if err := unix.Mkdirat(cur, p, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
				w.release(cur)
				return -1, "", &fs.PathError{Op: "mkdir", Path: rel, Err: err}
			}
		}
		fd, err := unix.Openat(cur, p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		w.release(cur)
		if err != nil {
			if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
				err = fmt.Errorf("%s is not a directory of the capture's (a symbolic link?): %w", p, err)
			}
			return -1, "", &fs.PathError{Op: "open", Path: rel, Err: err}
		}
		cur = fd
	}
	return cur, parts[len(parts)-1], nil
}

func (w *Writer) release(fd int) {
	if fd != w.dir {
		unix.Close(fd)
	}
}

// create makes the new file rel (O_EXCL: never an existing file or link).
func (w *Writer) create(rel string) (*os.File, error) {
	dir, base, err := w.parent(rel, true)
	if err != nil {
		return nil, err
	}
	defer w.release(dir)
	fd, err := unix.Openat(dir, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: rel, Err: err}
	}
	w.made[rel] = true
	return os.NewFile(uintptr(fd), rel), nil
}

// Symlink makes rel a new symbolic link to target. An existing rel is an
// error wrapping fs.ErrExist.
func (w *Writer) Symlink(rel, target string) error {
	dir, base, err := w.parent(rel, true)
	if err != nil {
		return err
	}
	defer w.release(dir)
	if err := unix.Symlinkat(target, dir, base); err != nil {
		return &fs.PathError{Op: "symlink", Path: rel, Err: err}
	}
	w.made[rel] = true
	return nil
}

// Discard removes rel if this Writer made it (a file or a link),
// relative to the handle: never a directory, never by path.
func (w *Writer) Discard(rel string) error {
	if !w.made[rel] {
		return &fs.PathError{Op: "discard", Path: rel, Err: fs.ErrPermission}
	}
	dir, base, err := w.parent(rel, false)
	if err != nil {
		return err
	}
	defer w.release(dir)
	if err := unix.Unlinkat(dir, base, 0); err != nil {
		return &fs.PathError{Op: "unlink", Path: rel, Err: err}
	}
	delete(w.made, rel)
	return nil
}
