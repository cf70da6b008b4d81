package route

// Flags are a route's RTF_* bits, as the kernel prints them in the Flags
// column of /proc/net/route and ipv6_route. The values are those of
// golang.org/x/sys/unix (RTF_UP, RTF_GATEWAY, …).
type Flags uint32

// The route flags. IPv4 rows only ever carry Up, Gateway, Host and Reject;
// the other bits come from IPv6 rows.
const (
	FlagUp        Flags = 0x1        // RTF_UP: the route is usable
	FlagGateway   Flags = 0x2        // RTF_GATEWAY: the destination is behind a gateway
	FlagHost      Flags = 0x4        // RTF_HOST: a host route (IPv4 /32)
	FlagReinstate Flags = 0x8        // RTF_REINSTATE
	FlagDynamic   Flags = 0x10       // RTF_DYNAMIC: created by an ICMP redirect
	FlagModified  Flags = 0x20       // RTF_MODIFIED: changed by an ICMP redirect
	FlagMTU       Flags = 0x40       // RTF_MTU (RTF_MSS)
	FlagWindow    Flags = 0x80       // RTF_WINDOW
	FlagIRTT      Flags = 0x100      // RTF_IRTT
	FlagReject    Flags = 0x200      // RTF_REJECT: unreachable or prohibit route
	FlagNotCached Flags = 0x400      // RTF_NOTCACHED of Linux 2.0 (RTF_STATIC elsewhere)
	FlagDefault   Flags = 0x10000    // RTF_DEFAULT: IPv6 default router learned by ND
	FlagAllOnLink Flags = 0x20000    // RTF_ALLONLINK
	FlagAddrConf  Flags = 0x40000    // RTF_ADDRCONF: IPv6 route from a router advertisement
	FlagNoNextHop Flags = 0x200000   // RTF_NONEXTHOP: IPv6 route without a next hop
	FlagExpires   Flags = 0x400000   // RTF_EXPIRES: IPv6 route with a lifetime
	FlagCache     Flags = 0x1000000  // RTF_CACHE: IPv6 cached (cloned) route
	FlagFlow      Flags = 0x2000000  // RTF_FLOW
	FlagPolicy    Flags = 0x4000000  // RTF_POLICY
	FlagLocal     Flags = 0x80000000 // RTF_LOCAL: IPv6 route to a local address
)

// Has reports whether every bit of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

type letter struct {
	bit Flags
	c   byte
}

// The letters of net-tools 2.10, lib/inet_gr.c (rprint_fib), in its order.
// A reject route restarts the string with "!", dropping U and G.
var letters4 = [...]letter{
	{FlagHost, 'H'}, {FlagReinstate, 'R'}, {FlagDynamic, 'D'}, {FlagModified, 'M'},
	{FlagDefault, 'd'}, {FlagAllOnLink, 'a'}, {FlagAddrConf, 'c'}, {FlagNoNextHop, 'o'},
	{FlagExpires, 'e'}, {FlagCache, 'c'}, {FlagFlow, 'f'}, {FlagPolicy, 'p'},
	{FlagLocal, 'l'}, {FlagMTU, 'u'}, {FlagWindow, 'w'}, {FlagIRTT, 'i'},
	{FlagNotCached, 'n'},
}

// The letters of net-tools 2.10, lib/inet6_gr.c (rprint_fib6), in its order.
var letters6 = [...]letter{
	{FlagUp, 'U'}, {FlagReject, '!'}, {FlagGateway, 'G'}, {FlagHost, 'H'},
	{FlagDefault, 'D'}, {FlagAddrConf, 'A'}, {FlagCache, 'C'}, {FlagAllOnLink, 'a'},
	{FlagExpires, 'e'}, {FlagModified, 'm'}, {FlagNoNextHop, 'n'}, {FlagFlow, 'f'},
}

// String returns the flags as `netstat -rn` prints them for an IPv4 route:
// "UG", "UH", "!H" (a reject route shows "!" instead of U and G). Bits
// without a letter are not shown; the zero Flags give "".
func (f Flags) String() string {
	var b [24]byte
	s := b[:0]
	if f&FlagUp != 0 {
		s = append(s, 'U')
	}
	if f&FlagGateway != 0 {
		s = append(s, 'G')
	}
	if f&FlagReject != 0 {
		s = append(s[:0], '!')
	}
	for _, l := range letters4 {
		if f&l.bit != 0 {
			s = append(s, l.c)
		}
	}
	return string(s)
}

// String6 returns the flags as `netstat -rn -6` prints them for an IPv6
// route: "U", "UG", "Un" (local), "!n" (reject), "UGe" (expiring). Note
// that D means RTF_DEFAULT here, not RTF_DYNAMIC as in String.
func (f Flags) String6() string {
	var b [16]byte
	s := b[:0]
	for _, l := range letters6 {
		if f&l.bit != 0 {
			s = append(s, l.c)
		}
	}
	return string(s)
}
