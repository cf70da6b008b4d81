package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// writes records each Write it is given.
type writes struct{ pieces [][]byte }

func (w *writes) Write(p []byte) (int, error) {
	w.pieces = append(w.pieces, bytes.Clone(p))
	return len(p), nil
}

// TestWatchStreamsPipedRounds: a piped round is written in pieces of
// about spillSize as it is rendered, the same bytes as the whole round,
// and the buffer it is rendered in stays that size (issue 15 item 5: a
// watch does not hold a whole rendered round besides its rows).
func TestWatchStreamsPipedRounds(t *testing.T) {
	w := bigRound(t)
	whole := w.render([]byte("=== head ===\n"), false)
	if len(whole) < 3*spillSize {
		t.Fatalf("the round is %d bytes: too small to show streaming", len(whole))
	}
	var out writes
	buf, err := w.stream(&out, []byte("=== head ===\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Join(out.pieces, nil); !bytes.Equal(got, whole) {
		t.Fatalf("streamed %d bytes, not the round's %d", len(got), len(whole))
	}
	if len(out.pieces) < 3 {
		t.Errorf("%d bytes in %d writes: not streamed", len(whole), len(out.pieces))
	}
	for i, p := range out.pieces {
		if len(p) > spillSize+1024 {
			t.Errorf("write %d is %d bytes, over %d", i, len(p), spillSize+1024)
		}
	}
	if cap(buf) > 2*spillSize {
		t.Errorf("the render buffer grew to %d bytes for a %d-byte round", cap(buf), len(whole))
	}
}

// bigRound is a watcher that has read a round of 3000 connections.
func bigRound(t *testing.T) *watcher {
	t.Helper()
	root := watchRoot(t)
	var tcp strings.Builder
	tcp.WriteString(tcpHeader)
	const rows = 3000
	for i := range rows {
		fmt.Fprintf(&tcp, "%4d: 0100007F:%04X 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 10000+i, 50000+i)
	}
	writeRound(t, root, tcp.String())
	w := newWatcher(watchConfig(t, root, "-tan", "-c", "1"))
	if err := w.update(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
	return w
}

// failing takes one write, then fails.
type failing struct{ writes int }

func (f *failing) Write(p []byte) (int, error) {
	if f.writes++; f.writes > 1 {
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

// TestWatchStreamStops: a streamed round whose reader went away stops
// rendering at the failed piece: no more writes, and no buffer of the
// rest of the round.
func TestWatchStreamStops(t *testing.T) {
	w := bigRound(t)
	var out failing
	buf, err := w.stream(&out, nil, nil)
	if err != io.ErrClosedPipe {
		t.Fatalf("stream: %v, want %v", err, io.ErrClosedPipe)
	}
	if out.writes != 2 || cap(buf) > 2*spillSize {
		t.Errorf("%d writes, a buffer of %d bytes after the reader went away", out.writes, cap(buf))
	}
}

// TestWatchGC: a watch runs the collector at watchGCPercent, unless GOGC
// is set, and restores it after.
func TestWatchGC(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer debug.SetGCPercent(was)
	t.Run("unset", func(t *testing.T) {
		if v, ok := os.LookupEnv("GOGC"); ok {
			t.Setenv("GOGC", v) // restored after
			os.Unsetenv("GOGC")
		}
		restore := watchGC()
		if got := debug.SetGCPercent(100); got != watchGCPercent {
			t.Errorf("GOGC during a watch: %d, want %d", got, watchGCPercent)
		}
		debug.SetGCPercent(watchGCPercent)
		restore()
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("GOGC after a watch: %d, want 100", got)
		}
	})
	t.Run("set", func(t *testing.T) {
		t.Setenv("GOGC", "100")
		restore := watchGC()
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("GOGC=100 during a watch: %d", got)
		}
		restore()
	})
}
