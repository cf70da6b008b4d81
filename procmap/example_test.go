package procmap_test

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/procnet/procnet/procmap"
	"github.com/procnet/procnet/procnettest"
	"golang.org/x/tools/txtar"
)

func Example() {
	// A fixture tree stands in for the live system (Root: "" reads /proc).
	root, _ := os.MkdirTemp("", "procmap-example")
	defer os.RemoveAll(root)
	procnettest.Write(root, txtar.Parse([]byte(`
-- proc/100/stat --
100 (nginx) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0
-- proc/100/fd/6 -> socket:[5000] --
-- proc/200/stat --
200 (nginx) S 100 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5100 0 0
-- proc/200/fd/6 -> socket:[5000] --
-- proc/200/fd/7 -> /dev/null --
`)))
	m, err := procmap.Build(context.Background(), procmap.Options{Root: root})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range m.Lookup(5000) {
		fmt.Printf("%d/%s fd %d\n", o.PID, m.Procs[o.PID].Comm, o.FD)
	}
	// Output:
	// 100/nginx fd 6
	// 200/nginx fd 6
}

func ExampleTracker() {
	root, _ := os.MkdirTemp("", "procmap-example")
	defer os.RemoveAll(root)
	procnettest.Write(root, txtar.Parse([]byte(`
-- proc/100/stat --
100 (nginx) S 1 100 100 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0
-- proc/100/fd/6 -> socket:[5000] --
-- proc/100/fd/8 -> socket:[5002] --
`)))
	tr := procmap.NewTracker(procmap.Options{Root: root})
	// Each round, the inodes of the socket tables just read: any
	// iter.Seq[uint64], here a slice's (0 and repeats are ignored).
	for _, round := range [][]uint64{{5000, 5001, 5002}, {5000, 5001, 0, 5000}} {
		m, err := tr.Refresh(context.Background(), slices.Values(round))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(len(m.Owners), "owned:", m.Lookup(5000), m.Lookup(5002))
	}
	// Output:
	// 2 owned: [{100 6}] [{100 8}]
	// 1 owned: [{100 6}] []
}
