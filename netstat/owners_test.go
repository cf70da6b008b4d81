package netstat

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/procmap"
	fixture "github.com/procnet/procnet/procnettest"
)

func TestListOwned(t *testing.T) {
	root := fixture.Root(t, "testdata/owned.txtar")
	for _, tc := range []struct {
		name string
		f    Filter
	}{
		{"full walk", Filter{}},
		{"narrowed walk", Filter{Ports: []uint16{8080}}},
	} {
		r := Reader{Root: root}
		got, m, err := r.ListOwned(context.Background(), tc.f, procmap.Options{Cmdline: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		owners := map[uint64][]procmap.Owner{}
		for _, o := range got {
			owners[o.Inode] = o.Owners
		}
		want := map[uint64][]procmap.Owner{
			700: {{PID: 10, FD: 3}, {PID: 11, FD: 3}},
			701: {{PID: 10, FD: 4}},
			0:   nil,
		}
		if tc.name == "narrowed walk" {
			// The walk may stop once 700 has one owner; it must have 10.
			want[700] = append(owners[700][:0:0], owners[700]...)
			if len(owners[700]) == 0 || owners[700][0].PID != 10 {
				t.Errorf("%s: owners of 700 = %v", tc.name, owners[700])
			}
		}
		if diff := cmp.Diff(want, owners); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		if p := m.Process(10); p == nil || p.Comm != "server" || len(p.Cmdline) != 3 {
			t.Errorf("%s: process 10 = %+v", tc.name, p)
		}
	}
}
