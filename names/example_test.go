package names_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/procnet/procnet/names"
)

// Name a port, a user and a host from the etc/ files of a tree (a
// fixture, a container's root; Root "" reads the live system's).
func ExampleResolver() {
	root, _ := os.MkdirTemp("", "names-example")
	defer os.RemoveAll(root)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/services"), []byte("ssh 22/tcp\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("alice:x:1000:1000::/home/alice:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("10.0.0.1 gw.example gw\n"), 0o644)

	r := &names.Resolver{Root: root} // no DNS: etc/hosts only
	svc, _ := r.Service(22, "tcp")
	user, _ := r.User(1000)
	gw := netip.MustParseAddr("10.0.0.1")
	r.Resolve(context.Background(), []netip.Addr{gw})
	fmt.Println(svc, user, r.Host(gw))
	// Output: ssh alice gw.example
}

// offline answers reverse lookups from a table: what a test injects
// instead of net.DefaultResolver.
type offline map[string]string

func (o offline) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if n, ok := o[addr]; ok {
		return []string{n}, nil
	}
	return nil, errors.New("not found")
}

// Resolve a batch of addresses by DNS, at most 8 queries at once and half
// a second for the whole batch; a name the DNS gives is escaped.
func ExampleResolver_Resolve() {
	r := &names.Resolver{
		Root:        os.TempDir(), // a tree without etc/hosts
		DNS:         offline{"192.0.2.1": "www.example.", "192.0.2.2": "evil\x1b[2J.example."},
		Timeout:     500 * time.Millisecond,
		MaxInFlight: 8,
	}
	a1, a2, a3 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	r.Resolve(context.Background(), []netip.Addr{a1, a2, a3})
	fmt.Printf("%s %s %q\n", r.Host(a1), r.Host(a2), r.Host(a3))
	// Output: www.example evil\x1b[2J.example ""
}

// Parse one file; a bad line is an error naming file and line, and the
// good lines around it are kept.
func ExampleParseServices() {
	m, err := names.ParseServices(strings.NewReader("ssh 22/tcp\nhttp eighty/tcp\nhttps 443/tcp\n"), "etc/services")
	fmt.Println(m[names.Service{Port: 443, Proto: "tcp"}], len(m))
	fmt.Println(err)
	// Output:
	// https 2
	// etc/services:2: port: invalid syntax
}
