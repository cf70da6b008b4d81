package iface

import (
	"errors"
	"io/fs"
	"net"
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
