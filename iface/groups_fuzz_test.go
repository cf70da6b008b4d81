package iface

import (
	"bytes"
	"testing"
)

// FuzzParseGroups feeds arbitrary bytes to the igmp and igmp6 parsers:
// no panic, and every group they return is a named interface's
// address of the right family.
func FuzzParseGroups(f *testing.F) {
	f.Add([]byte("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n1\tlo        :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n"))
	f.Add([]byte("1    lo              ff020000000000000000000000000001     1 0000000C 0\n"))
	f.Add([]byte("x\n\t\t010000E0 1\n1\t:\n2\tx:\n\t\tzz 1\n\t\t01000000E0 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &groupParser{buf: make([]byte, 4096), names: map[string]string{}}
		v4, _ := p.parseIGMP(nil, "proc/net/igmp", bytes.NewReader(data))
		v6, _ := p.parseIGMP6(nil, "proc/net/igmp6", bytes.NewReader(data))
		for _, g := range v4 {
			if g.Interface == "" || !g.Addr.Is4() {
				t.Fatalf("igmp: bad group %+v", g)
			}
		}
		for _, g := range v6 {
			if g.Interface == "" || !g.Addr.Is6() {
				t.Fatalf("igmp6: bad group %+v", g)
			}
		}
	})
}
