package main

// --format prometheus: the Prometheus text exposition format (version
// 0.0.4), for node_exporter's textfile collector (docs/prometheus.md).
//
//	procnet_sockets{proto,state}                 gauge: sockets per table and
//	                                             state; every TCP state and
//	                                             UDP's UNCONN/ESTABLISHED are
//	                                             listed, 0 included, so a
//	                                             series does not vanish
//	procnet_listening{proto,address,port}        gauge: TCP listeners and bound
//	                                             unconnected UDP sockets per
//	                                             address and port (several
//	                                             with SO_REUSEPORT)
//	procnet_process_sockets{pid,program,state}   gauge, with --per-process:
//	                                             sockets each process holds
//	                                             (a shared socket counts for
//	                                             each of its processes)
//	procnet_interface_receive_bytes_total{iface} counters of proc/net/dev:
//	  …_receive_{bytes,packets,errors,drops,fifo,frame,compressed,multicast}_total
//	  …_transmit_{bytes,packets,errors,drops,fifo,collisions,carrier,compressed}_total
//	procnet_netns_info{netns,container}          gauge 1, with --all-netns or
//	                                             --netns: each namespace read
//	                                             (no PID label: the member read
//	                                             through changes from run to run)
//
// Every socket counts (as with -a) unless -l keeps the listeners only;
// the other filters (-t, -u, -4, --state, --port, --pid, …) apply. With
// --all-netns or --netns every series gains netns and container labels,
// and the interface counters are those of each namespace. Label values
// are escaped as the format requires and made valid UTF-8.

import (
	"bufio"
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/netstat"
)

// metricFamily is one metric family of the exposition.
type metricFamily struct {
	name, help, typ string
	samples         map[string]uint64 // label text ("{a=\"b\"}") -> value
}

func newMetricFamily(name, typ, help string) *metricFamily {
	return &metricFamily{name: name, help: help, typ: typ, samples: map[string]uint64{}}
}

// labels renders name="value" pairs in the order given.
func labels(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		escapeLabel(&b, kv[i+1])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// escapeLabel writes a label value as the text format wants it: \, " and
// newline escaped, invalid UTF-8 replaced by U+FFFD.
func escapeLabel(b *strings.Builder, s string) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(s[i])
		}
	}
}

// nsLabels are the netns and container labels of a namespace's series,
// none outside --all-netns and --netns.
func (c *config) nsLabels(ns *netstat.Namespace) []string {
	if !c.nsMode() || ns == nil {
		return nil
	}
	return []string{"netns", strconv.FormatUint(ns.Inode, 10), "container", ns.Container}
}

var tcpStates = []netstat.State{
	netstat.Established, netstat.SynSent, netstat.SynRecv, netstat.FinWait1, netstat.FinWait2,
	netstat.TimeWait, netstat.Close, netstat.CloseWait, netstat.LastAck, netstat.Listen,
	netstat.Closing, netstat.NewSynRecv,
}

// unixState is a unix socket's state label: LISTEN for a listener, else
// the kernel's name.
func unixState(u *netstat.UnixSocket) string {
	if u.Listening() {
		return "LISTEN"
	}
	return u.State.String()
}

