package iface

import (
	"errors"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// rtnlBufSize holds any dump datagram: the kernel sends at most 32 KiB
// (or a page, whichever is larger) unless one message needs more, which
// MSG_TRUNC would report.
const rtnlBufSize = 64 << 10

var rtnlSeq atomic.Uint32

// dump sends one dump request (nlmsghdr of type typ followed by body) on
// a new NETLINK_ROUTE socket of the caller's network namespace and
// returns the reply's datagrams, up to and including NLMSG_DONE.
func dump(typ uint16, body []byte) (dgrams [][]byte, seq uint32, err error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, 0, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	// A dump ends with NLMSG_DONE; should it never come, give up.
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, 0, os.NewSyscallError("setsockopt", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, 0, os.NewSyscallError("bind", err)
	}
	seq = rtnlSeq.Add(1)
	req := make([]byte, nlmsgHdrLen+len(body))
	ne.PutUint32(req[0:4], uint32(len(req)))
	ne.PutUint16(req[4:6], typ)
	ne.PutUint16(req[6:8], nlmFRequest|nlmFDump)
	ne.PutUint32(req[8:12], seq)
	copy(req[nlmsgHdrLen:], body)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, 0, os.NewSyscallError("sendto", err)
	}
	buf := make([]byte, rtnlBufSize)
	for {
		n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, os.NewSyscallError("recvmsg", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return nil, 0, errNLShort
		}
		d := append([]byte(nil), buf[:n]...)
		dgrams = append(dgrams, d)
		done, err := nlMessages(d, seq, func(uint16, uint16, []byte) error { return nil })
		if err != nil || done {
			return dgrams, seq, nil // decode reports err with its context
		}
	}
}

// dumpLinks reads every link of the caller's network namespace. A dump
// interrupted by a concurrent change is tried again, up to three times.
func dumpLinks() ([]Link, error) {
	var body [ifinfoLen]byte
	body[0] = unix.AF_UNSPEC
	for try := 0; ; try++ {
		dg, seq, err := dump(rtmGetLink, body[:])
		if err != nil {
			return nil, &NetlinkError{Op: "RTM_GETLINK", Err: err}
		}
		links, err := decodeLinkDump(dg, seq)
		if err != nil && try < 3 && errors.Is(err, errNLIntr) {
			continue
		}
		return links, err
	}
}

// dumpAddrs reads every address of the caller's network namespace, and
// its links for their names.
func dumpAddrs() ([]Addr, error) {
	links, lerr := dumpLinks()
	if lerr != nil && links == nil {
		return nil, lerr
	}
	var body [ifaddrLen]byte
	body[0] = unix.AF_UNSPEC
	for try := 0; ; try++ {
		dg, seq, err := dump(rtmGetAddr, body[:])
		if err != nil {
			return nil, &NetlinkError{Op: "RTM_GETADDR", Err: err}
		}
		addrs, err := decodeAddrDump(dg, seq, links)
		if err != nil && try < 3 && errors.Is(err, errNLIntr) {
			continue
		}
		// ifconfig's order of IPv6 addresses: proc/net/if_inet6 is the
		// caller's namespace's too (proc/net is proc/self/net).
		if file, ferr := readIfPresent("/", "proc/net/if_inet6", parseIfInet6); ferr == nil {
			orderLike6(addrs, file)
		}
		return addrs, errors.Join(appendErr(appendErr(nil, lerr), err)...)
	}
}
