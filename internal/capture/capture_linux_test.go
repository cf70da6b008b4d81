//go:build linux && !capture_osroot

package capture

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A proc file says its size is 0: the bound holds while it streams.
func TestCopyBoundedWhileStreaming(t *testing.T) {
	w, dir := newWriter(t, "/")
	w.Limit = 64
	if _, err := w.Copy("proc/self/maps"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Copy of a file over the limit: %v, want ErrTooLarge", err)
	}
	w.Limit = 0
	ok, err := w.Copy("proc/self/status")
	if b, _ := os.ReadFile(filepath.Join(dir, "proc/self/status")); !ok || err != nil || !strings.Contains(string(b), "Pid:") {
		t.Errorf("Copy of proc/self/status: %v %v, got %q", ok, err, b)
	}
	if ok, err := w.Copy("proc/no/such"); ok || err != nil {
		t.Errorf("a missing file: %v %v, want absent", ok, err)
	}
	if _, err := w.Copy("proc/self"); err == nil {
		t.Error("a directory was copied")
	}
	if ok, err := w.CopyReadable("proc/self/fd"); ok || err != nil {
		t.Errorf("CopyReadable of a directory: %v %v, want left out", ok, err)
	}
	if ok, err := w.CopyLink("proc/self/ns/net"); !ok || err != nil {
		t.Errorf("CopyLink: %v %v", ok, err)
	}
}

// Root reads back what was written even when DIR has since been renamed
// and its name pointed elsewhere.
func TestRootFollowsTheHandle(t *testing.T) {
	w, dir := newWriter(t, "/")
	if err := w.WriteFile("proc/net/tcp", []byte("ours\n")); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir()
	os.MkdirAll(filepath.Join(elsewhere, "proc/net"), 0o755)
	os.WriteFile(filepath.Join(elsewhere, "proc/net/tcp"), []byte("theirs\n"), 0o644)
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(w.Root(), "proc/net/tcp")); err != nil || string(b) != "ours\n" {
		t.Errorf("through Root: %q, %v; want what the Writer wrote", b, err)
	}
}
