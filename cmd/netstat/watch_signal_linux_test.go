package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// stallResolver answers no lookup until its context ends or release is
// closed, and says on called that a round is under way.
type stallResolver struct {
	called  chan struct{}
	release chan struct{}
}

func (r stallResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	select {
	case r.called <- struct{}{}:
	default:
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.release:
		return nil, fmt.Errorf("released")
	}
}

// TestWatchCancelMidRound: a round stuck in a call that does not return
// (here reverse DNS with a 30 s budget) does not hold the watch: once ctx
// ends, watch returns at once, and the terminal is restored.
func TestWatchCancelMidRound(t *testing.T) {
	root := watchRoot(t)
	c := watchConfig(t, root, "-ta", "-c", "1", "--dns-timeout", "30s")
	res := stallResolver{called: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(res.release)
	c.resolver = res
	c.isTerminal = true
	t.Setenv("TERM", "xterm")
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	ended := make(chan error, 1)
	go func() { ended <- watch(ctx, c, &out, io.Discard, time.Now) }()
	select {
	case <-res.called:
	case <-time.After(10 * time.Second):
		t.Fatal("the round never asked the resolver")
	}
	start := time.Now()
	cancel()
	select {
	case err := <-ended:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("watch returned %v after the cancel", time.Since(start))
	case <-time.After(2 * time.Second):
		t.Fatal("watch still running 2 s after its context ended mid-round")
	}
	if s := out.String(); s != hideCursor+sgrReset+showCursor {
		t.Errorf("terminal output %q, want the cursor hidden then shown, colours reset", s)
	}
}

// TestWatchSIGINTMidRound: the built binary watches a table of 500,000
// rows, whose rounds take some 0.3 s (compact rounds read 200,000 in
// 0.13 s: a signal 100 ms after round 1 could come after round 2); SIGINT
// 30 ms after round 1, in the middle of the second round, ends it with
// status 0 well before that round would end.
func TestWatchSIGINTMidRound(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const rows = 500000
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(tcpHeader)
	for i := range rows {
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0200007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, 1000+i%60000, 2000+i%3, 100000+i)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/net/tcp"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := builtBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := exec.Command(bin, "-tan", "-c", "0.01", "--root", root)
		out, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read round 1 whole: the "===" line, title, header and rows. Round
		// 2 then starts 10 ms later.
		br := bufio.NewReaderSize(out, 1<<20)
		var roundEnd time.Time
		for n := 0; n < rows+3; n++ {
			if _, err := br.ReadSlice('\n'); err != nil {
				t.Fatalf("round 1, line %d: %v; stderr:\n%s", n, err, stderr.String())
			}
		}
		roundEnd = time.Now()
		time.Sleep(30 * time.Millisecond)
		start := time.Now()
		cmd.Process.Signal(sig) // the process we started, by PID
		rest := make(chan int, 1)
		go func() {
			n := 0
			for {
				l, err := br.ReadSlice('\n')
				if bytes.HasPrefix(l, []byte("=== ")) {
					n++
				}
				if err != nil && err != bufio.ErrBufferFull {
					rest <- n
					return
				}
			}
		}()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			el := time.Since(start)
			t.Logf("%v %v after the signal (%v after round 1 was read)", sig, el, time.Since(roundEnd))
			if err != nil {
				t.Errorf("%v: %v; stderr:\n%s", sig, err, stderr.String())
			}
			if n := <-rest; n != 0 {
				t.Errorf("%v: %d more rounds printed after the signal", sig, n)
			}
			if el > 500*time.Millisecond {
				t.Errorf("%v: took %v to exit mid-round", sig, el)
			}
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%v: still running 10 s after the signal", sig)
		}
		if s := stderr.String(); s != "" {
			t.Errorf("%v: stderr:\n%s", sig, s)
		}
	}
}

// TestIsTerminal: /dev/null is a character device but not a terminal.
func TestIsTerminal(t *testing.T) {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("%s taken for a terminal", os.DevNull)
	}
	if isTerminal(&bytes.Buffer{}) {
		t.Errorf("a buffer taken for a terminal")
	}
}

// TestCutWriter: once ctx ends, a long write stops within one piece.
func TestCutWriter(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var got bytes.Buffer
	w := cutWriter{ctx: ctx, w: &cancelAfter{w: &got, n: 1, cancel: cancel}}
	n, err := w.Write(make([]byte, 1<<20))
	if err != context.Canceled || n != 64<<10 || got.Len() != n {
		t.Errorf("wrote %d (%d arrived), %v; want one piece of 64 KiB and context.Canceled", n, got.Len(), err)
	}
}

// TestReadStopsBetweenRows: with its context ended, a round and a
// one-shot read stop at the first row of a table instead of reading it
// all, and say why.
func TestReadStopsBetweenRows(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "proc/net"), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString(tcpHeader)
	for i := range 5000 {
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0200007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, 1000+i, 2000, 100000+i)
	}
	if err := os.WriteFile(filepath.Join(root, "proc/net/tcp"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := newWatcher(watchConfig(t, root, "-tan", "-c", "1"))
	if _, err := w.round(ctx, nil, io.Discard, false); err != context.Canceled || w.snap != nil {
		t.Errorf("round: %v, snapshot kept: %v; want context.Canceled and none", err, w.snap != nil)
	}
	l := newLister(watchConfig(t, root, "-tn", "--port", "2000"))
	if snap, err := l.read(ctx, io.Discard); err != context.Canceled || snap != nil {
		t.Errorf("read: %v, want context.Canceled and no snapshot", err)
	}
}
