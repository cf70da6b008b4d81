package main

// --all-netns and --netns PID: the sockets of other network namespaces.
//
// Each namespace's tables are read once, through one member process
// (proc/PID/net/…: the whole namespace's tables, whoever reads them), the
// lowest-numbered member that is still alive and still in the namespace
// once its tables are read. Owners come from one walk of every process
// per round: socket inodes are unique across namespaces.
//
// With --all-netns the table gains a leading column, NetNS: the
// namespace's inode, then "/" and the container hint when there is one
// (a container ID of 12 hex digits, an LXC name or a systemd unit, from
// the member's cgroup), cut to 24 columns without -W. With --netns the
// layout stays net-tools'. In JSON every object's "netns" is the inode of
// its namespace and, with either flag, "container" the hint (null when
// there is none).

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
	"github.com/spf13/pflag"
)

// beyondFlags are --all-netns, --netns, --capture, --format and
// --per-process.
type beyondFlags struct {
	allNetns   bool
	netnsPID   int    // --netns PID; 0 when not given
	capture    string // --capture DIR
	format     string // --format: "" (the default layouts) or "prometheus"
	perProcess bool   // --per-process: per-process series in --format prometheus
}

func (b *beyondFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&b.allNetns, "all-netns", false, "")
	fs.IntVar(&b.netnsPID, "netns", 0, "")
	fs.StringVar(&b.capture, "capture", "", "")
	fs.StringVar(&b.format, "format", "", "")
	fs.BoolVar(&b.perProcess, "per-process", false, "")
}

// check validates the flags once parsed.
func (b *beyondFlags) check(fs *pflag.FlagSet, c *config) error {
	if fs.Changed("netns") && b.netnsPID <= 0 {
		return usageError{"--netns: not a PID: " + strconv.Itoa(b.netnsPID)}
	}
	if b.allNetns && b.netnsPID > 0 {
		return usageError{"--all-netns and --netns exclude each other"}
	}
	switch b.format {
	case "", "table":
		b.format = ""
	case "json":
		c.json = true
		b.format = ""
	case "csv":
		c.csv = true
		b.format = ""
	case "prometheus":
		if c.json || c.csv {
			return usageError{"--format prometheus excludes --json and --csv"}
		}
		if c.route || c.interfaces || c.stats {
			return usageError{"--format prometheus goes with the socket listing, not -r, -i or -s"}
		}
		if c.continuous {
			return usageError{"--format prometheus prints one exposition: no -c"}
		}
	default:
		return usageError{"--format: unknown format " + strconv.Quote(b.format) + " (table, json, csv, prometheus)"}
	}
	if b.perProcess && b.format != "prometheus" {
		return usageError{"--per-process goes with --format prometheus"}
	}
	if (b.allNetns || b.netnsPID > 0) && (c.route || c.interfaces || c.stats) {
		return usageError{"--all-netns and --netns go with the socket listing, not -r, -i or -s"}
	}
	if b.capture != "" && (c.continuous || c.rate) {
		return usageError{"--capture takes one snapshot: no -c or --rate"}
	}
	return nil
}

// nsMode reports whether the listing goes through namespaces.
func (c *config) nsMode() bool { return c.allNetns || c.netnsPID > 0 }

// namespaces lists the namespaces to read: every one, or that of --netns.
func (c *config) namespaces() ([]netstat.Namespace, error) {
	list, _, err := c.namespacesSkipped()
	return list, err
}

// namespacesSkipped is namespaces and, for --all-netns, how many
// processes' namespaces were denied us.
func (c *config) namespacesSkipped() ([]netstat.Namespace, nsSkipped, error) {
	if c.allNetns {
		list, denied, err := netstat.NamespacesDenied(c.root)
		return list, nsSkipped{denied: denied}, err
	}
	ns, err := netstat.NamespaceOf(c.root, c.netnsPID)
	if err != nil {
		return nil, nsSkipped{}, err
	}
	return []netstat.Namespace{ns}, nsSkipped{}, nil
}

// nsSkipped is what --all-netns could not read.
type nsSkipped struct {
	// denied counts the processes whose namespace we may not know
	// (another user's, without root): a namespace only they are in is
	// not listed, and how many such there are cannot be told.
	denied int
	// unread lists the namespaces none of whose members' tables could be
	// read (all exited, or in a capture only as owners).
	unread []uint64
}

func (s nsSkipped) any() bool { return s.denied > 0 || len(s.unread) > 0 }

// report says on stderr what was left out and why.
func (s nsSkipped) report(stderr io.Writer) {
	if quiet(stderr) {
		return
	}
	if s.denied > 0 {
		fmt.Fprintf(stderr, "netstat: --all-netns: the network namespace of %d processes could not be read "+
			"(permission denied on proc/PID/ns/net: only their owner and root may read it); "+
			"namespaces only they are in are left out: run as root to see every namespace\n", s.denied)
	}
	if n := len(s.unread); n > 0 {
		fmt.Fprintf(stderr, "netstat: --all-netns: %d network namespaces left out: no member's tables could be read (proc/PID/net)", n)
		for i, ino := range s.unread {
			if i == 8 {
				io.WriteString(stderr, ", …")
				break
			}
			sep := ", "
			if i == 0 {
				sep = ": "
			}
			fmt.Fprintf(stderr, "%s%d", sep, ino)
		}
		io.WriteString(stderr, "\n")
	}
}

