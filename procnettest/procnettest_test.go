package procnettest

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/tools/txtar"
)

func TestWrite(t *testing.T) {
	ar := txtar.Parse([]byte(`-- proc/net/tcp --
hello
-- proc/1/fd/3 -> socket:[99] --
-- proc/1/fdinfo/ --
-- proc/net/udp [noeol] --
x
-- proc/2/fd/ [mode=0000] --
-- proc/1/cmdline [unquote] --
/bin/sh\x00-c\x00echo \"hi\"\x00
`))
	dir := t.TempDir()
	if err := Write(dir, ar); err != nil {
		t.Fatal(err)
	}
	defer restoreModes(dir)
	if b, _ := os.ReadFile(filepath.Join(dir, "proc/net/tcp")); string(b) != "hello\n" {
		t.Errorf("tcp = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "proc/net/udp")); string(b) != "x" {
		t.Errorf("udp = %q, want no final newline", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "proc/1/cmdline")); string(b) != "/bin/sh\x00-c\x00echo \"hi\"\x00" {
		t.Errorf("cmdline = %q", b)
	}
	if l, err := os.Readlink(filepath.Join(dir, "proc/1/fd/3")); err != nil || l != "socket:[99]" {
		t.Errorf("link = %q, %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "proc/1/fdinfo")); err != nil || !fi.IsDir() {
		t.Errorf("fdinfo: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "proc/2/fd")); err != nil || fi.Mode().Perm() != 0 {
		t.Errorf("proc/2/fd mode: %v %v", fi.Mode(), err)
	}
}

func TestWriteRefusesEscape(t *testing.T) {
	for _, name := range []string{"../x", "/etc/passwd", "a/../../b"} {
		ar := &txtar.Archive{Files: []txtar.File{{Name: name, Data: []byte("x\n")}}}
		if err := Write(t.TempDir(), ar); err == nil {
			t.Errorf("Write(%q) = nil, want an error", name)
		}
	}
}

// TestArchiveRoundTrip: a tree written from a fixture, archived, written
// again and archived again gives the same text, whatever its bodies hold.
func TestArchiveRoundTrip(t *testing.T) {
	ar := txtar.Parse([]byte(`-- proc/net/tcp --
hello
-- proc/1/fd/3 -> socket:[99] --
-- proc/1/fdinfo/ --
-- proc/net/udp [noeol] --
x
-- proc/1/cmdline [unquote] --
/bin/sh\x00-c\x00echo \"hi\"\r\n-- x --\n\x1b[0m\x00
-- etc/hosts [unquote] --
\x2d- not a header --\n
-- proc/net/empty --
`))
	dir := t.TempDir()
	if err := Write(dir, ar); err != nil {
		t.Fatal(err)
	}
	first, err := Archive(dir)
	if err != nil {
		t.Fatal(err)
	}
	again := t.TempDir()
	if err := Write(again, txtar.Parse(txtar.Format(first))); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc/hosts")); string(b) != "-- not a header --\n" {
		t.Fatalf("etc/hosts = %q", b)
	}
	for _, name := range []string{"proc/net/tcp", "proc/net/udp", "proc/1/cmdline", "etc/hosts", "proc/net/empty"} {
		a, err1 := os.ReadFile(filepath.Join(dir, name))
		b, err2 := os.ReadFile(filepath.Join(again, name))
		if err1 != nil || err2 != nil || string(a) != string(b) {
			t.Errorf("%s: %q (%v) became %q (%v)", name, a, err1, b, err2)
		}
	}
	if l, err := os.Readlink(filepath.Join(again, "proc/1/fd/3")); err != nil || l != "socket:[99]" {
		t.Errorf("link = %q, %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(again, "proc/1/fdinfo")); err != nil || !fi.IsDir() {
		t.Errorf("empty directory fdinfo: %v", err)
	}
	second, err := Archive(again)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := txtar.Format(first), txtar.Format(second); string(a) != string(b) {
		t.Errorf("archives differ:\n%s", Diff(a, b))
	}
}

// TestArchiveRefuses names and targets the syntax cannot carry, and a FIFO.
func TestArchiveRefuses(t *testing.T) {
	for _, tc := range []struct{ name, link string }{
		{name: "proc/net/a -> b"},
		{name: "proc/net/tcp [mode=0000]"},
		{name: "proc/1/fd/3", link: "x [noeol]"},
		{name: "proc/1/fd/4", link: "a\nb"},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, tc.name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		var err error
		if tc.link != "" {
			err = os.Symlink(tc.link, p)
		} else {
			err = os.WriteFile(p, []byte("x\n"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Archive(dir); err == nil {
			t.Errorf("%q -> %q: Archive = nil error, want a refusal", tc.name, tc.link)
		}
	}
}
