package main

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// A line longer than any buffer must be skipped, not end the file: the
// names after it are still found.
func TestNamesLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	svc := parseServices(strings.NewReader("# " + long + "\n" + long + " 1/tcp\nssh 22/tcp\n"))
	if svc["22/tcp"] != "ssh" || len(svc) != 1 {
		t.Errorf("services after a 1 MiB line: %v", svc)
	}
	pw := parsePasswd(strings.NewReader("root:x:0:0:" + long + ":/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"))
	if pw[1000] != "alice" {
		t.Errorf("passwd after a 1 MiB line: %v", pw)
	}
	h := parseHosts(strings.NewReader("127.0.0.1 " + long + "\n10.0.0.1 gw # the gateway\n"))
	if h[netip.MustParseAddr("10.0.0.1")] != "gw" {
		t.Errorf("hosts after a 1 MiB line: %v", h)
	}
	// A last line without a newline counts.
	if svc := parseServices(strings.NewReader("http 80/tcp")); svc["80/tcp"] != "http" {
		t.Errorf("last line without newline: %v", svc)
	}
}

func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }

var servicesSeeds = []string{
	"ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\nhttp 80/tcp www\n",
	"# comment only\n\n   \n",
	"bad\nonly-one-field\nx 1/tcp y z\nx2 1/tcp\n",
	"a#b 7/tcp\n\x00 \xff/udp\n",
}

func FuzzParseServices(f *testing.F) {
	for _, s := range servicesSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for k, v := range parseServices(bytes.NewReader(data)) {
			if k == "" || v == "" || hasSpace(k) || hasSpace(v) || strings.Contains(k+v, "#") {
				t.Fatalf("entry %q -> %q", k, v)
			}
		}
	})
}

func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"))
	f.Add([]byte("a:b\n::4294967296:\n:x:-1:\nx:x:4294967295\nsp ace:x:7\n#c:x:1\n"))
	f.Add([]byte("u:x:01:1\nu2:x:+1:1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range parsePasswd(bytes.NewReader(data)) {
			if strings.ContainsAny(v, ":#\n") {
				t.Fatalf("name %q", v)
			}
		}
	})
}

func FuzzParseHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\nfe80::1%eth0 link\n"))
	f.Add([]byte("10.0.0.1\n300.1.1.1 x\n::ffff:1.2.3.4 mapped\n#1.1.1.1 c\n1.1.1.1#x y\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for a, v := range parseHosts(bytes.NewReader(data)) {
			if !a.IsValid() || v == "" || hasSpace(v) || strings.Contains(v, "#") {
				t.Fatalf("entry %v -> %q", a, v)
			}
		}
	})
}

// A name file that is a symlink out of the root is not read: with --root
// a hostile tree must not make us read (and print from) the host's files.
func TestNamesNoEscape(t *testing.T) {
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
	n := &names{root: root}
	if s, ok := n.service(22, "tcp"); ok {
		t.Errorf("etc/services -> outside was read: 22/tcp = %q", s)
	}
	if u, ok := n.user(0); ok {
		t.Errorf("etc/passwd -> outside was read: uid 0 = %q", u)
	}
	if _, err := openUnder(root, "etc/hosts"); err == nil {
		t.Errorf("etc/hosts -> ../outside opened")
	}
	// Inside the root, links are followed.
	os.WriteFile(filepath.Join(root, "etc/real"), []byte("ok 7/tcp\n"), 0o644)
	os.Remove(filepath.Join(root, "etc/services"))
	os.Symlink("real", filepath.Join(root, "etc/services"))
	if s, _ := (&names{root: root}).service(7, "tcp"); s != "ok" {
		t.Errorf("a link inside the root was not followed: %q", s)
	}
}
