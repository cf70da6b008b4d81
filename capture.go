package procnet

// capture.go writes fixture trees: the smallest tree from which a Reader
// with the same Options reads the same snapshot.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/procnet/procnet/iface"
	captree "github.com/procnet/procnet/internal/capture"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Capture writes into dir the smallest fixture tree from which a Reader
// with opts (and Root set to dir) reads the snapshot it reads from
// opts.Root: the tables, the namespace links, and the processes that own
// the sockets the options select, with their whole argv when
// opts.Cmdline is set. procnettest.Archive turns the tree into a txtar
// fixture; procnettest.Root materializes it again.
//
// It is Capturer.Capture with a zero Capturer.
func Capture(ctx context.Context, dir string, opts Options) error {
	var cp Capturer
	return cp.Capture(ctx, dir, opts, nil)
}

// Capturer says what a capture holds besides the sockets its Options
// select, and which owners' argv it keeps.
//
// The tree holds
//
//	proc/net/TABLE           the tables the options read (proc/PID/net/ of
//	                         one member per namespace with AllNamespaces or
//	                         NamespacePID), and Tables
//	proc/net/procnet-traffic the TCP byte counters, with Options.Traffic
//	                         (netstat.TrafficFile)
//	proc/self/ns/net         the namespace link, with the tables
//	proc/PID/ns/net, cgroup  each namespace member read
//	proc/PID/fd/N            a symlink "socket:[INODE]" for each fd holding
//	                         a socket the options select (with owners)
//	proc/PID/stat, status,   of those processes: only what procmap reads
//	comm, cmdline, ns/net    (name, start time, UID); cmdline is the comm
//	                         alone without Options.Cmdline
//	Files, Names             as found under the source root
//	sys/class/net/NAME/…     with Interfaces
//
// # Safety
//
// The files are opened and written safe as root: dir is opened once and
// written through that handle, one component at a time and never
// following links; files are made with O_EXCL; nothing is removed by
// path. As root, a dir owned by another user or writable by others is
// refused, and so is a dir that is not empty. The sources are read as
// the readers read them (regular files only, non-blocking, inside the
// source root) and each copy is bounded (256 MiB) and streamed, so memory
// stays flat. A file the readers would refuse (a directory, a FIFO, a
// device, a link loop, an oversized file) fails the capture; a missing
// one is left out, as the readers leave out a missing table.
type Capturer struct {
	// Tables are more files of each proc/net directory captured ("dev").
	Tables []string
	// Files are more files under the root, copied when present
	// ("proc/net/route", "proc/net/snmp").
	Files []string
	// Names are files their readers go without when they cannot read them
	// (etc/services, etc/hosts): copied when readable.
	Names []string
	// Interfaces captures proc/net/dev and, for each interface it lists,
	// the sysfs attributes iface reads for the flags and MTU;
	// InterfaceDetails also the hardware attributes and the files the
	// addresses come from (fib_trie, route, if_inet6). On the live system
	// the attributes come from rtnetlink, as iface reads them there.
	Interfaces, InterfaceDetails bool
	// FirstArgv keeps only argv[0] of each owner (what a program column
	// prints); ShownOwners keeps the argv of a socket's first owner only
	// (and of those the owner filter matches), the other owners' cmdline
	// left empty. The zero values keep every owner's whole argv.
	FirstArgv, ShownOwners bool

	// Procs is, after Capture, the source's owner walk (nil without
	// owners): its Denied counts the processes that refused their fds,
	// which the replay cannot tell.
	Procs *procmap.Map

	w    *captree.Writer
	src  string
	opts *Options
	err  error
}

// Capture writes the tree into dir, a new or empty directory whose parent
// exists. When replay is not nil it is called once the tree is written,
// with the root to read it back through (a handle on dir, so that a dir
// renamed or replaced meanwhile is not what is read), valid while replay
// runs; Capture returns its error.
func (cp *Capturer) Capture(ctx context.Context, dir string, opts Options, replay func(root string) error) error {
	opts.Filter = opts.Show.Filter(opts.Filter) // the tables' owners: of the rows Show can keep
	src := opts.Root
	if src == "" {
		src = "/"
	}
	w, err := captree.Create(dir, src)
	if err != nil {
		return err
	}
	defer w.Close()
	*cp = Capturer{Tables: cp.Tables, Files: cp.Files, Names: cp.Names,
		Interfaces: cp.Interfaces, InterfaceDetails: cp.InterfaceDetails,
		FirstArgv: cp.FirstArgv, ShownOwners: cp.ShownOwners,
		w: w, src: src, opts: &opts}
	defer func() { cp.w, cp.opts = nil, nil }()
	for _, f := range cp.Files {
		cp.copy(f)
	}
	if cp.Interfaces || cp.InterfaceDetails {
		cp.interfaces()
	}
	cp.sockets(ctx)
	for _, n := range cp.Names {
		if cp.err == nil {
			_, cp.err = w.CopyReadable(n)
		}
	}
	if cp.err == nil {
		cp.err = ctx.Err()
	}
	if cp.err != nil || replay == nil {
		return cp.err
	}
	return replay(w.Root())
}

