package main

// -i: the interface table, as net-tools 2.10 prints it, and --rate.
// With -e (-ie, -i -e, -iee) the long, ifconfig-style listing
// (iface_long.go); --json and --csv are the same with or without -e.
//
// --json writes one object per interface the table shows (JSON Lines):
//
//	name          the interface name
//	mtu           the MTU (null when unknown)
//	flags         the Flg column ("BMRU")
//	flag_bits     the IFF_* bits as a number (null when unknown)
//	rx_bytes, rx_packets, rx_errors, rx_dropped, rx_fifo, rx_frame,
//	rx_compressed, rx_multicast, tx_bytes, tx_packets, tx_errors,
//	tx_dropped, tx_fifo, tx_collisions, tx_carrier, tx_compressed
//	              the 16 counters of proc/net/dev
//
// With --rate, one object per interface and interval instead:
//
//	name, interval_seconds,
//	rx_bytes_per_second, rx_packets_per_second,
//	tx_bytes_per_second, tx_packets_per_second,
//	rx_errors, rx_dropped, tx_errors, tx_dropped   (growth over the interval)
//
// The aliases that -i lists for labelled IPv4 addresses (eth0:1, no
// statistics) are not interfaces and are left out of --json and --csv.
//
// --csv writes a header row of the same keys, then one record per
// interface (or per interface and interval with --rate); an unknown mtu
// or flag_bits is an empty field.

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/procnet/procnet/iface"
)

// now stamps samples for --rate; tests replace it with a fake clock.
var now = time.Now

func interfaces(c *config, stdout, stderr io.Writer) error {
	w := bufio.NewWriterSize(stdout, 32<<10)
	l := &ifLister{c: c, r: iface.Reader{Root: c.root}}
	if c.rate {
		return l.rates(w, stderr)
	}
	first := true
	return c.every(func() (bool, error) {
		list, err := l.read(stderr)
		if list == nil && err != nil {
			return true, err
		}
		switch {
		case c.json:
			l.buf = l.appendJSON(l.buf[:0], list)
		case c.csv:
			l.buf = l.appendCSV(l.buf[:0], list)
		case c.extend > 0:
			// -ie: net-tools' flag_exp of 2 or more is the long listing.
			d, derr := l.readLong()
			if failed := l.report(derr, stderr); failed != nil {
				err = failed
			}
			l.buf = l.appendLong(l.buf[:0], list, d, first)
		default:
			l.buf = l.appendTable(l.buf[:0], list, first)
		}
		first = false
		if _, werr := w.Write(l.buf); werr != nil {
			return true, werr
		}
		if werr := w.Flush(); werr != nil {
			return true, werr
		}
		return false, err
	})
}

type ifLister struct {
	c     *config
	r     iface.Reader
	list  []iface.Interface
	addrs []iface.Addr
	// noStats holds the aliases the addresses add (below): rows without
	// counters.
	noStats map[string]bool
	// reported holds the errors printed this round.
	reported map[string]bool
	buf      []byte
}

// read returns the interfaces to show, in net-tools' order, with aliases
// given their parent's MTU and flags.
//
// As net-tools (if_readlist: /proc/net/dev, then SIOCGIFCONF), the rows
// are the interfaces of proc/net/dev and then every label of an IPv4
// address (eth0:1) that is not one of them: an alias, with its parent's
// MTU and flags and no statistics. Labels are known on the live system
// only (iface.Addr).
func (l *ifLister) read(stderr io.Writer) ([]iface.Interface, error) {
	clear(l.reported)
	var err error
	l.list, err = l.r.AppendInterfaces(l.list[:0])
	failed := l.report(err, stderr)
	if err != nil && l.list == nil && failed != nil {
		return nil, failed
	}
	l.addrs, err = l.r.Addrs()
	if f := l.report(err, stderr); f != nil {
		failed = f
	}
	clear(l.noStats)
	var added []string
	l.list, added = iface.AppendAliases(l.list, l.addrs)
	for _, n := range added {
		if l.noStats == nil {
			l.noStats = map[string]bool{}
		}
		l.noStats[n] = true
	}
	sorted := iface.Sort(l.list)
	out := sorted[:0]
	for _, ifc := range sorted {
		if l.c.all || ifc.Flags.Has(iface.FlagUp) {
			out = append(out, ifc)
		}
	}
	return out, failed
}

// report prints each error; only a failure to read (not a bad row) makes
// the exit status 1.
func (l *ifLister) report(err error, stderr io.Writer) error {
	var fresh []error
	for _, e := range splitJoined(err) {
		msg := e.Error()
		if l.reported[msg] {
			continue // -ie reads proc/net/dev twice under a root (Links)
		}
		if l.reported == nil {
			l.reported = map[string]bool{}
		}
		l.reported[msg] = true
		fresh = append(fresh, e)
	}
	return report(stderr, errors.Join(fresh...))
}

const ifHeader = "Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n"

