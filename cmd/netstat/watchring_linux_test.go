package main

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/procnet/procnet/flows"
)

// TestWatchRingSize: the watch's tracepoint feed maps a ring buffer of
// watchRing bytes, not flows' default 4 MiB, whose pages (mapped twice)
// were 8 MiB of a watch's resident memory. Needs root and BTF.
func TestWatchRingSize(t *testing.T) {
	c, err := parse([]string{"-tan", "-c", "1"})
	if err != nil {
		t.Fatal(err)
	}
	c.resolver = refuseResolver{t}
	w := newWatcher(c)
	w.startFeed(io.Discard)
	defer w.poller.Close()
	if w.feed == nil || w.feed.Source() != flows.SourceTracepoint {
		t.Skip("no tracepoint feed here (root and BTF)")
	}
	// The ring's data pages are mapped twice after a page of counters:
	// the largest bpf-map mapping is twice the ring.
	largest := 0
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bpf := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			bpf = len(fields) >= 6 && fields[5] == "anon_inode:bpf-map"
		case bpf && len(fields) == 3 && fields[0] == "Size:":
			kb, _ := strconv.Atoi(fields[1])
			largest = max(largest, kb<<10)
		}
	}
	if largest == 0 {
		t.Fatal("no bpf-map mapping in /proc/self/smaps")
	}
	if largest > 2*watchRing+64<<10 {
		t.Errorf("the largest BPF mapping is %d KiB: a ring of about %d KiB, want %d", largest>>10, largest>>11, watchRing>>10)
	}
}
