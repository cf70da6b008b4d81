package names

// resolver.go: the Resolver, which reads the files under a root once and
// resolves hosts in bounded, concurrent batches.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/internal/procfile"
)

// DNS looks up the names of an address (reverse DNS). *net.Resolver is
// one; tests inject a fake so that no query ever leaves the machine.
type DNS interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// DefaultTimeout bounds one Resolve when Resolver.Timeout is zero.
const DefaultTimeout = time.Second

// DefaultMaxInFlight bounds the queries of one Resolve in flight at once
// when Resolver.MaxInFlight is zero.
const DefaultMaxInFlight = 32

// Resolver names users, services, networks and hosts from the etc/ files
// under Root and, for hosts, from DNS. The zero value reads the live
// system's files and never asks DNS.
type Resolver struct {
	Root        string        // "" or "/": the live system
	DNS         DNS           // nil: etc/hosts only
	Timeout     time.Duration // bound on one Resolve; 0: DefaultTimeout
	MaxInFlight int           // queries of one Resolve at once; 0: DefaultMaxInFlight

	servicesOnce, usersOnce, hostsOnce, networksOnce sync.Once

	services map[Service]string
	users    map[uint32]string
	hosts    map[netip.Addr]string
	networks map[netip.Addr]string

	mu       sync.RWMutex
	errs     []error
	resolved map[netip.Addr]string // Resolve's answers; "" for none
}

// MaxFileSize bounds what is read of one file: a hostile root's 10 GiB
// etc/hosts costs no more than this (the rest is ignored, and Err says
// so).
const MaxFileSize = 32 << 20

// load parses the file rel under the root into *m, once.
func load[K comparable](r *Resolver, once *sync.Once, m *map[K]string, rel string,
	parse func(io.Reader, string) (map[K]string, error)) map[K]string {
	once.Do(func() {
		f, err := procfile.Open(r.Root, rel)
		if err != nil {
			*m = map[K]string{}
			return
		}
		defer f.Close()
		var errs []error
		if st, err := f.Stat(); err == nil && st.Size() > MaxFileSize {
			errs = append(errs, fmt.Errorf("%s: larger than %d MiB: the rest is not read", rel, MaxFileSize>>20))
		}
		var perr error
		*m, perr = parse(io.LimitReader(f, MaxFileSize), rel)
		if perr != nil {
			errs = append([]error{perr}, errs...)
		}
		if errs != nil {
			r.mu.Lock()
			r.errs = append(r.errs, errs...)
			r.mu.Unlock()
		}
	})
	return *m
}

// Err returns the lines of the files read so far that could not be read
// (*ParseError, joined), or nil. A file that could not be opened is not
// an error: it names nothing.
func (r *Resolver) Err() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return errors.Join(r.errs...)
}

// Service returns the name etc/services gives port under proto ("tcp",
// "udp", …), as getservbyport does.
func (r *Resolver) Service(port uint16, proto string) (string, bool) {
	s, ok := load(r, &r.servicesOnce, &r.services, "etc/services", ParseServices)[Service{port, proto}]
	return s, ok
}

// User returns the name etc/passwd gives uid.
func (r *Resolver) User(uid uint32) (string, bool) {
	s, ok := load(r, &r.usersOnce, &r.users, "etc/passwd", ParsePasswd)[uid]
	return s, ok
}

// Network returns the name etc/networks gives the IPv4 network number a,
// as getnetbyaddr does.
func (r *Resolver) Network(a netip.Addr) (string, bool) {
	s, ok := load(r, &r.networksOnce, &r.networks, "etc/networks", ParseNetworks)[a]
	return s, ok
}

// HostFile returns the first name etc/hosts gives a.
func (r *Resolver) HostFile(a netip.Addr) (string, bool) {
	s, ok := load(r, &r.hostsOnce, &r.hosts, "etc/hosts", ParseHosts)[a]
	return s, ok
}

// Host returns the name Resolve found for a, or "" when it found none (or
// a was not in a batch): print the number then.
func (r *Resolver) Host(a netip.Addr) string {
	r.mu.RLock()
	s := r.resolved[a]
	r.mu.RUnlock()
	return s
}

// Resolve names addrs for Host: each from etc/hosts, else by DNS, the
// queries concurrent (at most MaxInFlight at once) and the whole batch
// bounded by Timeout and ctx. Whatever is not answered in time stays
// unnamed, and the queries still running are abandoned (their answers are
// dropped). Addresses named by an earlier batch, and unspecified ones,
// are not asked again.
func (r *Resolver) Resolve(ctx context.Context, addrs []netip.Addr) {
	var ask []netip.Addr
	r.mu.Lock()
	if r.resolved == nil {
		r.resolved = map[netip.Addr]string{}
	}
	var fromFile []netip.Addr
	for _, a := range addrs {
		if _, done := r.resolved[a]; done || a.IsUnspecified() || !a.IsValid() {
			continue
		}
		r.resolved[a] = "" // unnamed unless an answer comes in time
		fromFile = append(fromFile, a)
	}
	r.mu.Unlock()
	for _, a := range fromFile {
		if h, ok := r.HostFile(a); ok {
			r.set(a, h)
			continue
		}
		ask = append(ask, a)
	}
	if r.DNS == nil || len(ask) == 0 {
		return
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	inFlight := r.MaxInFlight
	if inFlight <= 0 {
		inFlight = DefaultMaxInFlight
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		a    netip.Addr
		name string
	}
	results := make(chan answer, len(ask)) // never blocks a sender
	sem := make(chan struct{}, inFlight)
	go func() {
		for _, a := range ask {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(a netip.Addr) {
				defer func() { <-sem }()
				var name string
				if hs, err := r.DNS.LookupAddr(ctx, a.String()); err == nil && len(hs) > 0 {
					name = escape.String(strings.TrimSuffix(hs[0], "."))
				}
				results <- answer{a, name}
			}(a)
		}
	}()
	for range ask {
		select {
		case ans := <-results:
			if ans.name != "" {
				r.set(ans.a, ans.name)
			}
		case <-ctx.Done():
			return
		}
	}
}

func (r *Resolver) set(a netip.Addr, name string) {
	r.mu.Lock()
	r.resolved[a] = name
	r.mu.Unlock()
}
