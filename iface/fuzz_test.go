package iface

import (
	"bytes"
	"testing"
)

// FuzzParseDev feeds arbitrary bytes to the /proc/net/dev parser: it must
// not panic, and every interface it returns must have a name.
func FuzzParseDev(f *testing.F) {
	const hdr = "Inter-|   Receive\n face |bytes\n"
	f.Add([]byte(hdr + "    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0\n"))
	f.Add([]byte(hdr + "  eth0:158526390  912000    1    2    3     4          5         6    97735     808    7    8    9    10      11         12\n"))
	f.Add([]byte(hdr + "eth0:1:5 1 0 0 0 0 0 0 6 1 0 0 0 0 0 0\nteam0:1: 7 1 0 0 0 0 0 0 8 1 0 0 0 0 0 0"))
	f.Add([]byte(hdr + "     :    1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n::::\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Reader
		ifs, _ := r.parse(nil, "proc/net/dev", bytes.NewReader(data))
		for _, ifc := range ifs {
			if ifc.Name == "" {
				t.Fatalf("interface without a name: %+v", ifc)
			}
		}
	})
}

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
