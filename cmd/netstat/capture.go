package main

// --capture DIR: write the smallest fixture tree from which
// `netstat --root DIR` with the same flags prints what this run prints.
//
// The files are captured first (procnet.Capturer: which files, and how
// they are written safely as root), then the command runs over DIR as
// over any root, so what it prints is exactly what a replay prints:
// nothing is read twice from a system that changes in between. Reverse
// DNS is not captured: use -n (or etc/hosts) for a replay that prints the
// same. A capture holds only what the run shows: the owners of the shown
// sockets, with their argv only where the output prints it (argv[0] for
// the program column, all of it for --json).

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/netstat"
)

// capture writes the tree under c.capture, then runs the command over it.
func capture(ctx context.Context, c *config, stdout, stderr io.Writer) error {
	cp, opts, _ := c.capturer()
	ran := false
	err := cp.Capture(ctx, c.capture, opts, func(root string) error {
		ran = true
		if c.programs {
			warnDenied(stderr, cp.Procs) // the source's warning; the replay has none
		}
		// The replay reads what was written: through the handle, not by
		// a name someone could since have pointed elsewhere.
		return c.overRoot(root).run(ctx, stdout, stderr)
	})
	if err != nil && !ran {
		return fmt.Errorf("--capture: %v", err)
	}
	return err
}

// capturer says what a capture of c's run holds besides its sockets, the
// options it reads them with, and what -r, -i or -s calls the files it
// requires of a replay (replayable).
func (c *config) capturer() (cp procnet.Capturer, opts procnet.Options, what string) {
	opts = procnet.Options{Root: c.root, Filter: netstat.Filter{Protos: netstat.ProtoSet(1)}}
	switch {
	case c.route:
		for _, f := range c.routeFamilies() {
			file := map[string]string{"inet": "proc/net/route", "inet6": "proc/net/ipv6_route"}[f]
			if file != "" && !slices.Contains(cp.Files, file) {
				cp.Files = append(cp.Files, file)
			}
		}
		if !c.numHosts {
			cp.Names = []string{"etc/networks", "etc/hosts"}
		}
		return cp, opts, "routing table"
	case c.interfaces:
		cp.Interfaces = true
		cp.InterfaceDetails = c.extend > 0 && !c.json && !c.csv
		return cp, opts, "interface table"
	case c.stats:
		cp.Files = []string{"proc/net/snmp", "proc/net/netstat", "proc/net/snmp6"}
		return cp, opts, "statistics"
	}
	opts = c.options()
	opts.Owners = opts.Owners || c.perProcess
	if c.format == "prometheus" {
		cp.Tables = []string{"dev"}
	}
	for _, n := range []struct {
		file string
		read bool
	}{{"etc/services", !c.numPorts}, {"etc/hosts", !c.numHosts}, {"etc/passwd", !c.numUsers || c.json}} {
		if n.read {
			cp.Names = append(cp.Names, n.file)
		}
	}
	// A table or CSV names a socket's first owner and counts the
	// others, with argv[0]; --json, --per-process and --summary (a
	// row per owning process) name every owner, --json with all of
	// argv.
	cp.FirstArgv = !c.json
	cp.ShownOwners = !c.json && !c.perProcess && !c.summary
	return cp, opts, ""
}

// overRoot returns the configuration for a run over root: the replay of a
// capture.
func (c *config) overRoot(root string) *config {
	r := *c
	r.root, r.capture = root, ""
	return &r
}

// replayable reports a root that holds none of the files -r, -i or -s
// read — a capture made for other flags — which would otherwise print an
// empty table and exit 0.
func (c *config) replayable() error {
	cp, _, what := c.capturer()
	return cp.Require(c.root, what)
}
