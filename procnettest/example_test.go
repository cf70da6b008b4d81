package procnettest_test

import (
	"context"
	"fmt"
	"os"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procnettest"
	"golang.org/x/tools/txtar"
)

// A fixture tree written from text, read as a root, and turned back into
// text. In a test, procnettest.Root(t, "testdata/x.txtar") does the first
// step (and removes the tree), and procnettest.Golden(t, path, output)
// compares what your code printed with a golden file (-update rewrites it).
func Example() {
	fixture := txtar.Parse([]byte(`-- proc/net/tcp --
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21960 1 0000000000000000 100 0 0 10 0
-- proc/42/fd/3 -> socket:[21960] --
-- proc/42/cmdline [unquote] --
cupsd\x00-l\x00
`))
	dir, err := os.MkdirTemp("", "procnettest-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := procnettest.Write(dir, fixture); err != nil {
		panic(err)
	}

	socks, err := netstat.List(context.Background(), dir, netstat.Filter{Protos: netstat.Protos(netstat.TCP)})
	if err != nil {
		panic(err)
	}
	for _, s := range socks {
		fmt.Println(s.Proto, s.Local, s.State, "inode", s.Inode)
	}

	back, err := procnettest.Archive(dir)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(txtar.Format(back)))
	// Output:
	// tcp 127.0.0.1:631 LISTEN inode 21960
	// -- proc/42/cmdline [unquote] --
	// cupsd\x00-l\x00
	// -- proc/42/fd/3 -> socket:[21960] --
	// -- proc/net/tcp --
	//   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
	//    0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21960 1 0000000000000000 100 0 0 10 0
}
