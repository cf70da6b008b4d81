//go:build !linux

package flows

import (
	"errors"
	"testing"
)

// Off Linux every source is unavailable and says so: Start never returns
// a feed that would send nothing.
func TestStartUnavailable(t *testing.T) {
	for _, src := range []Source{SourceTracepoint, SourceDestroy, SourcePoll} {
		f, err := Start(Options{Source: src})
		if err == nil {
			f.Close()
			t.Fatalf("%v: started", src)
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%v: %v does not wrap ErrUnavailable", src, err)
		}
	}
	f, err := Start(Options{})
	if err == nil {
		f.Close()
		t.Fatal("auto: started")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("auto: %v does not wrap ErrUnavailable", err)
	}
}
