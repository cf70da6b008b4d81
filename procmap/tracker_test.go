package procmap

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"weak"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

func set(inodes ...uint64) iter.Seq[uint64] { return slices.Values(inodes) }

// refresher returns tr.Refresh that fails t on an error.
func refresher(t *testing.T, tr *Tracker) func(want iter.Seq[uint64]) *Map {
	return func(want iter.Seq[uint64]) *Map {
		t.Helper()
		m, err := tr.Refresh(context.Background(), want)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
}

func TestTracker(t *testing.T) {
	root := fixture.Root(t, "testdata/basic.txtar")
	at := func(p string) string { return filepath.Join(root, p) }
	tr := NewTracker(Options{Root: root, FullEvery: 100})
	refresh := refresher(t, tr)
	owners := func(m *Map, ino uint64, want ...Owner) {
		t.Helper()
		if diff := cmp.Diff(want, m.Lookup(ino)); diff != "" {
			t.Errorf("owners of %d (-want +got):\n%s", ino, diff)
		}
	}
	stats := func(want TrackerStats) {
		t.Helper()
		if tr.Stats != want {
			t.Errorf("stats = %+v, want %+v", tr.Stats, want)
		}
	}

	all := set(1001, 1002, 5000, 5001, 6000, 9999)
	m1 := refresh(all)
	stats(TrackerStats{Full: 1})
	owners(m1, 5000, Owner{100, 6}, Owner{200, 6})

	// Nothing changed: checks only, and the same immutable Map. 9999 has
	// no owner and is not searched for again.
	m2 := refresh(all)
	stats(TrackerStats{Full: 1, Checks: 1})
	if m2 != m1 {
		t.Errorf("an unchanged refresh returned a new Map")
	}

	// PID reuse: 400 is now another process (later start time) without
	// the socket. Its owner must not be trusted: 6000 is searched for,
	// not found (a complete walk), and then known to be ownerless.
	os.Remove(at("proc/400/fd/3"))
	stat, _ := os.ReadFile(at("proc/400/stat"))
	os.WriteFile(at("proc/400/stat"), []byte(strings.Replace(string(stat), " 77777 ", " 88888 ", 1)), 0o644)
	m3 := refresh(all)
	stats(TrackerStats{Full: 2, Checks: 1})
	owners(m3, 6000)
	if m3.Process(400) != nil {
		t.Errorf("process 400 kept after PID reuse: %+v", m3.Process(400))
	}
	owners(m1, 6000, Owner{400, 3}) // earlier Maps are left alone

	// PID reuse where the newcomer does hold the socket: owner kept, with
	// the newcomer's details.
	os.Symlink("socket:[6000]", at("proc/400/fd/3"))
	os.WriteFile(at("proc/400/stat"), []byte(strings.Replace(string(stat), " 77777 ", " 99999 ", 1)), 0o644)
	m4 := refresh(all) // 6000 is in missing until the next full walk
	owners(m4, 6000)
	stats(TrackerStats{Full: 2, Checks: 2})

	// The sole owner of 5001 closes it: the socket leaves the tables, the
	// caller stops asking for it, and it is dropped.
	os.Remove(at("proc/200/fd/10"))
	m5 := refresh(set(1001, 1002, 5000, 6000, 9999))
	owners(m5, 5001)
	stats(TrackerStats{Full: 2, Checks: 3})

	// 200 closes its copy of the shared 5000. It lives on in 100, so the
	// tables still list it; the tracker keeps the stale owner until it
	// reads 200 again (documented staleness).
	os.Remove(at("proc/200/fd/6"))
	m6 := refresh(set(1001, 1002, 5000, 6000, 9999))
	owners(m6, 5000, Owner{100, 6}, Owner{200, 6})

	// A new socket, in a process that also owns a new socket in 200: the
	// search reads known owners first and stops once both are found;
	// whatever it read replaces what was known, so the stale 200/6 goes.
	os.Symlink("socket:[5555]", at("proc/100/fd/20"))
	os.Symlink("socket:[5556]", at("proc/200/fd/21"))
	m7 := refresh(set(1001, 1002, 5000, 5555, 5556, 6000, 9999))
	// (On a tiny tree the other worker may read every process before the
	// finder raises the stop flag: then it counts as a full walk.)
	if got := tr.Stats.Full + tr.Stats.Searches; got != 3 {
		t.Errorf("stats = %+v, want one search or full walk more", tr.Stats)
	}
	owners(m7, 5555, Owner{100, 20})
	owners(m7, 5556, Owner{200, 21})
	owners(m7, 5000, Owner{100, 6})
	owners(m6, 5000, Owner{100, 6}, Owner{200, 6}) // m6 untouched

	// A process exits: its owners go at once.
	os.RemoveAll(at("proc/1"))
	m8 := refresh(set(1001, 1002, 5000, 5555, 5556, 6000, 9999))
	owners(m8, 1001)
	if m8.Process(1) != nil {
		t.Errorf("exited process 1 still listed")
	}
}

func TestTrackerFullEvery(t *testing.T) {
	root := fixture.Root(t, "testdata/basic.txtar")
	tr := NewTracker(Options{Root: root, FullEvery: 3})
	want := set(1001, 5000)
	for range 7 {
		if _, err := tr.Refresh(context.Background(), want); err != nil {
			t.Fatal(err)
		}
	}
	// Rounds 1, 4, 7 walk in full.
	if tr.Stats.Full != 3 || tr.Stats.Checks != 4 {
		t.Errorf("stats = %+v, want 3 full walks and 4 checks", tr.Stats)
	}
	// The stale owner of the last test is gone after a full walk.
	os.Remove(filepath.Join(root, "proc/200/fd/6"))
	var m *Map
	for range 3 {
		m, _ = tr.Refresh(context.Background(), want)
	}
	if diff := cmp.Diff([]Owner{{100, 6}}, m.Lookup(5000)); diff != "" {
		t.Errorf("after a full walk (-want +got):\n%s", diff)
	}
	// A nil set walks in full every time.
	full := tr.Stats.Full
	tr.Refresh(context.Background(), nil)
	tr.Refresh(context.Background(), nil)
	if tr.Stats.Full != full+2 {
		t.Errorf("nil refreshes made %d full walks, want 2", tr.Stats.Full-full)
	}
}

func TestTrackerNoProc(t *testing.T) {
	if _, err := NewTracker(Options{Root: t.TempDir()}).Refresh(context.Background(), nil); err == nil {
		t.Error("Refresh without proc: no error")
	}
}

// oldMapCheck is a context whose Err, asked by a walk (after Refresh's
// own first ask), collects and notes whether the Map a weak pointer names
// is still reachable.
type oldMapCheck struct {
	context.Context
	old   weak.Pointer[Map]
	asks  atomic.Int64
	alive atomic.Bool
}

func (c *oldMapCheck) Err() error {
	if n := c.asks.Add(1); n >= 2 && n <= 4 {
		runtime.GC()
		if c.old.Value() != nil {
			c.alive.Store(true)
		}
	}
	return nil
}

// TestTrackerFullDropsOld checks that a full walk does not hold the last
// Map (its owners) while it builds the next, and that the workers do not
// keep a full walk's hits.
func TestTrackerFullDropsOld(t *testing.T) {
	root := many(t, 20, 100, 0) // 2,000 owned sockets
	defer func(n int) { keptHits = n }(keptHits)
	keptHits = 100
	tr := NewTracker(Options{Root: root, Source: SourceProc})
	m, err := tr.Refresh(context.Background(), nil)
	if err != nil || len(m.Owners) != 2000 {
		t.Fatalf("first refresh: %d owners, %v", len(m.Owners), err)
	}
	ctx := &oldMapCheck{Context: context.Background(), old: weak.Make(m)}
	m = nil
	m2, err := tr.Refresh(ctx, nil)
	if err != nil || len(m2.Owners) != 2000 {
		t.Fatalf("second refresh: %d owners, %v", len(m2.Owners), err)
	}
	if ctx.asks.Load() < 4 {
		t.Fatalf("ctx asked %d times: the walk did not ask", ctx.asks.Load())
	}
	if ctx.alive.Load() {
		t.Error("during a full walk the last Map was still reachable")
	}
	for i, w := range tr.workers {
		if cap(w.hits) > keptHits {
			t.Errorf("worker %d keeps room for %d hits after the walk", i, cap(w.hits))
		}
	}
}

// TestTrackerManyInodesSteady refreshes with 100,000 inodes a round, most
// of them without owner (sockets of other namespaces, or whose owners may
// not be read): once warm, a round allocates far less than a set of them
// would take (a map[uint64]bool of 100,000 is over 2 MB; the Tracker's own
// set is kept), full walks included, and the answers stay right.
func TestTrackerManyInodesSteady(t *testing.T) {
	root := fixture.Root(t, "testdata/basic.txtar")
	const n = 100_000
	inodes := []uint64{1001, 1002, 5000, 5001, 6000}
	for i := range uint64(n) {
		inodes = append(inodes, 1<<32+7*i)
	}
	tr := NewTracker(Options{Root: root, FullEvery: 4})
	refresh := refresher(t, tr)
	for range 2 {
		refresh(slices.Values(inodes))
	}
	const rounds = 8 // two full walks among them
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var m *Map
	for range rounds {
		m = refresh(slices.Values(inodes))
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / rounds; per > 256<<10 {
		t.Errorf("a steady refresh of %d inodes allocates %d bytes, want under 256 KiB", len(inodes), per)
	}
	if diff := cmp.Diff([]Owner{{100, 6}, {200, 6}}, m.Lookup(5000)); diff != "" {
		t.Errorf("owners of 5000 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Owner{{400, 3}}, m.Lookup(6000)); diff != "" {
		t.Errorf("owners of 6000 (-want +got):\n%s", diff)
	}
	if len(m.Owners) != 5 || m.Lookup(1<<32) != nil {
		t.Errorf("%d inodes owned, want 5", len(m.Owners))
	}
	// Rounds 1, 5 and 9 of 10 walk in full; the ownerless ones are not
	// searched for in between.
	if want := (TrackerStats{Full: 3, Checks: 7}); tr.Stats != want {
		t.Errorf("stats = %+v, want %+v", tr.Stats, want)
	}
	if got := tr.missing.Len(); got != n {
		t.Errorf("%d inodes known ownerless, want %d", got, n)
	}

	// Inodes no longer asked for are forgotten: the owned ones that left,
	// and the ownerless ones, which are searched for again when they come
	// back.
	m = refresh(set(1001, 1002, 6000, 1<<32))
	if m.Lookup(5000) != nil || m.Lookup(5001) != nil {
		t.Errorf("owners of dropped inodes kept: %v %v", m.Lookup(5000), m.Lookup(5001))
	}
	if got := tr.missing.Len(); got != 1 {
		t.Errorf("%d inodes known ownerless after the others left, want 1", got)
	}
	os.Symlink("socket:[4294967303]", filepath.Join(root, "proc/100/fd/30")) // 1<<32 + 7
	m = refresh(set(1001, 1002, 6000, 1<<32, 1<<32+7))
	if diff := cmp.Diff([]Owner{{100, 30}}, m.Lookup(1<<32+7)); diff != "" {
		t.Errorf("owners of an inode asked for again (-want +got):\n%s", diff)
	}
	if tr.Stats.Searches+tr.Stats.Full != 4 {
		t.Errorf("stats = %+v, want one search or full walk more", tr.Stats)
	}
}

// BenchmarkTrackerRefreshMany is a watch's refresh of 100,000 inodes over
// a small fixture tree (most inodes ownerless, full walks every
// DefaultFullEvery rounds as in a watch), the inodes yielded straight
// from a slice as procnet's round yields them from its rows.
func BenchmarkTrackerRefreshMany(b *testing.B) {
	root := fixture.Root(b, "testdata/basic.txtar")
	inodes := []uint64{1001, 1002, 5000, 5001, 6000}
	for i := range uint64(100_000) {
		inodes = append(inodes, 1<<32+7*i)
	}
	tr := NewTracker(Options{Root: root})
	tr.Refresh(context.Background(), slices.Values(inodes))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tr.Refresh(context.Background(), slices.Values(inodes)); err != nil {
			b.Fatal(err)
		}
	}
}
