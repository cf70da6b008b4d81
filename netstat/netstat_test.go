package netstat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/internal/procfile"
	fixture "github.com/procnet/procnet/procnettest"
)

// dump renders everything a Reader yields, one line per row or error, for
// golden files.
func dump(r *Reader, f Filter) []byte {
	var b bytes.Buffer
	for s, err := range r.Sockets(context.Background(), f) {
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "%-8s %-45s %-45s %-12s tx=%d rx=%d timer=%s/%d retr=%d timeout=%d uid=%d inode=%d drops=%d\n",
			s.Proto, s.Local, s.Remote, s.State, s.TxQueue, s.RxQueue, s.Timer, s.TimerTicks,
			s.Retransmits, s.Timeout, s.UID, s.Inode, s.Drops)
	}
	for u, err := range r.UnixSockets(context.Background()) {
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "unix ref=%d proto=%d flags=%#x listening=%v %s %s inode=%d path=%q\n",
			u.RefCount, u.Protocol, uint32(u.Flags), u.Listening(), u.Type, u.State, u.Inode, u.Path)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"modern", "old", "dualstack", "malformed", "cut"} {
		t.Run(name, func(t *testing.T) {
			root := fixture.Root(t, "testdata/"+name+".txtar")
			fixture.Golden(t, "testdata/"+name+".golden", dump(&Reader{Root: root}, Filter{}))
		})
	}
}

// TestBigEndian reads the same sockets printed by a big-endian host and a
// little-endian one and expects the same values.
func TestBigEndian(t *testing.T) {
	le, err := List(context.Background(), fixture.Root(t, "testdata/dualstack.txtar"), Filter{Protos: Protos(TCP, TCP6)})
	if err != nil {
		t.Fatal(err)
	}
	defer func(v bool) { littleEndian = v }(littleEndian)
	littleEndian = false
	be, err := List(context.Background(), fixture.Root(t, "testdata/bigendian.txtar"), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(le, be, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("big-endian decoding differs (-little +big):\n%s", diff)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

var cmpAddr = cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })

func TestDecode(t *testing.T) {
	root := fixture.Root(t, "testdata/modern.txtar")
	got, err := List(context.Background(), root, Filter{Protos: Protos(TCP, TCP6)})
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Proto: TCP, Local: ap("127.0.0.53:53"), Remote: ap("0.0.0.0:0"), State: Listen, UID: 991, Inode: 18345},
		{Proto: TCP, Local: ap("127.0.0.1:631"), Remote: ap("0.0.0.0:0"), State: Listen, RxQueue: 3, Inode: 21960},
		{Proto: TCP, Local: ap("10.0.2.15:22"), Remote: ap("10.0.2.2:51620"), State: Established, TxQueue: 0x24,
			Timer: TimerKeepalive, TimerTicks: 0x8F9A2, Inode: 31337},
		{Proto: TCP, Local: ap("10.0.2.15:40000"), Remote: ap("162.216.184.93:443"), State: TimeWait,
			Timer: TimerTimeWait, TimerTicks: 0x1734},
		{Proto: TCP, Local: ap("127.0.0.1:8080"), Remote: ap("127.0.0.1:54000"), State: CloseWait, TxQueue: 1, UID: 1000, Inode: 40001},
		{Proto: TCP, Local: ap("10.0.2.15:54004"), Remote: ap("162.216.184.93:443"), State: SynSent, TxQueue: 1,
			Timer: TimerRetransmit, TimerTicks: 200, Retransmits: 2, UID: 1000, Inode: 40002},
		{Proto: TCP6, Local: ap("[::]:22"), Remote: ap("[::]:0"), State: Listen, Inode: 18400},
		{Proto: TCP6, Local: ap("[::1]:631"), Remote: ap("[::]:0"), State: Listen, Inode: 21961},
		{Proto: TCP6, Local: ap("[fe80::1]:22"), Remote: ap("[fe80::fe]:58322"), State: Established,
			Timer: TimerKeepalive, TimerTicks: 0x57E40, Inode: 31400},
	}
	if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d := got[2].TimerLeft(); d.Seconds() != float64(0x8F9A2)/100 {
		t.Errorf("TimerLeft = %v", d)
	}
}

