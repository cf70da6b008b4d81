//go:build !linux

package netstat

import (
	"errors"
	"runtime"
)

// Netlink's sock_diag is Linux's: elsewhere SourceAuto reads proc (a
// fixture tree) and SourceNetlink reports ErrNoNetlink for each table it
// would read that way.

// ErrNoNetlink is a DiagError's reason on a system without netlink.
var ErrNoNetlink = errors.New("netlink sock_diag is Linux's, not " + runtime.GOOS + "'s")

type diagConn struct {
	off bool
}

// diagProto reports the tables netlink would give on Linux.
func diagProto(p Proto) (family, proto uint8, ok bool) {
	switch p {
	case TCP, TCP6, UDP, UDP6, UDPLite, UDPLite6:
		return 0, 0, true
	}
	return 0, 0, false
}

func (r *Reader) scanDiag(p Proto, f *Filter, yield func(Socket, error) bool) (done, cont bool) {
	if r.Source == SourceNetlink {
		return true, yield(Socket{}, &DiagError{Proto: p, Err: ErrNoNetlink})
	}
	r.diag.off = true
	return false, true
}
