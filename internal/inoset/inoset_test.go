package inoset

import (
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// check compares s with the map that models it.
func check(t *testing.T, s *Set, want map[uint64]bool) {
	t.Helper()
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
	got := slices.Sorted(s.All())
	if w := slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
		t.Fatalf("All = %v, want %v", got, w)
	}
	for v := range want {
		if !s.Has(v) {
			t.Fatalf("Has(%d) = false for a member", v)
		}
	}
	if 3*s.n > 2*len(s.slots) && s.n > 0 {
		t.Fatalf("load %d/%d passes 2/3", s.n, len(s.slots))
	}
}

func TestSetAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Set
	want := map[uint64]bool{}
	for i := range 20000 {
		// Small values collide and repeat; sequential ones are what the
		// kernel hands out.
		var v uint64
		switch i % 3 {
		case 0:
			v = r.Uint64N(5000)
		case 1:
			v = 1<<20 + uint64(i)
		default:
			v = r.Uint64()
		}
		if got := s.Add(v); got != (v != 0 && !want[v]) {
			t.Fatalf("Add(%d) = %v with %d in the model: %v", v, got, v, want[v])
		}
		if v != 0 {
			want[v] = true
		}
		if q := r.Uint64N(6000); s.Has(q) != want[q] {
			t.Fatalf("Has(%d) = %v, want %v", q, s.Has(q), want[q])
		}
	}
	check(t, &s, want)
	if s.Has(0) || s.Add(0) || s.Len() != len(want) {
		t.Error("0 is a member or changed the set")
	}

	// Delete half, then the rest by DeleteFunc.
	for v := range want {
		if v%2 == 0 {
			if !s.Delete(v) || s.Delete(v) {
				t.Fatalf("Delete(%d) twice: want true then false", v)
			}
			delete(want, v)
		}
	}
	check(t, &s, want)
	s.DeleteFunc(func(v uint64) bool { return v%3 == 0 })
	maps.DeleteFunc(want, func(v uint64, _ bool) bool { return v%3 == 0 })
	check(t, &s, want)
	s.DeleteFunc(func(uint64) bool { return true })
	check(t, &s, map[uint64]bool{})
}

func TestSetDeleteWraps(t *testing.T) {
	// Values whose home is the last slot wrap to the start: deleting
	// must move them back across the end.
	var s Set
	s.Reset(8)
	m := len(s.slots)
	var last []uint64
	for v := uint64(1); len(last) < 4; v++ {
		if home(v, m) == m-1 {
			last = append(last, v)
		}
	}
	want := map[uint64]bool{}
	for _, v := range last {
		s.Add(v)
		want[v] = true
	}
	if len(s.slots) != m {
		t.Fatalf("table grew from %d to %d", m, len(s.slots))
	}
	s.Delete(last[0])
	delete(want, last[0])
	check(t, &s, want)
	s.DeleteFunc(func(v uint64) bool { return v == last[2] })
	delete(want, last[2])
	check(t, &s, want)
}

func TestSetReset(t *testing.T) {
	var s Set
	for v := range uint64(1000) {
		s.Add(v + 1)
	}
	// Reset to about the same size keeps the table, empty.
	before := &s.slots[0]
	s.Reset(1000)
	if &s.slots[0] != before {
		t.Error("Reset(1000) after 1000 values reallocated")
	}
	check(t, &s, map[uint64]bool{})
	for v := range uint64(900) {
		s.Add(v + 7)
	}
	s.Reset(900)
	if &s.slots[0] != before {
		t.Error("Reset(900) reallocated a table that fits")
	}
	// Far smaller: the table shrinks; larger: it grows at once.
	s.Reset(10)
	if len(s.slots) != slotsFor(10) {
		t.Errorf("Reset(10): %d slots, want %d", len(s.slots), slotsFor(10))
	}
	s.Reset(5000)
	if len(s.slots) < slotsFor(5000) {
		t.Errorf("Reset(5000): %d slots, fewer than %d", len(s.slots), slotsFor(5000))
	}
	n := len(s.slots)
	want := map[uint64]bool{}
	for v := range uint64(5000) {
		s.Add(3*v + 1)
		want[3*v+1] = true
	}
	if len(s.slots) != n {
		t.Errorf("5000 values after Reset(5000) grew the table from %d to %d", n, len(s.slots))
	}
	check(t, &s, want)
	s.Reset(-1)
	check(t, &s, map[uint64]bool{})
}

