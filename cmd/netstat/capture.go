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
// Symlinks are real symlinks in DIR; txtar (and fixture.Root) writes them
// as "-- proc/42/fd/3 -> socket:[1234] --". Reverse DNS is not captured:
// use -n (or etc/hosts) for a replay that prints the same.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// capturer copies files from a root (the live system or a fixture) into a
// new fixture tree.
type capturer struct {
	c   *config
	src *os.Root
	dst string
	err error
	// walk is the source's owner walk, for its Denied count: the replay
	// cannot tell processes that refused their fds.
	walk *procmap.Map
}

// capture writes the tree under c.capture, then runs the command over it.
func capture(c *config, stdout, stderr io.Writer) error {
	dir := c.capture
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return fmt.Errorf("--capture: %s is not empty", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "proc"), 0o755); err != nil {
		return fmt.Errorf("--capture: %v", err)
	}
	src, err := os.OpenRoot(c.root)
	if err != nil {
		return fmt.Errorf("--capture: %v", err)
	}
	defer src.Close()
	cp := &capturer{c: c, src: src, dst: dir}
	switch {
	case c.route:
		cp.copyAll("proc/net/route", "proc/net/ipv6_route")
		if !c.numHosts {
			cp.copyAll("etc/networks", "etc/hosts")
		}
	case c.interfaces:
		cp.interfaces(c.extend > 0 && !c.json && !c.csv)
	case c.stats:
		cp.copyAll("proc/net/snmp", "proc/net/netstat", "proc/net/snmp6")
	default:
		cp.sockets()
	}
	if cp.err != nil {
		return fmt.Errorf("--capture: %v", cp.err)
	}
	if cp.walk != nil && cp.walk.Denied > 0 && c.programs {
		warnDenied(stderr, cp.walk) // the source's warning; the replay has none
	}
	c.root, c.capture = dir, ""
	return c.run(stdout, stderr)
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
	if c.unix {
		names = append(names, "unix")
	}
	if c.format == "prometheus" {
		names = append(names, "dev")
	}
	return names
}

func (cp *capturer) sockets() {
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
		for _, t := range tables {
			cp.copy("proc/net/" + t)
		}
		cp.link("proc/self/ns/net")
		dirs = append(dirs, "proc/net")
	}
	if !c.numPorts {
		cp.copyAll("etc/services")
	}
	if !c.numHosts {
		cp.copyAll("etc/hosts")
	}
	if !c.numUsers || c.json {
		cp.copyAll("etc/passwd")
	}
	if c.needOwners() || c.perProcess {
		cp.owners(dirs)
	}
}

// namespace captures one namespace's tables through the first member that
// is alive and still in it afterwards, and returns their directory.
func (cp *capturer) namespace(ns netstat.Namespace, tables []string) string {
	for _, pid := range ns.PIDs {
		p := "proc/" + strconv.Itoa(pid)
		if fi, err := cp.src.Stat(p + "/net"); err != nil || !fi.IsDir() {
			continue
		}
		for _, t := range tables {
			cp.copy(p + "/net/" + t)
		}
		now, err := netstat.NamespaceOf(cp.c.root, pid)
		if err != nil || now.Inode != ns.Inode {
			os.RemoveAll(filepath.Join(cp.dst, p))
			continue
		}
		cp.symlink(p+"/ns/net", "net:["+strconv.FormatUint(ns.Inode, 10)+"]")
		cp.copy(p + "/cgroup")
		return p + "/net"
	}
	return ""
}

