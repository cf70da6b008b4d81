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
