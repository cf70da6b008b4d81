package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchRoot writes a fixture tree with n TCP rows (every tenth a
// listener) and procs processes, each owning two of them: a listing of a
// fixed size, whatever the machine runs meanwhile.
func benchRoot(b *testing.B, n, procs int) string {
	root := b.TempDir()
	dir := filepath.Join(root, "proc/net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "tcp"))
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
	for i := range n {
		rem, st := fmt.Sprintf("0200007F:%04X", 2000+i%50000), "01"
		if i%10 == 0 {
			rem, st = "00000000:0000", "0A"
		}
		fmt.Fprintf(w, "%4d: 0100007F:%04X %s %s 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 1000+i%50000, rem, st, 100000+i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	for p := range procs {
		pd := filepath.Join(root, "proc", fmt.Sprint(1000+p))
		if err := os.MkdirAll(filepath.Join(pd, "fd"), 0o755); err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(pd, "stat"), fmt.Appendf(nil, "%d (w%d) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n", 1000+p, p, 500+p), 0o644)
		os.WriteFile(filepath.Join(pd, "status"), []byte("Uid:\t0\t0\t0\t0\n"), 0o644)
		os.WriteFile(filepath.Join(pd, "cmdline"), fmt.Appendf(nil, "/usr/bin/w%d\x00-x\x00", p), 0o644)
		for k := range 2 {
			os.Symlink(fmt.Sprintf("socket:[%d]", 100000+p*2+k), filepath.Join(pd, "fd", fmt.Sprint(3+k)))
		}
	}
	return root
}

// BenchmarkListingFormats is `netstat -tanp -n` and its other forms
// in-process over a 20,000-row fixture: the streamed listing, the held
// one (-l), the structured writers and --summary.
func BenchmarkListingFormats(b *testing.B) {
	root := benchRoot(b, 20000, 200)
	for _, args := range []string{"-tanp -n", "-tlnp -n", "-tanp -n --json", "-tanp -n --csv", "-tan -n --summary"} {
		b.Run(strings.ReplaceAll(args, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			argv := append(strings.Fields(args), "--root", root)
			for b.Loop() {
				if err := runWith(argv, io.Discard, io.Discard, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