// appendTable writes net-tools' short listing:
// "%-15.15s %5d %8llu %6lu %6lu %-6lu %8llu %6lu %6lu %6lu " then the
// flags. As net-tools, the title "Kernel Interface table" heads the first
// round of -c only; the column header, every round.
func (l *ifLister) appendTable(b []byte, list []iface.Interface, first bool) []byte {
	if first {
		b = append(b, "Kernel Interface table\n"...)
	}
	b = append(b, ifHeader...)
	for i := range list {
		f := &list[i]
		b = pad(b, cut(sanitize(f.Name), 15), 15)
		b = append(b, ' ')
		b = padInt(b, int64(f.MTU), 5, false)
		b = append(b, ' ')
		if l.noStats[f.Name] {
			b = pad(b, "     - no statistics available -", 56)
			b = append(b, f.Flags.String()...)
			b = append(b, '\n')
			continue
		}
		b = padNum(b, f.RxPackets, 8)
		b = append(b, ' ')
		b = padNum(b, f.RxErrs, 6)
		b = append(b, ' ')
		b = padNum(b, f.RxDrop, 6)
		b = append(b, ' ')
		b = pad(b, strconv.FormatUint(f.RxFifo, 10), 6)
		b = append(b, ' ')
		b = padNum(b, f.TxPackets, 8)
		b = append(b, ' ')
		b = padNum(b, f.TxErrs, 6)
		b = append(b, ' ')
		b = padNum(b, f.TxDrop, 6)
		b = append(b, ' ')
		b = padNum(b, f.TxFifo, 6)
		b = append(b, ' ')
		b = append(b, f.Flags.String()...)
		b = append(b, '\n')
	}
	return b
}

func (l *ifLister) appendJSON(b []byte, list []iface.Interface) []byte {
	for i := range list {
		f := &list[i]
		if l.noStats[f.Name] {
			continue // an address's label, not an interface
		}
		b = appendKey(append(b, '{'), true, "name")
		b = appendJSONString(b, f.Name)
		b = appendKey(b, false, "mtu")
		if f.HasLink || f.MTU != 0 {
			b = strconv.AppendInt(b, int64(f.MTU), 10)
		} else {
			b = append(b, "null"...)
		}
		b = appendKey(b, false, "flags")
		b = appendJSONString(b, f.Flags.String())
		b = appendKey(b, false, "flag_bits")
		if f.HasLink || f.Flags != 0 {
			b = strconv.AppendUint(b, uint64(f.Flags), 10)
		} else {
			b = append(b, "null"...)
		}
		for _, kv := range counterFields(&f.Counters) {
			b = appendKey(b, false, kv.name)
			b = strconv.AppendUint(b, kv.v, 10)
		}
		b = append(b, '}', '\n')
	}
	return b
}

func (l *ifLister) appendCSV(b []byte, list []iface.Interface) []byte {
	rec := []string{"name", "mtu", "flags", "flag_bits"}
	for _, kv := range counterFields(&iface.Counters{}) {
		rec = append(rec, kv.name)
	}
	b = appendCSV(b, rec)
	for i := range list {
		f := &list[i]
		if l.noStats[f.Name] {
			continue // an address's label, not an interface
		}
		mtu, bits := "", ""
		if f.HasLink || f.MTU != 0 {
			mtu = strconv.Itoa(f.MTU)
		}
		if f.HasLink || f.Flags != 0 {
			bits = strconv.FormatUint(uint64(f.Flags), 10)
		}
		rec = append(rec[:0], sanitize(f.Name), mtu, f.Flags.String(), bits)
		for _, kv := range counterFields(&f.Counters) {
			rec = append(rec, strconv.FormatUint(kv.v, 10))
		}
		b = appendCSV(b, rec)
	}
	return b
}

type counterField struct {
	name string
	v    uint64
}

func counterFields(c *iface.Counters) [16]counterField {
	return [16]counterField{
		{"rx_bytes", c.RxBytes}, {"rx_packets", c.RxPackets}, {"rx_errors", c.RxErrs},
		{"rx_dropped", c.RxDrop}, {"rx_fifo", c.RxFifo}, {"rx_frame", c.RxFrame},
		{"rx_compressed", c.RxCompressed}, {"rx_multicast", c.RxMulticast},
		{"tx_bytes", c.TxBytes}, {"tx_packets", c.TxPackets}, {"tx_errors", c.TxErrs},
		{"tx_dropped", c.TxDrop}, {"tx_fifo", c.TxFifo}, {"tx_collisions", c.TxColls},
		{"tx_carrier", c.TxCarrier}, {"tx_compressed", c.TxCompressed},
	}
}

// rates prints per-second throughput between samples: one table after
// the first interval (-c SECS, 1s without -c), then one per interval with
// -c. Errors and drops are the growth over the interval.
func (l *ifLister) rates(w *bufio.Writer, stderr io.Writer) error {
	interval := l.c.interval
	if interval <= 0 {
		interval = time.Second
	}
	prev, err := l.sample(stderr)
	if err != nil {
		return err
	}
	for {
		sleep(interval)
		cur, err := l.sample(stderr)
		if err != nil {
			return err
		}
		rs := iface.Rates(prev, cur)
		show := map[string]iface.Interface{}
		for _, ifc := range cur.Interfaces {
			show[ifc.Name] = ifc
		}
		b := l.buf[:0]
		switch {
		case l.c.json:
			b = appendRatesJSON(b, rs, show, l.c.all)
		case l.c.csv:
			b = appendRatesCSV(b, rs, show, l.c.all)
		default:
			b = appendRatesTable(b, rs, show, l.c.all)
		}
		l.buf = b
		if _, err := w.Write(b); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if !l.c.continuous {
			return nil
		}
		prev = cur
	}
}

