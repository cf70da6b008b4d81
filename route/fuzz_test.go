package route

import (
	"bytes"
	"testing"
)

// FuzzParseIPv4 feeds arbitrary bytes to the /proc/net/route parser: it
// must not panic, and every row it returns must be a valid IPv4 entry.
func FuzzParseIPv4(f *testing.F) {
	f.Add([]byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"))
	f.Add([]byte("h\n*\t0000070A\t00000000\t0201\t0\t0\t-1\t0000FFFF\t0\t0\t0     \n"))
	f.Add([]byte("h\neth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0\n"))
	f.Add([]byte("h\neth0\t000200C0\t00000000\t0001\t0\t0\t-2147483648\t00FFFFFF\t4294967295\t0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Reader
		es, _ := r.parse(nil, "proc/net/route", bytes.NewReader(data), parse4)
		for _, e := range es {
			if !e.Dest.IsValid() || !e.Dest.Addr().Is4() || !e.Gateway.Is4() {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

// FuzzParseIPv6 does the same for /proc/net/ipv6_route.
func FuzzParseIPv6(f *testing.F) {
	f.Add([]byte("fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0\n"))
	f.Add([]byte("00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n"))
	f.Add([]byte("20010db8000600000000000000000000 30 20010db8000000000000000000000000 40 20010db80000000000000000000000fe 00000400 00000003 00000000 00000003         \n"))
	f.Add([]byte("ff000000000000000000000000000000 81 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001 eth0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Reader
		es, _ := r.parse(nil, "proc/net/ipv6_route", bytes.NewReader(data), parse6)
		for _, e := range es {
			if !e.Dest.IsValid() || !e.Source.IsValid() || !e.Gateway.Is6() {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