// tables are the files of proc/net (or proc/PID/net) the options read.
func (cp *Capturer) tables() (names []string, inet bool) {
	ps := cp.opts.Filter.Protos
	if ps != netstat.ProtoSet(1) {
		for _, p := range netstat.AllProtos {
			if ps.Has(p) {
				names = append(names, p.String())
				inet = true
			}
		}
	}
	if cp.opts.Unix {
		names = append(names, "unix")
	}
	return append(names, cp.Tables...), inet
}

func (cp *Capturer) sockets(ctx context.Context) {
	o := cp.opts
	tables, inet := cp.tables()
	if len(tables) == 0 {
		return
	}
	var dirs []string // the table directories captured
	if o.nsMode() {
		var list []netstat.Namespace
		var err error
		if o.AllNamespaces {
			list, err = netstat.Namespaces(o.Root)
		} else {
			var ns netstat.Namespace
			ns, err = netstat.NamespaceOf(o.Root, o.NamespacePID)
			list = []netstat.Namespace{ns}
		}
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
		if o.Traffic && inet {
			cp.traffic(ctx, "proc/net/")
		}
		if cp.err == nil {
			_, cp.err = cp.w.CopyLink("proc/self/ns/net")
		}
		dirs = append(dirs, "proc/net")
	}
	if o.owners() && cp.err == nil {
		cp.owners(ctx, dirs, inet)
	}
}

