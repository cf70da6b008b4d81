package netstat

// The live capture of traffic counters: netlink is Linux's.

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// TestLiveTrafficCapture: the counters of live sockets, written by
// AppendTrafficFile next to a copy of the proc tables, are what a Reader of
// that copy gives those rows.
func TestLiveTrafficCapture(t *testing.T) {
	diagUsable(t)
	const up, down = 1000000, 123456
	client, server, _ := moveBytes(t, up, down)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	for _, name := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile("/proc/net/" + name)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "proc/net", name), b, 0o644)
	}
	var live Reader
	body, err := live.AppendTrafficFile(context.Background(), nil, Filter{Ports: []uint16{client.Port()}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "proc/net", TrafficFile), body, 0o644)
	rows, err := (&Reader{Root: root, Traffic: true}).AppendSockets(context.Background(), nil, Filter{Ports: []uint16{client.Port()}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[netip.AddrPort]Traffic{client: {BytesSent: up, BytesReceived: down}, server: {BytesSent: down, BytesReceived: up}}
	peer := map[netip.AddrPort]netip.AddrPort{client: server, server: client}
	for _, s := range rows {
		w, ok := want[s.Local]
		if !ok || s.Remote != peer[s.Local] || s.State != Established {
			continue // an older socket on a reused port (TIME_WAIT)
		}
		delete(want, s.Local)
		got := s.Traffic
		if !got.Known || got.BytesSent != w.BytesSent || got.BytesReceived != w.BytesReceived || got.SegsOut == 0 {
			t.Errorf("%v: replayed %+v, want %d sent, %d received", s.Local, got, w.BytesSent, w.BytesReceived)
		}
	}
	if len(want) != 0 {
		t.Errorf("not replayed: %v\n%s", want, body)
	}
}
