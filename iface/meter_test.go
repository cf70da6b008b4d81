package iface

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestMeter: the first Read gives no rates; the second gives them in
// net-tools' order over the Now clock, an old kernel's alias row with its
// parent's flags, a down interface only with All. A proc/net/dev that
// cannot be read gives an empty Sample and the error, and the next Read
// measures from the last good sample.
func TestMeter(t *testing.T) {
	root := fixture.Root(t, "testdata/old.txtar")
	dev := filepath.Join(root, "proc/net/dev")
	clock := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	m := Meter{Reader: Reader{Root: root}, Now: func() time.Time { return clock }}
	s, rs, err := m.Read()
	if err != nil || rs != nil || len(s.Interfaces) != 4 || s.Interfaces[1].Name != "eth0:1" || s.Interfaces[1].Flags != s.Interfaces[0].Flags {
		t.Fatalf("first Read: %+v, %v, %v", s, rs, err)
	}

	saved, err := os.ReadFile(dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dev); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dev, 0o755); err != nil { // opens, cannot be read
		t.Fatal(err)
	}
	if s, rs, err := m.Read(); err == nil || s.Interfaces != nil || rs != nil {
		t.Errorf("unreadable: %+v, %v, %v", s, rs, err)
	}
	if err := os.Remove(dev); err != nil {
		t.Fatal(err)
	}
	grown := strings.Replace(string(saved), "eth0:99 1 ", "eth0:2099 11 ", 1)
	if err := os.WriteFile(dev, []byte(grown), 0o644); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Second)
	_, rs, err = m.Read()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, " "); got != "eth0 eth0:1 lo" {
		t.Errorf("rated %q, want the up interfaces in net-tools' order (team0:1 has no flags)", got)
	}
	if r := rs[0]; r.RxBytes != 1000 || r.RxPackets != 5 || r.Interval != 2*time.Second {
		t.Errorf("eth0: %+v, want 1000 B/s and 5 packets/s over 2s", r)
	}
	m.All = true
	if _, rs, _ := m.Read(); len(rs) != 4 {
		t.Errorf("All: %d rates, want 4", len(rs))
	}
}
