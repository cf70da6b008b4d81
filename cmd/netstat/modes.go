package main

import (
	"fmt"
	"io"
)

// notYet answers the modes that come with the routes and interfaces work.
func notYet(what string) error {
	return fmt.Errorf("%s is not available in this build yet", what)
}

func routes(c *config, stdout, stderr io.Writer) error     { return notYet("-r (routing table)") }
func interfaces(c *config, stdout, stderr io.Writer) error { return notYet("-i (interface table)") }
func statistics(c *config, stdout, stderr io.Writer) error { return notYet("-s (statistics)") }

