//go:build unix

package procmap

import "golang.org/x/sys/unix"

// dirFlags opens a directory to read or walk from; fileFlags a small proc
// file. Neither follows a last symbolic link, and a FIFO does not block.
const (
	dirFlags  = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC | unix.O_NOFOLLOW
	fileFlags = unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK
)

// openDir opens the directory at path (following links: root/proc may
// be one).
func openDir(path string) (int, error) { return unix.Open(path, dirFlags&^unix.O_NOFOLLOW, 0) }

// rewind seeks a directory back to its first entry.
func rewind(fd int) error {
	_, err := unix.Seek(fd, 0, 0)
	return err
}
