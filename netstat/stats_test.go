package netstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

func renderStats(s *Stats) []byte {
	var b bytes.Buffer
	for _, g := range s.Groups {
		b.WriteString(g.File + " " + g.Name + ":\n")
		for _, st := range g.Stats {
			b.WriteString("    " + st.Name + " " + strconv.FormatInt(st.Value, 10) + "\n")
		}
	}
	return b.Bytes()
}

func TestReadStats(t *testing.T) {
	root := fixture.Root(t, "testdata/stats.txtar")
	s, err := ReadStats(root, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range s.Groups {
		names = append(names, g.Name)
	}
	want := []string{"Ip", "Icmp", "IcmpMsg", "Tcp", "Udp", "UdpLite", "TcpExt", "IpExt", "MPTcpExt", "Ip6", "Icmp6", "Udp6", "UdpLite6"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		group, name string
		want        int64
	}{
		{"Tcp", "MaxConn", -1},
		{"Tcp", "RtoMax", 120000},
		{"Ip", "DefaultTTL", 64},
		{"IcmpMsg", "InType3", 1},
		{"TcpExt", "TW", 32},
		{"Ip6", "InReceives", 13},
		{"Icmp6", "OutDestUnreachs", 1},
		{"UdpLite6", "InDatagrams", 0},
	} {
		if v, ok := s.Get(tc.group, tc.name); !ok || v != tc.want {
			t.Errorf("Get(%q, %q) = %d, %v; want %d", tc.group, tc.name, v, ok, tc.want)
		}
	}
	if _, ok := s.Get("Tcp", "Nope"); ok {
		t.Error("Get of a missing counter succeeded")
	}
	if _, ok := s.Get("Nope", "MaxConn"); ok {
		t.Error("Get of a missing group succeeded")
	}
	if g := s.Group("Ip6"); g == nil || g.File != "proc/net/snmp6" || g.Stats[0].Name != "InReceives" {
		t.Errorf("Group(Ip6) = %+v", g)
	}
	fixture.Golden(t, "testdata/stats.golden", renderStats(s))
}

func TestReadStatsMalformed(t *testing.T) {
	root := fixture.Root(t, "testdata/stats_malformed.txtar")
	s, err := ReadStats(root, 0)
	fixture.Golden(t, "testdata/stats_malformed.golden", renderStats(s))
	want := []string{
		"proc/net/snmp:2: Ip Forwarding: invalid syntax",
		"proc/net/snmp:4: Icmp: header and values differ in number",
		"proc/net/snmp:5: Udp: header line without a values line",
		"proc/net/snmp:7: Tcp: header and values differ in number",
		"proc/net/snmp:8: invalid syntax",
		"proc/net/snmp:10: UdpLite InDatagrams: invalid syntax",
		"proc/net/snmp6:2: wrong number of fields",
		"proc/net/snmp6:3: Icmp6InMsgs: invalid syntax",
	}
	var have []string
	if err != nil {
		have = strings.Split(err.Error(), "\n")
	}
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !errors.Is(err, ErrSyntax) {
		t.Errorf("errors.As: %+v", pe)
	}
	if v, ok := s.Get("IpExt", "InOctets"); !ok || v != -1<<63 {
		t.Errorf("IpExt InOctets = %d, %v", v, ok)
	}
}

func TestReadStatsPID(t *testing.T) {
	root := fixture.Root(t, "testdata/stats_pid.txtar")
	s, err := ReadStats(root, 42)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Groups) != 1 || s.Groups[0].File != "proc/42/net/snmp" {
		t.Errorf("ReadStats(pid 42) = %+v", s)
	}
	s, err = ReadStats(t.TempDir(), 0)
	if err != nil || len(s.Groups) != 0 {
		t.Errorf("ReadStats of an empty root = %+v, %v", s, err)
	}
}

// TestReadStatsLive checks the live counters against a plain reading of
// the same files: same groups and counter names, Tcp MaxConn -1 on Linux.
func TestReadStatsLive(t *testing.T) {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		t.Skip("no /proc/net/snmp")
	}
	s, err := ReadStats("", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		for _, f := range strings.Fields(lines[i])[1:] {
			want = append(want, strings.TrimSuffix(strings.Fields(lines[i])[0], ":")+" "+f)
		}
	}
	var have []string
	for _, g := range s.Groups {
		if g.File == "proc/net/snmp" {
			for _, st := range g.Stats {
				have = append(have, g.Name+" "+st.Name)
			}
		}
	}
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("counter names differ from /proc/net/snmp (-file +ours):\n%s", d)
	}
	if v, ok := s.Get("Tcp", "MaxConn"); !ok || v != -1 {
		t.Errorf("Tcp MaxConn = %d, %v; want -1", v, ok)
	}
	if s.Group("TcpExt") == nil {
		t.Error("no TcpExt group from /proc/net/netstat")
	}
	if _, err := os.Stat("/proc/net/snmp6"); err == nil {
		if _, ok := s.Get("Ip6", "InReceives"); !ok {
			t.Error("no Ip6 InReceives from /proc/net/snmp6")
		}
	}
}

func FuzzParseStats(f *testing.F) {
	f.Add([]byte("Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: MaxConn\nTcp: -1\n"), false)
	f.Add([]byte("Udp: a b\nTcp: a\nTcp: 1 2\nx\n:\n::\n"), false)
	f.Add([]byte("Ip6InReceives 1\nIcmp6InMsgs 2\n6 6\nX6 -9223372036854775808\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, six bool) {
		var s Stats
		buf := make([]byte, 4096)
		if six {
			s.parseSnmp6(nil, "proc/net/snmp6", bytes.NewReader(data), buf)
		} else {
			s.parsePairs(nil, "proc/net/snmp", bytes.NewReader(data), buf)
		}
		for _, g := range s.Groups {
			if g.File == "" {
				t.Fatalf("group without a file: %+v", g)
			}
		}
	})
}

func ExampleReadStats() {
	// testdata/stats_example holds proc/net/snmp and proc/net/snmp6; use
	// "" for the live system.
	s, err := ReadStats("testdata/stats_example", 0)
	if err != nil {
		fmt.Println(err)
	}
	for _, g := range s.Groups {
		fmt.Printf("%s:", g.Name)
		for _, st := range g.Stats {
			fmt.Printf(" %s=%d", st.Name, st.Value)
		}
		fmt.Println()
	}
	maxConn, _ := s.Get("Tcp", "MaxConn")
	fmt.Println("Tcp MaxConn:", maxConn)
	// Output:
	// Ip: Forwarding=1 DefaultTTL=64
	// Tcp: RtoAlgorithm=1 RtoMin=200 RtoMax=120000 MaxConn=-1 ActiveOpens=173
	// Ip6: InReceives=1234
	// Icmp6: InMsgs=5
	// Tcp MaxConn: -1
}
