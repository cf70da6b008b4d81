package main

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Resolver looks up the names of an address (reverse DNS). *net.Resolver
// is one; tests inject a fake so that no query ever leaves the machine.
type Resolver interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// names turns numbers into names for the non-numeric listing: services
// and hosts from etc/ under the root, users from etc/passwd, and reverse
// DNS through a Resolver with a time budget for the whole listing.
type names struct {
	root     string
	resolver Resolver
	budget   time.Duration

	servicesOnce sync.Once
	services     map[string]string // "22/tcp" -> "ssh"
	usersOnce    sync.Once
	users        map[uint32]string
	hostsOnce    sync.Once
	hosts        map[netip.Addr]string
	resolved     map[netip.Addr]string // filled by prefetch
}

// readLines calls fn for each line of the file root/rel, without comments.
func readLines(root, rel string, fn func(fields []string)) {
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if fs := strings.Fields(line); len(fs) > 0 {
			fn(fs)
		}
	}
}

// service returns the name of port for proto ("tcp" or "udp") from
// etc/services, as getservbyport does: the first entry wins.
func (n *names) service(port uint16, proto string) (string, bool) {
	n.servicesOnce.Do(func() {
		n.services = map[string]string{}
		readLines(n.root, "etc/services", func(fs []string) {
			if len(fs) >= 2 {
				if _, ok := n.services[fs[1]]; !ok {
					n.services[fs[1]] = fs[0]
				}
			}
		})
	})
	s, ok := n.services[strconv.Itoa(int(port))+"/"+proto]
	return s, ok
}

// user returns the name of uid from etc/passwd.
func (n *names) user(uid uint32) (string, bool) {
	n.usersOnce.Do(func() {
		n.users = map[uint32]string{}
		readLines(n.root, "etc/passwd", func(fs []string) {
			parts := strings.Split(strings.Join(fs, " "), ":")
			if len(parts) < 3 {
				return
			}
			if id, err := strconv.ParseUint(parts[2], 10, 32); err == nil {
				if _, ok := n.users[uint32(id)]; !ok {
					n.users[uint32(id)] = parts[0]
				}
			}
		})
	})
	s, ok := n.users[uid]
	return s, ok
}

// hostFile returns the first name etc/hosts gives addr.
func (n *names) hostFile(a netip.Addr) (string, bool) {
	n.hostsOnce.Do(func() {
		n.hosts = map[netip.Addr]string{}
		readLines(n.root, "etc/hosts", func(fs []string) {
			if len(fs) < 2 {
				return
			}
			if a, err := netip.ParseAddr(fs[0]); err == nil {
				if _, ok := n.hosts[a]; !ok {
					n.hosts[a] = fs[1]
				}
			}
		})
	})
	s, ok := n.hosts[a]
	return s, ok
}

// prefetch resolves addrs concurrently — etc/hosts first, then the
// resolver — and gives up on whatever is not answered within the budget:
// those addresses stay numeric. net-tools asks one address at a time and
// can hang for tens of seconds when DNS is unreachable; a listing here
// waits at most the budget.
func (n *names) prefetch(addrs []netip.Addr) {
	if n.resolved == nil {
		n.resolved = map[netip.Addr]string{}
	}
	var ask []netip.Addr
	for _, a := range addrs {
		if _, done := n.resolved[a]; done || a.IsUnspecified() {
			continue
		}
		if h, ok := n.hostFile(a); ok {
			n.resolved[a] = h
			continue
		}
		n.resolved[a] = "" // numeric unless the resolver answers in time
		ask = append(ask, a)
	}
	if n.resolver == nil || len(ask) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.budget)
	defer cancel()
	type answer struct {
		a    netip.Addr
		name string
	}
	results := make(chan answer, len(ask))
	sem := make(chan struct{}, 32) // at most 32 queries in flight
	go func() {
		for _, a := range ask {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(a netip.Addr) {
				defer func() { <-sem }()
				hs, err := n.resolver.LookupAddr(ctx, a.String())
				if err == nil && len(hs) > 0 {
					results <- answer{a, strings.TrimSuffix(hs[0], ".")}
				} else {
					results <- answer{a, ""}
				}
			}(a)
		}
	}()
	for range ask {
		select {
		case r := <-results:
			n.resolved[r.a] = r.name
		case <-ctx.Done():
			return
		}
	}
}

// host returns the name for a, or "" to print it as a number.
func (n *names) host(a netip.Addr) string {
	return n.resolved[a]
}
