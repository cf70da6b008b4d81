package main

// --capture DIR: write the smallest fixture tree from which
// `netstat --root DIR` with the same flags prints what this run prints.
//
// The files are captured first, then the command runs over DIR as over
// any root, so what it prints is exactly what a replay prints: nothing
// is read twice from a system that changes in between. The tree holds
//
//	proc/net/TABLE           the socket tables the flags read (proc/PID/net/
//	                         with --netns and --all-netns, through the
//	                         member read), proc/net/dev for -i and
//	                         --format prometheus, route files for -r,
//	                         snmp, netstat and snmp6 for -s
//	proc/self/ns/net         the namespace link ("netns" in JSON)
//	proc/PID/ns/net, cgroup  each namespace member read (--all-netns)
//	proc/PID/fd/N            a symlink "socket:[INODE]" for each fd that
//	                         holds a socket of the captured tables (with
//	                         -p, --pid, --program, --per-process, --summary)
//	proc/PID/stat, status,   of those processes: only what procmap reads
//	comm, cmdline, ns/net    (name, start time, UID); cmdline is the comm
//	                         alone with --no-cmdline
//	sys/class/net/NAME/      mtu, flags, operstate, carrier for -i (and
//	                         type, address, tx_queue_len for -ie, with
//	                         proc/net/fib_trie, route and if_inet6)
//	etc/services, hosts,     when names are printed
//	passwd, networks
//
// Symlinks are real symlinks in DIR; txtar (and procnettest.Root) writes
// them as "-- proc/42/fd/3 -> socket:[1234] --". Reverse DNS is not
// captured: use -n (or etc/hosts) for a replay that prints the same.
//
// The files are opened and written by internal/capture, safe as root: DIR
// is opened once and written through that handle, never following links.
// A capture holds only what the run shows: the owners of the shown
// sockets, with their argv only where the output prints it (argv[0] for
// the program column, all of it for --json).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/procnet/procnet/iface"
	captree "github.com/procnet/procnet/internal/capture"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// capturer decides which files of a root (the live system or a fixture)
// go into a new fixture tree; w copies and writes them.
type capturer struct {
	c   *config
	w   *captree.Writer
	dst string
	err error
	// walk is the source's owner walk, for its Denied count: the replay
	// cannot tell processes that refused their fds.
	walk *procmap.Map
}

// capture writes the tree under c.capture, then runs the command over it.
func capture(ctx context.Context, c *config, stdout, stderr io.Writer) error {
	dir := c.capture
	w, err := captree.Create(dir, c.root)
	if err != nil {
		return fmt.Errorf("--capture: %v", err)
	}
	defer w.Close()
	cp := &capturer{c: c, w: w, dst: w.Root()} // read back through the handle
	switch {
	case c.route:
		cp.copyAll("proc/net/route", "proc/net/ipv6_route")
		if !c.numHosts {
			cp.names("etc/networks", "etc/hosts")
		}
	case c.interfaces:
		cp.interfaces(c.extend > 0 && !c.json && !c.csv)
	case c.stats:
		cp.copyAll("proc/net/snmp", "proc/net/netstat", "proc/net/snmp6")
	default:
		cp.sockets(ctx)
	}
	if cp.err != nil {
		return fmt.Errorf("--capture: %v", cp.err)
	}
	if cp.walk != nil && cp.walk.Denied > 0 && c.programs {
		warnDenied(stderr, cp.walk) // the source's warning; the replay has none
	}
	// The replay reads what was written: through the handle, not by a
	// name someone could since have pointed elsewhere.
	c.root, c.capture = w.Root(), ""
	return c.run(ctx, stdout, stderr)
}

// tables are the files under proc/net (or proc/PID/net) the flags read.
func (cp *capturer) tables() []string {
	c := cp.c
	var names []string
	ps := c.protos()
	for _, p := range netstat.AllProtos {
		if ps.Has(p) && ps != netstat.ProtoSet(1) {
			names = append(names, p.String())
		}
	}
	if c.unix && !c.summary {
		names = append(names, "unix")
	}
	if c.format == "prometheus" {
		names = append(names, "dev")
	}
	return names
}

func (cp *capturer) sockets(ctx context.Context) {
	c := cp.c
	tables := cp.tables()
	var dirs []string // the table directories captured
	if c.nsMode() {
		list, err := c.namespaces()
		if err != nil {
			cp.err = err
			return
		}
		for _, ns := range list {
			if d := cp.namespace(ns, tables); d != "" {
				dirs = append(dirs, d)
			}
		}
	} else {
		cp.copyAll(prefixed("proc/net/", tables)...)
		if c.traffic {
			cp.trafficFile(ctx, "proc/net/") // traffic.go
		}
		cp.link("proc/self/ns/net")
		dirs = append(dirs, "proc/net")
	}
	if !c.numPorts {
		cp.names("etc/services")
	}
	if !c.numHosts {
		cp.names("etc/hosts")
	}
	if !c.numUsers || c.json {
		cp.names("etc/passwd")
	}
	if c.needOwners() || c.perProcess || c.summary && c.by == "process" {
		cp.owners(ctx, dirs)
	}
}

