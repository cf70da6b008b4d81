package procnet_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procnettest"
	"golang.org/x/tools/txtar"
)

// root materializes a txtar fixture: a tree holding proc/ as a captured
// system would. Use Root: "" to read the live system instead.
func root(name string) string {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "procnet-example")
	if err != nil {
		log.Fatal(err)
	}
	if err := procnettest.Write(dir, txtar.Parse(data)); err != nil {
		log.Fatal(err)
	}
	return dir
}

// Every socket of every network namespace, with its owners and the
// container it runs in.
func Example() {
	dir := root("netns.txtar")
	defer os.RemoveAll(dir)

	snap, err := procnet.Read(context.Background(), procnet.Options{
		Root:          dir,
		Owners:        true,
		AllNamespaces: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range snap.Conns {
		who := "-"
		if len(c.Owners) > 0 {
			pid := c.Owners[0].PID
			who = fmt.Sprintf("%d/%s", pid, snap.Process(pid).Name())
			if n := len(c.Owners); n > 1 {
				who += fmt.Sprintf(" (+%d)", n-1)
			}
		}
		fmt.Printf("%-14s %-21s %-21s %-11s %s\n", c.Namespace.Container, c.Local, c.Remote, c.State, who)
	}
	// Output:
	// init.scope     0.0.0.0:80            0.0.0.0:0             LISTEN      120/nginx
	// init.scope     127.0.0.1:631         0.0.0.0:0             LISTEN      -
	// 3f4e5d6c7b8a   0.0.0.0:80            0.0.0.0:0             LISTEN      300/nginx (+1)
	// 3f4e5d6c7b8a   172.17.0.2:80         172.17.0.1:54321      ESTABLISHED 301/nginx
	// a1b2c3d4e5f6   0.0.0.0:6379          0.0.0.0:0             LISTEN      410/redis-server
	// a1b2c3d4e5f6   127.0.0.1:6379        127.0.0.1:40000       ESTABLISHED 410/redis-server
	// a1b2c3d4e5f6   127.0.0.1:40000       127.0.0.1:6379        TIME_WAIT   -
}

// Connections per program, as `netstat --summary --by program` counts
// them. The listener on :80 that two nginx processes share counts once
// in nginx's group.
func ExampleSnapshot_Count() {
	dir := root("netns.txtar")
	defer os.RemoveAll(dir)

	snap, err := procnet.Read(context.Background(), procnet.Options{Root: dir, Owners: true, AllNamespaces: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range snap.Count(procnet.ByProgram) {
		name := g.Program
		if name == "" {
			name = "(no owner)"
		}
		fmt.Printf("%-14s established %d listening %d total %d\n", name, g.Established(), g.States[netstat.Listen], g.Total)
	}
	total := snap.Total()
	fmt.Printf("%-14s established %d listening %d total %d\n", "all", total.Established(), total.States[netstat.Listen], total.Total)
	// Output:
	// nginx          established 1 listening 2 total 3
	// redis-server   established 1 listening 1 total 2
	// (no owner)     established 0 listening 1 total 2
	// all            established 2 listening 4 total 7
}

// A Poller reports what changed between two polls: here a connection
// opened, and one fell to TIME_WAIT, keeping its owner.
func ExamplePoller() {
	dir := root("netns.txtar")
	defer os.RemoveAll(dir)
	p := procnet.NewPoller(procnet.Options{Root: dir, Owners: true, NamespacePID: 300})
	ctx := context.Background()
	if _, _, err := p.Poll(ctx); err != nil {
		log.Fatal(err)
	}

	// Meanwhile, in the container: the client of 172.17.0.2:80 closed
	// first, and another one connected.
	tcp := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5001 1 0000000000000000 100 0 0 10 0\n" +
		"   1: 020011AC:0050 010011AC:D431 06 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 100 0 0 10 0\n" +
		"   2: 020011AC:0050 030011AC:D432 01 00000000:00000000 00:00000000 00000000   101        0 5003 1 0000000000000000 100 0 0 10 0\n"
	if err := os.WriteFile(filepath.Join(dir, "proc/300/net/tcp"), []byte(tcp), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.Symlink("socket:[5003]", filepath.Join(dir, "proc/301/fd/8")); err != nil {
		log.Fatal(err)
	}

	snap, changes, err := p.Poll(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, i := range changes.New {
		c := snap.Conns[i]
		fmt.Println("new", c.Local, c.Remote, c.State, "pid", c.Owners[0].PID)
	}
	for _, ch := range changes.Changed {
		c := snap.Conns[ch.Index]
		fmt.Println("changed", c.Local, c.Remote, ch.Was, "->", c.State, "pid", c.Owners[0].PID)
	}
	for _, c := range changes.Closed {
		fmt.Println("closed", c.Local, c.Remote)
	}
	// Output:
	// new 172.17.0.2:80 172.17.0.3:54322 ESTABLISHED pid 301
	// changed 172.17.0.2:80 172.17.0.1:54321 ESTABLISHED -> TIME_WAIT pid 301
}

// A Stream reads the owners once, then the rows one at a time: memory
// stays flat however many sockets there are, as for `netstat -tanpx`.
func ExampleReader_Stream() {
	dir := root("netns.txtar")
	defer os.RemoveAll(dir)

	r := procnet.NewReader(procnet.Options{Root: dir, Owners: true, NamespacePID: 1})
	st, err := r.Stream(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for c, err := range st.Conns() {
		if err != nil {
			log.Print(err) // a bad row; the stream goes on
			continue
		}
		fmt.Println(c.Proto, c.Local, c.State, len(c.Owners), "owner(s)")
	}
	for u, err := range st.Unix() {
		if err != nil {
			log.Print(err)
			continue
		}
		for _, o := range u.Owners {
			fmt.Println("unix", u.Path, st.Process(o.PID).Name())
		}
	}
	// Output:
	// tcp 0.0.0.0:80 LISTEN 1 owner(s)
	// tcp 127.0.0.1:631 LISTEN 0 owner(s)
	// unix /run/systemd/private systemd
}

// A capture of a root (here a fixture; "" for the live system) holds the
// files the options read and nothing else; as a txtar archive it is a
// fixture for golden tests, which procnettest.Root materializes again.
func ExampleCapture() {
	src := root("netns.txtar")
	defer os.RemoveAll(src)
	tmp, err := os.MkdirTemp("", "procnet-capture")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	ctx := context.Background()
	opts := procnet.Options{Root: src, Owners: true, Cmdline: true, AllNamespaces: true}
	dir := filepath.Join(tmp, "capture")
	if err := procnet.Capture(ctx, dir, opts); err != nil {
		log.Fatal(err)
	}
	ar, err := procnettest.Archive(dir) // what a test would keep in testdata
	if err != nil {
		log.Fatal(err)
	}
	replay := filepath.Join(tmp, "replay") // what procnettest.Root(t, …) does
	if err := procnettest.Write(replay, ar); err != nil {
		log.Fatal(err)
	}

	before, err := procnet.Read(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	opts.Root = replay
	after, err := procnet.Read(ctx, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(ar.Files) > 0, len(after.Conns) == len(before.Conns))
	for i, c := range after.Conns {
		b := before.Conns[i]
		same := c.Socket == b.Socket && slices.Equal(c.Owners, b.Owners) && c.Namespace.Inode == b.Namespace.Inode
		for _, o := range c.Owners {
			same = same && after.Process(o.PID).Name() == before.Process(o.PID).Name()
		}
		if !same {
			fmt.Println("differs:", c.Local, c.Remote)
		}
	}
	// Output:
	// true true
}
