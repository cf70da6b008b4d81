package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/procnet/procnet/internal/race"
)

// TestScaleCLIRSS runs the built command over a million-row tcp table and
// reports its peak RSS per output mode. A whole listing is written while
// the table is read (lister.stream), so its memory must not grow with the
// table: 1,000,000 rows must fit in what a 150-byte-per-row copy could
// not (~150 MB). docs/reliability.md has the numbers.
func TestScaleCLIRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 150 MB table")
	}
	const n = 1_000_000
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	f, err := os.Create(filepath.Join(root, "proc/net/tcp"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i := range n {
		fmt.Fprintf(w, "%4d: 0100007F:%04X 0200007F:%04X %02X 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 1000+i%50000, 2000+i%3, 1+i%11, 100000+i)
	}
	w.Flush()
	f.Close()
	bin := builtBinary(t)
	for _, tc := range []struct {
		args  string
		lines int
		max   int64 // MiB
	}{
		{"--json -tan", n, 48},
		{"--csv -tan", n + 1, 48},
		{"-tan", n + 2, 48},
		{"-tanp", n + 2, 48},
	} {
		cmd := exec.Command(bin, append([]string{"--root", root}, splitArgs(tc.args)...)...)
		out, _ := cmd.StdoutPipe()
		var stderr countWriter
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines, _ := countLines(out)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v", tc.args, err)
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss >> 10
		t.Logf("netstat %s: %d lines, peak RSS %d MiB", tc.args, lines, rss)
		if lines != tc.lines || stderr.n != 0 {
			t.Errorf("%s: %d lines, %d bytes on stderr; want %d lines", tc.args, lines, stderr.n, tc.lines)
		}
		if race.Enabled {
			// The child's ru_maxrss starts at the size of the
			// race-instrumented process it was forked from.
			tc.max += 128
		}
		if rss > tc.max {
			t.Errorf("%s: peak RSS %d MiB > %d MiB", tc.args, rss, tc.max)
		}
	}
}

func splitArgs(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 1<<20)
	n := 0
	for {
		m, err := r.Read(buf)
		for _, c := range buf[:m] {
			if c == '\n' {
				n++
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
