// Command netstat lists network connections, listening ports and the
// processes that own them, straight from /proc. It takes net-tools'
// flags and prints net-tools' layout, and adds JSON Lines, CSV, filters
// and fixture roots. Run it with -h for the flags.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A reader that goes away (| head) makes writes fail with EPIPE
	// instead of killing us, so run can end quietly.
	signal.Ignore(syscall.SIGPIPE)
	// The run's context: -c derives one that SIGINT, SIGTERM, SIGHUP and
	// SIGQUIT cancel (watch.go); the other modes keep those signals'
	// default action, which ends them at once.
	os.Exit(exitCode(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}