func TestSetGrowth(t *testing.T) {
	var s Set
	grows := 0
	for v := range uint64(100_000) {
		n := len(s.slots)
		s.Add(v*7919 + 1)
		if len(s.slots) != n {
			grows++
		}
	}
	if s.Len() != 100_000 {
		t.Fatalf("Len = %d", s.Len())
	}
	// Growing by half: about log1.5(100000/9) ≈ 23 tables.
	if grows > 30 {
		t.Errorf("%d reallocations for 100,000 adds", grows)
	}
	// At most 2/3 loaded, at least about 4/9 right after growing.
	if b := s.Bytes(); b > 100_000*8*9/4 {
		t.Errorf("%d bytes for 100,000 values", b)
	}
}

func TestSetAddAllocs(t *testing.T) {
	var s Set
	s.Reset(1000)
	v := uint64(0)
	if n := testing.AllocsPerRun(100, func() {
		for range 10 {
			v++
			s.Add(v)
			s.Has(v + 1)
		}
		if s.Len() > 900 {
			s.Reset(1000)
		}
	}); n != 0 {
		t.Errorf("Add and Has in a table with room: %v allocations", n)
	}
}

// FuzzSet applies operations decoded from the input to a Set and to a map,
// and compares them after each.
func FuzzSet(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 1, 2, 1, 3, 0, 4, 5})
	f.Add([]byte{0, 0, 0, 255, 3, 7, 0, 9, 5, 3, 2, 9, 4, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var s Set
		want := map[uint64]bool{}
		for len(ops) >= 2 {
			op, b := ops[0], ops[1]
			ops = ops[2:]
			// Values from a small range collide; b>=200 spreads them.
			v := uint64(b)
			if b >= 200 {
				v = uint64(b) << 40
			}
			switch op % 6 {
			case 0:
				if got := s.Add(v); got != (v != 0 && !want[v]) {
					t.Fatalf("Add(%d) = %v", v, got)
				}
				if v != 0 {
					want[v] = true
				}
			case 1:
				if s.Has(v) != want[v] {
					t.Fatalf("Has(%d) = %v", v, s.Has(v))
				}
			case 2:
				if got := s.Delete(v); got != want[v] {
					t.Fatalf("Delete(%d) = %v", v, got)
				}
				delete(want, v)
			case 3:
				s.DeleteFunc(func(x uint64) bool { return x%uint64(b|1) == 0 })
				maps.DeleteFunc(want, func(x uint64, _ bool) bool { return x%uint64(b|1) == 0 })
			case 4:
				s.Reset(int(b))
				clear(want)
			case 5:
				for x := range uint64(b % 32) {
					s.Add(v + x)
					if v+x != 0 {
						want[v+x] = true
					}
				}
			}
			check(t, &s, want)
		}
	})
}

// BenchmarkAddHas fills a set of 100,000 kernel-like (sequential) inodes
// after a Reset, as a Tracker does each round, and asks for each one and
// one absent; BenchmarkMapAddHas does the same with a map[uint64]bool.
// Both report the memory held (table bytes) and allocations per round.
func BenchmarkAddHas(b *testing.B) {
	const n = 100_000
	var s Set
	b.ReportAllocs()
	for b.Loop() {
		s.Reset(n)
		for v := range uint64(n) {
			s.Add(1<<30 + 3*v)
		}
		for v := range uint64(n) {
			if !s.Has(1<<30+3*v) || s.Has(1<<30+3*v+1) {
				b.Fatal("wrong answer")
			}
		}
	}
	b.ReportMetric(float64(s.Bytes()), "set-bytes")
}

func BenchmarkMapAddHas(b *testing.B) {
	const n = 100_000
	var before, after runtime.MemStats
	var m map[uint64]bool
	b.ReportAllocs()
	for b.Loop() {
		m = make(map[uint64]bool, n)
		for v := range uint64(n) {
			m[1<<30+3*v] = true
		}
		for v := range uint64(n) {
			if !m[1<<30+3*v] || m[1<<30+3*v+1] {
				b.Fatal("wrong answer")
			}
		}
	}
	b.StopTimer()
	// The map's size: the heap it holds, measured once.
	m = nil
	runtime.GC()
	runtime.ReadMemStats(&before)
	m = make(map[uint64]bool, n)
	for v := range uint64(n) {
		m[1<<30+3*v] = true
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc), "set-bytes")
	runtime.KeepAlive(m)
}
