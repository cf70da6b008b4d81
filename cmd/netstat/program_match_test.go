package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgramMatchWatch: --program matches a process by its comm, its
// program name or its argv[0]'s base name (procmap.Process.Runs), in a
// one-shot listing and in every -c round alike; "./sbin/nginx" is the
// program name of a process started by that relative path.
func TestProgramMatchWatch(t *testing.T) {
	root := watchRoot(t)
	if err := os.WriteFile(filepath.Join(root, "proc/600/cmdline"), []byte("./sbin/nginx\x00-g\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nginx", "./sbin/nginx"} {
		var once bytes.Buffer
		if err := runWith([]string{"-tanp", "--program", name, "--root", root}, &once, &bytes.Buffer{}, refuseResolver{t}); err != nil {
			t.Fatal(err)
		}
		w := newWatcher(watchConfig(t, root, "-tanp", "--program", name, "-c", "1"))
		round, err := w.round(context.Background(), nil, &bytes.Buffer{}, false)
		if err != nil {
			t.Fatal(err)
		}
		for what, out := range map[string]string{"one-shot": once.String(), "-c round": string(round)} {
			if !strings.Contains(out, "LISTEN      600/./sbin/nginx") || strings.Contains(out, "curl") {
				t.Errorf("--program %s, %s: want nginx's listener alone:\n%s", name, what, out)
			}
		}
	}
}
