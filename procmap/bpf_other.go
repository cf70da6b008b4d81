//go:build !linux

package procmap

import (
	"context"
	"fmt"
	"runtime"
)

// The BPF owner source is Linux's: elsewhere SourceAuto walks, and
// SourceBPF fails with ErrBPFUnavailable.

type bpfIter struct{}

var errNotLinux = fmt.Errorf("%w: not Linux (%s)", ErrBPFUnavailable, runtime.GOOS)

func useBPF(opts *Options) bool { return opts.Source == SourceBPF }

func worthBPF(*workerState, int) bool { return false }

func loadedBPF() (*bpfIter, error) { return nil, errNotLinux }

func noteBPFErr(error) {}

func buildBPF(context.Context, *Options, inodeSet, func() map[uint64]bool, func(int, uint64, []byte) *Process) (*Map, error) {
	return nil, errNotLinux
}
