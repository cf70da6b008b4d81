package capture

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newWriter(t *testing.T, src string) (*Writer, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "capture")
	w, err := Create(dir, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, dir
}

func empty(t *testing.T, dir string) {
	t.Helper()
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Errorf("%s was written: %v", dir, ents)
	}
}

// A link anywhere in the way, planted after Create, stops the write: the
// walk from the handle never follows one, and files are never reused.
func TestWriterNeverFollowsLinks(t *testing.T) {
	w, dir := newWriter(t, "/")
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "proc")); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("proc/net/tcp", []byte("x\n")); err == nil {
		t.Error("WriteFile through a linked directory succeeded")
	}
	if err := w.Symlink("proc/1/fd/3", "socket:[1]"); err == nil {
		t.Error("Symlink through a linked directory succeeded")
	}
	// The last component: a planted link, or a file, is not written through.
	victim := filepath.Join(outside, "passwd")
	if err := os.Symlink(victim, filepath.Join(dir, "passwd")); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("passwd", []byte("root::0:0\n")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteFile onto a planted link: %v, want ErrExist", err)
	}
	empty(t, outside)
	for _, bad := range []string{"../x", "/etc/x", "a/../../x", "a//b", ""} {
		if err := w.WriteFile(bad, nil); err == nil {
			t.Errorf("WriteFile(%q) succeeded", bad)
		}
	}
}

func TestCreateRefuses(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	os.Mkdir(real, 0o755)
	os.Symlink(real, filepath.Join(base, "link"))
	if _, err := Create(filepath.Join(base, "link"), "/"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("DIR as a link: %v", err)
	}
	os.WriteFile(filepath.Join(real, "old"), nil, 0o644)
	if _, err := Create(real, "/"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a non-empty DIR: %v", err)
	}
	if _, err := Create(filepath.Join(base, "no/such"), "/"); err == nil {
		t.Error("a DIR whose parent is missing was made")
	}
}

// Discard removes only what the Writer made, relative to its handle.
func TestDiscardOnlyOwn(t *testing.T) {
	w, dir := newWriter(t, "/")
	if err := w.WriteFile("proc/1/net/tcp", []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "proc/1/net/udp"), []byte("theirs\n"), 0o644)
	if err := w.Discard("proc/1/net/udp"); err == nil {
		t.Error("discarded a file the Writer did not make")
	}
	if err := w.Discard("proc/1/net/tcp"); err != nil {
		t.Error(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "proc/1/net/tcp")); err == nil {
		t.Error("tcp is still there")
	}
	if _, err := os.Lstat(filepath.Join(dir, "proc/1/net/udp")); err != nil {
		t.Error("udp is gone")
	}
}

func TestRequireAny(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	if err := RequireAny(root, "routing table", "proc/net/route"); err == nil || !strings.Contains(err.Error(), "holds no routing table") {
		t.Errorf("RequireAny of a missing file: %v", err)
	}
	os.WriteFile(filepath.Join(root, "proc/net/route"), nil, 0o644)
	if err := RequireAny(root, "routing table", "proc/net/ipv6_route", "proc/net/route"); err != nil {
		t.Error(err)
	}
}

// A link to a directory inside the capture is refused too: the writer
// makes directories, never walks through links, wherever they point.
func TestWriterRefusesLinkInside(t *testing.T) {
	w, dir := newWriter(t, "/")
	if err := w.WriteFile("real/x", []byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", filepath.Join(dir, "proc")); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFile("proc/net/tcp", []byte("x\n")); err == nil {
		t.Error("WriteFile through a link inside the capture succeeded")
	}
	if err := w.Symlink("proc/fd/3", "socket:[1]"); err == nil {
		t.Error("Symlink through a link inside the capture succeeded")
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "real")); len(ents) != 1 {
		t.Errorf("real holds %v, want x alone", ents)
	}
}