func prometheus(c *config, stdout, stderr io.Writer) error {
	if !c.listening {
		c.all = true
	}
	if c.perProcess {
		c.programs = true
	}
	l := newLister(c)
	snap, err := l.read(context.TODO(), stderr) // ctx: the run's, once prometheus takes one
	if snap == nil {
		return err
	}
	if c.perProcess && snap.owners != nil && snap.owners.Denied > 0 {
		warnDenied(stderr, snap.owners)
	}
	socks := newMetricFamily("procnet_sockets", "gauge", "Sockets by protocol (the table under /proc/net) and state.")
	listening := newMetricFamily("procnet_listening", "gauge", "Listening TCP sockets and bound unconnected UDP sockets by protocol, local address and port.")
	perProc := newMetricFamily("procnet_process_sockets", "gauge", "Sockets held by each process, by state; a shared socket counts for each process.")
	nsInfo := newMetricFamily("procnet_netns_info", "gauge", "Network namespaces read, with the container hint.")

	// Zeros for the usual states, so a series is there before it counts.
	var spaces []*netstat.Namespace
	if c.nsMode() {
		spaces = snap.spaces
	} else {
		spaces = []*netstat.Namespace{nil}
	}
	ps := c.protos()
	for _, ns := range spaces {
		nl := c.nsLabels(ns)
		if ns != nil {
			nsInfo.samples[labels("netns", strconv.FormatUint(ns.Inode, 10), "container", ns.Container)] = 1
		}
		for _, p := range netstat.AllProtos {
			if !ps.Has(p) || ps == netstat.ProtoSet(1) || !c.inetWanted() {
				continue
			}
			var states []string
			switch {
			case p.IsTCP():
				for _, s := range tcpStates {
					states = append(states, s.String())
				}
			case p == netstat.UDP || p == netstat.UDP6:
				states = []string{"UNCONN", "ESTABLISHED"}
			}
			for _, s := range states {
				if c.states == 0 || c.states.Has(mustState(s)) {
					socks.samples[labels(append([]string{"proto", p.String(), "state", s}, nl...)...)] += 0
				}
			}
		}
	}

	perProcess := func(ownersPIDs []int, state string, nl []string) {
		for _, pid := range ownersPIDs {
			p := snap.owners.Process(pid)
			perProc.samples[labels(append([]string{"pid", strconv.Itoa(pid), "program", progName(p), "state", state}, nl...)...)]++
		}
	}
	for i := range snap.rows {
		r := &snap.rows[i]
		nl := c.nsLabels(snap.nsOf(i, false))
		state := jsonState(&r.Socket)
		socks.samples[labels(append([]string{"proto", r.Proto.String(), "state", state}, nl...)...)]++
		if isListener(&r.Socket) {
			listening.samples[labels(append([]string{"proto", r.Proto.String(),
				"address", r.Local.Addr().Unmap().String(), "port", strconv.Itoa(int(r.Local.Port()))}, nl...)...)]++
		}
		if c.perProcess && snap.owners != nil {
			perProcess(sortedPIDs(r.Owners), state, nl)
		}
	}
	for i := range snap.unix {
		u := &snap.unix[i]
		nl := c.nsLabels(snap.nsOf(i, true))
		state := unixState(u)
		socks.samples[labels(append([]string{"proto", "unix", "state", state}, nl...)...)]++
		if c.perProcess && snap.owners != nil {
			perProcess(sortedPIDs(snap.owners.Lookup(u.Inode)), state, nl)
		}
	}

	fams := []*metricFamily{socks, listening}
	if c.perProcess {
		fams = append(fams, perProc)
	}
	fams = append(fams, interfaceFamilies(c, spaces, stderr)...)
	if c.nsMode() {
		fams = append(fams, nsInfo)
	}
	w := bufio.NewWriterSize(stdout, 64<<10)
	for _, f := range fams {
		writeFamily(w, f)
	}
	if werr := w.Flush(); werr != nil {
		return werr
	}
	return err
}

// mustState is ParseState for the names this file spells itself.
func mustState(s string) netstat.State {
	if s == "UNCONN" {
		return netstat.Close
	}
	st, _ := netstat.ParseState(s)
	return st
}

// isListener reports a TCP listener, or a UDP (UDP-Lite) socket bound to a
// port and connected to no peer.
func isListener(s *netstat.Socket) bool {
	switch s.Proto {
	case netstat.TCP, netstat.TCP6:
		return s.State == netstat.Listen
	case netstat.UDP, netstat.UDP6, netstat.UDPLite, netstat.UDPLite6:
		return s.State == netstat.Close && s.Local.Port() != 0 && s.Remote.Addr().IsUnspecified()
	}
	return false
}

