package procmap

import (
	"context"
	"slices"
	"testing"
)

// Live benchmarks: they walk the running system, so compare them only
// within one run under one load (bench/loadgen, ideally in a private pid
// namespace), with -count for medians.

// The floor these are measured against, the minimal idiomatic walk,
// lives in bench/internal/floor (BenchmarkLiveFloor there).

// BenchmarkLiveBuild is the /proc walk; BenchmarkLiveBuildBPF the BPF
// iterator (program already loaded). Both report ns per socket fd found.
func BenchmarkLiveBuild(b *testing.B) { benchBuild(b, SourceProc) }

func BenchmarkLiveBuildBPF(b *testing.B) {
	requireBPFBench(b)
	benchBuild(b, SourceBPF)
}

func benchBuild(b *testing.B, src Source) {
	m, err := Build(context.Background(), Options{Source: src})
	if err != nil {
		b.Fatal(err)
	}
	fds := 0
	for _, o := range m.Owners {
		fds += len(o)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), Options{Source: src}); err != nil {
			b.Fatal(err)
		}
	}
	if fds > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fds), "ns/sockfd")
	}
}

// BenchmarkLiveLoadBPF is the one-time cost of the BPF source: parse the
// kernel's BTF, assemble, verify and attach the program.
func BenchmarkLiveLoadBPF(b *testing.B) {
	requireBPFBench(b)
	b.ReportAllocs()
	for b.Loop() {
		it, err := loadBPF()
		if err != nil {
			b.Fatal(err)
		}
		it.close()
	}
}

func requireBPFBench(b *testing.B) {
	if _, err := Build(context.Background(), Options{Source: SourceBPF, Inodes: map[uint64]bool{}}); err != nil {
		b.Skip(err)
	}
}

// BenchmarkLiveQuery (the walk, stopping early) asks for one inode per iteration, cycling through 16
// inodes spread evenly over all sockets (ordered by owner PID).
func BenchmarkLiveQuery(b *testing.B) {
	inodes := liveInodes(b)
	var sample []uint64
	for i := range 16 {
		sample = append(sample, inodes[(len(inodes)-1)*i/15])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Build(context.Background(), Options{Source: SourceProc, Inodes: map[uint64]bool{sample[i%len(sample)]: true}})
		i++
	}
}

// BenchmarkLiveRefresh is a Tracker refresh when no socket is new.
func BenchmarkLiveRefresh(b *testing.B) {
	all := slices.Values(liveInodes(b))
	tr := NewTracker(Options{Source: SourceProc, FullEvery: 1 << 30})
	tr.Refresh(context.Background(), all)
	b.ReportAllocs()
	for b.Loop() {
		tr.Refresh(context.Background(), all)
	}
}

// liveInodes returns every owned socket inode, ordered by first owner.
func liveInodes(b *testing.B) []uint64 {
	m, err := Build(context.Background(), Options{Source: SourceProc})
	if err != nil {
		b.Fatal(err)
	}
	var inodes []uint64
	for ino := range m.Owners {
		inodes = append(inodes, ino)
	}
	if len(inodes) == 0 {
		b.Skip("no sockets")
	}
	slices.SortFunc(inodes, func(x, y uint64) int {
		a, c := m.Owners[x][0], m.Owners[y][0]
		if a.PID != c.PID {
			return a.PID - c.PID
		}
		return a.FD - c.FD
	})
	return inodes
}
