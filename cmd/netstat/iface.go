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
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/procnet/procnet/iface"
)

// now stamps samples for --rate; tests replace it with a fake clock.
var now = time.Now

func interfaces(c *config, stdout, stderr io.Writer) error {
	l := &ifLister{c: c, r: iface.Reader{Root: c.root}, noStats: map[string]bool{}, reported: map[string]bool{}}
	if c.rate {
		return l.rates(stdout, stderr)
	}
	first := true
	return c.every(func() (bool, error) {
		list, err := l.read(stderr)
		if list == nil && err != nil {
			return true, err
		}
		switch {
		case c.json || c.csv:
			l.buf = l.appendRecords(l.buf[:0], list)
		case c.extend > 0:
			// -ie: net-tools' flag_exp of 2 or more is the long listing.
			links, lerr := l.readLong()
			err = cmp.Or(l.report(lerr, stderr), err)
			l.buf = l.appendLong(l.buf[:0], list, links, first)
		default:
			l.buf = l.appendTable(l.buf[:0], list, first)
		}
		first = false
		if _, werr := stdout.Write(l.buf); werr != nil {
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
	failed = cmp.Or(l.report(err, stderr), failed)
	clear(l.noStats)
	var added []string
	l.list, added = iface.AppendAliases(l.list, l.addrs)
	for _, n := range added {
		l.noStats[n] = true
	}
	shown := slices.DeleteFunc(iface.Sort(l.list), func(ifc iface.Interface) bool {
		return !l.c.all && !ifc.Flags.Has(iface.FlagUp)
	})
	return shown, failed
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
		b = fmt.Appendf(b, " %5d ", f.MTU)
		if l.noStats[f.Name] {
			b = pad(b, "     - no statistics available -", 56)
		} else {
			b = fmt.Appendf(b, "%8d %6d %6d %-6d %8d %6d %6d %6d ", f.RxPackets, f.RxErrs, f.RxDrop,
				f.RxFifo, f.TxPackets, f.TxErrs, f.TxDrop, f.TxFifo)
		}
		b = append(b, f.Flags.String()...)
		b = append(b, '\n')
	}
	return b
}

// appendRecords writes --json or --csv: one row per interface.
func (l *ifLister) appendRecords(b []byte, list []iface.Interface) []byte {
	if l.c.csv {
		b = appendHeader(b, ifFields(&iface.Interface{}))
	}
	for i := range list {
		if !l.noStats[list[i].Name] { // else an address's label, not an interface
			b = appendFields(b, ifFields(&list[i]), l.c.csv)
		}
	}
	return b
}

// ifFields are an interface's --json and --csv fields; mtu and flag_bits
// are null when unknown.
func ifFields(f *iface.Interface) []field {
	mtu, bits := field{key: "mtu"}, field{key: "flag_bits"}
	if f.HasLink || f.MTU != 0 {
		mtu.val = strconv.Itoa(f.MTU)
	}
	if f.HasLink || f.Flags != 0 {
		bits.val = strconv.FormatUint(uint64(f.Flags), 10)
	}
	c := &f.Counters
	return []field{textField("name", f.Name), mtu, textField("flags", f.Flags.String()), bits,
		uintField("rx_bytes", c.RxBytes), uintField("rx_packets", c.RxPackets),
		uintField("rx_errors", c.RxErrs), uintField("rx_dropped", c.RxDrop),
		uintField("rx_fifo", c.RxFifo), uintField("rx_frame", c.RxFrame),
		uintField("rx_compressed", c.RxCompressed), uintField("rx_multicast", c.RxMulticast),
		uintField("tx_bytes", c.TxBytes), uintField("tx_packets", c.TxPackets),
		uintField("tx_errors", c.TxErrs), uintField("tx_dropped", c.TxDrop),
		uintField("tx_fifo", c.TxFifo), uintField("tx_collisions", c.TxColls),
		uintField("tx_carrier", c.TxCarrier), uintField("tx_compressed", c.TxCompressed),
	}
}

// rates prints per-second throughput between samples: one table after
// the first interval (-c SECS, 1s without -c), then one per interval with
// -c. Errors and drops are the growth over the interval.
func (l *ifLister) rates(w io.Writer, stderr io.Writer) error {
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
		rs := slices.DeleteFunc(iface.Rates(prev, cur), func(r iface.Rate) bool {
			return !l.c.all && !r.Flags.Has(iface.FlagUp)
		})
		b := l.buf[:0]
		switch {
		case l.c.json || l.c.csv:
			if l.c.csv {
				b = appendHeader(b, rateFields(&iface.Rate{}))
			}
			for i := range rs {
				b = appendFields(b, rateFields(&rs[i]), l.c.csv)
			}
		default:
			b = appendRatesTable(b, rs)
		}
		l.buf = b
		if _, err := w.Write(b); err != nil {
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
func appendRatesTable(b []byte, rs []iface.Rate) []byte {
	secs := 0.0
	if len(rs) > 0 {
		secs = rs[0].Interval.Seconds()
	}
	b = fmt.Appendf(b, "Kernel Interface rates (per second over %.2fs)\n", secs)
	b = append(b, "Iface                 RX-B/s    RX-P/s       TX-B/s    TX-P/s RX-ERR RX-DRP TX-ERR TX-DRP Flg\n"...)
	for i := range rs {
		r := &rs[i]
		b = pad(b, cut(sanitize(r.Name), 15), 15)
		b = fmt.Appendf(b, "%13.1f%10.1f%13.1f%10.1f %6d %6d %6d %6d %s\n", r.RxBytes, r.RxPackets,
			r.TxBytes, r.TxPackets, r.Delta.RxErrs, r.Delta.RxDrop, r.Delta.TxErrs, r.Delta.TxDrop,
			r.Flags)
	}
	return b
}

// rateFields are a rate's --json and --csv fields.
func rateFields(r *iface.Rate) []field {
	return []field{textField("name", r.Name), floatField("interval_seconds", r.Interval.Seconds()),
		floatField("rx_bytes_per_second", r.RxBytes), floatField("rx_packets_per_second", r.RxPackets),
		floatField("tx_bytes_per_second", r.TxBytes), floatField("tx_packets_per_second", r.TxPackets),
		uintField("rx_errors", r.Delta.RxErrs), uintField("rx_dropped", r.Delta.RxDrop),
		uintField("tx_errors", r.Delta.TxErrs), uintField("tx_dropped", r.Delta.TxDrop),
	}
}
