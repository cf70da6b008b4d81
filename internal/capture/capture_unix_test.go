//go:build unix && !capture_osroot

package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// As root, a directory another user owns or others may write is refused
// (the owner and mode checks are unix's).
func TestCreateRefusesOthersDirAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	base := t.TempDir()
	other := filepath.Join(base, "other")
	os.Mkdir(other, 0o777)
	os.Chown(other, 65534, 65534)
	if _, err := Create(other, "/"); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("another user's DIR as root: %v", err)
	}
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o755)
	os.Chmod(shared, 0o1777)
	if _, err := Create(shared, "/"); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Errorf("a world-writable DIR as root: %v", err)
	}
}
