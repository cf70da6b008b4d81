//go:build !unix

package main

import (
	"io"
	"os"
)

// No job control signals off unix: the watch screen has no Ctrl-Z.

func notifyJobs(chan<- os.Signal) bool { return false }

func jobControl(os.Signal, io.Writer, []byte) {}
