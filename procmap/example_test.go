package procmap_test

import (
	"context"
	"fmt"
	"os"

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
