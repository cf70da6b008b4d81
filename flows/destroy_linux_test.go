package flows

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/procnet/procnet/netstat"
)

// destroyMsg builds a destroy notification for a closed IPv4 TCP socket
// 127.0.0.1:sport → 127.0.0.1:dport with the given counters.
func destroyMsg(sport, dport uint16, sent, received uint64) []byte {
	ne := binary.NativeEndian
	info := make([]byte, 232)
	ne.PutUint64(info[200:], sent)
	ne.PutUint64(info[128:], received)
	msg := make([]byte, 72)
	msg[0], msg[1] = unix.AF_INET, 7
	binary.BigEndian.PutUint16(msg[4:], sport)
	binary.BigEndian.PutUint16(msg[6:], dport)
	copy(msg[8:], []byte{127, 0, 0, 1})
	copy(msg[24:], []byte{127, 0, 0, 1})
	attr := ne.AppendUint16(nil, uint16(4+len(info)))
	attr = ne.AppendUint16(attr, 2) // INET_DIAG_INFO
	msg = append(msg, append(attr, info...)...)
	h := ne.AppendUint32(nil, uint32(nlmsgHdrLen+len(msg)))
	h = ne.AppendUint16(h, unix.SOCK_DIAG_BY_FAMILY)
	h = ne.AppendUint16(h, 0)
	h = ne.AppendUint32(h, 0)
	h = ne.AppendUint32(h, 0)
	return append(h, msg...)
}

func TestParseDestroy(t *testing.T) {
	b := append(destroyMsg(40000, 80, 1000000, 123456), destroyMsg(40001, 80, 1, 2)...)
	var got []netstat.Socket
	if err := parseDestroy(b, func(s netstat.Socket) { got = append(got, s) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Local.Port() != 40000 || got[0].Remote.Port() != 80 ||
		got[0].Traffic != (netstat.Traffic{BytesSent: 1000000, BytesReceived: 123456, Known: true}) ||
		got[1].Traffic.BytesSent != 1 || got[0].Proto != netstat.TCP {
		t.Errorf("%+v", got)
	}
	for name, b := range map[string][]byte{
		"short header": b[:10],
		"bad length":   append([]byte{200, 0, 0, 0}, b[4:16]...),
		"short msg":    destroyMsg(1, 2, 3, 4)[:40],
	} {
		if err := parseDestroy(b, func(netstat.Socket) {}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseDestroy(f *testing.F) {
	f.Add(destroyMsg(40000, 80, 1000000, 123456))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseDestroy(b, func(s netstat.Socket) {
			if s.Proto != netstat.TCP && s.Proto != netstat.TCP6 {
				t.Errorf("proto %v", s.Proto)
			}
		})
	})
}
