//go:build unix

package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"
)

// notifyJobs relays SIGTSTP and SIGCONT to jobs unless job control is
// off (SIGTSTP ignored), and reports whether it does.
func notifyJobs(jobs chan<- os.Signal) bool {
	if signal.Ignored(syscall.SIGTSTP) {
		return false
	}
	signal.Notify(jobs, syscall.SIGTSTP, syscall.SIGCONT)
	return true
}

// jobControl obeys SIGTSTP and SIGCONT on a terminal: before stopping,
// the cursor is shown and the colours reset, as a shell expects its
// terminal back; once continued, the cursor is hidden again and the last
// round redrawn (the shell may have written over it).
func jobControl(sig os.Signal, stdout io.Writer, shown []byte) {
	switch sig {
	case syscall.SIGTSTP:
		io.WriteString(stdout, sgrReset+showCursor)
		suspend() // suspend_linux.go, suspend_unix.go: here until SIGCONT
	case syscall.SIGCONT:
		io.WriteString(stdout, hideCursor)
		stdout.Write(shown)
	}
}
