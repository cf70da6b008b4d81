package names

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/procnet/procnet/internal/escape"
)

// A line longer than any buffer is reported and skipped, not the end of
// the file: the names after it are still found.
func TestLongLine(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	svc, err := ParseServices(strings.NewReader("# "+long+"\n"+long+" 1/tcp\nssh 22/tcp\n"), "etc/services")
	if svc[Service{22, "tcp"}] != "ssh" || len(svc) != 1 {
		t.Errorf("services after a 1 MiB line: %v", svc)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "etc/services" || pe.Line != 1 {
		t.Errorf("1 MiB line: error %v, want etc/services:1", err)
	}
	pw, _ := ParsePasswd(strings.NewReader("root:x:0:0:"+long+":/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"), "etc/passwd")
	if pw[1000] != "alice" {
		t.Errorf("passwd after a 1 MiB line: %v", pw)
	}
	h, _ := ParseHosts(strings.NewReader("127.0.0.1 "+long+"\n10.0.0.1 gw # the gateway\n"), "etc/hosts")
	if h[netip.MustParseAddr("10.0.0.1")] != "gw" {
		t.Errorf("hosts after a 1 MiB line: %v", h)
	}
	// A last line without a newline counts.
	if svc, _ := ParseServices(strings.NewReader("http 80/tcp"), "s"); svc[Service{80, "tcp"}] != "http" {
		t.Errorf("last line without newline: %v", svc)
	}
}

// Bad lines are errors naming the file, line and field; the good lines
// around them are kept.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parse func(string) (int, error)
		in    string
		want  []string // the errors, in order
		n     int      // entries kept
	}{
		{"services", func(s string) (int, error) {
			m, err := ParseServices(strings.NewReader(s), "etc/services")
			return len(m), err
		},
			"ssh 22/tcp\nbad\nx 99999/tcp\ny z/tcp\nw 7\nhttp 80/tcp\n",
			[]string{"etc/services:2: too few fields", "etc/services:3: port: value out of range", "etc/services:4: port: invalid syntax", "etc/services:5: port: invalid syntax"}, 2},
		{"passwd", func(s string) (int, error) {
			m, err := ParsePasswd(strings.NewReader(s), "etc/passwd")
			return len(m), err
		},
			"root:x:0:0::/:/bin/sh\na:b\n:x:5:\nb:x:-1:\n+::::::\n# c:x:9\nc:x:4294967296:\nd:x:7:7\n",
			[]string{"etc/passwd:2: too few fields", "etc/passwd:3: name: invalid syntax", "etc/passwd:4: uid: invalid syntax", "etc/passwd:7: uid: value out of range"}, 2},
		{"hosts", func(s string) (int, error) {
			m, err := ParseHosts(strings.NewReader(s), "etc/hosts")
			return len(m), err
		},
			"127.0.0.1 localhost\n10.0.0.1\n300.1.1.1 x\n::1 l6 # c\n",
			[]string{"etc/hosts:2: too few fields", "etc/hosts:3: address: invalid syntax"}, 2},
		{"networks", func(s string) (int, error) {
			m, err := ParseNetworks(strings.NewReader(s), "etc/networks")
			return len(m), err
		},
			"link-local 169.254.0.0\nlonely\nbig 1.2.3.4.5\nwide 256\nloop 127\n",
			[]string{"etc/networks:2: too few fields", "etc/networks:3: number: invalid syntax", "etc/networks:4: number: value out of range"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.parse(tc.in)
			if n != tc.n {
				t.Errorf("%d entries, want %d", n, tc.n)
			}
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// A file of many bad lines keeps a bounded number of errors.
func TestErrorsBounded(t *testing.T) {
	_, err := ParseServices(strings.NewReader(strings.Repeat("bad\n", 10000)), "etc/services")
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 || !strings.Contains(lines[maxErrors], "9984 more") {
		t.Errorf("%d error lines, last %q", len(lines), lines[len(lines)-1])
	}
}

// hostile holds every character the escaping rule must catch.
const hostile = "a\x1b[2Jb\x07c\x7fd\x08e\re\u202ef\u2028g\u009bh\x9bi"

// Names are returned escaped: no control character, C1 control, bidi
// override or line separator passes raw.
func TestNamesEscaped(t *testing.T) {
	// CR is a blank between fields where fields are blank-separated
	// (as for glibc), so only passwd's names can hold one.
	pw, _ := ParsePasswd(strings.NewReader(hostile+":x:0:0::/:/bin/sh\n"), "p")
	if want := escape.String(hostile); pw[0] != want {
		t.Errorf("user: %q, want %q", pw[0], want)
	}
	hostile := strings.ReplaceAll(hostile, "\r", "")
	want := escape.String(hostile)
	svc, _ := ParseServices(strings.NewReader(hostile+" 22/tcp\n"), "s")
	h, _ := ParseHosts(strings.NewReader("10.0.0.1 "+hostile+"\n"), "h")
	nw, _ := ParseNetworks(strings.NewReader(hostile+" 10\n"), "n")
	for what, got := range map[string]string{
		"service": svc[Service{22, "tcp"}],
		"host":    h[netip.MustParseAddr("10.0.0.1")], "network": nw[netip.MustParseAddr("10.0.0.0")],
	} {
		if got != want {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
}

// checkParse is what every fuzz target checks: no panic; every name
// non-empty and escaped; every error a *ParseError naming file and a line
// (or the bound's summary); and a good line after the input still read.
// split says the names come from blank-separated fields, without
// comments: they hold no blank and no '#'.
func checkParse[K comparable](t *testing.T, data []byte, parse func([]byte) (map[K]string, error), split bool, good []byte, key K, want string) {
	m, err := parse(data)
	for k, v := range m {
		if v == "" || escape.Needed(v) || split && strings.ContainsAny(v, " \t#") {
			t.Fatalf("entry %v -> %q", k, v)
		}
	}
	if err != nil {
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var pe *ParseError
			if errors.As(e, &pe) {
				if pe.File != "fuzz" || pe.Line < 1 {
					t.Fatalf("error %v", e)
				}
			} else if !strings.HasPrefix(e.Error(), "fuzz: ") {
				t.Fatalf("error %v", e)
			}
		}
	}
	// A good line after the input is read, unless the input named the
	// key first.
	m2, _ := parse(append(append(append([]byte{}, data...), '\n'), good...))
	if _, before := m[key]; !before && m2[key] != want {
		t.Fatalf("good line after the input lost: %v", m2[key])
	}
}

func FuzzParseServices(f *testing.F) {
	for _, s := range []string{
		"ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol\nhttp 80/tcp www\n",
		"# comment only\n\n   \n",
		"bad\nonly-one-field\nx 1/tcp y z\nx2 1/tcp\n",
		"a#b 7/tcp\n\x00 \xff/udp\n", "x 65536/tcp\ny /tcp\nz 1/\n", hostile + " 9/tcp\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, func(b []byte) (map[Service]string, error) { return ParseServices(bytes.NewReader(b), "fuzz") }, true,
			[]byte("fuzzgood 65001/fuzzproto\n"), Service{65001, "fuzzproto"}, "fuzzgood")
	})
}

func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"))
	f.Add([]byte("a:b\n::4294967296:\n:x:-1:\nx:x:4294967295\nsp ace:x:7\n#c:x:1\n"))
	f.Add([]byte("u:x:01:1\nu2:x:+1:1\n+::::::\n" + hostile + ":x:3:3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, func(b []byte) (map[uint32]string, error) { return ParsePasswd(bytes.NewReader(b), "fuzz") }, false,
			[]byte("fuzzgood:x:4294967295:0::/:/bin/sh\n"), uint32(4294967295), "fuzzgood")
	})
}

func FuzzParseHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\nfe80::1%eth0 link\n"))
	f.Add([]byte("10.0.0.1\n300.1.1.1 x\n::ffff:1.2.3.4 mapped\n#1.1.1.1 c\n1.1.1.1#x y\n"))
	f.Add([]byte("10.9.9.9 " + hostile + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, func(b []byte) (map[netip.Addr]string, error) { return ParseHosts(bytes.NewReader(b), "fuzz") }, true,
			[]byte("fd00::f0 fuzzgood\n"), netip.MustParseAddr("fd00::f0"), "fuzzgood")
	})
}

func FuzzParseNetworks(f *testing.F) {
	f.Add([]byte("default 0.0.0.0\nloopback 127.0.0.0\nlink-local 169.254.0.0\n"))
	f.Add([]byte("short 10\nbad 1.2.3.4.5\nneg -1\nhex 0x10\n# c 1\n\n" + hostile + " 11\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, func(b []byte) (map[netip.Addr]string, error) { return ParseNetworks(bytes.NewReader(b), "fuzz") }, true,
			[]byte("fuzzgood 254.253.252.251\n"), netip.MustParseAddr("254.253.252.251"), "fuzzgood")
	})
}
