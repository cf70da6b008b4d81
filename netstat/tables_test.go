package netstat

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHas(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net/sctp"), 0o755)
	os.MkdirAll(filepath.Join(root, "proc/7/net"), 0o755)
	os.WriteFile(filepath.Join(root, "proc/net/sctp/eps"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "proc/7/net/ax25"), nil, 0o644)
	r := Reader{Root: root}
	for name, want := range map[string]bool{"sctp/eps": true, "sctp/assocs": false, "ax25": false, "sctp": true, "../../etc": false} {
		if got := r.Has(name); got != want {
			t.Errorf("Has(%q) = %v, want %v", name, got, want)
		}
	}
	if r := (Reader{Root: root, PID: 7}); !r.Has("ax25") || r.Has("sctp/eps") {
		t.Errorf("PID 7: ax25 %v, sctp/eps %v", r.Has("ax25"), r.Has("sctp/eps"))
	}
}
