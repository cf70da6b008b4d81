package iface

import (
	"errors"
	"io/fs"
	"net"
	"strconv"
)

// readSysHW fills l's index, hardware type and addresses and transmit
// queue length from sys/class/net/NAME/{ifindex,type,address,broadcast,
// tx_queue_len}. A missing attribute leaves its field as it is; a value
// that cannot be parsed is a *ParseError naming the attribute's file.
func (r *Reader) readSysHW(l *Link) error {
	if !validName(l.Name) {
		return nil
	}
	dir := "sys/class/net/" + l.Name + "/"
	var errs []error
	read := func(attr string, parse func([]byte) bool) {
		v, err := r.attr(dir + attr)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			errs = append(errs, err)
		case !parse(v):
			errs = append(errs, &ParseError{File: dir + attr, Line: 1, Err: ErrSyntax})
		}
	}
	read("ifindex", func(v []byte) bool {
		n, ok := dec(v)
		l.Index = int(n)
		return ok && n <= 1<<31-1
	})
	read("type", func(v []byte) bool {
		n, ok := dec(v)
		l.Type = HWType(n)
		return ok && n <= 0xffff
	})
	read("tx_queue_len", func(v []byte) bool {
		n, ok := dec(v)
		if ok && n <= 1<<31-1 {
			l.TxQueueLen = int(n)
			return true
		}
		return false
	})
	read("address", func(v []byte) bool {
		var ok bool
		l.HardwareAddr, ok = parseHWAddr(v)
		return ok
	})
	read("broadcast", func(v []byte) bool {
		var ok bool
		l.Broadcast, ok = parseHWAddr(v)
		return ok
	})
	return errors.Join(errs...)
}

// parseHWAddr parses sysfs's "%*phC" address: hex bytes joined by
// colons, "" for none.
func parseHWAddr(v []byte) (net.HardwareAddr, bool) {
	if len(v) == 0 {
		return nil, true
	}
	if len(v)%3 != 2 || len(v) > 3*64 {
		return nil, false
	}
	a := make(net.HardwareAddr, 0, (len(v)+1)/3)
	for i := 0; i < len(v); i += 3 {
		if i+2 < len(v) && v[i+2] != ':' {
			return nil, false
		}
		h, ok := hex(v[i : i+2])
		if !ok {
			return nil, false
		}
		a = append(a, byte(h))
	}
	return a, true
}

// Sysfs returns the files of sys/class/net/NAME/ that hold l's link
// attributes, by name, as the kernel writes them: mtu, flags, operstate,
// carrier, ifindex, type, address, broadcast and (when known)
// tx_queue_len. A Reader of a root that holds them, and l's row in
// proc/net/dev, gives l back from Links (and its MTU and Flags from
// Interfaces). A capture of the live system writes these rather than
// copying /sys/class/net, which may show another network namespace.
//
// The flags file holds the device flags without the bits the kernel
// derives for SIOCGIFFLAGS: running, lower-up and dormant are written as
// operstate ("up", "dormant" or "down") and carrier instead.
func (l *Link) Sysfs() map[string]string {
	derived := FlagRunning | FlagLowerUp | FlagDormant
	oper := "down"
	switch {
	case l.Flags.Has(FlagRunning):
		oper = "up"
	case l.Flags.Has(FlagDormant):
		oper = "dormant"
	}
	carrier := "0"
	if l.Flags.Has(FlagLowerUp) {
		carrier = "1"
	}
	m := map[string]string{
		"mtu":       strconv.Itoa(l.MTU) + "\n",
		"flags":     "0x" + strconv.FormatUint(uint64(l.Flags&^derived), 16) + "\n",
		"operstate": oper + "\n",
		"carrier":   carrier + "\n",
		"ifindex":   strconv.Itoa(l.Index) + "\n",
		"type":      strconv.Itoa(int(l.Type)) + "\n",
		"address":   l.HardwareAddr.String() + "\n",
		"broadcast": l.Broadcast.String() + "\n",
	}
	if l.TxQueueLen >= 0 {
		m["tx_queue_len"] = strconv.Itoa(l.TxQueueLen) + "\n"
	}
	return m
}
