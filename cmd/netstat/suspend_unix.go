//go:build unix && !linux

package main

import (
	"os"
	"syscall"
)

// suspend stops the process: SIGSTOP, since the Linux way of taking
// SIGTSTP's default action (rt_sigaction) is not at hand.
func suspend() { syscall.Kill(os.Getpid(), syscall.SIGSTOP) }
