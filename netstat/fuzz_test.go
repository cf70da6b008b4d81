package netstat

import (
	"github.com/procnet/procnet/internal/procfile"
	"strings"
	"testing"
)

var inetSeeds = []string{
	"   0: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   991        0 18345 1 0000000000000000 100 0 0 10 5",
	"   3: 0F02000A:9C40 5DB8D8A2:01BB 06 00000000:00000000 03:00001734 00000000     0        0 0 3 0000000000000000",
	"  283: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   991        0 18344 2 0000000000000000 0",
	"   2: 000080FE000000000000000001000000:0016 000080FE0000000000000000FE000000:E3D2 01 00000000:00000000 02:00057E40 00000000     0        0 31400 1 0000000000000000 20 4 28 10 -1",
	"   1: 0000000000000000FFFF00000100007F:1F91 0000000000000000FFFF00000100007F:B000 01 00000000:00000000 00:00000000 00000000  1000        0 50004",
	"   1: 0100007G:1F91 00000000:0000 0A 00000000:00000000",
	"   4: 0100007F:1F90 0100007F:D2F0 08 00000001:00000000 00:00000000 00000000  1000        0 4000",
	"   4: 0100007F:1F90 0100007F:D2F0 08 00000001:00000000 00:00000000 00000000  1000        0 40001 1",
	"  300: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 19000 2 0000000000000000 3",
	"  300: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 19000 2 0000000000000000 3 ",
	"",
}

// FuzzParseInet feeds single rows to the Internet-table row parser. It must
// never panic, a row it accepts must decode to a consistent Socket, and it
// must accept no row that lacks the columns every layout prints after the
// inode (ref, pointer; drops where the header names it).
func FuzzParseInet(f *testing.F) {
	for _, s := range inetSeeds {
		for _, v6 := range []bool{false, true} {
			f.Add(s, v6, false, false)
			f.Add(s, v6, true, true)
		}
	}
	f.Fuzz(func(t *testing.T, line string, v6, drops, partial bool) {
		p := TCP
		if v6 {
			p = UDP6
		}
		end := rowEnd{drops: drops, cut: partial && line != "" && line[len(line)-1] != ' ' && line[len(line)-1] != '\t'}
		var s Socket
		ok, ferr := parseInet(&s, p, procfile.Fields(nil, []byte(line), p.columns()), &Filter{}, end)
		if ferr != nil {
			if ok {
				t.Fatal("both a row and an error")
			}
			return
		}
		if !ok {
			t.Fatal("no row and no error with an empty filter")
		}
		if s.Local.Addr().Is6() != v6 || s.Remote.Addr().Is6() != v6 || s.Proto != p {
			t.Fatalf("row %+v does not match its table", s)
		}
		all := procfile.Fields(nil, []byte(line), 100)
		if len(all) <= colPointer {
			t.Fatalf("accepted a row without ref and pointer: %q", all)
		}
		if !p.IsTCP() && (drops && len(all) <= colDropsUDP || end.cut && len(all) == colDropsUDP+1) {
			t.Fatalf("accepted a udp row whose drops is missing or cut: %q", all)
		}
	})
}

// FuzzParseUnix feeds single rows to the unix row parser.
func FuzzParseUnix(f *testing.F) {
	for _, s := range []string{
		"0000000000000000: 00000002 00000000 00010000 0001 01 15872 /run/systemd/private",
		"0000000000000000: 00000003 00000000 00000000 0001 03  1080",
		"0000000000000000: 00000002 00000000 00010000 0001 01 16001 /tmp/my socket dir/s p",
		"0000000000000000: 00000002 00000000 00010000 0001",
		"ffff88003a8c7380: 00000002 00000000 00000000 0002 01  3045 @/org/kernel/udev/udevd",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		u, path, ferr := parseUnix([]byte(line), nil)
		if ferr != nil {
			return
		}
		if !strings.HasSuffix(line, string(path)) {
			t.Fatalf("path %q is not the end of the line", path)
		}
		_ = u.Type.String() + u.State.String()
	})
}

// FuzzSplitRow checks the fixed-offset splitter against the general
// tokenizer: both must give the same columns for every line.
func FuzzSplitRow(f *testing.F) {
	for _, s := range inetSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, line string, v6 bool) {
		for _, n := range []int{minCols, colDropsUDP + 1, TCP.columns(), UDP.columns()} {
			got := splitRow(nil, []byte(line), n, v6)
			want := procfile.Fields(nil, []byte(line), n)
			if len(got) != len(want) {
				t.Fatalf("n=%d: %q vs %q", n, got, want)
			}
			for i := range got {
				if string(got[i]) != string(want[i]) {
					t.Fatalf("n=%d column %d: %q vs %q", n, i, got[i], want[i])
				}
			}
		}
	})
}

// FuzzParseFixed holds the fast path to the column parser: for any row,
// table and filter, a row parseFixed handles must be one parseInet reads
// without error, to the same decision and the same Socket.
func FuzzParseFixed(f *testing.F) {
	for _, s := range inetSeeds {
		for pi := range 4 {
			f.Add(s, uint8(pi), uint8(0), false, false)
			f.Add(s, uint8(pi), uint8(3), true, true)
		}
	}
	f.Add("   0: 0100007F:1F90 0200007F:07D1 0A 00000000:00000000 00:00000000 00000000  1000        0 100000 1 0000000000000000 20 4 30 10 -1                    ", uint8(0), uint8(1), false, false)
	f.Add("  310: 0100007F:A000 0100007F:0035 01 00000000:00000340 00:00000000 00000000  1000        0 70203 2 0000000000000000 1", uint8(2), uint8(2), true, true)
	f.Add("  310: 0100007f:a000 0100007F:0035 01 0000000a:00000340 00:0000000F 00000000  1000        0 70203 2 0000000000000000 17 ", uint8(2), uint8(0), true, true)
	protos := []Proto{TCP, TCP6, UDP, UDP6}
	filters := []Filter{
		{},
		{States: States(Listen)},
		{LocalPorts: []uint16{0x1F90, 0x35}},
		{Inodes: map[uint64]bool{18345: true, 70203: true}},
	}
	f.Fuzz(func(t *testing.T, line string, pi, fi uint8, drops, partial bool) {
		p := protos[int(pi)%len(protos)]
		flt := &filters[int(fi)%len(filters)]
		end := rowEnd{drops: drops, cut: partial && line != "" && line[len(line)-1] != ' ' && line[len(line)-1] != '\t'}
		var fast, slow Socket
		ok, handled := parseFixed(&fast, p, []byte(line), flt, end)
		if !handled {
			return
		}
		fs := procfile.Fields(nil, []byte(line), p.columns())
		if len(fs) == 0 {
			t.Fatal("handled a line of blanks")
		}
		sok, ferr := parseInet(&slow, p, fs, flt, end)
		if ferr != nil {
			t.Fatalf("handled a row parseInet rejects: %s: %v", ferr.field, ferr.err)
		}
		if ok != sok {
			t.Fatalf("passes the filter: fast %v, parseInet %v", ok, sok)
		}
		if ok && fast != slow {
			t.Fatalf("fast %+v\nparseInet %+v", fast, slow)
		}
	})
}
