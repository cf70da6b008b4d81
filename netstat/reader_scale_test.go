//go:build unix

package netstat

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/procnet/procnet/internal/race"
)

// scaleRows is the size of the synthetic table: a million sockets, about
// 150 MB of /proc/net/tcp.
const scaleRows = 1_000_000

// writeBigTCP writes a proc/net/tcp of n rows under a fresh root.
func writeBigTCP(tb testing.TB, n int) string {
	tb.Helper()
	root := tb.TempDir()
	dir := filepath.Join(root, "proc/net")
	os.MkdirAll(dir, 0o755)
	f, err := os.Create(filepath.Join(dir, "tcp"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i := range n {
		fmt.Fprintf(w, "%4d: 0100007F:%04X 0200007F:%04X %02X 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 1000+i%50000, 2000+i%3, 1+i%11, 100000+i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return root
}

const scaleChildEnv = "PROCNET_SCALE_ROOT"

// TestScaleIteratorRSS streams a million-row table through Reader.Sockets
// in a child process and bounds the child's peak RSS: the iterator holds
// one 64 KiB buffer and a fixed de-duplication window, whatever the size
// of the table.
func TestScaleIteratorRSS(t *testing.T) {
	if root := os.Getenv(scaleChildEnv); root != "" {
		n := 0
		r := Reader{Root: root}
		for _, err := range r.Sockets(context.Background(), Filter{}) {
			if err != nil {
				fmt.Println("error:", err)
				os.Exit(1)
			}
			n++
		}
		fmt.Println("rows", n)
		// The child's own peak: VmHWM is its address space's (made new
		// by execve), where ru_maxrss keeps the peak of the parent's
		// address space the child was cloned with before execve.
		if st, err := os.ReadFile("/proc/self/status"); err == nil {
			for l := range strings.Lines(string(st)) {
				if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
					fmt.Println("hwm", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				}
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("writes a 150 MB table")
	}
	if race.Enabled {
		t.Skip("RSS bound does not hold under -race (shadow memory)")
	}
	root := writeBigTCP(t, scaleRows)
	cmd := exec.Command(os.Args[0], "-test.run=^TestScaleIteratorRSS$")
	cmd.Env = append(os.Environ(), scaleChildEnv+"="+root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "rows "+strconv.Itoa(scaleRows)+"\n") {
		t.Fatalf("child output:\n%s", out)
	}
	var rss int64 // KiB
	if _, after, ok := strings.Cut(string(out), "\nhwm "); ok {
		rss, _ = strconv.ParseInt(strings.TrimSpace(strings.SplitN(after, "\n", 2)[0]), 10, 64)
	} else {
		rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // no proc: the upper bound
	}
	t.Logf("%d rows streamed with a peak RSS of %.1f MiB", scaleRows, float64(rss)/1024)
	if rss > 64<<10 {
		t.Errorf("peak RSS %.1f MiB for a streamed table; want < 64 MiB", float64(rss)/1024)
	}
}