// namespace captures one namespace's tables through the first member that
// is alive and still in it afterwards, and returns their directory.
func (cp *Capturer) namespace(ns netstat.Namespace, tables []string) string {
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
		now, err := netstat.NamespaceOf(cp.opts.Root, pid)
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

// owners captures the processes that hold the selected sockets of the
// captured tables (read back from the capture), from one full walk of
// the source.
func (cp *Capturer) owners(ctx context.Context, dirs []string, inet bool) {
	o := cp.opts
	inodes := map[uint64]bool{}
	for _, d := range dirs {
		r := netstat.Reader{Root: cp.w.Root()}
		if pid, ok := strings.CutPrefix(strings.TrimSuffix(d, "/net"), "proc/"); ok {
			r.PID, _ = strconv.Atoi(pid)
		}
		if inet {
			for s, err := range r.Sockets(ctx, o.Filter) {
				if err == nil && s.Inode != 0 {
					inodes[s.Inode] = true
				}
			}
		}
		if o.Unix {
			for u, err := range r.UnixSockets(ctx) {
				if err == nil && (o.Filter.Inodes == nil || o.Filter.Inodes[u.Inode]) {
					inodes[u.Inode] = true
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		cp.err = err
		return
	}
	if len(inodes) == 0 {
		return
	}
	m, err := procmap.Build(ctx, procmap.Options{Root: o.Root, Cmdline: o.Cmdline})
	if err != nil {
		cp.err = err
		return
	}
	cp.Procs = m
	matches := func(pid int) bool { return o.ownedBy([]procmap.Owner{{PID: pid}}, m) }
	shown := map[int]bool{}
	var pids []int
	for ino := range inodes {
		owners := m.Lookup(ino)
		if !o.ownedBy(owners, m) {
			continue // not a socket the options select
		}
		for i, w := range owners {
			p := "proc/" + strconv.Itoa(w.PID)
			cp.symlink(p+"/fd/"+strconv.Itoa(w.FD), "socket:["+strconv.FormatUint(ino, 10)+"]")
			pids = append(pids, w.PID)
			if i == 0 || !cp.ShownOwners || o.ownerFilter() && matches(w.PID) {
				shown[w.PID] = true
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
// comm, cmdline and the ns/net link.
func (cp *Capturer) process(p *procmap.Process, shown bool) {
	dir := "proc/" + strconv.Itoa(p.PID) + "/"
	stat := strconv.Itoa(p.PID) + " (" + p.Comm + ") S" + strings.Repeat(" 0", 18) +
		" " + strconv.FormatUint(p.StartTime, 10) + " 0 0\n"
	cp.write(dir+"stat", stat)
	u := strconv.FormatUint(uint64(p.UID), 10)
	cp.write(dir+"status", "Uid:\t"+u+"\t"+u+"\t"+u+"\t"+u+"\n")
	cp.write(dir+"comm", p.Comm+"\n")
	argv := p.Cmdline
	switch {
	case !cp.opts.Cmdline:
		argv = []string{p.Comm}
	case !shown:
		argv = nil
	case cp.FirstArgv && len(argv) > 1:
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
// sysfs attributes iface reads.
func (cp *Capturer) interfaces() {
	if !cp.copy("proc/net/dev") {
		return
	}
	attrs := []string{"mtu", "flags", "operstate", "carrier"}
	if cp.InterfaceDetails {
		for _, f := range []string{"proc/net/fib_trie", "proc/net/route", "proc/net/if_inet6"} {
			cp.copy(f)
		}
		attrs = append(attrs, "type", "address", "tx_queue_len")
	}
	if cp.src == "/" {
		// The live /sys/class/net may be another namespace's (nsenter -n):
		// write the links as iface reads them, over rtnetlink.
		if links, err := (&iface.Reader{}).Links(); err == nil {
			for i := range links {
				if n := links[i].Name; safeName(n) {
					for attr, body := range links[i].Sysfs() {
						cp.write("sys/class/net/"+n+"/"+attr, body)
					}
				}
			}
			return
		}
	}
	r := iface.Reader{Root: cp.w.Root(), CountersOnly: true}
	list, _ := r.Interfaces()
	for _, ifc := range list {
		if safeName(ifc.Name) {
			for _, a := range attrs {
				cp.copy("sys/class/net/" + ifc.Name + "/" + a)
			}
		}
	}
}

// safeName reports whether an interface name is one path component.
func safeName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.Contains(n, "/")
}

// copy copies the file rel from the source and reports whether it did.
func (cp *Capturer) copy(rel string) bool {
	if cp.err != nil {
		return false
	}
	ok, err := cp.w.Copy(rel)
	cp.err = err
	return ok
}

// traffic writes the traffic file (netstat.TrafficFile) next to the
// tables copied into dir: the proc text has no byte counters, and a
// Reader with Traffic under the captured root finds them there. Rows that
// cannot be parsed are left out (the copied tables keep them).
func (cp *Capturer) traffic(ctx context.Context, dir string) {
	if cp.err != nil {
		return
	}
	r := netstat.Reader{Root: cp.src}
	b, err := r.AppendTrafficFile(ctx, nil, cp.opts.Filter)
	if len(b) == 0 && err != nil {
		cp.err = err
		return
	}
	cp.write(dir+netstat.TrafficFile, string(b))
}

func (cp *Capturer) write(rel, body string) {
	if cp.err == nil {
		cp.err = cp.w.WriteFile(rel, []byte(body))
	}
}

// symlink makes the link rel; one already made (a process's ns/net, also
// a member's) is kept.
func (cp *Capturer) symlink(rel, target string) {
	if cp.err != nil {
		return
	}
	if err := cp.w.Symlink(rel, target); err != nil && !errors.Is(err, fs.ErrExist) {
		cp.err = err
	}
}

// Readable reports whether root holds a proc directory to read ("" or
// "/": the live system's), and if not, why.
func Readable(root string) error {
	if root == "" {
		root = "/"
	}
	p := filepath.Join(root, "proc")
	fi, err := os.Stat(p)
	if err == nil && !fi.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot read %s: %v", p, err)
	}
	return nil
}

// Require is the check of a replay over root of a capture made with cp:
// an error saying root lacks what when it holds none of cp.Files (and,
// with Interfaces, not proc/net/dev), as RequireAny; nil when cp names no
// such file, or for the live system. A command that builds one Capturer
// for a run captures and checks its replay from the one list.
func (cp *Capturer) Require(root, what string) error {
	names := slices.Clip(cp.Files)
	if cp.Interfaces {
		names = append(names, "proc/net/dev")
	}
	if len(names) == 0 {
		return nil
	}
	return RequireAny(root, what, names...)
}

// RequireAny returns an error when root holds none of the files names (a
// capture made for other options), saying it lacks what: a replay then
// reports what it lacks instead of printing an empty table. The live
// system ("" or "/") always has them.
func RequireAny(root, what string, names ...string) error {
	if root == "" || root == "/" {
		return nil
	}
	return captree.RequireAny(root, what, names...)
}
