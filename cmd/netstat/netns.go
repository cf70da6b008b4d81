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
	"fmt"
	"io"
	"strconv"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/netstat"
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

// nsMode reports whether the listing goes through namespaces.
func (c *config) nsMode() bool { return c.allNetns || c.netnsPID > 0 }

// reportSkipped says on stderr what --all-netns left out and why.
func reportSkipped(stderr io.Writer, s procnet.Skipped) {
	for _, e := range splitJoined(s.Err()) {
		if !quiet(stderr) {
			fmt.Fprintf(stderr, "netstat: --all-netns: %v\n", e)
		}
	}
}

// nsHeader is the title of the leading column of --all-netns.
func (l *lister) nsHeader(b []byte) []byte {
	if !l.c.allNetns {
		return b
	}
	return append(pad(b, "NetNS", 24), ' ')
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

// appendNetNS appends the "netns" key, and "container" when the listing
// went through namespaces.
func (l *lister) appendNetNS(b []byte, ns *netstat.Namespace) []byte {
	b = appendKey(b, false, "netns")
	if ns != nil {
		b = strconv.AppendUint(b, ns.Inode, 10)
	} else {
		b = append(b, "null"...)
	}
	if l.c.nsMode() {
		b = appendKey(b, false, "container")
		if ns != nil && ns.Container != "" {
			b = escape.AppendJSON(b, ns.Container)
		} else {
			b = append(b, "null"...)
		}
	}
	return b
}
