package main

import (
	"bufio"
	"context"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/procnet/procnet/internal/procfile"
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

// openUnder opens the file rel under root without leaving it: links
// resolve as if root were "/" (see procfile.Open).
func openUnder(root, rel string) (*os.File, error) {
	return procfile.Open(root, rel)
}

// readLines calls fn for each line of the file root/rel, without comments.
// A file that cannot be opened gives no lines: names are a nicety.
func readLines(root, rel string, fn func(fields []string)) {
	f, err := openUnder(root, rel)
	if err != nil {
		return
	}
	defer f.Close()
	scanLines(f, fn)
}

// maxNameLine bounds one line of an etc/ file. A longer line is skipped
// and reading goes on after it (bufio.Scanner would stop at the first one,
// hiding every name after it).
const maxNameLine = 64 << 10

// scanLines calls fn with the fields of each line of r, less comments
// ('#' to the end of the line); blank lines are skipped.
func scanLines(r io.Reader, fn func(fields []string)) {
	br := bufio.NewReaderSize(r, 4096)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// Gather the line up to the bound, then skip the rest.
			if len(long)+len(line) <= maxNameLine {
				long = append(long, line...)
			} else {
				long = nil
				for err == bufio.ErrBufferFull {
					_, err = br.ReadSlice('\n')
				}
				if err != nil {
					return
				}
				continue
			}
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if len(line) > maxNameLine {
			line = nil
		}
		if len(line) > 0 {
			s := string(line)
			if i := strings.IndexByte(s, '#'); i >= 0 {
				s = s[:i]
			}
			if fs := strings.Fields(s); len(fs) > 0 {
				fn(fs)
			}
		}
		if err != nil {
			return
		}
	}
}

// parseServices reads etc/services: "name port/proto [aliases]". The
// first entry for a port/proto wins, as with getservbyport.
func parseServices(r io.Reader) map[string]string {
	m := map[string]string{}
	scanLines(r, func(fs []string) {
		if len(fs) >= 2 {
			if _, ok := m[fs[1]]; !ok {
				m[fs[1]] = fs[0]
			}
		}
	})
	return m
}

// parsePasswd reads etc/passwd: "name:pw:uid:…". The first name for a UID
// wins.
func parsePasswd(r io.Reader) map[uint32]string {
	m := map[uint32]string{}
	scanLines(r, func(fs []string) {
		parts := strings.Split(strings.Join(fs, " "), ":")
		if len(parts) < 3 {
			return
		}
		if id, err := strconv.ParseUint(parts[2], 10, 32); err == nil {
			if _, ok := m[uint32(id)]; !ok {
				m[uint32(id)] = parts[0]
			}
		}
	})
	return m
}

// parseHosts reads etc/hosts: "address name [aliases]". The first name
// for an address wins.
func parseHosts(r io.Reader) map[netip.Addr]string {
	m := map[netip.Addr]string{}
	scanLines(r, func(fs []string) {
		if len(fs) < 2 {
			return
		}
		if a, err := netip.ParseAddr(fs[0]); err == nil {
			if _, ok := m[a]; !ok {
				m[a] = fs[1]
			}
		}
	})
	return m
}

// parseFile parses the file root/rel with parse; a file that cannot be
// opened gives parse's result for an empty file.
func parseFile[M any](root, rel string, parse func(io.Reader) M) M {
	f, err := openUnder(root, rel)
	if err != nil {
		return parse(strings.NewReader(""))
	}
	defer f.Close()
	return parse(f)
}

// service returns the name of port for proto ("tcp" or "udp") from
// etc/services, as getservbyport does: the first entry wins.
func (n *names) service(port uint16, proto string) (string, bool) {
	n.servicesOnce.Do(func() { n.services = parseFile(n.root, "etc/services", parseServices) })
	s, ok := n.services[strconv.Itoa(int(port))+"/"+proto]
	return s, ok
}

// user returns the name of uid from etc/passwd.
func (n *names) user(uid uint32) (string, bool) {
	n.usersOnce.Do(func() { n.users = parseFile(n.root, "etc/passwd", parsePasswd) })
	s, ok := n.users[uid]
	return s, ok
}

// hostFile returns the first name etc/hosts gives addr.
func (n *names) hostFile(a netip.Addr) (string, bool) {
	n.hostsOnce.Do(func() { n.hosts = parseFile(n.root, "etc/hosts", parseHosts) })
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
