package procfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

var errIsDir error = unix.EISDIR

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