func TestDualStack(t *testing.T) {
	got, err := List(context.Background(), fixture.Root(t, "testdata/dualstack.txtar"), Filter{Protos: Protos(TCP6, UDP6)})
	if err != nil {
		t.Fatal(err)
	}
	s := got[1]
	if s.Proto != TCP6 || s.Local != ap("[::ffff:127.0.0.1]:8081") || !s.Local.Addr().Is4In6() {
		t.Errorf("mapped row = %+v, want tcp6 [::ffff:127.0.0.1]:8081", s)
	}
	if u := s.Local.Addr().Unmap(); u != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("Unmap = %v", u)
	}
	if got[4].Proto != UDP6 || got[4].Local.Addr().Unmap().String() != "127.0.0.1" {
		t.Errorf("udp6 mapped row = %+v", got[4])
	}
}

func TestMalformedKeepsGoodRows(t *testing.T) {
	root := fixture.Root(t, "testdata/malformed.txtar")
	got, err := List(context.Background(), root, Filter{})
	var inodes []uint64
	for _, s := range got {
		inodes = append(inodes, s.Inode)
	}
	if diff := cmp.Diff([]uint64{60001, 60006, 60007, 0, 0, 60010, 60100}, inodes); diff != "" {
		t.Errorf("good rows (-want +got):\n%s", diff)
	}
	var msgs []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		msgs = append(msgs, e.Error())
	}
	want := []string{
		"proc/net/tcp:3: local address: invalid syntax",
		"proc/net/tcp:4: wrong number of fields",
		"proc/net/tcp:5: state: invalid syntax",
		"proc/net/tcp:6: inode: invalid syntax",
		"open proc/net/tcp6: is a directory",
		"proc/net/udp:3: wrong number of fields",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "proc/net/tcp" || pe.Line != 3 || !errors.Is(pe, ErrSyntax) {
		t.Errorf("first ParseError = %#v", pe)
	}
}

// TestCutRows: a row that lacks the columns its layout prints after the
// inode is a ParseError naming the column, never a row with a wrong inode
// (testdata/cut.txtar says which row is which).
func TestCutRows(t *testing.T) {
	got, err := List(context.Background(), fixture.Root(t, "testdata/cut.txtar"), Filter{})
	var inodes []uint64
	for _, s := range got {
		inodes = append(inodes, s.Inode)
	}
	if diff := cmp.Diff([]uint64{70001, 0, 70005, 70101, 70201, 70401, 70403}, inodes); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	var msgs []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *ParseError
		if !errors.As(e, &pe) || !errors.Is(e, ErrTruncated) {
			t.Errorf("%v: not a ParseError wrapping ErrTruncated", e)
		}
		msgs = append(msgs, e.Error())
	}
	want := []string{
		"proc/net/tcp:3: inode: row cut short",
		"proc/net/tcp:4: inode: row cut short",
		"proc/net/tcp:7: inode: row cut short",
		"proc/net/tcp6:3: inode: row cut short",
		"proc/net/udp:3: drops: row cut short",
		"proc/net/udp:4: drops: row cut short",
		"proc/net/udp6:2: drops: row cut short",
		"proc/net/udplite:2: inode: row cut short",
		"proc/net/raw:3: inode: row cut short",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// The same rows with their newlines: only the rows that lack columns
	// are errors; udp's and udp6's last rows are whole again.
	root := fixture.Root(t, "testdata/cut.txtar")
	for _, name := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "udplite"} {
		p := filepath.Join(root, "proc/net", name)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, append(b, '\n'), 0o644)
	}
	got, err = List(context.Background(), root, Filter{Protos: Protos(UDP, UDP6)})
	inodes = inodes[:0]
	for _, s := range got {
		inodes = append(inodes, s.Inode)
	}
	if diff := cmp.Diff([]uint64{70201, 70203, 70301}, inodes); diff != "" {
		t.Errorf("rows with newlines (-want +got):\n%s", diff)
	}
	if err == nil || err.Error() != "proc/net/udp:3: drops: row cut short" {
		t.Errorf("errors with newlines: %v", err)
	}
}

func TestMissingTablesAreNotErrors(t *testing.T) {
	got, err := List(context.Background(), fixture.Root(t, "testdata/old.txtar"), Filter{})
	if err != nil {
		t.Fatalf("old kernel without IPv6: %v", err)
	}
	if len(got) != 3 {
		t.Errorf("got %d rows, want 3", len(got))
	}
	if _, err := List(context.Background(), t.TempDir(), Filter{}); err != nil {
		t.Errorf("empty root: %v", err)
	}
}

