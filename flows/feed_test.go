package flows

import "testing"

// TestFeedStats: Stats adds the feed's own count (the destroy source's
// overruns) to the source's, and Lost is what was dropped or missed, not
// what the second copy of the program handled.
func TestFeedStats(t *testing.T) {
	f := &Feed{statsFn: func() Stats { return Stats{Lost: 1, Missed: 2, Nested: 5, Untracked: 7} }}
	f.lost.Add(3)
	if got, want := f.Stats(), (Stats{Lost: 4, Missed: 2, Nested: 5, Untracked: 7}); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if got := f.Lost(); got != 6 {
		t.Errorf("Lost() = %d, want 6", got)
	}
	if got := (&Feed{}).Stats(); got != (Stats{}) {
		t.Errorf("a feed without counts: %+v", got)
	}
}