func prefixed(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = dir + n
	}
	return out
}

// namespace captures one namespace's tables through the first member that
// is alive and still in it afterwards, and returns their directory.
func (cp *capturer) namespace(ns netstat.Namespace, tables []string) string {
	for _, pid := range ns.PIDs {
		if cp.err != nil {
			return ""
		}
		p := "proc/" + strconv.Itoa(pid)
		var copied []string
		for _, t := range tables {
			if cp.copy(p + "/net/" + t) {
				copied = append(copied, p+"/net/"+t)
			}
		}
		if cp.err != nil || len(copied) == 0 {
			continue // gone, or not a member with tables
		}
		now, err := netstat.NamespaceOf(cp.c.root, pid)
		if err != nil || now.Inode != ns.Inode {
			for _, f := range copied { // what this capture just wrote
				if err := cp.w.Discard(f); err != nil && cp.err == nil {
					cp.err = err
				}
			}
			continue
		}
		cp.symlink(p+"/ns/net", "net:["+strconv.FormatUint(ns.Inode, 10)+"]")
		cp.copy(p + "/cgroup")
		return p + "/net"
	}
	return ""
}

// owners captures the processes that hold the sockets the run shows: those
// of the captured tables that pass the flags' filters, --pid and
// --program included, from one full walk of the source.
func (cp *capturer) owners(ctx context.Context, dirs []string) {
	c := cp.c
	inodes := map[uint64]bool{}
	f := c.filter()
	for _, d := range dirs {
		r := netstat.Reader{Root: cp.dst}
		if pid, ok := strings.CutPrefix(strings.TrimSuffix(d, "/net"), "proc/"); ok {
			r.PID, _ = strconv.Atoi(pid)
		}
		if c.inetWanted() {
			for s, err := range r.Sockets(ctx, f) {
				if err == nil && s.Inode != 0 {
					inodes[s.Inode] = true
				}
			}
		}
		if c.unix && !c.summary {
			for u, err := range r.UnixSockets(ctx) {
				if err == nil {
					inodes[u.Inode] = true
				}
			}
		}
	}
	if len(inodes) == 0 {
		return
	}
	m, err := procmap.Build(ctx, procmap.Options{Root: c.root, Cmdline: !c.noCmdline})
	if err != nil {
		cp.err = err
		return
	}
	cp.walk = m
	byFilter := c.pid >= 0 || c.program != ""
	matches := func(pid int) bool {
		return c.pid >= 0 && pid == c.pid || c.program != "" && progMatches(m.Process(pid), c.program)
	}
	// shown: the processes whose name the output prints. A table or CSV
	// names a socket's first owner and counts the others; --json,
	// --per-process and --summary (a row per owning process) name every
	// owner.
	all := c.json || c.perProcess || c.summary
	shown := map[int]bool{}
	var pids []int
	for ino := range inodes {
		owners := m.Lookup(ino)
		if byFilter && !slices.ContainsFunc(owners, func(o procmap.Owner) bool { return matches(o.PID) }) {
			continue // not a socket the run shows
		}
		for i, o := range owners {
			p := "proc/" + strconv.Itoa(o.PID)
			cp.symlink(p+"/fd/"+strconv.Itoa(o.FD), "socket:["+strconv.FormatUint(ino, 10)+"]")
			pids = append(pids, o.PID)
			if i == 0 || all || byFilter && matches(o.PID) {
				shown[o.PID] = true
			}
		}
	}
	slices.Sort(pids)
	for _, pid := range slices.Compact(pids) {
		if p := m.Process(pid); p != nil {
			cp.process(p, shown[pid])
		}
	}
}

