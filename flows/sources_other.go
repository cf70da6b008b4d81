//go:build !linux

package flows

import (
	"fmt"
	"runtime"
)

// The tracepoint source is a BPF program and the destroy source a
// sock_diag netlink socket, both Linux's; elsewhere they fail with
// ErrUnavailable (and so does the polling source, which reads Linux's
// /proc: see startPoll), so that Start says why instead of returning a
// feed that never sends anything.

func (f *Feed) startTracepoint() error {
	return fmt.Errorf("%w: the BPF tracepoint is Linux's, not %s's", ErrUnavailable, runtime.GOOS)
}

func (f *Feed) startDestroy() error {
	return fmt.Errorf("%w: sock_diag destroy notifications are Linux's, not %s's", ErrUnavailable, runtime.GOOS)
}
