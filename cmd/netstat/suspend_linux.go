package main

import (
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// suspend stops the process as SIGTSTP's default action does, and
// returns once it is continued (SIGCONT).
//
// signal.Reset cannot do it: Go's runtime keeps its own handler for
// SIGTSTP after Reset, and that handler drops the signal. So the default
// action is put in place with rt_sigaction for the moment of the signal
// and the runtime's handler restored after. The signal goes to this very
// thread (tgkill, the goroutine locked to it), which takes it on its way
// back from the system call: the process is stopped before the handler is
// restored. Where rt_sigaction refuses, SIGSTOP stops us instead.
func suspend() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// The kernel's struct sigaction, whatever its layout on this
	// architecture: all zeros is SIG_DFL with no flags and an empty mask.
	var dfl, old [64]byte
	const sigsetSize = 8 // _NSIG/8
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGTSTP),
		uintptr(unsafe.Pointer(&dfl)), uintptr(unsafe.Pointer(&old)), sigsetSize, 0, 0)
	if e != 0 {
		syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		return
	}
	syscall.Tgkill(os.Getpid(), syscall.Gettid(), syscall.SIGTSTP)
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGTSTP),
		uintptr(unsafe.Pointer(&old)), 0, sigsetSize, 0, 0)
}