func TestUnreadableTable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	os.WriteFile(filepath.Join(root, "proc/net/tcp"), nil, 0)
	_, err := List(context.Background(), root, Filter{})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "open proc/net/tcp: permission denied") {
		t.Errorf("err = %v", err)
	}
}

func TestUnix(t *testing.T) {
	r := &Reader{Root: fixture.Root(t, "testdata/modern.txtar")}
	var got []UnixSocket
	for u, err := range r.UnixSockets(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, u)
	}
	want := []UnixSocket{
		{RefCount: 2, Flags: Accepting, Type: Stream, State: Unconnected, Inode: 15872, Path: "/run/systemd/private"},
		{RefCount: 2, Flags: Accepting, Type: SeqPacket, State: Unconnected, Inode: 15880, Path: "/run/udev/control"},
		{RefCount: 12, Type: Datagram, State: Unconnected, Inode: 11000, Path: "/run/systemd/journal/dev-log"},
		{RefCount: 3, Type: Stream, State: Connected, Inode: 24101},
		{RefCount: 2, Flags: Accepting, Type: Stream, State: Unconnected, Inode: 16000, Path: "@/tmp/.X11-unix/X0"},
		{RefCount: 2, Flags: Accepting, Type: Stream, State: Unconnected, Inode: 16001, Path: "/tmp/my socket dir/s p"},
		{RefCount: 2, Flags: Accepting, Type: Stream, State: Unconnected, Inode: 16002, Path: "/tmp/evil\nname"},
		{RefCount: 3, Type: Stream, State: Connected, Inode: 24102, Path: "@@@@@abc"},
		{RefCount: 3, Type: Stream, State: Connected, Inode: 1080},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestFilter(t *testing.T) {
	root := fixture.Root(t, "testdata/modern.txtar")
	inodes := func(f Filter) []uint64 {
		var out []uint64
		for s, err := range (&Reader{Root: root}).Sockets(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s.Inode)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"listen tcp", Filter{Protos: Protos(TCP, TCP6), States: States(Listen)}, []uint64{18345, 21960, 18400, 21961}},
		{"port 631", Filter{Ports: []uint16{631}}, []uint64{21960, 21961}},
		{"remote 443", Filter{RemotePorts: []uint16{443}}, []uint64{0, 40002}},
		{"local 22", Filter{LocalPorts: []uint16{22}, Protos: Protos(TCP)}, []uint64{31337}},
		{"port 53 either side", Filter{Ports: []uint16{53}, Protos: Protos(UDP)}, []uint64{18344, 19001}},
		{"inodes", Filter{Inodes: map[uint64]bool{22001: true, 19000: true}}, []uint64{19000, 22001}},
		{"udp connected", Filter{Protos: Protos(UDP, UDP6), States: States(Established)}, []uint64{19001}},
	} {
		if diff := cmp.Diff(tc.want, inodes(tc.f)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// synthTCP writes a tcp table of n rows; every row is ESTABLISHED on a
// distinct inode, with local port 1000+i%50000.
func synthTCP(tb testing.TB, n int) string {
	root := tb.TempDir()
	dir := filepath.Join(root, "proc/net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0200007F:%04X %02X 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1                    \n",
			i, 1000+i%50000, 2000+i%3, 1+i%11, 100000+i)
	}
	if err := os.WriteFile(filepath.Join(dir, "tcp"), b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return root
}

// TestLargeFile reads a table far larger than 1 MiB (and than the read
// buffer) and expects every row, none twice.
func TestLargeFile(t *testing.T) {
	const n = 30000 // about 4.5 MB
	root := synthTCP(t, n)
	if fi, _ := os.Stat(filepath.Join(root, "proc/net/tcp")); fi.Size() < 4<<20 {
		t.Fatalf("synthetic table is only %d bytes", fi.Size())
	}
	got, err := List(context.Background(), root, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("got %d rows, want %d", len(got), n)
	}
	for i, s := range got {
		if s.Inode != uint64(100000+i) {
			t.Fatalf("row %d: inode %d", i, s.Inode)
		}
	}
}

// TestDuplicateAcrossReads repeats rows the way a resumed read does and
// expects them once; TIME_WAIT rows (inode 0) are all kept.
func TestDuplicateAcrossReads(t *testing.T) {
	root := synthTCP(t, 2000)
	p := filepath.Join(root, "proc/net/tcp")
	data, _ := os.ReadFile(p)
	lines := strings.SplitAfter(string(data), "\n")
	// Repeat rows 1000-1009 after row 1009, as a resumed dump would.
	out := strings.Join(lines[:1011], "") + strings.Join(lines[1001:1011], "") + strings.Join(lines[1011:], "")
	os.WriteFile(p, []byte(out), 0o644)
	got, err := List(context.Background(), root, Filter{})
	if err != nil || len(got) != 2000 {
		t.Fatalf("got %d rows (%v), want 2000", len(got), err)
	}
}

// TestLongLine checks that a line longer than the buffer is one error and
// the rows after it survive.
func TestLongLine(t *testing.T) {
	root := synthTCP(t, 3)
	p := filepath.Join(root, "proc/net/tcp")
	data, _ := os.ReadFile(p)
	lines := strings.SplitAfter(string(data), "\n")
	long := strings.Repeat("A", 1<<20) + "\n"
	os.WriteFile(p, []byte(lines[0]+lines[1]+long+lines[2]+lines[3]), 0o644)
	got, err := List(context.Background(), root, Filter{})
	if len(got) != 3 || err == nil || err.Error() != "proc/net/tcp:3: line longer than 64 KiB" {
		t.Errorf("got %d rows, err %v", len(got), err)
	}
}

// TestRowAllocs keeps the row path honest: after the first scan, a scan of
// 5000 rows allocates a fixed handful of objects (file, path), not per row.
func TestRowAllocs(t *testing.T) {
	root := synthTCP(t, 5000)
	r := &Reader{Root: root}
	f := Filter{Protos: Protos(TCP)}
	count := func() {
		n := 0
		for _, err := range r.Sockets(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 5000 {
			t.Fatalf("%d rows", n)
		}
	}
	count()
	allocs := testing.AllocsPerRun(10, count)
	if allocs > 12 {
		t.Errorf("a 5000-row scan made %v allocations; want a fixed few, none per row", allocs)
	}
}

func TestUnixAllocs(t *testing.T) {
	r := &Reader{Root: fixture.Root(t, "testdata/modern.txtar")}
	scan := func() {
		for _, err := range r.UnixSockets(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	scan()
	if a := testing.AllocsPerRun(10, scan); a > 12 {
		t.Errorf("unix scan made %v allocations after the first", a)
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Established.String(), "ESTABLISHED"}, {NewSynRecv.String(), "NEW_SYN_RECV"},
		{State(0).String(), "UNKNOWN(0)"}, {State(13).String(), "UNKNOWN(13)"},
		{TCP6.String(), "tcp6"}, {UDPLite6.String(), "udplite6"}, {Raw.String(), "raw"},
		{TimerKeepalive.String(), "keepalive"}, {Timer(7).String(), "unkn-7"},
		{SeqPacket.String(), "SEQPACKET"}, {Connected.String(), "CONNECTED"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for st := Established; st < numStates; st++ {
		if got, ok := ParseState(strings.ToLower(st.String())); !ok || got != st {
			t.Errorf("ParseState(%v) = %v, %v", st, got, ok)
		}
	}
	if st, ok := ParseState("time-wait"); !ok || st != TimeWait {
		t.Errorf("ParseState(time-wait) = %v", st)
	}
	for _, p := range AllProtos {
		if got, ok := ParseProto(p.String()); !ok || got != p {
			t.Errorf("ParseProto(%v) = %v", p, got)
		}
	}
}

// TestHex8 checks the word-at-a-time hex decoder against procfile.Hex for
// every byte in every position.
func TestHex8(t *testing.T) {
	base := []byte("0123abCD")
	for pos := range 8 {
		for c := range 256 {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			want, wok := procfile.Hex(b)
			x := word64(b)
			got, bad := hexValue(x), hexBad(x)
			if (bad == 0) != wok || wok && uint64(got) != want {
				t.Fatalf("%q: got %#x (bad %#x), want %#x, %v", b, got, bad, want, wok)
			}
		}
	}
	for _, s := range []string{"00000000", "FFFFFFFF", "ffffffff", "0100007F", "DEADbeef", "9aF0A9fa"} {
		want, _ := procfile.Hex([]byte(s))
		if x := word64([]byte(s)); hexBad(x) != 0 || uint64(hexValue(x)) != want {
			t.Errorf("%s: got %#x", s, hexValue(word64([]byte(s))))
		}
	}
}

// TestDecAt checks the word-at-a-time decimal reader against procfile.Dec.
func TestDecAt(t *testing.T) {
	for _, s := range []string{"0", "7", "12", "1000", "100000", "1234567", "12345678", "123456789",
		"4294967295", "4294967296", "18446744073709551615", "1844674407370955161", "0000000000000000001",
		"00000000000000000001", "12a4", "", "x", "99999999", "1/", "9:"} {
		for pad := range 3 {
			for _, tail := range []string{" ", "", "\t", " 1 0000000000000000 20 4 30 10 -1"} {
				if s == "" && len(tail) > 1 {
					continue // that would read the tail's first number
				}
				line := []byte(strings.Repeat(" ", pad) + s + tail)
				got, next, ok := decAt(line, 0)
				want, wok := procfile.Dec([]byte(s))
				wok = wok && len(s) < 20 && strings.HasPrefix(tail, " ")
				if ok != wok || ok && (got != want || next != pad+len(s)) {
					t.Errorf("decAt(%q) = %d, %d, %v; want %d, %v", line, got, next, ok, want, wok)
				}
			}
		}
	}
}

// TestRecentInodes holds the duplicate window to its definition, two
// generations of dedupWindow inodes, on a stream with repeats near and far.
func TestRecentInodes(t *testing.T) {
	var r recentInodes
	r.reset()
	cur, prev := map[uint64]bool{}, map[uint64]bool{}
	var seq []uint64
	x := uint64(1)
	for i := 0; i < 5*dedupWindow; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		v := x>>40 | 1 // 24 bits: collisions in the hash table are common
		if len(seq) > 0 && x%7 == 0 {
			v = seq[len(seq)-1-int(x>>20)%min(len(seq), 3*dedupWindow)] // a repeat, near or far
		}
		seq = append(seq, v)
		want := !cur[v] && !prev[v]
		if want {
			cur[v] = true
			if len(cur) == dedupWindow {
				cur, prev = map[uint64]bool{}, cur
			}
		}
		if got := r.add(v); got != want {
			t.Fatalf("row %d: add(%d) = %v, want %v", i, v, got, want)
		}
	}
	r.reset()
	if !r.add(seq[0]) {
		t.Error("reset kept an inode")
	}
}

// One state vocabulary for the machine outputs: kernel names, LISTEN
// for every listener, UNCONN for every socket without a peer.
func TestStateName(t *testing.T) {
	for _, tc := range []struct {
		s         Socket
		name      string
		listening bool
	}{
		{Socket{Proto: TCP, State: Listen}, "LISTEN", true},
		{Socket{Proto: TCP6, State: Established}, "ESTABLISHED", false},
		{Socket{Proto: TCP, State: Close}, "CLOSE", false},
		{Socket{Proto: TCP, State: TimeWait}, "TIME_WAIT", false},
		{Socket{Proto: UDP, State: Close}, "UNCONN", true},
		{Socket{Proto: UDPLite6, State: Close}, "UNCONN", true},
		{Socket{Proto: UDP6, State: Established}, "ESTABLISHED", false},
		{Socket{Proto: Raw, State: Close}, "UNCONN", true},
		{Socket{Proto: Raw6, State: Established}, "ESTABLISHED", false},
	} {
		if got := tc.s.StateName(); got != tc.name {
			t.Errorf("%v %v: StateName %q, want %q", tc.s.Proto, tc.s.State, got, tc.name)
		}
		if got := tc.s.Listening(); got != tc.listening {
			t.Errorf("%v %v: Listening %v, want %v", tc.s.Proto, tc.s.State, got, tc.listening)
		}
	}
	for _, tc := range []struct {
		u    UnixSocket
		name string
	}{
		{UnixSocket{State: Unconnected, Flags: Accepting}, "LISTEN"},
		{UnixSocket{State: Unconnected}, "UNCONN"},
		{UnixSocket{State: Connected}, "CONNECTED"},
		{UnixSocket{State: Connecting}, "CONNECTING"},
		{UnixSocket{State: Disconnecting}, "DISCONNECTING"},
		{UnixSocket{State: Free}, "FREE"},
	} {
		if got := tc.u.StateName(); got != tc.name {
			t.Errorf("unix %v (flags %x): StateName %q, want %q", tc.u.State, tc.u.Flags, got, tc.name)
		}
	}
}
