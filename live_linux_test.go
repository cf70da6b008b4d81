package procnet

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// TestLivePortOwners is a port query on our own loopback listener and its
// connection, with each owner source: the rows are those two sockets and
// the accepted one, every one owned by this process, and the snapshot
// describes no process that owns none of them (the owner pass was
// narrowed to the rows).
func TestLivePortOwners(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	mine := map[uint64]bool{
		fixture.SocketInode(t, ln.(*net.TCPListener)): true,
		fixture.SocketInode(t, c.(*net.TCPConn)):      true,
		fixture.SocketInode(t, a.(*net.TCPConn)):      true,
	}
	for _, src := range []procmap.Source{procmap.SourceProc, procmap.SourceBPF} {
		snap, err := Read(context.Background(), Options{
			Filter:      netstat.Filter{Protos: netstat.Protos(netstat.TCP), Ports: []uint16{port}},
			Owners:      true,
			OwnerSource: src,
		})
		if src == procmap.SourceBPF && errors.Is(err, procmap.ErrBPFUnavailable) {
			t.Log("BPF:", err)
			continue
		}
		if err != nil {
			t.Fatal(src, err)
		}
		seen := map[uint64]bool{}
		for _, o := range snap.Conns {
			seen[o.Inode] = true
			if len(o.Owners) != 1 || o.Owners[0].PID != os.Getpid() {
				t.Errorf("%v: %v %v: owners %v, want this process", src, o.Local, o.Remote, o.Owners)
			}
		}
		if diff := cmp.Diff(mine, seen); diff != "" {
			t.Errorf("%v: rows (-want +got):\n%s", src, diff)
		}
		if len(snap.Procs.Procs) != 1 || snap.Process(os.Getpid()) == nil {
			t.Errorf("%v: snapshot describes %d processes, want only this one", src, len(snap.Procs.Procs))
		}
	}
}
