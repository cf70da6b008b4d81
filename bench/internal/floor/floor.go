// Package floor is the baseline that procnet's owner lookup is measured
// against: the minimal idiomatic Go walk of /proc/*/fd (os.ReadDir and
// os.Readlink, no tricks). bench/floor times it as a program; bench/walk
// and procmap's live benchmarks call it in-process. It is kept plain on
// purpose: it stands for what anyone would write first.
package floor

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// PIDs lists the numeric entries of /proc.
func PIDs() ([]string, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var ps []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			ps = append(ps, e.Name())
		}
	}
	return ps, nil
}

// Walk returns the socket inodes found under /proc/PID/fd for each PID of
// ps, the PIDs split over n goroutines (n ≥ 1). Processes that are gone or
// not readable are skipped.
func Walk(ps []string, n int) map[uint64]bool {
	parts := make([]map[uint64]bool, n)
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			m := make(map[uint64]bool)
			for i := w; i < len(ps); i += n {
				dir := "/proc/" + ps[i] + "/fd"
				ents, err := os.ReadDir(dir)
				if err != nil {
					continue // gone, or not ours to read
				}
				for _, e := range ents {
					target, err := os.Readlink(dir + "/" + e.Name())
					if err != nil || !strings.HasPrefix(target, "socket:[") {
						continue
					}
					if ino, err := strconv.ParseUint(target[8:len(target)-1], 10, 64); err == nil {
						m[ino] = true
					}
				}
			}
			parts[w] = m
		})
	}
	wg.Wait()
	for _, m := range parts[1:] {
		for k := range m {
			parts[0][k] = true
		}
	}
	return parts[0]
}
