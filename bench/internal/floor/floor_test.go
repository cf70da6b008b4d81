package floor

import (
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// The walk finds a socket this process holds, whichever way the PIDs are
// split.
func TestWalkFindsOwnSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	ps, err := PIDs()
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	found := false
	for _, p := range ps {
		found = found || p == self
	}
	if !found {
		t.Fatalf("PIDs() lacks this process %s", self)
	}
	for _, n := range []int{1, 2, 3} {
		if !Walk(ps, n)[st.Ino] {
			t.Errorf("Walk(%d) misses our listener %d", n, st.Ino)
		}
	}
}

// BenchmarkLiveFloor is the minimal idiomatic walk procmap is measured
// against: 2 goroutines, os.ReadDir + os.Readlink, a set of socket inodes.
// It walks the running system: compare it with procmap's live benchmarks
// only within one run under one load.
func BenchmarkLiveFloor(b *testing.B) {
	for b.Loop() {
		ps, _ := PIDs()
		Walk(ps, 2)
	}
}