func (l *ifLister) sample(stderr io.Writer) (iface.Sample, error) {
	list, err := l.r.AppendInterfaces(nil)
	if failed := l.report(err, stderr); failed != nil && list == nil {
		return iface.Sample{}, failed
	}
	list, _ = iface.AppendAliases(list, nil) // the old kernels' alias rows
	return iface.Sample{Time: now(), Interfaces: iface.Sort(list)}, nil
}

// appendRatesTable writes the --rate layout:
//
//	Kernel Interface rates (per second over 1.00s)
//	Iface                 RX-B/s    RX-P/s       TX-B/s    TX-P/s RX-ERR RX-DRP TX-ERR TX-DRP Flg
func appendRatesTable(b []byte, rs []iface.Rate, show map[string]iface.Interface, all bool) []byte {
	secs := 0.0
	if len(rs) > 0 {
		secs = rs[0].Interval.Seconds()
	}
	b = append(b, "Kernel Interface rates (per second over "...)
	b = strconv.AppendFloat(b, secs, 'f', 2, 64)
	b = append(b, "s)\n"...)
	b = append(b, "Iface                 RX-B/s    RX-P/s       TX-B/s    TX-P/s RX-ERR RX-DRP TX-ERR TX-DRP Flg\n"...)
	for i := range rs {
		r := &rs[i]
		ifc := show[r.Name]
		if !all && !ifc.Flags.Has(iface.FlagUp) {
			continue
		}
		b = pad(b, cut(sanitize(r.Name), 15), 15)
		b = appendRate(b, r.RxBytes, 13)
		b = appendRate(b, r.RxPackets, 10)
		b = appendRate(b, r.TxBytes, 13)
		b = appendRate(b, r.TxPackets, 10)
		for _, v := range []uint64{r.Delta.RxErrs, r.Delta.RxDrop, r.Delta.TxErrs, r.Delta.TxDrop} {
			b = append(b, ' ')
			b = padNum(b, v, 6)
		}
		b = append(b, ' ')
		b = append(b, ifc.Flags.String()...)
		b = append(b, '\n')
	}
	return b
}

// appendRate appends " " and v with one decimal, right-aligned in width-1.
func appendRate(b []byte, v float64, width int) []byte {
	var tmp [32]byte
	d := strconv.AppendFloat(tmp[:0], v, 'f', 1, 64)
	for i := len(d); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, d...)
}

func appendRatesJSON(b []byte, rs []iface.Rate, show map[string]iface.Interface, all bool) []byte {
	for i := range rs {
		r := &rs[i]
		if !all && !show[r.Name].Flags.Has(iface.FlagUp) {
			continue
		}
		b = appendKey(append(b, '{'), true, "name")
		b = appendJSONString(b, r.Name)
		b = appendKey(b, false, "interval_seconds")
		b = strconv.AppendFloat(b, r.Interval.Seconds(), 'f', -1, 64)
		for _, kv := range []struct {
			k string
			v float64
		}{{"rx_bytes_per_second", r.RxBytes}, {"rx_packets_per_second", r.RxPackets},
			{"tx_bytes_per_second", r.TxBytes}, {"tx_packets_per_second", r.TxPackets}} {
			b = appendKey(b, false, kv.k)
			b = strconv.AppendFloat(b, kv.v, 'f', -1, 64)
		}
		for _, kv := range []counterField{{"rx_errors", r.Delta.RxErrs}, {"rx_dropped", r.Delta.RxDrop},
			{"tx_errors", r.Delta.TxErrs}, {"tx_dropped", r.Delta.TxDrop}} {
			b = appendKey(b, false, kv.name)
			b = strconv.AppendUint(b, kv.v, 10)
		}
		b = append(b, '}', '\n')
	}
	return b
}

func appendRatesCSV(b []byte, rs []iface.Rate, show map[string]iface.Interface, all bool) []byte {
	b = appendCSV(b, []string{"name", "interval_seconds", "rx_bytes_per_second", "rx_packets_per_second",
		"tx_bytes_per_second", "tx_packets_per_second", "rx_errors", "rx_dropped", "tx_errors", "tx_dropped"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	for i := range rs {
		r := &rs[i]
		if !all && !show[r.Name].Flags.Has(iface.FlagUp) {
			continue
		}
		b = appendCSV(b, []string{sanitize(r.Name), f(r.Interval.Seconds()), f(r.RxBytes), f(r.RxPackets),
			f(r.TxBytes), f(r.TxPackets), u(r.Delta.RxErrs), u(r.Delta.RxDrop), u(r.Delta.TxErrs), u(r.Delta.TxDrop)})
	}
	return b
}
