package iface

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// rtnetlink's wire format (linux/netlink.h, linux/rtnetlink.h,
// linux/if_link.h, linux/if_addr.h). The decoder is plain byte parsing
// and builds on any GOOS (so do its tests and fuzz target); only the
// socket is Linux's (rtnetlink_linux.go).
const (
	nlmsgHdrLen = 16 // struct nlmsghdr
	ifinfoLen   = 16 // struct ifinfomsg
	ifaddrLen   = 8  // struct ifaddrmsg

	nlmsgError = 2
	nlmsgDone  = 3

	rtmNewLink = 16
	rtmGetLink = 18
	rtmNewAddr = 20
	rtmGetAddr = 22

	nlmFRequest  = 0x1
	nlmFDumpIntr = 0x10
	nlmFDump     = 0x300

	iflaAddress   = 1
	iflaBroadcast = 2
	iflaIfname    = 3
	iflaMTU       = 4
	iflaTxQLen    = 13
	iflaStats64   = 23

	ifaAddress   = 1
	ifaLocal     = 2
	ifaLabel     = 3
	ifaBroadcast = 4
	ifaFlags     = 8

	afInet  = 2
	afInet6 = 10

	// struct rtnl_link_stats64: 23 u64 since Linux 2.6.35, more since.
	stats64MinLen = 23 * 8
)

var (
	errNLShort = errors.New("truncated netlink message")
	errNLAttr  = errors.New("malformed netlink attribute")
	errNLIntr  = errors.New("dump interrupted by a concurrent change")
	errNLSeq   = errors.New("reply to another request")
)

var ne = binary.NativeEndian

// nlMessages calls fn with the type, flags and payload of each netlink
// message of the datagram b. It stops at NLMSG_DONE (done true) and
// turns NLMSG_ERROR into its syscall.Errno.
func nlMessages(b []byte, seq uint32, fn func(typ uint16, flags uint16, payload []byte) error) (done bool, err error) {
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return false, errNLShort
		}
		n := ne.Uint32(b[0:4])
		typ := ne.Uint16(b[4:6])
		flags := ne.Uint16(b[6:8])
		s := ne.Uint32(b[8:12])
		if n < nlmsgHdrLen || uint64(n) > uint64(len(b)) {
			return false, errNLShort
		}
		if seq != 0 && s != seq {
			return false, errNLSeq
		}
		payload := b[nlmsgHdrLen:n]
		if flags&nlmFDumpIntr != 0 {
			return false, errNLIntr
		}
		switch typ {
		case nlmsgDone:
			return true, nil
		case nlmsgError:
			if len(payload) < 4 {
				return false, errNLShort
			}
			if e := int32(ne.Uint32(payload[0:4])); e != 0 {
				return false, syscall.Errno(-e)
			}
		default:
			if err := fn(typ, flags, payload); err != nil {
				return false, err
			}
		}
		b = b[min(align4(int(n)), len(b)):]
	}
	return false, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// attrs calls fn with the type (without the nested and byte-order bits)
// and value of each rtattr of b.
func attrs(b []byte, fn func(typ uint16, v []byte)) error {
	for len(b) >= 4 {
		n := int(ne.Uint16(b[0:2]))
		typ := ne.Uint16(b[2:4]) & 0x3fff
		if n < 4 || n > len(b) {
			return errNLAttr
		}
		fn(typ, b[4:n])
		b = b[min(align4(n), len(b)):]
	}
	if len(b) != 0 {
		return errNLAttr
	}
	return nil
}

// decodeLink decodes the payload of an RTM_NEWLINK message.
func decodeLink(p []byte) (Link, error) {
	if len(p) < ifinfoLen {
		return Link{}, errNLShort
	}
	l := Link{
		Type:       HWType(ne.Uint16(p[2:4])),
		Index:      int(int32(ne.Uint32(p[4:8]))),
		Flags:      Flags(ne.Uint32(p[8:12])),
		TxQueueLen: -1,
	}
	var bad bool
	err := attrs(p[ifinfoLen:], func(typ uint16, v []byte) {
		switch typ {
		case iflaIfname:
			l.Name = cstring(v)
		case iflaMTU:
			if len(v) < 4 {
				bad = true
				return
			}
			l.MTU = int(ne.Uint32(v))
		case iflaTxQLen:
			if len(v) < 4 {
				bad = true
				return
			}
			l.TxQueueLen = int(ne.Uint32(v))
		case iflaAddress:
			l.HardwareAddr = net.HardwareAddr(clone(v))
		case iflaBroadcast:
			l.Broadcast = net.HardwareAddr(clone(v))
		case iflaStats64:
			if len(v) < stats64MinLen {
				bad = true
				return
			}
			l.Counters = stats64(v)
		}
	})
	if err == nil && bad {
		err = errNLAttr
	}
	if err == nil && l.Name == "" {
		err = errNLAttr // every link has IFLA_IFNAME
	}
	return l, err
}

