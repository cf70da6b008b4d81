package procmap

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSELinux(t *testing.T) {
	root := t.TempDir()
	if SELinux(root) {
		t.Error("SELinux on an empty root")
	}
	os.MkdirAll(filepath.Join(root, "sys/fs/selinux"), 0o755)
	os.WriteFile(filepath.Join(root, "sys/fs/selinux/enforce"), []byte("1"), 0o644)
	if !SELinux(root) {
		t.Error("no SELinux with sys/fs/selinux/enforce")
	}
}
