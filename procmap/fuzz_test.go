package procmap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsers(t *testing.T) {
	links := []struct {
		in   string
		ino  uint64
		want bool
	}{
		{"socket:[12345]", 12345, true},
		{"socket:[18446744073709551615]", 1<<64 - 1, true},
		{"socket:[18446744073709551616]", 0, false},
		{"socket:[]", 0, false},
		{"socket:[12a]", 0, false},
		{"socket:[12", 0, false},
		{"pipe:[5]", 0, false},
		{"anon_inode:[eventfd]", 0, false},
		{"/dev/null", 0, false},
		{"/home/u/socket:[1]", 0, false},
	}
	for _, tt := range links {
		ino, ok := parseSocketLink([]byte(tt.in))
		if ino != tt.ino || ok != tt.want {
			t.Errorf("parseSocketLink(%q) = %d, %v; want %d, %v", tt.in, ino, ok, tt.ino, tt.want)
		}
	}
	if ns, ok := parseNetNS([]byte("net:[4026531840]")); !ok || ns != 4026531840 {
		t.Errorf("parseNetNS = %d, %v", ns, ok)
	}
	stats := []struct {
		in    string
		comm  string
		start uint64
		ok    bool
	}{
		{"1 (systemd) S 0 1 1 0 -1 4194560 1 0 0 0 1 2 0 0 20 0 1 0 3 230 30\n", "systemd", 3, true},
		{"9 (a) b) (c ) R 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0\n", "a) b) (c ", 77, true},
		{"9 (x y) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n", "", 0, false}, // cut short
		{"9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0\n", "", 0, false},
		{"9 x) S", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range stats {
		comm, start, ok := parseStat([]byte(tt.in))
		if ok != tt.ok || (ok && (string(comm) != tt.comm || start != tt.start)) {
			t.Errorf("parseStat(%q) = %q, %d, %v; want %q, %d, %v", tt.in, comm, start, ok, tt.comm, tt.start, tt.ok)
		}
	}
	if uid, ok := parseStatusUID([]byte("Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\n")); !ok || uid != 1000 {
		t.Errorf("parseStatusUID = %d, %v", uid, ok)
	}
	if _, ok := parseStatusUID([]byte("Name:\tx\n")); ok {
		t.Errorf("parseStatusUID without Uid: ok")
	}
	cmdlines := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"/bin/sh\x00-c\x00echo hi\x00", []string{"/bin/sh", "-c", "echo hi"}},
		{"nginx: worker process", []string{"nginx: worker process"}},
		{"a\x00\x00b\x00", []string{"a", "", "b"}},
	}
	for _, tt := range cmdlines {
		if diff := cmp.Diff(tt.want, splitCmdline([]byte(tt.in))); diff != "" {
			t.Errorf("splitCmdline(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, tt := range []struct {
		in string
		ok bool
	}{{"1", true}, {"4194304", true}, {"0", false}, {"01", false}, {"self", false}, {"99999999999", false}} {
		if _, ok := parsePID([]byte(tt.in)); ok != tt.ok {
			t.Errorf("parsePID(%q) ok = %v", tt.in, ok)
		}
	}
}

func FuzzParseSocketLink(f *testing.F) {
	for _, s := range []string{"socket:[1]", "socket:[]", "pipe:[5]", "socket:[99999999999999999999]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		parseSocketLink(b)
		parseNetNS(b)
		parsePID(b)
	})
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (systemd) S 0 1 1 0 -1 4194560 1 0 0 0 1 2 0 0 20 0 1 0 3 230 30\n"))
	f.Add([]byte("9 (a) b) (c ) R 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0\n"))
	f.Add([]byte(")("))
	f.Fuzz(func(t *testing.T, b []byte) {
		comm, _, ok := parseStat(b)
		if ok && len(comm) > len(b) {
			t.Fatal("comm longer than input")
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Name:\tx\nUid:\t0\t0\t0\t0\n"))
	f.Add([]byte("Uid:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseStatusUID(b)
		splitCmdline(b)
	})
}

func FuzzParseDirents(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 4, '1', '2', 0, 0, 0})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 4, '1'})
	f.Fuzz(func(t *testing.T, b []byte) {
		for off := 0; ; {
			name, next, ok := dirent(b, off)
			if !ok {
				break
			}
			if next <= off || name[len(name)-1] != 0 {
				t.Fatalf("dirent at %d: next %d name %q", off, next, name)
			}
			off = next
		}
	})
}
