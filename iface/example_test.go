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
