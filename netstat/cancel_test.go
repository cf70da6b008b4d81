package netstat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// streamTCP is synthTCP written through a small buffer: the test's own
// heap stays small, as TestScaleIteratorRSS's child inherits its peak.
func streamTCP(tb testing.TB, n int) string {
	root := tb.TempDir()
	dir := filepath.Join(root, "proc/net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "tcp"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := bufio.NewWriter(f)
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i := range n {
		fmt.Fprintf(b, "%4d: 0100007F:%04X 0200007F:%04X %02X 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 1000+i%50000, 2000+i%3, 1+i%11, 100000+i)
	}
	if err := b.Flush(); err != nil {
		tb.Fatal(err)
	}
	return root
}

// TestSocketsCancel cancels a scan of a 200k-row table after its first
// rows: the scan must stop within one buffer (64 KiB, some 500 rows) and
// end with ctx's error, not read the rest.
func TestSocketsCancel(t *testing.T) {
	r := &Reader{Root: streamTCP(t, 200000)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows := 0
	var last error
	for _, err := range r.Sockets(ctx, Filter{Protos: Protos(TCP)}) {
		if err != nil {
			last = err
			continue
		}
		rows++
		if rows == 1000 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("last error %v, want context.Canceled", last)
	}
	if rows > 1000+600 {
		t.Errorf("%d rows after cancel at 1000; want at most a buffer's more", rows)
	}
	// A filter that drops every row still notices the cancel.
	_, err := r.AppendSockets(ctx, nil, Filter{Protos: Protos(TCP), Ports: []uint16{1}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AppendSockets after cancel: %v", err)
	}
	for _, err := range r.UnixSockets(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("UnixSockets after cancel: %v", err)
		}
	}
}
