package names

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDNS answers from a table, never touching the network; it counts
// the queries in flight at once.
type fakeDNS struct {
	names         map[string]string
	delay         time.Duration
	mu            sync.Mutex
	asked         []string
	inFlight, max atomic.Int32
}

func (d *fakeDNS) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	d.mu.Lock()
	d.asked = append(d.asked, addr)
	d.mu.Unlock()
	n := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for {
		m := d.max.Load()
		if n <= m || d.max.CompareAndSwap(m, n) {
			break
		}
	}
	if d.delay > 0 {
		select {
		case <-time.After(d.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n, ok := d.names[addr]; ok {
		return []string{n}, nil
	}
	return nil, errors.New("no such host")
}

func writeRoot(t *testing.T, files map[string]string) string {
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolverFiles(t *testing.T) {
	root := writeRoot(t, map[string]string{
		"etc/services": "ssh 22/tcp\ndomain 53/udp\nbad\n",
		"etc/passwd":   "root:x:0:0::/:/bin/sh\n",
		"etc/hosts":    "10.0.0.1 gw\n",
		"etc/networks": "loopnet 127\n",
	})
	r := &Resolver{Root: root}
	if s, ok := r.Service(22, "tcp"); s != "ssh" || !ok {
		t.Errorf("22/tcp = %q", s)
	}
	if _, ok := r.Service(22, "udp"); ok {
		t.Errorf("22/udp named")
	}
	if s, _ := r.User(0); s != "root" {
		t.Errorf("uid 0 = %q", s)
	}
	if s, _ := r.HostFile(netip.MustParseAddr("10.0.0.1")); s != "gw" {
		t.Errorf("10.0.0.1 = %q", s)
	}
	if s, _ := r.Network(netip.MustParseAddr("127.0.0.0")); s != "loopnet" {
		t.Errorf("127.0.0.0 = %q", s)
	}
	if err := r.Err(); err == nil || err.Error() != "etc/services:3: too few fields" {
		t.Errorf("Err() = %v", err)
	}
	// Missing files name nothing and are no error.
	empty := &Resolver{Root: t.TempDir()}
	if _, ok := empty.User(0); ok || empty.Err() != nil {
		t.Errorf("empty root: %v", empty.Err())
	}
}

// A name file that is a symlink out of the root is not read: a hostile
// tree must not make us read (and print from) the host's files.
func TestResolverNoEscape(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "services"), []byte("leak 22/tcp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(root, "etc"), 0o755)
	for name, target := range map[string]string{
		"etc/services": filepath.Join(outside, "services"),               // absolute
		"etc/hosts":    "../../" + filepath.Base(outside) + "/services",  // relative, climbing out
		"etc/passwd":   "../" + strings.Repeat("../", 20) + "etc/passwd", // past /
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	r := &Resolver{Root: root}
	if s, ok := r.Service(22, "tcp"); ok {
		t.Errorf("etc/services -> outside was read: 22/tcp = %q", s)
	}
	if u, ok := r.User(0); ok {
		t.Errorf("etc/passwd -> outside was read: uid 0 = %q", u)
	}
	if len(r.hosts) != 0 {
		t.Errorf("etc/hosts -> ../outside read: %v", r.hosts)
	}
	// Inside the root, links are followed.
	os.WriteFile(filepath.Join(root, "etc/real"), []byte("ok 7/tcp\n"), 0o644)
	os.Remove(filepath.Join(root, "etc/services"))
	os.Symlink("real", filepath.Join(root, "etc/services"))
	if s, _ := (&Resolver{Root: root}).Service(7, "tcp"); s != "ok" {
		t.Errorf("a link inside the root was not followed: %q", s)
	}
}

// Resolve: etc/hosts first, then DNS; names escaped; unspecified
// addresses and repeats never asked.
func TestResolve(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/hosts": "10.0.0.1 gw\n"})
	dns := &fakeDNS{names: map[string]string{"10.0.0.2": "two.example.", "10.0.0.3": "evil\x1b[2J\u202e.example."}}
	r := &Resolver{Root: root, DNS: dns}
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	addrs := []netip.Addr{a("10.0.0.1"), a("10.0.0.2"), a("10.0.0.3"), a("10.0.0.4"), a("0.0.0.0"), a("::"), a("10.0.0.2")}
	r.Resolve(context.Background(), addrs)
	r.Resolve(context.Background(), addrs)
	for addr, want := range map[string]string{"10.0.0.1": "gw", "10.0.0.2": "two.example", "10.0.0.3": `evil\x1b[2J\u202e.example`, "10.0.0.4": ""} {
		if got := r.Host(a(addr)); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	if len(dns.asked) != 3 {
		t.Errorf("asked %v, want 10.0.0.2, .3, .4 once each", dns.asked)
	}
}

// A DNS that never answers holds a batch for Timeout, not longer; at most
// MaxInFlight queries run at once.
func TestResolveBounded(t *testing.T) {
	dns := &fakeDNS{delay: time.Hour}
	r := &Resolver{Root: t.TempDir(), DNS: dns, Timeout: 100 * time.Millisecond, MaxInFlight: 4}
	var addrs []netip.Addr
	for i := range 50 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}))
	}
	start := time.Now()
	r.Resolve(context.Background(), addrs)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Resolve took %v with a 100ms timeout", el)
	}
	if m := dns.max.Load(); m < 1 || m > 4 {
		t.Errorf("%d queries at once, want 1..4", m)
	}
	if r.Host(addrs[0]) != "" {
		t.Errorf("an unanswered address was named")
	}
	// The context bounds it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := &Resolver{Root: t.TempDir(), DNS: dns, Timeout: time.Hour}
	start = time.Now()
	r2.Resolve(ctx, addrs)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("a cancelled Resolve took %v", el)
	}
}

// A huge file is read up to MaxFileSize, and Err says so.
func TestResolverBoundedFile(t *testing.T) {
	root := writeRoot(t, map[string]string{"etc/services": "ssh 22/tcp\n"})
	if err := os.Truncate(filepath.Join(root, "etc/services"), 4*MaxFileSize); err != nil { // sparse
		t.Fatal(err)
	}
	r := &Resolver{Root: root}
	if s, _ := r.Service(22, "tcp"); s != "ssh" {
		t.Errorf("22/tcp = %q", s)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "etc/services: larger than 32 MiB") {
		t.Errorf("Err() = %v", err)
	}
}
