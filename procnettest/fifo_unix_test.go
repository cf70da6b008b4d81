//go:build unix

package procnettest

import (
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO (unix's) is refused like the other files a fixture cannot hold.
func TestArchiveRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skip(err)
	}
	if _, err := Archive(dir); err == nil {
		t.Error("a FIFO archived without error")
	}
}
