package flows

import (
	"net/netip"
	"testing"
)

func TestFilter(t *testing.T) {
	v4 := Event{
		Local:  netip.MustParseAddrPort("127.0.0.1:8080"),
		Remote: netip.MustParseAddrPort("127.0.0.1:40000"),
		PID:    7, Program: "nginx",
	}
	mapped := v4
	mapped.Remote = netip.MustParseAddrPort("[::ffff:127.0.0.1]:40000")
	v6 := v4
	v6.Remote = netip.MustParseAddrPort("[::1]:40000")
	anon := v4
	anon.PID, anon.Program = 0, ""
	for _, tc := range []struct {
		name string
		f    Filter
		ev   Event
		want bool
	}{
		{"zero", Filter{}, v4, true},
		{"port local", Filter{Ports: []uint16{8080}}, v4, true},
		{"port remote", Filter{Ports: []uint16{1, 40000}}, v4, true},
		{"port neither", Filter{Ports: []uint16{22}}, v4, false},
		{"sport", Filter{LocalPorts: []uint16{40000}}, v4, false},
		{"dport", Filter{RemotePorts: []uint16{40000}}, v4, true},
		{"pid", Filter{PIDs: []int{7}}, v4, true},
		{"other pid", Filter{PIDs: []int{8}}, v4, false},
		{"pid 0 listed", Filter{PIDs: []int{0}}, anon, true},
		{"no process", Filter{PIDs: []int{7}}, anon, false},
		{"program", Filter{Programs: []string{"nginx"}}, v4, true},
		{"other program", Filter{Programs: []string{"sshd"}}, v4, false},
		{"ipv4", Filter{IPv4: true}, v4, true},
		{"ipv4 mapped", Filter{IPv4: true}, mapped, true},
		{"ipv4 not v6", Filter{IPv4: true}, v6, false},
		{"ipv6", Filter{IPv6: true}, v6, true},
		{"ipv6 not mapped", Filter{IPv6: true}, mapped, false},
		{"both families", Filter{IPv4: true, IPv6: true}, v6, true},
	} {
		if got := tc.f.Match(&tc.ev); got != tc.want {
			t.Errorf("%s: Match = %v, want %v", tc.name, got, tc.want)
		}
	}
	f := Filter{Ports: []uint16{8080}, PIDs: []int{7}, Programs: []string{"nginx"}, IPv4: true}
	if n := testing.AllocsPerRun(100, func() { f.Match(&v4) }); n != 0 {
		t.Errorf("Match allocates %v times", n)
	}
}
