package procfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Open opens the file name (slash-separated, relative) under root without
// leaving it. For the live system (root "" or "/") it is os.Open. For any
// other root, symbolic links are resolved as if root were "/" (chroot
// semantics, openat2 RESOLVE_IN_ROOT): a tree holding
// proc/net/tcp -> /etc/shadow, or -> ../../../../etc/shadow, opens
// root/etc/shadow — never the host's file — which is right for a
// container's root and harmless for a hostile one. Errors are
// *fs.PathError with Path name.
//
// Only a regular file opens (proc's, sysfs' and etc's files all are): a
// FIFO would block the open or the read forever and a device could stream
// without end, so anything else is an error wrapping ErrNotRegular. The
// open itself does not block (O_NONBLOCK).
func Open(root, name string) (*os.File, error) {
	f, err := open(root, name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		switch {
		case err != nil:
		case st.IsDir():
			err = unix.EISDIR
		default:
			err = ErrNotRegular
		}
		return nil, PathError("open", name, err)
	}
	return f, nil
}

// ErrNotRegular is the cause Open gives for a name that is not a regular
// file (a FIFO, a device, a directory, a socket).
var ErrNotRegular = errors.New("not a regular file")

func open(root, name string) (*os.File, error) {
	if root == "" || filepath.Clean(root) == "/" {
		f, err := os.OpenFile("/"+name, os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return nil, PathError("open", name, err)
		}
		return f, nil
	}
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer unix.Close(dir)
	how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(dir, name, &how)
	if errors.Is(err, unix.ENOSYS) {
		f, err := openRoot(root, name) // a kernel before 5.6
		if err != nil {
			return nil, PathError("open", name, err)
		}
		return f, nil
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openRoot is Open through os.Root, which refuses links out of the root
// ("path escapes from parent") instead of resolving them inside it.
func openRoot(root, name string) (*os.File, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK, 0)
}

// PathError returns err as an *fs.PathError for op on name (relative to the
// root), keeping only the cause of an inner *fs.PathError, so that messages
// name the file as the tree holds it: "open proc/net/tcp: permission denied".
func PathError(op, name string, err error) *fs.PathError {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}
