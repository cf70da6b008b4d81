package procmap

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// cancelAfter is a context that reports itself cancelled once Err has been
// asked n times: a cancel that lands mid-walk, deterministically.
type cancelAfter struct {
	context.Context
	n    int64
	asks atomic.Int64 // the walk's workers ask concurrently
}

func (c *cancelAfter) Err() error {
	if c.asks.Add(1) > c.n {
		return context.Canceled
	}
	return nil
}

// TestBuildCancel cancels a walk of 400 processes after its first few: it
// returns context.Canceled having read few of them.
func TestBuildCancel(t *testing.T) {
	root := many(t, 400, 5, 0)
	ctx := &cancelAfter{Context: context.Background(), n: 20}
	m, err := Build(ctx, Options{Root: root, Source: SourceProc})
	if !errors.Is(err, context.Canceled) || m != nil {
		t.Fatalf("Build = %v, %v; want nil, context.Canceled", m, err)
	}
	if n := ctx.asks.Load(); n > 40 {
		t.Errorf("the walk asked ctx %d times after the cancel at 20: it did not stop", n)
	}

	// A context already done ends Build before any reading.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := Build(done, Options{Root: root}); !errors.Is(err, context.Canceled) {
		t.Errorf("Build(done) = %v", err)
	}
	t.Logf("Build(done) returned in %v", time.Since(start))

	// A Tracker's refresh stops the same way and keeps what it knew.
	tr := NewTracker(Options{Root: root, Source: SourceProc})
	full, err := tr.Refresh(context.Background(), nil)
	if err != nil || len(full.Owners) != 2000 {
		t.Fatalf("first refresh: %d owners, %v", len(full.Owners), err)
	}
	if _, err := tr.Refresh(&cancelAfter{Context: context.Background(), n: 20}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Refresh(cancelled) = %v", err)
	}
	again, err := tr.Refresh(context.Background(), set(100000))
	if err != nil || len(again.Lookup(100000)) != 1 {
		t.Errorf("refresh after a cancelled one: %v, %v", again.Lookup(100000), err)
	}
}
