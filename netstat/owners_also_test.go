package netstat

import (
	"context"
	"testing"

	"github.com/procnet/procnet/procmap"
	fixture "github.com/procnet/procnet/procnettest"
)

// TestListOwnedAlso: a narrowed owner pass keeps the inodes the caller
// lists beside the rows (netstat -lp's unix sockets), and only with them.
func TestListOwnedAlso(t *testing.T) {
	root := fixture.Root(t, "testdata/owned.txtar")
	f := Filter{RemotePorts: []uint16{0xD000}} // row 701 only: the walk narrows to it
	for _, also := range []map[uint64]bool{nil, {700: true}} {
		r := Reader{Root: root}
		rows, m, err := r.ListOwnedAlso(context.Background(), f, procmap.Options{}, also)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Inode != 701 || len(rows[0].Owners) != 1 {
			t.Fatalf("also %v: rows %+v", also, rows)
		}
		if got := m.Lookup(700); (len(got) > 0) != also[700] {
			t.Errorf("also %v: owners of 700 = %v", also, got)
		}
	}
}
