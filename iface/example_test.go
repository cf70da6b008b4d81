package iface_test

import (
	"fmt"

	"github.com/procnet/procnet/iface"
)

func Example() {
	// testdata/example holds proc/net/dev and sys/class/net/*/; use "" or
	// "/" for the live system.
	ifs, err := iface.Interfaces("testdata/example")
	if err != nil {
		fmt.Println(err)
	}
	for _, ifc := range ifs {
		fmt.Printf("%-5s %5d %8d %8d %s\n", ifc.Name, ifc.MTU, ifc.RxPackets, ifc.TxPackets, ifc.Flags)
	}
	// Output:
	// lo    65536       29       29 LRU
	// eth0   1400   912000      808 BMRU
	// ifb0   1500        0        0 BO
}

func ExampleReader_Addrs() {
	// Root "" reads the live system's own network namespace over
	// rtnetlink; a root (here testdata/example) is read from its files.
	r := iface.Reader{Root: "testdata/example"}
	links, err := r.Links()
	if err != nil {
		fmt.Println(err)
	}
	for _, l := range links {
		fmt.Println(l.Name, l.Type, l.HardwareAddr, l.MTU)
	}
	addrs, err := r.Addrs()
	if err != nil {
		fmt.Println(err)
	}
	for _, a := range addrs {
		fmt.Println(a.Iface, a.Prefix, a.Scope, a.Flags)
	}
	// Output:
	// lo loopback 00:00:00:00:00:00 65536
	// eth0 ether 52:54:00:12:34:56 1400
	// ifb0 ether be:11:22:33:44:55 1500
	// eth0 fe80::5054:0:fe12:3456/64 link permanent
	// lo ::1/128 host permanent
}

func ExampleReader_List() {
	// The rows of `netstat -iea` / `ifconfig -a`, with what ifconfig
	// shows of each. testdata/example has no proc/net/fib_trie, from which
	// IPv4 addresses are derived under a root: no inet here.
	r := iface.Reader{Root: "testdata/example"}
	rows, err := r.List(iface.ListOptions{All: true, Links: true})
	if err != nil {
		fmt.Println(err)
	}
	for _, e := range rows {
		fmt.Printf("%s %v mtu %d", e.Name, e.Flags.Names(), e.MTU)
		if e.HasInet() {
			fmt.Printf(" inet %v netmask %v", e.Inet.Prefix.Addr(), e.Netmask())
		}
		for _, a := range e.Inet6 {
			fmt.Printf(" inet6 %v %v", a.Prefix, a.ScopeNames())
		}
		if e.Link != nil {
			name, _ := e.Link.Type.NetTools()
			addr, _ := e.Link.NetToolsAddr()
			fmt.Printf(" %s %s", name, addr)
		}
		fmt.Println()
	}
	// Output:
	// eth0 [UP BROADCAST RUNNING MULTICAST] mtu 1400 inet6 fe80::5054:0:fe12:3456/64 [link] ether 52:54:00:12:34:56
	// ifb0 [BROADCAST NOARP] mtu 1500 ether be:11:22:33:44:55
	// lo [UP LOOPBACK RUNNING] mtu 65536 inet6 ::1/128 [host] loop
}
