package flows

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/procnet/procnet/netstat"
)

// record builds a tracepoint record as the program writes it.
func record(kind, flags uint8, family uint16, local, remote netip.AddrPort, pid uint32, comm string) []byte {
	b := make([]byte, recordSize)
	ne := binary.NativeEndian
	ne.PutUint64(b[0:], 5_000_000_000)
	ne.PutUint64(b[8:], 4_990_000_000)
	ne.PutUint64(b[16:], 1000500)
	ne.PutUint64(b[104:], 500)
	ne.PutUint64(b[24:], 123457)
	ne.PutUint32(b[32:], 30)
	ne.PutUint32(b[36:], 20)
	ne.PutUint32(b[40:], pid)
	b[44], b[45], b[46], b[47] = kind, stFinWait1+5, stClose, flags
	ne.PutUint16(b[48:], family)
	binary.BigEndian.PutUint16(b[50:], local.Port())
	binary.BigEndian.PutUint16(b[52:], remote.Port())
	if family == 2 {
		a, r := local.Addr().As4(), remote.Addr().As4()
		copy(b[56:], a[:])
		copy(b[72:], r[:])
	} else {
		a, r := local.Addr().As16(), remote.Addr().As16()
		copy(b[56:], a[:])
		copy(b[72:], r[:])
	}
	copy(b[88:], comm)
	return b
}

// TestDecodeRecord checks the record layout against the decoder.
func TestDecodeRecord(t *testing.T) {
	l4 := netip.MustParseAddrPort("127.0.0.1:40000")
	r4 := netip.MustParseAddrPort("127.0.0.2:80")
	b := record(recClose, flagActive|flagTask|flagTraffic|flagFin, 2, l4, r4, 4242, "curl")
	r, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	ev := r.event(time.Second)
	want := Event{
		Kind: Close, Time: time.Unix(0, 6_000_000_000), Proto: netstat.TCP, Local: l4, Remote: r4,
		OldState: netstat.LastAck, NewState: netstat.Close, PID: 4242, Program: "curl", Attribution: AttrTask,
		Duration: 10 * time.Millisecond,
		// bytes_received counted the FIN
		Traffic: netstat.Traffic{BytesSent: 1000000, BytesReceived: 123456, SegsOut: 30, SegsIn: 20, Known: true},
	}
	if ev != want {
		t.Errorf("got  %+v\nwant %+v", ev, want)
	}

	// IPv6, passive, no task PID, no counters: an open.
	l6 := netip.MustParseAddrPort("[::1]:443")
	r6 := netip.MustParseAddrPort("[::ffff:10.0.0.1]:5000")
	r, err = decodeRecord(record(recOpen, flagPassive, 10, l6, r6, 0, "ksoftirqd/0"))
	if err != nil {
		t.Fatal(err)
	}
	ev = r.event(0)
	if ev.Kind != Open || ev.Proto != netstat.TCP6 || ev.Local != l6 || ev.Remote != r6 || !ev.Passive ||
		ev.PID != 0 || ev.Program != "" || ev.Traffic.Known || ev.Duration != 0 {
		t.Errorf("passive open: %+v", ev)
	}
	// A PID without flagTask (not the socket's process) is not given.
	r, _ = decodeRecord(record(recOpen, 0, 2, l4, r4, 99, "other"))
	if ev := r.event(0); ev.PID != 0 || ev.Attribution != AttrNone {
		t.Errorf("untrusted pid: %+v", ev)
	}

	for name, b := range map[string][]byte{
		"short":  b[:recordSize-1],
		"kind":   record(9, 0, 2, l4, r4, 1, ""),
		"family": record(recOpen, 0, 3, l4, r4, 1, ""),
		"pid":    record(recOpen, flagTask, 2, l4, r4, 1<<23, ""),
	} {
		if _, err := decodeRecord(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(record(recClose, flagTraffic|flagFin|flagTask, 2,
		netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"), 1, "x"))
	f.Add(record(recOpen, flagPassive, 10,
		netip.MustParseAddrPort("[::1]:1"), netip.MustParseAddrPort("[::1]:2"), 0, ""))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		ev := r.event(0)
		if ev.Proto != netstat.TCP && ev.Proto != netstat.TCP6 {
			t.Errorf("proto %v", ev.Proto)
		}
		if ev.Duration < 0 {
			t.Errorf("duration %v", ev.Duration)
		}
	})
}

// TestListener checks which listener an accepted connection belongs to.
func TestListener(t *testing.T) {
	ap := netip.MustParseAddrPort
	ls := map[netip.AddrPort]owner{
		ap("127.0.0.1:80"): {pid: 1},
		ap("0.0.0.0:80"):   {pid: 2},
		ap("[::]:80"):      {pid: 3},
		ap("[::]:81"):      {pid: 4},
	}
	for _, c := range []struct {
		a   string
		pid int
	}{
		{"127.0.0.1:80", 1},
		{"10.0.0.1:80", 2},
		{"[::1]:80", 3},
		{"[::ffff:10.0.0.1]:80", 2},
		{"10.0.0.1:81", 4},
		{"10.0.0.1:82", 0},
	} {
		o, ok := listener(ls, ap(c.a))
		if o.pid != c.pid || ok != (c.pid != 0) {
			t.Errorf("%s: pid %d %v, want %d", c.a, o.pid, ok, c.pid)
		}
	}
}

func TestNames(t *testing.T) {
	for _, s := range []Source{SourceAuto, SourceTracepoint, SourceDestroy, SourcePoll} {
		if p, ok := ParseSource(s.String()); !ok || p != s {
			t.Errorf("ParseSource(%q) = %v %v", s.String(), p, ok)
		}
	}
	if Source(9).String() != "source(9)" || Kind(9).String() != "kind(9)" || Attribution(9).String() != "attribution(9)" {
		t.Error("out-of-range names")
	}
	if Open.String() != "open" || Close.String() != "close" || AttrListener.String() != "listener" {
		t.Error("names")
	}
}
