package procfile

import (
	"errors"
	"io/fs"
	"os"
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
			err = errIsDir
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
