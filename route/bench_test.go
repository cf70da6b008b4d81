package route

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkIPv4 reads a 100,000-row /proc/net/route (a router with a
// large table) with a reused Reader and slice.
func BenchmarkIPv4(b *testing.B) {
	root := b.TempDir()
	var sb strings.Builder
	sb.WriteString(fmt.Sprintf("%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"))
	for i := range 100000 {
		sb.WriteString(fmt.Sprintf("%-127s\n", fmt.Sprintf("eth%d\t%08X\t010200C0\t0003\t0\t0\t%d\t00FFFFFF\t0\t0\t0", i%4, i<<8, i%100)))
	}
	p := filepath.Join(root, "proc/net/route")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte(sb.String()), 0o644)
	r := Reader{Root: root}
	dst, err := r.AppendIPv4(nil)
	if err != nil || len(dst) != 100000 {
		b.Fatal(len(dst), err)
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = r.AppendIPv4(dst[:0])
	}
}
