package iface

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/procnet/procnet/internal/procfile"
)

// FuzzParseDev feeds arbitrary bytes to the /proc/net/dev parser: it must
// not panic, and every interface it returns must have a name.
func FuzzParseDev(f *testing.F) {
	const hdr = "Inter-|   Receive\n face |bytes\n"
	f.Add([]byte(hdr + "    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0\n"))
	f.Add([]byte(hdr + "  eth0:158526390  912000    1    2    3     4          5         6    97735     808    7    8    9    10      11         12\n"))
	f.Add([]byte(hdr + "eth0:1:5 1 0 0 0 0 0 0 6 1 0 0 0 0 0 0\nteam0:1: 7 1 0 0 0 0 0 0 8 1 0 0 0 0 0 0"))
	f.Add([]byte(hdr + "     :    1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n::::\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Reader
		ifs, _ := r.parse(nil, "proc/net/dev", bytes.NewReader(data))
		for _, ifc := range ifs {
			if ifc.Name == "" {
				t.Fatalf("interface without a name: %+v", ifc)
			}
		}
	})
}

func FuzzParseFibTrie(f *testing.F) {
	for _, s := range []string{
		"Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n",
		"Local:\n     |-- 127.0.0.1\n        /32 host LOCAL\n        /32 host LOCAL tos=4\n",
		"     |-- 1.2.3.4\n        /\n", "/32\n", "|-- ::1\n /8 a b\n", "Id 100:\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := parseFibTrie(bytes.NewReader(b), "proc/net/fib_trie")
		for _, e := range es {
			if !e.addr.Is4() || e.bits < 0 || e.bits > 32 {
				t.Fatalf("entry %+v", e)
			}
		}
		checkErrors(t, err, "proc/net/fib_trie")
	})
}

func FuzzParseIfInet6(f *testing.F) {
	for _, s := range []string{
		"00000000000000000000000000000001 01 80 10 80       lo\n",
		"fe8000000000000050540000fe123456 02 40 20 80     eth0\n20010db8000000000000000000000007 02 40 00 80 eth0\n",
		"0000 01 80 10 80 lo\n", "\n\n", "00000000000000000000000000000001 01 80 10 80\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := parseIfInet6(bytes.NewReader(b), "proc/net/if_inet6")
		for _, a := range as {
			if !a.Prefix.Addr().Is6() || !a.Prefix.IsValid() || a.Iface == "" {
				t.Fatalf("row %+v", a)
			}
		}
		checkErrors(t, err, "proc/net/if_inet6")
	})
}

// FuzzParseHWAddr: a sysfs address parses back to what it printed.
func FuzzParseHWAddr(f *testing.F) {
	for _, s := range []string{"02:00:00:00:00:01", "", "00:00", "zz:00", "0:1", "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:b1:c2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, ok := parseHWAddr(b)
		if ok && len(b) > 0 && !strings.EqualFold(a.String(), string(b)) {
			t.Fatalf("%q parsed as %v", b, a)
		}
	})
}

// FuzzRtnetlink feeds arbitrary datagrams to the rtnetlink decoders: no
// panic, every link named, every address a valid prefix, every error a
// NetlinkError.
func FuzzRtnetlink(f *testing.F) {
	for _, name := range []string{"link", "addr"} {
		for _, d := range readHexDump(f, "testdata/rtnl/"+name+".hex") {
			f.Add(d)
		}
	}
	f.Add([]byte{})
	f.Add(make([]byte, 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		links, err := decodeLinkDump([][]byte{b}, 0)
		for _, l := range links {
			if l.Name == "" {
				t.Fatalf("link without a name: %+v", l)
			}
		}
		checkNetlink(t, err)
		addrs, err := decodeAddrDump([][]byte{b}, 0, links)
		for _, a := range addrs {
			if !a.Prefix.IsValid() {
				t.Fatalf("address %+v", a)
			}
		}
		checkNetlink(t, err)
	})
}

// checkErrors: every error of a parser names its file and a line.
func checkErrors(t *testing.T, err error, file string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *ParseError
		if !errors.As(e, &pe) || pe.File != file || pe.Line < 1 {
			if !errors.Is(e, procfile.ErrLineTooLong) {
				t.Fatalf("error %v does not name %s and a line", e, file)
			}
		}
	}
}

func checkNetlink(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ne *NetlinkError
		if !errors.As(e, &ne) {
			t.Fatalf("error %v is not a NetlinkError", e)
		}
	}
}
