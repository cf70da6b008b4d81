package main

import (
	"context"
	"net/netip"
	"time"

	"github.com/procnet/procnet/names"
)

// Resolver looks up the names of an address (reverse DNS). *net.Resolver
// is one; tests inject a fake so that no query ever leaves the machine.
type Resolver = names.DNS

// nameBook is the glue between the listings and package names: services,
// users, networks and hosts under the root, and reverse DNS with a time
// budget for the whole listing. Every name it gives is already escaped.
type nameBook struct {
	r *names.Resolver
}

func newNames(root string, res Resolver, budget time.Duration) *nameBook {
	return &nameBook{r: &names.Resolver{Root: root, DNS: res, Timeout: budget}}
}

// service returns the name of port for proto ("tcp", "udp", "raw") from
// etc/services, as getservbyport does: the first entry wins.
func (n *nameBook) service(port uint16, proto string) (string, bool) {
	return n.r.Service(port, proto)
}

// user returns the name of uid from etc/passwd.
func (n *nameBook) user(uid uint32) (string, bool) { return n.r.User(uid) }

// network returns the name etc/networks gives the network number a.
func (n *nameBook) network(a netip.Addr) (string, bool) { return n.r.Network(a) }

// prefetch resolves addrs concurrently within the budget: those not
// answered in time stay numeric.
func (n *nameBook) prefetch(addrs []netip.Addr) {
	n.r.Resolve(context.Background(), addrs)
}

// host returns the name for a, or "" to print it as a number.
func (n *nameBook) host(a netip.Addr) string { return n.r.Host(a) }