// owners captures the processes that hold the sockets of the captured
// tables that pass the flags' filters (the --pid and --program filters
// aside, which need them), from one full walk of the source.
func (cp *capturer) owners(dirs []string) {
	c := cp.c
	inodes := map[uint64]bool{}
	f := c.filter()
	for _, d := range dirs {
		r := netstat.Reader{Root: cp.dst}
		if pid, ok := strings.CutPrefix(strings.TrimSuffix(d, "/net"), "proc/"); ok {
			r.PID, _ = strconv.Atoi(pid)
		}
		if c.inetWanted() {
			for s, err := range r.Sockets(context.Background(), f) {
				if err == nil && s.Inode != 0 {
					inodes[s.Inode] = true
				}
			}
		}
		if c.unix {
			for u, err := range r.UnixSockets(context.Background()) {
				if err == nil {
					inodes[u.Inode] = true
				}
			}
		}
	}
	if len(inodes) == 0 {
		return
	}
	m, err := procmap.Build(context.Background(), procmap.Options{Root: c.root, Cmdline: !c.noCmdline})
	if err != nil {
		cp.err = err
		return
	}
	cp.walk = m
	var pids []int
	for ino := range inodes {
		for _, o := range m.Lookup(ino) {
			p := "proc/" + strconv.Itoa(o.PID)
			cp.symlink(p+"/fd/"+strconv.Itoa(o.FD), "socket:["+strconv.FormatUint(ino, 10)+"]")
			pids = append(pids, o.PID)
		}
	}
	slices.Sort(pids)
	for _, pid := range slices.Compact(pids) {
		if p := m.Process(pid); p != nil {
			cp.process(p)
		}
	}
}

// process writes what procmap reads of p, and nothing more: stat with the
// name and start time (other fields zero), status with the Uid line,
// comm, cmdline (comm alone with --no-cmdline) and the ns/net link.
func (cp *capturer) process(p *procmap.Process) {
	dir := "proc/" + strconv.Itoa(p.PID) + "/"
	stat := strconv.Itoa(p.PID) + " (" + p.Comm + ") S" + strings.Repeat(" 0", 18) +
		" " + strconv.FormatUint(p.StartTime, 10) + " 0 0\n"
	cp.write(dir+"stat", stat)
	u := strconv.FormatUint(uint64(p.UID), 10)
	cp.write(dir+"status", "Uid:\t"+u+"\t"+u+"\t"+u+"\t"+u+"\n")
	cp.write(dir+"comm", p.Comm+"\n")
	argv := p.Cmdline
	if cp.c.noCmdline {
		argv = []string{p.Comm}
	}
	cmdline := ""
	if len(argv) > 0 {
		cmdline = strings.Join(argv, "\x00") + "\x00"
	}
	cp.write(dir+"cmdline", cmdline)
	if p.NetNS != 0 {
		if _, err := os.Lstat(filepath.Join(cp.dst, dir+"ns/net")); err != nil {
			cp.symlink(dir+"ns/net", "net:["+strconv.FormatUint(p.NetNS, 10)+"]")
		}
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

// copy copies the file rel from the source, if it can be read, and
// reports whether it did. A file that cannot be read is left out: the
// replay then misses it as the kernel's missing tables are missed.
func (cp *capturer) copy(rel string) bool {
	b, err := cp.src.ReadFile(rel)
	if err != nil {
		return false
	}
	cp.write(rel, string(b))
	return cp.err == nil
}

// link copies the symlink rel (its text, not what it points to).
func (cp *capturer) link(rel string) {
	target, err := os.Readlink(filepath.Join(cp.c.root, rel))
	if err != nil {
		return
	}
	cp.symlink(rel, target)
}

// place returns where rel goes in the capture, its directory made, or ""
// once the capture has failed.
func (cp *capturer) place(rel string) string {
	if cp.err != nil {
		return ""
	}
	p := filepath.Join(cp.dst, rel)
	if cp.err = os.MkdirAll(filepath.Dir(p), 0o755); cp.err != nil {
		return ""
	}
	return p
}

func (cp *capturer) write(rel, body string) {
	if p := cp.place(rel); p != "" {
		cp.err = os.WriteFile(p, []byte(body), 0o644)
	}
}

func (cp *capturer) symlink(rel, target string) {
	p := cp.place(rel)
	if p == "" {
		return
	}
	if err := os.Symlink(target, p); err != nil && !errors.Is(err, fs.ErrExist) {
		cp.err = err
	}
}