// interfaceFamilies reads proc/net/dev of each namespace (or the root's)
// into one counter family per column.
func interfaceFamilies(c *config, spaces []*netstat.Namespace, stderr io.Writer) []*metricFamily {
	type column struct {
		name, help string
		get        func(*iface.Counters) uint64
	}
	cols := []column{
		{"receive_bytes", "Bytes received", func(k *iface.Counters) uint64 { return k.RxBytes }},
		{"receive_packets", "Packets received", func(k *iface.Counters) uint64 { return k.RxPackets }},
		{"receive_errors", "Receive errors", func(k *iface.Counters) uint64 { return k.RxErrs }},
		{"receive_drops", "Received packets dropped", func(k *iface.Counters) uint64 { return k.RxDrop }},
		{"receive_fifo", "Receive FIFO overruns", func(k *iface.Counters) uint64 { return k.RxFifo }},
		{"receive_frame", "Receive framing errors", func(k *iface.Counters) uint64 { return k.RxFrame }},
		{"receive_compressed", "Compressed packets received", func(k *iface.Counters) uint64 { return k.RxCompressed }},
		{"receive_multicast", "Multicast packets received", func(k *iface.Counters) uint64 { return k.RxMulticast }},
		{"transmit_bytes", "Bytes sent", func(k *iface.Counters) uint64 { return k.TxBytes }},
		{"transmit_packets", "Packets sent", func(k *iface.Counters) uint64 { return k.TxPackets }},
		{"transmit_errors", "Transmit errors", func(k *iface.Counters) uint64 { return k.TxErrs }},
		{"transmit_drops", "Packets dropped on transmit", func(k *iface.Counters) uint64 { return k.TxDrop }},
		{"transmit_fifo", "Transmit FIFO overruns", func(k *iface.Counters) uint64 { return k.TxFifo }},
		{"transmit_collisions", "Collisions on transmit", func(k *iface.Counters) uint64 { return k.TxColls }},
		{"transmit_carrier", "Carrier losses on transmit", func(k *iface.Counters) uint64 { return k.TxCarrier }},
		{"transmit_compressed", "Compressed packets sent", func(k *iface.Counters) uint64 { return k.TxCompressed }},
	}
	fams := make([]*metricFamily, len(cols))
	for i, col := range cols {
		fams[i] = newMetricFamily("procnet_interface_"+col.name+"_total", "counter",
			col.help+" by the interface since it was created (/proc/net/dev).")
	}
	for _, ns := range spaces {
		r := iface.Reader{Root: c.root, CountersOnly: true}
		if ns != nil {
			r.PID = ns.PID
		}
		list, err := r.Interfaces()
		eachError(err, func(e error) { io.WriteString(stderr, "netstat: "+sanitize(e.Error())+"\n") })
		for _, ifc := range list {
			lv := labels(append([]string{"iface", ifc.Name}, c.nsLabels(ns)...)...)
			for i, col := range cols {
				fams[i].samples[lv] = col.get(&ifc.Counters)
			}
		}
	}
	return fams
}

// writeFamily writes HELP, TYPE and the samples sorted by labels; a
// family without samples is left out.
func writeFamily(w *bufio.Writer, f *metricFamily) {
	if len(f.samples) == 0 {
		return
	}
	w.WriteString("# HELP " + f.name + " " + f.help + "\n")
	w.WriteString("# TYPE " + f.name + " " + f.typ + "\n")
	keys := make([]string, 0, len(f.samples))
	for k := range f.samples {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var num [20]byte
	for _, k := range keys {
		w.WriteString(f.name)
		w.WriteString(k)
		w.WriteByte(' ')
		w.Write(strconv.AppendUint(num[:0], f.samples[k], 10))
		w.WriteByte('\n')
	}
}
