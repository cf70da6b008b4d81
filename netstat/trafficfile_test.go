package netstat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
)

func dumpTraffic(r *Reader, f Filter) []byte {
	var b bytes.Buffer
	for s, err := range r.Sockets(context.Background(), f) {
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		fmt.Fprintf(&b, "%-5s %-28s %-28s %-12s inode=%d traffic=%+v\n", s.Proto, s.Local, s.Remote, s.State, s.Inode, s.Traffic)
	}
	return b.Bytes()
}

// TestTrafficFileReplay: under a fixture root, a Reader asked for Traffic
// fills the rows the traffic file names (Known), leaves the others
// unknown, reports each bad line by file and line and keeps the good ones;
// a Reader not asked for it reads no counters.
func TestTrafficFileReplay(t *testing.T) {
	root := fixture.Root(t, "testdata/traffic.txtar")
	fixture.Golden(t, "testdata/traffic.golden", dumpTraffic(&Reader{Root: root, Traffic: true}, Filter{}))

	for s, err := range (&Reader{Root: root}).Sockets(context.Background(), Filter{}) {
		if err != nil {
			t.Errorf("without Traffic: %v", err)
		}
		if s.Traffic != (Traffic{}) {
			t.Errorf("without Traffic: %v has %+v", s.Local, s.Traffic)
		}
	}

	// A fixture without a traffic file: every row unknown, no error.
	for s, err := range (&Reader{Root: fixture.Root(t, "testdata/dualstack.txtar"), Traffic: true}).Sockets(context.Background(), Filter{}) {
		if err != nil || s.Traffic.Known {
			t.Errorf("no traffic file: %v %+v", err, s.Traffic)
		}
	}

	// tcp6 alone still reads the file, once.
	got := dumpTraffic(&Reader{Root: root, Traffic: true}, Filter{Protos: Protos(TCP6)})
	if n := bytes.Count(got, []byte("procnet-traffic:5:")); n != 1 {
		t.Errorf("tcp6 only: line 5's error %d times:\n%s", n, got)
	}
	if !bytes.Contains(got, []byte("BytesSent:123456 BytesReceived:1000000 SegsOut:29 SegsIn:41 Known:true")) {
		t.Errorf("tcp6 only: the mapped row's traffic is missing:\n%s", got)
	}

	// The errors are ParseErrors naming the file and line.
	var lines []int
	for _, err := range (&Reader{Root: root, Traffic: true}).Sockets(context.Background(), Filter{}) {
		var pe *ParseError
		if errors.As(err, &pe) {
			if pe.File != "proc/net/"+TrafficFile {
				t.Errorf("error names %q", pe.File)
			}
			lines = append(lines, pe.Line)
		}
	}
	if fmt.Sprint(lines) != "[5 7 9]" {
		t.Errorf("errors on lines %v, want [5 7 9]", lines)
	}
}

// TestTrafficFilePID: a namespace's tables (proc/PID/net) have their own
// traffic file.
func TestTrafficFilePID(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "proc/42/net")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tcp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   1: 0100007F:0016 0100007F:C9A4 01 00000000:00000000 02:0008F9A2 00000000     0        0 777 4 0000000000000000 20 4 31 10 -1\n"
	os.WriteFile(filepath.Join(dir, "tcp"), []byte(tcp), 0o644)
	os.WriteFile(filepath.Join(dir, TrafficFile), []byte("tcp 127.0.0.1:22 127.0.0.1:51620 777 5 6 7 8\n"), 0o644)
	rows, err := (&Reader{Root: root, PID: 42, Traffic: true}).AppendSockets(context.Background(), nil, Filter{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%v %v", rows, err)
	}
	if want := (Traffic{5, 6, 7, 8, true}); rows[0].Traffic != want {
		t.Errorf("traffic %+v, want %+v", rows[0].Traffic, want)
	}
	rows, _ = (&Reader{Root: root, Traffic: true}).AppendSockets(context.Background(), nil, Filter{})
	if len(rows) != 0 {
		t.Errorf("proc/net has no tables here: %v", rows)
	}
}

// TestTrafficFileRoundTrip: what AppendTrafficFile writes from a root
// reads back as the same counters (a capture of a capture keeps them).
func TestTrafficFileRoundTrip(t *testing.T) {
	src := &Reader{Root: fixture.Root(t, "testdata/traffic.txtar"), Traffic: true}
	body, err := src.AppendTrafficFile(context.Background(), nil, Filter{})
	if err == nil {
		t.Error("the bad lines of the source are not reported")
	}
	if src.Traffic != true {
		t.Error("AppendTrafficFile changed Reader.Traffic")
	}
	want := "# procnet-traffic: proto local remote inode bytes_sent bytes_received segs_out segs_in\n" +
		"tcp 10.0.2.15:22 10.0.2.2:51620 50002 1000000 123456 40 31\n" +
		"tcp6 [::]:8081 [::]:0 50003 0 0 0 0\n" +
		"tcp6 [::ffff:127.0.0.1]:8081 [::ffff:127.0.0.1]:45056 50004 123456 1000000 29 41\n"
	if string(body) != want {
		t.Errorf("got\n%s\nwant\n%s", body, want)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(filepath.Join(src.Root, "proc/net", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "proc/net", name), b, 0o644)
	}
	os.WriteFile(filepath.Join(root, "proc/net", TrafficFile), body, 0o644)
	again, err := (&Reader{Root: root}).AppendTrafficFile(context.Background(), nil, Filter{})
	if err != nil || string(again) != want {
		t.Errorf("second capture: %v\n%s", err, again)
	}
	// Filters narrow what is written; a filter without TCP writes the header alone.
	udp, err := src.AppendTrafficFile(context.Background(), nil, Filter{Protos: Protos(UDP)})
	if err != nil || strings.Count(string(udp), "\n") != 1 {
		t.Errorf("udp: %v %q", err, udp)
	}
}

