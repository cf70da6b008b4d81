package netstat_test

import (
	"context"
	"fmt"
	"os"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procnettest"
	"golang.org/x/tools/txtar"
)

// exampleRoot materializes a fixture tree, as a test of yours would with
// procnettest.Root.
func exampleRoot(name string) string {
	ar, err := txtar.ParseFile("testdata/" + name)
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "procnet-example")
	if err != nil {
		panic(err)
	}
	if err := procnettest.Write(dir, ar); err != nil {
		panic(err)
	}
	return dir
}

// List the listening TCP sockets of a machine captured as a fixture tree.
// With Root "" the same code reads the live system.
func ExampleReader_Sockets() {
	root := exampleRoot("modern.txtar")
	defer os.RemoveAll(root)

	r := netstat.Reader{Root: root}
	f := netstat.Filter{
		Protos: netstat.Protos(netstat.TCP, netstat.TCP6),
		States: netstat.States(netstat.Listen),
	}
	for s, err := range r.Sockets(context.Background(), f) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(s.Proto, s.Local, s.State, "inode", s.Inode)
	}
	// Output:
	// tcp 127.0.0.53:53 LISTEN inode 18345
	// tcp 127.0.0.1:631 LISTEN inode 21960
	// tcp6 [::]:22 LISTEN inode 18400
	// tcp6 [::1]:631 LISTEN inode 21961
}

// A bad row is reported with its file and line; the good rows around it
// are kept.
func ExampleList() {
	root := exampleRoot("malformed.txtar")
	defer os.RemoveAll(root)

	socks, err := netstat.List(context.Background(), root, netstat.Filter{Protos: netstat.Protos(netstat.UDP)})
	fmt.Println(len(socks), "good row:", socks[0].Local)
	fmt.Println(err)
	// Output:
	// 1 good row: 127.0.0.1:53
	// proc/net/udp:3: wrong number of fields
}
