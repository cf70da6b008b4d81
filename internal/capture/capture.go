// Package capture writes a fixture tree: files copied from a root (the
// live system or another tree) into a new directory, so that reading the
// new directory as a root gives what reading the source gave.
//
// It is written to be safe when run as root over a directory that someone
// else can reach. The directory is opened once; every mkdir, file and
// symlink is made relative to that handle, one path component at a time,
// with O_NOFOLLOW, so a component swapped for a symbolic link makes the
// capture fail instead of writing where the link points; files are created
// with O_EXCL, never truncated; nothing is removed by path. As root, a
// directory owned by another user, or writable by others, is refused
// outright. That is on any unix (openat and its kin); elsewhere (Windows)
// the directory is an os.Root, which keeps every write inside it.
//
// Files are read under the readers' own rules (procfile.Open): regular
// files only, opened non-blocking, resolved inside the source root; and
// each copy is bounded (Limit) and streamed through one buffer, so memory
// stays flat whatever the source holds. A file the readers would report as
// an error (a directory, a FIFO, a device, a link loop) is an error here
// too; only a missing file is "absent", as it is for the readers.
package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/procnet/procnet/internal/procfile"
)

// MaxFile is the default bound on one copied file: more than a
// /proc/net/tcp6 of a million sockets (about 180 MB).
const MaxFile = 256 << 20

// ErrTooLarge is the cause given for a file longer than the Writer's Limit.
var ErrTooLarge = errors.New("file larger than the capture limit")

// Writer writes a capture into the directory Create opened.
type Writer struct {
	// Limit bounds the size of each copied file (MaxFile when 0).
	Limit int64

	src  string // the source root ("" or "/": the live system)
	dir  handle // the capture directory's handle
	name string // the directory as given, for messages
	buf  []byte
	made map[string]bool // files and links this Writer created
}

// WriteFile writes body to the new file rel.
func (w *Writer) WriteFile(rel string, body []byte) error {
	f, err := w.create(rel)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *Writer) limit() int64 {
	if w.Limit > 0 {
		return w.Limit
	}
	return MaxFile
}

// Copy copies the file rel of the source into the capture and reports
// whether it did. A file the source does not have is not an error (it
// reports false, nil); anything the readers refuse is: not a regular file,
// unreadable, a link that cannot be resolved, or longer than Limit.
func (w *Writer) Copy(rel string) (bool, error) {
	return w.copy(rel, false)
}

// CopyReadable is Copy for a file its readers go without when they cannot
// read it (etc/hosts, etc/services): a file the source cannot give is left
// out, not an error. Failures to write the capture are still errors.
func (w *Writer) CopyReadable(rel string) (bool, error) {
	return w.copy(rel, true)
}

func (w *Writer) copy(rel string, lenient bool) (bool, error) {
	src, err := procfile.Open(w.src, rel)
	if err != nil {
		if lenient || errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer src.Close()
	limit := w.limit()
	// A real file says its size (a sparse one too); proc's say 0 and are
	// bounded while they stream.
	if st, err := src.Stat(); err == nil && st.Size() > limit {
		if lenient {
			return false, nil
		}
		return false, tooLarge(rel, limit)
	}
	dst, err := w.create(rel)
	if err != nil {
		return false, err
	}
	if w.buf == nil {
		w.buf = make([]byte, 64<<10)
	}
	// Plain Reader and Writer: no copy_file_range or sendfile, which
	// some proc files answer with 0 bytes.
	n, err := io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{io.LimitReader(src, limit+1)}, w.buf)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, procfile.PathError("copy", rel, err)
	}
	if n > limit {
		return false, tooLarge(rel, limit)
	}
	return true, nil
}

func tooLarge(rel string, limit int64) error {
	return &fs.PathError{Op: "copy", Path: rel, Err: fmt.Errorf("%w of %d bytes", ErrTooLarge, limit)}
}

// CopyLink copies the symbolic link rel of the source (its text, not what
// it points to) and reports whether it did; a missing link is not an error.
func (w *Writer) CopyLink(rel string) (bool, error) {
	var target string
	var err error
	if w.src == "" || filepath.Clean(w.src) == "/" {
		target, err = os.Readlink("/" + rel)
	} else {
		var r *os.Root
		if r, err = os.OpenRoot(w.src); err == nil {
			target, err = r.Readlink(rel)
			r.Close()
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, procfile.PathError("readlink", rel, err)
	}
	if err := w.Symlink(rel, target); err != nil {
		return false, err
	}
	return true, nil
}

// RequireAny returns an error when root holds none of the files names
// (another failure to open one is left to its reader to report): a
// replay of a capture made for other flags says what it lacks instead
// of printing an empty table.
func RequireAny(root, what string, names ...string) error {
	for _, n := range names {
		f, err := procfile.Open(root, n)
		if err == nil {
			f.Close()
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	r := root
	if r == "" {
		r = "/"
	}
	return fmt.Errorf("%s holds no %s (none of %s): a capture made for other flags?", r, what, strings.Join(names, ", "))
}
