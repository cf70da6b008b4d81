package main

import (
	"time"

	"github.com/procnet/procnet/names"
)

// Resolver looks up the names of an address (reverse DNS). *net.Resolver
// is one; tests inject a fake so that no query ever leaves the machine.
type Resolver = names.DNS

// newNames returns the names a listing prints: services, users, networks
// and hosts under the root, and reverse DNS (Resolve) with a time budget
// for the whole listing. Every name it gives is already escaped.
func newNames(root string, res Resolver, budget time.Duration) *names.Resolver {
	return &names.Resolver{Root: root, DNS: res, Timeout: budget}
}