// stats64 sums struct rtnl_link_stats64 as dev_seq_printf_stats does for
// /proc/net/dev (net/core/net-procfs.c).
func stats64(v []byte) Counters {
	var s [23]uint64
	for i := range s {
		s[i] = ne.Uint64(v[8*i:])
	}
	const (
		rxPackets = iota
		txPackets
		rxBytes
		txBytes
		rxErrors
		txErrors
		rxDropped
		txDropped
		multicast
		collisions
		rxLengthErrors
		rxOverErrors
		rxCRCErrors
		rxFrameErrors
		rxFIFOErrors
		rxMissedErrors
		txAbortedErrors
		txCarrierErrors
		txFIFOErrors
		txHeartbeatErrors
		txWindowErrors
		rxCompressed
		txCompressed
	)
	return Counters{
		RxBytes:      s[rxBytes],
		RxPackets:    s[rxPackets],
		RxErrs:       s[rxErrors],
		RxDrop:       s[rxDropped] + s[rxMissedErrors],
		RxFifo:       s[rxFIFOErrors],
		RxFrame:      s[rxLengthErrors] + s[rxOverErrors] + s[rxCRCErrors] + s[rxFrameErrors],
		RxCompressed: s[rxCompressed],
		RxMulticast:  s[multicast],
		TxBytes:      s[txBytes],
		TxPackets:    s[txPackets],
		TxErrs:       s[txErrors],
		TxDrop:       s[txDropped],
		TxFifo:       s[txFIFOErrors],
		TxColls:      s[collisions],
		TxCarrier:    s[txCarrierErrors] + s[txAbortedErrors] + s[txWindowErrors] + s[txHeartbeatErrors],
		TxCompressed: s[txCompressed],
	}
}

// decodeAddr decodes the payload of an RTM_NEWADDR message. ok is false
// for a family other than IPv4 and IPv6.
func decodeAddr(p []byte) (a Addr, ok bool, err error) {
	if len(p) < ifaddrLen {
		return Addr{}, false, errNLShort
	}
	family, plen := p[0], int(p[1])
	a.Flags = AddrFlags(p[2])
	a.Scope = Scope(p[3])
	a.Index = int(int32(ne.Uint32(p[4:8])))
	size := 4
	switch family {
	case afInet:
	case afInet6:
		size = 16
	default:
		return Addr{}, false, nil
	}
	if plen > size*8 {
		return Addr{}, false, errNLAttr
	}
	var local, address netip.Addr
	var bad bool
	ip := func(v []byte) netip.Addr {
		if len(v) != size {
			bad = true
			return netip.Addr{}
		}
		if size == 4 {
			return netip.AddrFrom4([4]byte(v))
		}
		return netip.AddrFrom16([16]byte(v))
	}
	err = attrs(p[ifaddrLen:], func(typ uint16, v []byte) {
		switch typ {
		case ifaLocal:
			local = ip(v)
		case ifaAddress:
			address = ip(v)
		case ifaBroadcast:
			a.Broadcast = ip(v)
		case ifaLabel:
			a.Label = cstring(v)
		case ifaFlags:
			if len(v) < 4 {
				bad = true
				return
			}
			a.Flags = AddrFlags(ne.Uint32(v))
		}
	})
	if err == nil && bad {
		err = errNLAttr
	}
	if err != nil {
		return Addr{}, false, err
	}
	// IFA_LOCAL is the local address; IFA_ADDRESS the peer's on a
	// point-to-point link. IPv6 sends IFA_ADDRESS alone (or IFA_LOCAL
	// with a peer).
	switch {
	case local.IsValid():
		if address.IsValid() && address != local {
			a.Peer = address
		}
	case address.IsValid():
		local = address
	default:
		return Addr{}, false, errNLAttr
	}
	a.Prefix = netip.PrefixFrom(local, plen)
	return a, true, nil
}

// cstring is a NUL-terminated attribute as a string.
func cstring(v []byte) string {
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}

func clone(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// decodeLinkDump decodes the datagrams of an RTM_GETLINK dump. A message
// that cannot be decoded is reported and skipped.
func decodeLinkDump(dgrams [][]byte, seq uint32) ([]Link, error) {
	var out []Link
	var errs []error
	for _, d := range dgrams {
		done, err := nlMessages(d, seq, func(typ, _ uint16, p []byte) error {
			if typ != rtmNewLink {
				return nil
			}
			l, err := decodeLink(p)
			if err != nil {
				errs = append(errs, &NetlinkError{Op: "RTM_GETLINK", Err: err})
				return nil
			}
			out = append(out, l)
			return nil
		})
		if err != nil {
			errs = append(errs, &NetlinkError{Op: "RTM_GETLINK", Err: err})
			break
		}
		if done {
			break
		}
	}
	return out, errors.Join(errs...)
}

// decodeAddrDump decodes the datagrams of an RTM_GETADDR dump, naming
// each address's interface from links.
func decodeAddrDump(dgrams [][]byte, seq uint32, links []Link) ([]Addr, error) {
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Index] = l.Name
	}
	var out []Addr
	var errs []error
	for _, d := range dgrams {
		done, err := nlMessages(d, seq, func(typ, _ uint16, p []byte) error {
			if typ != rtmNewAddr {
				return nil
			}
			a, ok, err := decodeAddr(p)
			if err != nil {
				errs = append(errs, &NetlinkError{Op: "RTM_GETADDR", Err: err})
				return nil
			}
			if !ok {
				return nil
			}
			a.Iface = names[a.Index]
			if a.Label == "" {
				a.Label = a.Iface
			}
			out = append(out, a)
			return nil
		})
		if err != nil {
			errs = append(errs, &NetlinkError{Op: "RTM_GETADDR", Err: err})
			break
		}
		if done {
			break
		}
	}
	return out, errors.Join(errs...)
}