// process writes what procmap reads of p, and nothing more: stat with the
// name and start time (other fields zero), status with the Uid line,
// comm, cmdline and the ns/net link. cmdline holds what the output
// prints: all of argv for --json, argv[0] for the program column of a
// shown process, nothing for one only counted ("+1"); with --no-cmdline
// the comm alone, as procmap then reports it.
func (cp *capturer) process(p *procmap.Process, shown bool) {
	dir := "proc/" + strconv.Itoa(p.PID) + "/"
	stat := strconv.Itoa(p.PID) + " (" + p.Comm + ") S" + strings.Repeat(" 0", 18) +
		" " + strconv.FormatUint(p.StartTime, 10) + " 0 0\n"
	cp.write(dir+"stat", stat)
	u := strconv.FormatUint(uint64(p.UID), 10)
	cp.write(dir+"status", "Uid:\t"+u+"\t"+u+"\t"+u+"\t"+u+"\n")
	cp.write(dir+"comm", p.Comm+"\n")
	argv := p.Cmdline
	switch {
	case cp.c.noCmdline:
		argv = []string{p.Comm}
	case !shown:
		argv = nil
	case !cp.c.json && len(argv) > 1:
		argv = argv[:1]
	}
	cmdline := ""
	if len(argv) > 0 {
		cmdline = strings.Join(argv, "\x00") + "\x00"
	}
	cp.write(dir+"cmdline", cmdline)
	if p.NetNS != 0 {
		cp.symlink(dir+"ns/net", "net:["+strconv.FormatUint(p.NetNS, 10)+"]")
	}
}

// interfaces captures proc/net/dev and, for each interface it lists, the
// sysfs attributes iface reads; with long (-ie, iface_long.go) also the
// addresses' sources and the hardware attributes.
func (cp *capturer) interfaces(long bool) {
	if !cp.copy("proc/net/dev") {
		return
	}
	attrs := []string{"mtu", "flags", "operstate", "carrier"}
	if long {
		cp.copyAll("proc/net/fib_trie", "proc/net/route", "proc/net/if_inet6")
		attrs = append(attrs, "type", "address", "tx_queue_len")
	}
	if cp.c.root == "" || cp.c.root == "/" {
		// The live /sys/class/net may be another namespace's (nsenter -n):
		// write the links the run read, over rtnetlink, as sysfs files.
		if links, err := (&iface.Reader{}).Links(); err == nil {
			for i := range links {
				if n := links[i].Name; n != "" && n != "." && n != ".." && !strings.Contains(n, "/") {
					for attr, body := range links[i].Sysfs() {
						cp.write("sys/class/net/"+n+"/"+attr, body)
					}
				}
			}
			return
		}
	}
	r := iface.Reader{Root: cp.dst, CountersOnly: true}
	list, _ := r.Interfaces()
	for _, ifc := range list {
		if ifc.Name == "" || ifc.Name == "." || ifc.Name == ".." || strings.Contains(ifc.Name, "/") {
			continue
		}
		for _, a := range attrs {
			cp.copy("sys/class/net/" + ifc.Name + "/" + a)
		}
	}
}

// copyAll copies each file that exists.
func (cp *capturer) copyAll(names ...string) {
	for _, n := range names {
		cp.copy(n)
	}
}

// names copies etc/ files, which the name lookups read when they can and
// go without when they cannot: so does the capture.
func (cp *capturer) names(files ...string) {
	for _, n := range files {
		if cp.err != nil {
			return
		}
		_, cp.err = cp.w.CopyReadable(n)
	}
}

// copy copies the file rel from the source and reports whether it did. A
// missing file is left out, as the readers leave out the kernel's missing
// tables; any other failure (a directory, a FIFO, a device, a link loop,
// an unreadable or oversized file) fails the capture, as the plain run
// reports it.
func (cp *capturer) copy(rel string) bool {
	if cp.err != nil {
		return false
	}
	ok, err := cp.w.Copy(rel)
	cp.err = err
	return ok
}

// link copies the symlink rel (its text, not what it points to).
func (cp *capturer) link(rel string) {
	if cp.err == nil {
		_, cp.err = cp.w.CopyLink(rel)
	}
}

func (cp *capturer) write(rel, body string) {
	if cp.err == nil {
		cp.err = cp.w.WriteFile(rel, []byte(body))
	}
}

// symlink makes the link rel; one already made (a process's ns/net, also
// a member's) is kept.
func (cp *capturer) symlink(rel, target string) {
	if cp.err != nil {
		return
	}
	if err := cp.w.Symlink(rel, target); err != nil && !errors.Is(err, fs.ErrExist) {
		cp.err = err
	}
}

// replayable reports a root that holds none of the files -r, -i or -s
// read — a capture made for other flags — which would otherwise print an
// empty table and exit 0. The live system always has them.
func (c *config) replayable() error {
	if c.root == "" || c.root == "/" {
		return nil
	}
	switch {
	case c.route:
		var names []string
		for _, f := range c.routeFamilies() {
			switch f {
			case "inet":
				names = append(names, "proc/net/route")
			case "inet6":
				names = append(names, "proc/net/ipv6_route")
			}
		}
		if len(names) == 0 {
			return nil
		}
		return captree.RequireAny(c.root, "routing table", names...)
	case c.interfaces:
		return captree.RequireAny(c.root, "interface table", "proc/net/dev")
	case c.stats:
		return captree.RequireAny(c.root, "statistics", "proc/net/snmp", "proc/net/netstat", "proc/net/snmp6")
	}
	return nil
}
