//go:build !linux

package procfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// errIsDir is the cause Open gives for a directory.
var errIsDir = errors.New("is a directory")

// open is Open through os.Root where openat2 is missing: a link out of
// the root is refused ("path escapes from parent") rather than resolved
// inside it, which keeps a fixture tree's reads inside the tree all the
// same. The live system has no /proc to read here: fixture roots are the
// use.
func open(root, name string) (*os.File, error) {
	if root == "" || filepath.Clean(root) == "/" {
		f, err := os.OpenFile("/"+name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, PathError("open", name, err)
		}
		return f, nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer r.Close()
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0) // a FIFO must not block
	if err != nil {
		return nil, PathError("open", name, err)
	}
	return f, nil
}
