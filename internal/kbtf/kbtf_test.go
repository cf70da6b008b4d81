package kbtf

import (
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestFind: a member inside an anonymous union inside an anonymous struct
// is found at the sum of the offsets; named members are not looked into,
// and bitfields are skipped.
func TestFind(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	inner := &btf.Union{Size: 8, Members: []btf.Member{
		{Name: "a", Type: u32, Offset: 0},
		{Name: "b", Type: u32, Offset: 32},
	}}
	anon := &btf.Struct{Size: 16, Members: []btf.Member{
		{Name: "x", Type: u32, Offset: 0},
		{Name: "", Type: inner, Offset: 64},
	}}
	named := &btf.Struct{Size: 4, Members: []btf.Member{{Name: "hidden", Type: u32}}}
	top := []btf.Member{
		{Name: "flag", Type: u32, Offset: 0, BitfieldSize: 1},
		{Name: "n", Type: named, Offset: 32},
		{Name: "", Type: anon, Offset: 64},
	}
	for _, tc := range []struct {
		name string
		off  int
		ok   bool
	}{
		{"x", 8, true}, {"a", 16, true}, {"b", 20, true}, {"n", 4, true},
		{"hidden", 0, false}, {"flag", 0, false}, {"nope", 0, false},
	} {
		off, _, ok := find(top, tc.name, 0)
		if ok != tc.ok || ok && off != tc.off {
			t.Errorf("%s: %d %v, want %d %v", tc.name, off, ok, tc.off, tc.ok)
		}
	}
}