// readNamespaces is read for --all-netns and --netns: one read per
// namespace through a member, merged into one snapshot whose rows carry
// their namespace.
func (l *lister) readNamespaces(ctx context.Context, stderr io.Writer) (*snapshot, error) {
	c := l.c
	list, skipped, err := c.namespacesSkipped()
	if err != nil {
		return nil, err
	}
	defer func() { l.reader.PID, l.owners = 0, nil }()
	if c.needOwners() {
		// One walk for every namespace.
		m, err := procmap.Build(ctx, procmap.Options{Root: c.root, Cmdline: !c.noCmdline})
		if err != nil {
			return nil, err
		}
		l.owners = m
	}
	out := &snapshot{owners: l.owners}
	var failed error
	for i := range list {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ns := &list[i]
		out.spaces = append(out.spaces, ns)
		snap, err := l.readNamespace(ctx, ns, stderr)
		if snap == nil {
			return nil, err
		}
		if snap.spaces == nil && c.allNetns {
			skipped.unread = append(skipped.unread, ns.Inode)
		}
		if snap.spaces == nil && !c.allNetns {
			// --netns PID: that process was the only way in.
			return nil, fmt.Errorf("cannot read proc/%d/net: the process is gone, or it has no tables here", c.netnsPID)
		}
		if err != nil {
			failed = err
		}
		out.rows = append(out.rows, snap.rows...)
		out.unix = append(out.unix, snap.unix...)
		for range snap.rows {
			out.rowNS = append(out.rowNS, ns)
		}
		for range snap.unix {
			out.unixNS = append(out.unixNS, ns)
		}
		if snap.owners != nil {
			out.owners = snap.owners
		}
	}
	if len(list) == 1 {
		out.netns = list[0].Inode
	}
	skipped.report(stderr)
	return out, failed
}

// readNamespace reads one namespace's tables through the first member
// that is alive, and still in the namespace after the read. A namespace
// whose members all vanished gives an empty snapshot.
func (l *lister) readNamespace(ctx context.Context, ns *netstat.Namespace, stderr io.Writer) (*snapshot, error) {
	root := l.c.root
	for _, pid := range ns.PIDs {
		dir := filepath.Join(root, "proc", strconv.Itoa(pid))
		if fi, err := os.Stat(filepath.Join(dir, "net")); err != nil || !fi.IsDir() {
			continue // gone, or in a capture only as an owner
		}
		l.reader.PID = pid
		snap, err := l.read(ctx, stderr)
		if snap == nil {
			return nil, err
		}
		if now, err := netstat.NamespaceOf(root, pid); err != nil || now.Inode != ns.Inode {
			continue // exited (or left) while we read: its tables may be empty
		}
		ns.PID = pid
		snap.spaces = []*netstat.Namespace{ns} // read: the caller replaces it
		return snap, err
	}
	return &snapshot{}, nil // no member left: nothing read
}

// nsHeader is the title of the leading column of --all-netns.
func (l *lister) nsHeader(b []byte) []byte {
	if !l.c.allNetns {
		return b
	}
	return append(pad(b, "NetNS", 24), ' ')
}

// nsCell appends the leading column of --all-netns for row i.
func (l *lister) nsCell(b []byte, spaces []*netstat.Namespace, i int) []byte {
	var ns *netstat.Namespace
	if i < len(spaces) {
		ns = spaces[i]
	}
	return l.nsCellOf(b, ns)
}

// nsCellOf appends the leading column of --all-netns for ns (blank when
// nil).
func (l *lister) nsCellOf(b []byte, ns *netstat.Namespace) []byte {
	if !l.c.allNetns {
		return b
	}
	var s string
	if ns != nil {
		s = strconv.FormatUint(ns.Inode, 10)
		if ns.Container != "" {
			s += "/" + sanitize(ns.Container)
		}
	}
	if !l.c.wide {
		s = cut(s, 24)
	}
	return append(pad(b, s, 24), ' ')
}

// nsOf returns the namespace of row i (of the unix rows with unix set),
// nil outside --all-netns and --netns.
func (snap *snapshot) nsOf(i int, unix bool) *netstat.Namespace {
	spaces := snap.rowNS
	if unix {
		spaces = snap.unixNS
	}
	if i < len(spaces) {
		return spaces[i]
	}
	return nil
}

// appendNetNS appends the "netns" key, and "container" when the listing
// went through namespaces.
func (l *lister) appendNetNS(b []byte, snap *snapshot, ns *netstat.Namespace) []byte {
	b = appendKey(b, false, "netns")
	switch {
	case ns != nil:
		b = strconv.AppendUint(b, ns.Inode, 10)
	case snap.netns != 0:
		b = strconv.AppendUint(b, snap.netns, 10)
	default:
		b = append(b, "null"...)
	}
	if l.c.nsMode() {
		b = appendKey(b, false, "container")
		if ns != nil && ns.Container != "" {
			b = appendJSONString(b, ns.Container)
		} else {
			b = append(b, "null"...)
		}
	}
	return b
}

// walk is procmap.Build, or the round's walk when --all-netns made one.
func (l *lister) walk(ctx context.Context, opts procmap.Options) (*procmap.Map, error) {
	if l.owners != nil {
		return l.owners, nil
	}
	return procmap.Build(ctx, opts)
}
