package iface

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	fixture "github.com/procnet/procnet/procnettest"
)

func TestModern(t *testing.T) {
	root := fixture.Root(t, "testdata/modern.txtar")
	got, err := Interfaces(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Interface{
		{Name: "lo", Counters: Counters{RxBytes: 3193, RxPackets: 29, TxBytes: 3193, TxPackets: 29},
			MTU: 65536, Flags: FlagUp | FlagLoopback | FlagRunning | FlagLowerUp, HasLink: true},
		{Name: "eth0", Counters: Counters{158526390, 912000, 1, 2, 3, 4, 5, 6, 97735, 808, 7, 8, 9, 10, 11, 12},
			MTU: 1400, Flags: FlagUp | FlagBroadcast | FlagMulticast | FlagRunning | FlagLowerUp, HasLink: true},
		{Name: "ifb0", MTU: 1500, Flags: FlagBroadcast | FlagNoARP, HasLink: true},
		{Name: "tun0", Counters: Counters{RxBytes: 1<<64 - 1, RxPackets: 1},
			MTU: 1420, Flags: FlagUp | FlagPointToPoint | FlagNoARP | FlagMulticast | FlagRunning | FlagLowerUp, HasLink: true},
		{Name: "br-p0", MTU: 1500, Flags: FlagUp | FlagBroadcast | FlagPromisc | FlagMulticast, HasLink: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Interfaces (-want +got):\n%s", d)
	}
	var flg []string
	for _, ifc := range got {
		flg = append(flg, ifc.Flags.String())
	}
	// The Flg column of net-tools 2.10 netstat -i.
	if d := cmp.Diff([]string{"LRU", "BMRU", "BO", "MOPRU", "BMPU"}, flg); d != "" {
		t.Errorf("flag letters (-want +got):\n%s", d)
	}
}

func TestOldLayout(t *testing.T) {
	root := fixture.Root(t, "testdata/old.txtar")
	got, err := Interfaces(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Interface{
		{Name: "lo", Counters: Counters{RxBytes: 1234, RxPackets: 10, TxBytes: 1234, TxPackets: 10},
			MTU: 16436, Flags: FlagUp | FlagLoopback, HasLink: true},
		{Name: "eth0", Counters: Counters{RxBytes: 99, RxPackets: 1, TxBytes: 88, TxPackets: 2},
			MTU: 1500, Flags: FlagUp | FlagBroadcast | FlagMulticast | FlagRunning | FlagLowerUp, HasLink: true},
		{Name: "eth0:1", Counters: Counters{RxBytes: 5, RxPackets: 1, TxBytes: 6, TxPackets: 1}},
		{Name: "team0:1", Counters: Counters{RxBytes: 7, RxPackets: 1, TxBytes: 8, TxPackets: 1}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Interfaces (-want +got):\n%s", d)
	}
}

func TestMalformed(t *testing.T) {
	root := fixture.Root(t, "testdata/malformed.txtar")
	got, err := Interfaces(root)
	var names []string
	for _, ifc := range got {
		names = append(names, ifc.Name)
	}
	if d := cmp.Diff([]string{"lo", "eth4", "eth5"}, names); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	if got[1].HasLink || got[1].Counters.TxCompressed != 0 || got[1].RxBytes != 3193 {
		t.Errorf("eth4 = %+v", got[1])
	}
	want := []string{
		"proc/net/dev:4: name: invalid syntax",
		"proc/net/dev:5: wrong number of fields",
		"proc/net/dev:6: rx_drop: invalid syntax",
		"proc/net/dev:7: tx_compressed: invalid syntax",
		"proc/net/dev:10: name: invalid syntax",
		"sys/class/net/lo/mtu:1: invalid syntax",
		"sys/class/net/eth4/flags:1: invalid syntax",
	}
	if os.Geteuid() != 0 {
		want = append(want, "open sys/class/net/eth5/mtu: permission denied")
	}
	var have []string
	if err != nil {
		have = strings.Split(err.Error(), "\n")
	}
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != "proc/net/dev" || pe.Line != 4 || !errors.Is(err, ErrFieldCount) {
		t.Errorf("errors.As/Is: %+v", pe)
	}
}

func TestMissing(t *testing.T) {
	got, err := Interfaces(t.TempDir())
	if got != nil || err != nil {
		t.Errorf("Interfaces of an empty root = %v, %v; want nil, nil", got, err)
	}
}

func TestPID(t *testing.T) {
	root := fixture.Root(t, "testdata/pid.txtar")
	r := Reader{Root: root, PID: 7}
	got, err := r.Interfaces()
	if err != nil || len(got) != 1 || got[0].Name != "veth0" || got[0].HasLink {
		t.Errorf("Interfaces of PID 7 = %+v, %v", got, err)
	}
}

func TestFlagString(t *testing.T) {
	for f, want := range map[Flags]string{
		0:                                       "[NO FLAGS]",
		FlagLowerUp:                             "",
		FlagUp | FlagRunning | FlagMulticast:    "MRU",
		FlagAllMulti | FlagDebug | FlagDynamic:  "ADd",
		FlagPromisc | FlagPointToPoint:          "PP",
		FlagNoTrailers | FlagSlave | FlagMaster: "Nsm",
	} {
		if got := f.String(); got != want {
			t.Errorf("Flags(%#x).String() = %q, want %q", uint32(f), got, want)
		}
	}
	if !(FlagUp | FlagRunning).Has(FlagUp) || FlagUp.Has(FlagUp|FlagRunning) {
		t.Error("Has is wrong")
	}
}

func TestFlagNames(t *testing.T) {
	for f, want := range map[Flags]string{
		0:                                    "",
		FlagLowerUp | FlagPortSel | FlagEcho: "",
		FlagUp | FlagBroadcast | FlagRunning | FlagMulticast: "UP,BROADCAST,RUNNING,MULTICAST",
		FlagMaster | FlagSlave | FlagDynamic:                 "SLAVE,MASTER,DYNAMIC",
		FlagLoopback | FlagUp | FlagNoARP:                    "UP,LOOPBACK,NOARP",
	} {
		if got := strings.Join(f.Names(), ","); got != want {
			t.Errorf("Flags(%#x).Names() = %q, want %q", uint32(f), got, want)
		}
	}
}

func TestDeltaAndRates(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := Sample{Time: t0, Interfaces: []Interface{
		{Name: "eth0", Counters: Counters{RxBytes: 1000, RxPackets: 10, TxBytes: 500, TxPackets: 5, RxDrop: 3}},
		{Name: "veth1", Counters: Counters{RxBytes: 1 << 40, RxPackets: 1 << 20}},
		{Name: "gone", Counters: Counters{RxBytes: 1}},
	}}
	cur := Sample{Time: t0.Add(2 * time.Second), Interfaces: []Interface{
		{Name: "new0", Counters: Counters{RxBytes: 1}},
		{Name: "eth0", Flags: FlagUp | FlagRunning,
			Counters: Counters{RxBytes: 3000, RxPackets: 30, TxBytes: 900, TxPackets: 9, RxDrop: 3}},
		// veth1 was deleted and recreated: its counters went down.
		{Name: "veth1", Counters: Counters{RxBytes: 400, RxPackets: 4}},
	}}
	got := Rates(prev, cur)
	want := []Rate{
		{Name: "eth0", Flags: FlagUp | FlagRunning, RxBytes: 1000, RxPackets: 10, TxBytes: 200, TxPackets: 2,
			Delta: Counters{RxBytes: 2000, RxPackets: 20, TxBytes: 400, TxPackets: 4}, Interval: 2 * time.Second},
		{Name: "veth1", RxBytes: 200, RxPackets: 2,
			Delta: Counters{RxBytes: 400, RxPackets: 4}, Interval: 2 * time.Second},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Rates (-want +got):\n%s", d)
	}
	// The same time twice: deltas, but no division by zero.
	got = Rates(cur, Sample{Time: cur.Time, Interfaces: cur.Interfaces[1:2]})
	if len(got) != 1 || got[0].RxBytes != 0 || got[0].Delta != (Counters{}) {
		t.Errorf("Rates over zero time = %+v", got)
	}
}

func TestCountersOnly(t *testing.T) {
	root := fixture.Root(t, "testdata/modern.txtar")
	r := Reader{Root: root, CountersOnly: true}
	got, err := r.Interfaces()
	if err != nil || len(got) != 5 || got[1].HasLink || got[1].MTU != 0 || got[1].RxBytes != 158526390 {
		t.Errorf("CountersOnly: %+v, %v", got, err)
	}
	n := testing.AllocsPerRun(20, func() { got, _ = r.AppendInterfaces(got[:0]) })
	if n > 6 {
		t.Errorf("%v allocations per read; rows should not allocate", n)
	}
}
