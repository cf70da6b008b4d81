package main

// -i: the interface table, as net-tools 2.10 prints it, and --rate.
// With -e (-ie, -i -e, -iee) the long, ifconfig-style listing
// (iface_long.go). iface.Reader.List gives the rows and their addresses;
// this file only renders them.
//
// --json and --csv (the same with or without -e) write one object or
// record per interface, or per interface and interval with --rate; their
// keys are listed in README.md ("-i --json"). The aliases that -i lists
// for labelled IPv4 addresses (eth0:1, no statistics) are not interfaces
// and are left out of them.

import (
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
	r := &iface.Reader{Root: c.root}
	if c.rate {
		return rates(c, stdout, stderr)
	}
	// -ie: net-tools' flag_exp of 2 or more is the long listing.
	long := c.extend > 0 && !c.json && !c.csv
	opts := iface.ListOptions{All: c.all, Links: long}
	var b []byte
	first := true
	return c.every(func() (bool, error) {
		list, err := r.List(opts)
		failed := report(stderr, err) // only a failure to read, not a bad row, is exit status 1
		if list == nil && failed != nil {
			return true, failed
		}
		switch {
		case c.json || c.csv:
			list = slices.DeleteFunc(list, func(e iface.Entry) bool { return e.Alias })
			b = appendRecords(b[:0], c.csv, list, ifFields)
		case long:
			b = appendLong(b[:0], list, first)
		default:
			b = appendIfTable(b[:0], list, first)
		}
		first = false
		if _, werr := stdout.Write(b); werr != nil {
			return true, werr
		}
		return false, failed
	})
}

const ifHeader = "Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n"

// appendIfTable writes net-tools' short listing:
// "%-15.15s %5d %8llu %6lu %6lu %-6lu %8llu %6lu %6lu %6lu " then the
// flags. As net-tools, the title "Kernel Interface table" heads the first
// round of -c only; the column header, every round.
func appendIfTable(b []byte, list []iface.Entry, first bool) []byte {
	if first {
		b = append(b, "Kernel Interface table\n"...)
	}
	b = append(b, ifHeader...)
	for i := range list {
		f := &list[i]
		b = pad(b, cut(sanitize(f.Name), 15), 15)
		b = fmt.Appendf(b, " %5d ", f.MTU)
		if f.Alias {
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

// appendRecords writes rows as --json objects or, with asCSV, as CSV
// records under a header row of their keys: the one form of -i, --rate
// and -r.
func appendRecords[T any](b []byte, asCSV bool, rows []T, fields func(*T) []field) []byte {
	if asCSV {
		var zero T
		b = appendHeader(b, fields(&zero))
	}
	for i := range rows {
		b = appendFields(b, fields(&rows[i]), asCSV)
	}
	return b
}

// ifFields are an interface's --json and --csv fields; mtu and flag_bits
// are null when unknown.
func ifFields(f *iface.Entry) []field {
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
// -c. Errors and drops are the growth over the interval. Each error is
// printed once, not once per sample; only a failure to read with no
// interface to show ends it.
func rates(c *config, w, stderr io.Writer) error {
	m := &iface.Meter{Reader: iface.Reader{Root: c.root}, All: c.all, Now: now}
	seen := map[string]bool{}
	read := func() ([]iface.Rate, error) {
		s, rs, err := m.Read()
		var fresh []error
		for _, e := range splitJoined(err) {
			if !seen[e.Error()] {
				seen[e.Error()] = true
				fresh = append(fresh, e)
			}
		}
		if failed := report(stderr, errors.Join(fresh...)); failed != nil && s.Interfaces == nil {
			return nil, failed
		}
		return rs, nil
	}
	if _, err := read(); err != nil {
		return err
	}
	if c.interval > 0 {
		sleep(c.interval)
	} else {
		sleep(time.Second)
	}
	var b []byte
	return c.every(func() (bool, error) {
		rs, err := read()
		if err != nil {
			return true, err
		}
		if c.json || c.csv {
			b = appendRecords(b[:0], c.csv, rs, rateFields)
		} else {
			b = appendRatesTable(b[:0], rs)
		}
		_, err = w.Write(b)
		return err != nil, err
	})
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
