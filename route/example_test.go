package route_test

import (
	"fmt"

	"github.com/procnet/procnet/route"
)

func Example() {
	// testdata/example is a root directory holding proc/net/route and
	// proc/net/ipv6_route; use "" or "/" for the live system.
	v4, err := route.IPv4("testdata/example")
	if err != nil {
		fmt.Println(err)
	}
	for _, e := range v4 {
		fmt.Printf("%-18s %-12s %-4s %s\n", e.Dest, e.Gateway, e.FlagString(), e.Iface)
	}
	v6, err := route.IPv6("testdata/example")
	if err != nil {
		fmt.Println(err)
	}
	for _, e := range v6 {
		fmt.Printf("%-18s %-12s %-4s %d %s\n", e.Dest, e.Gateway, e.FlagString(), int32(e.Metric), e.Iface)
	}
	// Output:
	// 0.0.0.0/0          192.0.2.1    UG   eth0
	// 192.0.2.0/24       0.0.0.0      U    eth0
	// 198.51.100.7/32    192.0.2.254  UGH  eth0
	// fe80::/64          ::           U    256 eth0
	// ::/0               fd00::1      UG   1024 eth0
	// ::1/128            ::           Un   0 lo
}