// FuzzTrafficLine feeds single lines to the traffic file's parser. It
// must never panic, and a line it accepts must be written back by
// AppendTraffic as a line that parses to the same socket and counters.
func FuzzTrafficLine(f *testing.F) {
	for _, s := range []string{
		"tcp 10.0.2.15:22 10.0.2.2:51620 50002 1000000 123456 40 31",
		"tcp6 [::ffff:127.0.0.1]:8081 [::ffff:127.0.0.1]:45056 50004 123456 1000000 29 41",
		"tcp6 [fe80::1%eth0]:22 [fe80::fe]:1 5 1 1 1 1",
		"tcp [1.2.3.4]:5 ::1:6 [::1]:+7 [::1]:65536 [::1]: 1.2.3.4:0080 [::ffff:1.2.3.4]:1",
		"tcp 1.2.3.4:5 [::1]:6 7 8 9 10 11",
		"tcp 1.2.3.4:5 1.2.3.4:6 7 18446744073709551616 9 10 11",
		"tcp 1.2.3.4:5 1.2.3.4:6 7 8 9 4294967296 11",
		"# comment",
		"udp 1.2.3.4:5 1.2.3.4:6 7 8 9 10 11",
		"tcp 1.2.3.4:5 1.2.3.4:6 7 8 9 10 11 12",
		"",
	} {
		f.Add(s)
	}
	cache := map[string]netip.Addr{} // shared by the inputs, as by a file's lines
	f.Fuzz(func(t *testing.T, line string) {
		// The addresses are read as netip.ParseAddrPort reads them.
		for _, w := range strings.Fields(line) {
			want, err := netip.ParseAddrPort(w)
			got, ok := parseAddrPort([]byte(w), cache)
			if ok != (err == nil) || ok && got != want {
				t.Fatalf("%q: %v %v, netip: %v %v", w, got, ok, want, err)
			}
		}
		var k trafficKey
		var tr Traffic
		ok, ferr := parseTraffic(&k, &tr, []byte(line), nil, cache)
		if ferr != nil {
			if ok {
				t.Fatal("both a row and an error")
			}
			return
		}
		if !ok {
			return
		}
		if !tr.Known || k.inode == 0 || !k.proto.IsTCP() {
			t.Fatalf("accepted %q as %+v %+v", line, k, tr)
		}
		s := Socket{Proto: k.proto, Local: k.local, Remote: k.remote, Inode: k.inode, Traffic: tr}
		out := AppendTraffic(nil, &s)
		var k2 trafficKey
		var tr2 Traffic
		ok, ferr = parseTraffic(&k2, &tr2, bytes.TrimSuffix(out, []byte("\n")), nil, nil)
		if !ok || ferr != nil || k2 != k || tr2 != tr {
			t.Fatalf("%q written as %q, read back %+v %+v (%v)", line, out, k2, tr2, ferr)
		}
	})
}

// FuzzTrafficDecimal: decimal reads what strconv.ParseUint reads.
func FuzzTrafficDecimal(f *testing.F) {
	for _, s := range []string{"0", "007", "18446744073709551615", "18446744073709551616", "000000000000000000000000001", "4294967296", "+1", "-1", "", "1_000", "1e3", "٣"} {
		f.Add(s, uint8(64))
		f.Add(s, uint8(32))
	}
	f.Fuzz(func(t *testing.T, s string, bits uint8) {
		bits = []uint8{16, 32, 64}[bits%3]
		want, werr := strconv.ParseUint(s, 10, int(bits))
		got, err := decimal([]byte(s), int(bits))
		digits := s != "" && strings.Trim(s, "0123456789") == "" // else strconv may say range or syntax
		switch {
		case werr == nil && (err != nil || got != want):
			t.Fatalf("%q/%d: %d %v, want %d", s, bits, got, err, want)
		case werr != nil && digits && errors.Is(werr, strconv.ErrRange) != errors.Is(err, ErrRange):
			t.Fatalf("%q/%d: %v, strconv: %v", s, bits, err, werr)
		case werr != nil && err == nil:
			t.Fatalf("%q/%d: accepted as %d, strconv: %v", s, bits, got, werr)
		}
	})
}
