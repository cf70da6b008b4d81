package flows

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/procnet/procnet/netstat"
)

// The destroy source: the sock_diag multicast groups that announce every
// TCP socket the kernel frees (linux/sock_diag.h), each with an
// inet_diag_msg and its tcp_info. Joining them needs CAP_NET_ADMIN.
const (
	grpTCP4Destroy = 1 // SKNLGRP_INET_TCP_DESTROY
	grpTCP6Destroy = 3 // SKNLGRP_INET6_TCP_DESTROY
	nlmsgHdrLen    = 16
)

// destroySocket opens a NETLINK_SOCK_DIAG socket joined to the TCP
// destroy groups, as an *os.File whose reads the runtime's poller
// serves, so that Close unblocks them.
func destroySocket() (*os.File, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: bind: %w", ErrUnavailable, err)
	}
	for _, g := range []int{grpTCP4Destroy, grpTCP6Destroy} {
		if err := unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, g); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("%w: join destroy group %d: %w", ErrUnavailable, g, err)
		}
	}
	// Bursts of closes come faster than a reader wakes: a deep queue.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	return os.NewFile(uintptr(fd), "sock_diag destroy"), nil
}

// parseDestroy decodes one datagram of destroy notifications, calling fn
// for each TCP socket.
func parseDestroy(b []byte, fn func(netstat.Socket)) error {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return errors.New("flows: truncated netlink message")
		}
		l := ne.Uint32(b)
		if l < nlmsgHdrLen || uint64(l) > uint64(len(b)) {
			return errors.New("flows: bad netlink message length")
		}
		typ, payload := ne.Uint16(b[4:]), b[nlmsgHdrLen:l]
		next := min((uint64(l)+3)&^3, uint64(len(b)))
		b = b[next:]
		if typ != unix.SOCK_DIAG_BY_FAMILY {
			continue
		}
		if len(payload) < 1 {
			return errors.New("flows: empty sock_diag message")
		}
		p := netstat.TCP
		if payload[0] == unix.AF_INET6 {
			p = netstat.TCP6
		}
		s, err := netstat.ParseDiag(p, payload)
		if err != nil {
			return fmt.Errorf("flows: destroy notification: %w", err)
		}
		fn(s)
	}
	return nil
}

// startDestroy starts the destroy source.
func (f *Feed) startDestroy() error {
	file, err := destroySocket()
	if err != nil {
		return err
	}
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return err
	}
	sc := newScanner()
	sc.scan(time.Now(), nil, nil)
	f.closeSrc = func() { file.Close() }
	type batch struct {
		socks []netstat.Socket
		err   error
		at    time.Time
	}
	msgs := make(chan batch, 64)
	// The reader: datagrams to sockets, as fast as they come.
	go func() {
		defer close(msgs)
		buf := make([]byte, 64<<10)
		for {
			var n int
			var rerr error
			err := rc.Read(func(fd uintptr) bool {
				n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
				return rerr != unix.EAGAIN
			})
			if err != nil {
				return // closed
			}
			var bt batch
			bt.at = time.Now()
			switch {
			case rerr == unix.ENOBUFS:
				f.lost.Add(1)
				continue
			case rerr != nil:
				bt.err = fmt.Errorf("flows: destroy notifications: %w", rerr)
			default:
				bt.err = parseDestroy(buf[:n], func(s netstat.Socket) { bt.socks = append(bt.socks, s) })
			}
			select {
			case msgs <- bt:
			case <-f.stop:
				return
			}
		}
	}()
	// Connections a scan found gone (or in TIME_WAIT) before their
	// notification was read: kept a while for their owner.
	type goneConn struct {
		c  seenConn
		at time.Time
	}
	gone := map[connKey]goneConn{}
	f.run(func() {
		t := time.NewTicker(f.opts.Interval)
		defer t.Stop()
		for {
			select {
			case <-f.stop:
				return
			case now := <-t.C:
				var out []Event
				for k, g := range gone {
					if now.Sub(g.at) > 2*f.opts.Interval+time.Second {
						delete(gone, k)
					}
				}
				sc.scan(now, func(k connKey, c seenConn) {
					out = append(out, sc.event(Open, k, c, now))
				}, func(k connKey, c seenConn) {
					gone[k] = goneConn{c, now}
				})
				for _, ev := range out {
					if !f.send(item{ev: ev}) {
						return
					}
				}
			case bt, ok := <-msgs:
				if !ok {
					return
				}
				if bt.err != nil && !f.send(item{err: bt.err}) {
					return
				}
				for i := range bt.socks {
					s := &bt.socks[i]
					if s.State == netstat.Listen || s.Remote.Port() == 0 {
						continue
					}
					k := connKey{s.Local, s.Remote}
					c, known := sc.conns[k]
					if g, ok := gone[k]; !known && ok {
						c, known = g.c, true
						delete(gone, k)
					}
					if !known {
						c.proto = s.Proto
					}
					ev := sc.event(Close, k, c, bt.at)
					ev.Traffic = s.Traffic
					if known {
						ev.Duration = bt.at.Sub(c.first)
						delete(sc.conns, k)
					}
					if !f.send(item{ev: ev}) {
						return
					}
				}
			}
		}
	})
	return nil
}
