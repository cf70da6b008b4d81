package procfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestOpenStaysUnderRoot: links are resolved inside the root (live /proc
// has proc/net -> self/net), as a chroot would; none reaches out of it.
func TestOpenStaysUnderRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "shadow")
	os.WriteFile(secret, []byte("SECRET\n"), 0o600)
	os.MkdirAll(filepath.Join(root, "proc/1/net"), 0o755)
	os.WriteFile(filepath.Join(root, "proc/1/net/tcp"), []byte("inside\n"), 0o644)
	os.Symlink("1", filepath.Join(root, "proc/self"))
	os.Symlink("self/net", filepath.Join(root, "proc/net"))
	os.Symlink(secret, filepath.Join(root, "proc/1/net/abs"))
	os.Symlink("../../../../"+filepath.Base(outside)+"/shadow", filepath.Join(root, "proc/1/net/rel"))
	os.Symlink("/proc/self/net/tcp", filepath.Join(root, "proc/1/net/live"))

	f, err := Open(root, "proc/net/tcp")
	if err != nil {
		t.Fatalf("a link inside the root: %v", err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "inside\n" {
		t.Errorf("read %q", b)
	}
	// Links resolve as if root were "/": never to the host's files.
	for _, name := range []string{"proc/net/abs", "proc/net/rel", "proc/net/live", "../" + filepath.Base(outside) + "/shadow"} {
		f, err := Open(root, name)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if strings.Contains(string(b), "SECRET") {
			t.Errorf("%s: read the file out of the root", name)
		}
	}
	// An absolute link inside the tree means the tree's own file.
	if f, err := Open(root, "proc/net/live"); err != nil {
		t.Errorf("proc/net/live -> /proc/self/net/tcp: %v", err)
	} else {
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != "inside\n" {
			t.Errorf("proc/net/live read %q, want the tree's proc/1/net/tcp", b)
		}
	}
	// The live system is opened as it is.
	if f, err := Open("/", "proc/self/stat"); err != nil {
		t.Errorf("live: %v", err)
	} else {
		f.Close()
	}
}

// TestOpenRefusesNonRegular: a FIFO (which would block the open, or the
// read, forever), a device (which could stream without end) and a
// directory are refused, quickly, with ErrNotRegular.
func TestOpenRefusesNonRegular(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net/dir"), 0o755)
	if err := unix.Mkfifo(filepath.Join(root, "proc/net/tcp"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	os.Symlink("/dev/zero", filepath.Join(root, "proc/net/udp")) // resolves to root/dev/zero: absent
	hasZero := unix.Mknod(filepath.Join(root, "proc/net/raw"), unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))) == nil
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, name := range []string{"proc/net/tcp", "proc/net/raw"} {
			if name == "proc/net/raw" && !hasZero {
				continue
			}
			f, err := Open(root, name)
			if err == nil {
				f.Close()
				t.Errorf("%s opened", name)
				continue
			}
			if !errors.Is(err, ErrNotRegular) || !strings.HasPrefix(err.Error(), "open "+name+": ") {
				t.Errorf("%s: %v, want %q", name, err, "open "+name+": not a regular file")
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Open blocked on a FIFO")
	}
	if _, err := Open(root, "proc/net/dir"); !errors.Is(err, unix.EISDIR) || err.Error() != "open proc/net/dir: is a directory" {
		t.Errorf("a directory: %v", err)
	}
}
