//go:build !unix || capture_osroot

package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Without openat (Windows): the capture directory is an os.Root, and
// every mkdir, file and link is made through it, so that nothing is
// written outside the directory whatever links appear in it. A component
// that is a symbolic link is refused, as on unix (seen with Lstat before
// it is used: one swapped in after still cannot lead outside the
// directory); files are created with O_EXCL; nothing is removed by path
// outside the root. There is no owner or mode check: those are unix's.
// (The build tag capture_osroot selects this writer on unix too, to test
// it there.)

// handle is the capture directory, as an os.Root.
type handle = *os.Root

// Create opens dir for a capture of the tree under src. dir is made if it
// does not exist (its parent must). It is refused when it is a symbolic
// link, when it is not empty, and when it cannot be read to tell.
func Create(dir, src string) (*Writer, error) {
	dir = filepath.Clean(dir) // "link/" would follow the link
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link: give the directory itself", dir)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	w := &Writer{src: src, dir: r, name: dir, made: map[string]bool{}}
	if err := w.check(); err != nil {
		r.Close()
		return nil, err
	}
	return w, nil
}

// check refuses a directory that is not empty.
func (w *Writer) check() error {
	f, err := w.dir.Open(".")
	if err != nil {
		return fmt.Errorf("cannot tell whether %s is empty: %w", w.name, err)
	}
	defer f.Close()
	names, err := f.Readdirnames(1)
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return fmt.Errorf("cannot tell whether %s is empty: %w", w.name, err)
	case len(names) > 0:
		return fmt.Errorf("%s is not empty", w.name)
	}
	return nil
}

// Close releases the directory's handle.
func (w *Writer) Close() error {
	if w.dir == nil {
		return nil
	}
	err := w.dir.Close()
	w.dir = nil
	return err
}

// Root is the capture as a root to read it back: the directory's name.
func (w *Writer) Root() string { return w.name }

// parent checks that the directories holding rel are directories of the
// capture's, not links, making them when mkdir is set.
func (w *Writer) parent(rel string, mkdir bool) error {
	if !filepath.IsLocal(rel) || strings.Contains(rel, "\\") || filepath.Clean(filepath.FromSlash(rel)) != filepath.FromSlash(rel) {
		return &fs.PathError{Op: "capture", Path: rel, Err: fs.ErrInvalid}
	}
	parts := strings.Split(rel, "/")
	for i, p := range parts[:len(parts)-1] {
		dir := strings.Join(parts[:i+1], "/")
		if mkdir {
			if err := w.dir.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return &fs.PathError{Op: "mkdir", Path: rel, Err: err}
			}
		}
		fi, err := w.dir.Lstat(dir)
		if err != nil {
			return &fs.PathError{Op: "open", Path: rel, Err: err}
		}
		if !fi.IsDir() {
			return &fs.PathError{Op: "open", Path: rel, Err: fmt.Errorf("%s is not a directory of the capture's (a symbolic link?)", p)}
		}
	}
	return nil
}

// create makes the new file rel (O_EXCL: never an existing file or link).
func (w *Writer) create(rel string) (*os.File, error) {
	if err := w.parent(rel, true); err != nil {
		return nil, err
	}
	f, err := w.dir.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: rel, Err: err}
	}
	w.made[rel] = true
	return f, nil
}

// Symlink makes rel a new symbolic link to target. An existing rel is an
// error wrapping fs.ErrExist.
func (w *Writer) Symlink(rel, target string) error {
	if err := w.parent(rel, true); err != nil {
		return err
	}
	if err := w.dir.Symlink(target, rel); err != nil {
		return &fs.PathError{Op: "symlink", Path: rel, Err: err}
	}
	w.made[rel] = true
	return nil
}

// Discard removes rel if this Writer made it (a file or a link), inside
// the root: never a directory.
func (w *Writer) Discard(rel string) error {
	if !w.made[rel] {
		return &fs.PathError{Op: "discard", Path: rel, Err: fs.ErrPermission}
	}
	if err := w.parent(rel, false); err != nil {
		return err
	}
	if fi, err := w.dir.Lstat(rel); err != nil || fi.IsDir() {
		if err == nil {
			err = fs.ErrPermission
		}
		return &fs.PathError{Op: "unlink", Path: rel, Err: err}
	}
	if err := w.dir.Remove(rel); err != nil {
		return &fs.PathError{Op: "unlink", Path: rel, Err: err}
	}
	delete(w.made, rel)
	return nil
}
