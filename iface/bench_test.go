package iface

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkParseDev reads a /proc/net/dev of 5,000 interfaces (a
// container host's veths) with a reused Reader; "sys" also looks each up
// in a sysfs that lacks them (one failed open each).
func BenchmarkParseDev(b *testing.B) {
	root := b.TempDir()
	var sb strings.Builder
	sb.WriteString("Inter-|   Receive\n face |bytes\n")
	for i := range 5000 {
		fmt.Fprintf(&sb, "veth%04x:%8d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			i, i*1000, i, 0, 0, 0, 0, 0, 0, i*2000, i, 0, 0, 0, 0, 0, 0)
	}
	p := filepath.Join(root, "proc/net/dev")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(sb.String()), 0o644)
	for _, countersOnly := range []bool{true, false} {
		name := "counters"
		if !countersOnly {
			name = "sys"
		}
		b.Run(name, func(b *testing.B) {
			r := Reader{Root: root, CountersOnly: countersOnly}
			dst, err := r.AppendInterfaces(nil)
			if err != nil || len(dst) != 5000 {
				b.Fatal(len(dst), err)
			}
			b.SetBytes(int64(sb.Len()))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = r.AppendInterfaces(dst[:0])
			}
		})
	}
}

// BenchmarkLive reads the live system's interfaces with their MTU and
// flags: "rtnetlink" is the live path (proc/net/dev and one RTM_GETLINK
// dump), "sysfs" the same rows with four sysfs opens each (PID set to our
// own, which takes the sysfs path); "addrs" is Addrs (an RTM_GETLINK and an
// RTM_GETADDR dump, and proc/net/if_inet6 for the IPv6 order).
func BenchmarkLive(b *testing.B) {
	if _, err := os.Stat("/proc/net/dev"); err != nil {
		b.Skip("no /proc/net/dev")
	}
	for _, c := range []struct {
		name string
		r    Reader
	}{{"rtnetlink", Reader{}}, {"sysfs", Reader{PID: os.Getpid()}}} {
		b.Run(c.name, func(b *testing.B) {
			r := c.r
			dst, err := r.AppendInterfaces(nil)
			if err != nil || len(dst) == 0 || !dst[0].HasLink {
				b.Fatal(dst, err)
			}
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = r.AppendInterfaces(dst[:0])
			}
		})
	}
	b.Run("addrs", func(b *testing.B) {
		var r Reader
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Addrs(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
