// Package kbtf finds struct members in kernel BTF for the BPF programs
// this module assembles in Go (procmap's task_file iterator, flows'
// tracepoint program): one lookup, so the two read the kernel's layout
// the same way.
package kbtf

import (
	"fmt"

	"github.com/cilium/ebpf/btf"
)

// Member returns the byte offset and the type of member name of struct
// typ, looking into anonymous structs and unions (as C does: their
// members are the struct's own). Bitfields are not members here.
func Member(spec *btf.Spec, typ, name string) (int, btf.Type, error) {
	var s *btf.Struct
	if err := spec.TypeByName(typ, &s); err != nil {
		return 0, nil, fmt.Errorf("btf: struct %s: %w", typ, err)
	}
	off, t, ok := find(s.Members, name, 0)
	if !ok {
		return 0, nil, fmt.Errorf("btf: struct %s has no member %s", typ, name)
	}
	return off, t, nil
}

func find(ms []btf.Member, name string, base int) (int, btf.Type, bool) {
	for _, m := range ms {
		if m.BitfieldSize != 0 {
			continue
		}
		off := base + int(m.Offset.Bytes())
		if m.Name == name {
			return off, m.Type, true
		}
		if m.Name != "" {
			continue
		}
		switch c := btf.UnderlyingType(m.Type).(type) {
		case *btf.Struct:
			if o, t, ok := find(c.Members, name, off); ok {
				return o, t, true
			}
		case *btf.Union:
			if o, t, ok := find(c.Members, name, off); ok {
				return o, t, true
			}
		}
	}
	return 0, nil, false
}
