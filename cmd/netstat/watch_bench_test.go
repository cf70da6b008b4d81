package main

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// The cost of one -c round on the live system against a full listing
// (tables, then every process's fds): go test -bench 'Listing|WatchRound'
// -count 5 ./cmd/netstat and compare the medians.

// BenchmarkFullListing is `netstat -tanp -n` in-process.
func BenchmarkFullListing(b *testing.B) {
	for b.Loop() {
		if err := runWith([]string{"-tanp", "-n"}, io.Discard, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWatchRound is one round of `netstat -tanp -n -c` after the
// first: tables, tracker refresh, marks and rendering.
func BenchmarkWatchRound(b *testing.B) {
	c, err := parse([]string{"-tanp", "-n", "-c", "1"})
	if err != nil {
		b.Fatal(err)
	}
	w := newWatcher(c)
	// A cancellable context, as -c has: the checks between rows are paid.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	buf, err := w.round(ctx, nil, io.Discard, false)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if buf, err = w.round(ctx, buf[:0], io.Discard, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummaryRound is one round of `netstat --summary -tan -c`.
func BenchmarkSummaryRound(b *testing.B) {
	c, err := parse([]string{"--summary", "-tan", "-c", "1"})
	if err != nil {
		b.Fatal(err)
	}
	c.unix, c.programs = false, true
	w := newWatcher(c)
	// A cancellable context, as -c has: the checks between rows are paid.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	buf, err := w.round(ctx, nil, io.Discard, false)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if buf, err = w.round(ctx, buf[:0], io.Discard, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundParts splits a round: reading the TCP tables (the same
// in both), a full owner walk (a listing) and a tracker refresh (a
// watch round).
func BenchmarkRoundParts(b *testing.B) {
	c, err := parse([]string{"-tanp", "-n"})
	if err != nil {
		b.Fatal(err)
	}
	tables := netstat.Reader{NoRetransmits: true}
	var inodes []uint64
	for s, err := range tables.Sockets(context.Background(), c.filter()) {
		if err == nil && s.Inode != 0 {
			inodes = append(inodes, s.Inode)
		}
	}
	b.Run("tables", func(b *testing.B) {
		for b.Loop() {
			for range tables.Sockets(context.Background(), c.filter()) {
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := procmap.Build(context.Background(), procmap.Options{Root: "/", Cmdline: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refresh", func(b *testing.B) {
		t := procmap.NewTracker(procmap.Options{Root: "/", Cmdline: true})
		t.Refresh(context.Background(), slices.Values(inodes))
		for b.Loop() {
			if _, err := t.Refresh(context.Background(), slices.Values(inodes)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSummaryOnce is a one-shot `netstat --summary -tan -n`.
func BenchmarkSummaryOnce(b *testing.B) {
	for b.Loop() {
		if err := runWith([]string{"--summary", "-tan", "-n"}, io.Discard, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummaryQuietRound is a round of `netstat --summary -tan -n -c`
// with the tracepoint feed: on a quiet host (no TCP state change) a round
// re-reads nothing, and every procnet.QuietMax-th reads the tables again; the
// reported ns/op is the average round. Skipped where the tracepoint does
// not load.
func BenchmarkSummaryQuietRound(b *testing.B) {
	c, err := parse([]string{"--summary", "-tan", "-n", "-c", "1"})
	if err != nil {
		b.Fatal(err)
	}
	c.unix, c.programs = false, true
	w := newWatcher(c)
	w.startFeed(io.Discard)
	defer w.poller.Close()
	if w.feed == nil || w.feed.Source() != flows.SourceTracepoint {
		b.Skip("no tracepoint feed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	buf, err := w.round(ctx, nil, io.Discard, false)
	if err != nil {
		b.Fatal(err)
	}
	reads := w.rounds
	for b.Loop() {
		if buf, err = w.round(ctx, buf[:0], io.Discard, false); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.rounds-reads)/float64(b.N), "reads/op")
}
