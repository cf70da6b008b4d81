package procmap

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// A small reader of the kernel's raw BTF (Documentation/bpf/btf.rst) that
// finds only what the iterator program needs: the members readLayout
// reads and the type ID of the attach target, FUNC bpf_iter_task_file.
// cilium/ebpf decodes the whole of vmlinux's BTF (some 150,000 types, 5 MB)
// and inflates everything task_struct reaches; this makes one pass over
// the type section, indexing type offsets, then resolves a dozen members.
// Any doubt is an error: the caller then takes the cilium/ebpf path.

// errBTFScan is wrapped by every error of the scanner.
var errBTFScan = errors.New("procmap: kernel BTF scan")

// BTF kinds (BTF_KIND_*).
const (
	btfKindInt      = 1
	btfKindPtr      = 2
	btfKindArray    = 3
	btfKindStruct   = 4
	btfKindUnion    = 5
	btfKindEnum     = 6
	btfKindFwd      = 7
	btfKindTypedef  = 8
	btfKindVolatile = 9
	btfKindConst    = 10
	btfKindRestrict = 11
	btfKindFunc     = 12
	btfKindProto    = 13
	btfKindVar      = 14
	btfKindDatasec  = 15
	btfKindFloat    = 16
	btfKindDeclTag  = 17
	btfKindTypeTag  = 18
	btfKindEnum64   = 19
)

const (
	btfMagic     = 0xeb9f
	btfTypeSize  = 12 // struct btf_type: name_off, info, size/type
	btfMaxDepth  = 32 // typedef chains, nested anonymous members
	iterTarget   = "bpf_iter_task_file"
	btfMaxHeader = 1 << 10
)

// btfScan is a parsed raw BTF blob (native byte order only).
type btfScan struct {
	types []byte   // the type section
	strs  []byte   // the string section
	offs  []uint32 // offs[id-1]: offset of type id in types
}

// btfWant is a named type to look for while indexing.
type btfWant struct {
	kind int
	name string
	id   uint32 // found: the only type of that kind and name
}

// scanBTF indexes raw BTF b, finding the types of want on the way. A
// wanted type found more than once is an error (as for cilium/ebpf's
// TypeByName), one not found is left at id 0.
func scanBTF(b []byte, want []btfWant) (*btfScan, error) {
	bo := binary.NativeEndian
	if len(b) < 24 {
		return nil, fmt.Errorf("%w: short header", errBTFScan)
	}
	if bo.Uint16(b) != btfMagic || b[2] != 1 {
		return nil, fmt.Errorf("%w: bad magic or version", errBTFScan)
	}
	hdrLen := uint64(bo.Uint32(b[4:]))
	if hdrLen < 24 || hdrLen > btfMaxHeader || hdrLen > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad header length %d", errBTFScan, hdrLen)
	}
	typeOff, typeLen := uint64(bo.Uint32(b[8:])), uint64(bo.Uint32(b[12:]))
	strOff, strLen := uint64(bo.Uint32(b[16:])), uint64(bo.Uint32(b[20:]))
	body := b[hdrLen:]
	if typeOff+typeLen > uint64(len(body)) || strOff+strLen > uint64(len(body)) {
		return nil, fmt.Errorf("%w: section out of bounds", errBTFScan)
	}
	s := &btfScan{
		types: body[typeOff : typeOff+typeLen],
		strs:  body[strOff : strOff+strLen],
	}
	if len(s.strs) == 0 || s.strs[0] != 0 || s.strs[len(s.strs)-1] != 0 {
		return nil, fmt.Errorf("%w: bad string section", errBTFScan)
	}
	// vmlinux holds some 150,000 types of 12 bytes and up; 16 bytes each
	// is a fair guess that avoids most regrowth.
	s.offs = make([]uint32, 0, len(s.types)/16)
	for off := 0; off < len(s.types); {
		if len(s.types)-off < btfTypeSize {
			return nil, fmt.Errorf("%w: truncated type at %d", errBTFScan, off)
		}
		info := bo.Uint32(s.types[off+4:])
		vlen := int(info & 0xffff)
		var extra int
		switch kind(info) {
		case btfKindPtr, btfKindFwd, btfKindTypedef, btfKindVolatile, btfKindConst,
			btfKindRestrict, btfKindFunc, btfKindFloat, btfKindTypeTag:
		case btfKindInt, btfKindVar, btfKindDeclTag:
			extra = 4
		case btfKindArray:
			extra = 12
		case btfKindStruct, btfKindUnion, btfKindDatasec, btfKindEnum64:
			extra = 12 * vlen
		case btfKindEnum, btfKindProto:
			extra = 8 * vlen
		default:
			return nil, fmt.Errorf("%w: unknown kind %d at %d", errBTFScan, kind(info), off)
		}
		next := off + btfTypeSize + extra
		if next > len(s.types) {
			return nil, fmt.Errorf("%w: truncated type at %d", errBTFScan, off)
		}
		s.offs = append(s.offs, uint32(off))
		k := kind(info)
		if k != btfKindStruct && k != btfKindFunc {
			off = next
			continue
		}
		noff := bo.Uint32(s.types[off:])
		if noff >= uint32(len(s.strs)) || s.strs[noff] == 0 {
			off = next
			continue // anonymous, or a bad name caught by the names' users
		}
		for i := range want {
			w := &want[i]
			if k == w.kind && s.nameIs(noff, w.name) {
				if w.id != 0 {
					return nil, fmt.Errorf("%w: more than one %s", errBTFScan, w.name)
				}
				w.id = uint32(len(s.offs))
			}
		}
		off = next
	}
	return s, nil
}

func kind(info uint32) int { return int(info>>24) & 0x1f }

// typ returns the btf_type of id (1-based), or ok false.
func (s *btfScan) typ(id uint32) (t []byte, ok bool) {
	if id == 0 || uint64(id) > uint64(len(s.offs)) {
		return nil, false
	}
	off := s.offs[id-1]
	return s.types[off:], true // scanBTF checked the type's length
}

// name reports whether the string at off is name.
func (s *btfScan) nameIs(off uint32, name string) bool {
	if uint64(off)+uint64(len(name)) >= uint64(len(s.strs)) || len(name) == 0 || s.strs[off] != name[0] {
		return false
	}
	return string(s.strs[off:int(off)+len(name)]) == name && s.strs[int(off)+len(name)] == 0
}

// underlying follows typedefs and qualifiers from id.
func (s *btfScan) underlying(id uint32) (uint32, []byte, error) {
	bo := binary.NativeEndian
	for range btfMaxDepth {
		t, ok := s.typ(id)
		if !ok {
			return 0, nil, fmt.Errorf("%w: bad type id %d", errBTFScan, id)
		}
		switch kind(bo.Uint32(t[4:])) {
		case btfKindTypedef, btfKindVolatile, btfKindConst, btfKindRestrict, btfKindTypeTag:
			id = bo.Uint32(t[8:])
		default:
			return id, t, nil
		}
	}
	return 0, nil, fmt.Errorf("%w: type chain too deep", errBTFScan)
}

// sizeof is btf.Sizeof: the size in bytes of type id.
func (s *btfScan) sizeof(id uint32) (int, error) {
	bo := binary.NativeEndian
	n := 1
	for range btfMaxDepth {
		_, t, err := s.underlying(id)
		if err != nil {
			return 0, err
		}
		switch kind(bo.Uint32(t[4:])) {
		case btfKindPtr:
			return n * 8, nil
		case btfKindInt, btfKindStruct, btfKindUnion, btfKindEnum, btfKindEnum64, btfKindFloat:
			size := int64(bo.Uint32(t[8:]))
			if size*int64(n) > 1<<30 {
				return 0, fmt.Errorf("%w: type %d too large", errBTFScan, id)
			}
			return n * int(size), nil
		case btfKindArray:
			nelems := int64(bo.Uint32(t[btfTypeSize+8:]))
			if nelems*int64(n) > 1<<30 {
				return 0, fmt.Errorf("%w: array %d too large", errBTFScan, id)
			}
			n *= int(nelems)
			id = bo.Uint32(t[btfTypeSize:])
		default:
			return 0, fmt.Errorf("%w: type %d has no size", errBTFScan, id)
		}
	}
	return 0, fmt.Errorf("%w: type chain too deep", errBTFScan)
}

// findMember is internal/kbtf.Member over raw BTF: the byte offset and
// type ID of member name of struct or union t, looking into anonymous
// structs and unions.
func (s *btfScan) findMember(t []byte, name string, base, depth int) (int, uint32, bool, error) {
	bo := binary.NativeEndian
	if depth > btfMaxDepth {
		return 0, 0, false, fmt.Errorf("%w: members nested too deep", errBTFScan)
	}
	info := bo.Uint32(t[4:])
	bitfields := info&(1<<31) != 0
	ms := t[btfTypeSize : btfTypeSize+12*int(info&0xffff)]
	for ; len(ms) >= 12; ms = ms[12:] {
		noff, mtype, moff := bo.Uint32(ms), bo.Uint32(ms[4:]), bo.Uint32(ms[8:])
		if bitfields {
			if moff>>24 != 0 {
				continue // a bitfield
			}
			moff &= 0xffffff
		}
		off := base + int(moff/8)
		if s.nameIs(noff, name) {
			if moff%8 != 0 {
				return 0, 0, false, fmt.Errorf("%w: %s not byte aligned", errBTFScan, name)
			}
			return off, mtype, true, nil
		}
		if noff >= uint32(len(s.strs)) || s.strs[noff] != 0 {
			continue // named, and not name
		}
		_, mt, err := s.underlying(mtype)
		if err != nil {
			return 0, 0, false, err
		}
		if k := kind(bo.Uint32(mt[4:])); k == btfKindStruct || k == btfKindUnion {
			o, id, ok, err := s.findMember(mt, name, off, depth+1)
			if ok || err != nil {
				return o, id, ok, err
			}
		}
	}
	return 0, 0, false, nil
}

// member is member of bpf.go over raw BTF, for the struct of ID sid.
func (s *btfScan) member(sid uint32, typ, name string, want int) (field, error) {
	t, _ := s.typ(sid)
	off, mid, ok, err := s.findMember(t, name, 0, 0)
	if err != nil {
		return field{}, err
	}
	if !ok {
		return field{}, fmt.Errorf("%w: struct %s has no member %s", errBTFScan, typ, name)
	}
	_, mt, err := s.underlying(mid)
	if err != nil {
		return field{}, err
	}
	if kind(binary.NativeEndian.Uint32(mt[4:])) == btfKindArray && want == 0 {
		return field{off: off}, nil
	}
	n, err := s.sizeof(mid)
	if err != nil {
		return field{}, err
	}
	if (want != 0 && n != want) || (want == 0 && n != 4 && n != 8) {
		return field{}, fmt.Errorf("%w: %s.%s has size %d", errBTFScan, typ, name, n)
	}
	size := asm.Word
	if n == 8 {
		size = asm.DWord
	}
	return field{off: off, size: size}, nil
}

// btfWanted are the types layout needs, for scanBTF.
func btfWanted() []btfWant {
	return []btfWant{
		{kind: btfKindStruct, name: "task_struct"},
		{kind: btfKindStruct, name: "pid"},
		{kind: btfKindStruct, name: "upid"},
		{kind: btfKindStruct, name: "file"},
		{kind: btfKindStruct, name: "inode"},
		{kind: btfKindStruct, name: "super_block"},
		{kind: btfKindFunc, name: iterTarget},
	}
}

// layout is readLayout over raw BTF, given the types of btfWanted found
// by scanBTF; it also returns the type ID of the iterator's attach target.
func (s *btfScan) layout(want []btfWant) (*kernelLayout, uint32, error) {
	for _, w := range want {
		if w.id == 0 {
			return nil, 0, fmt.Errorf("%w: no %s", errBTFScan, w.name)
		}
	}
	id := func(name string) uint32 {
		for _, w := range want {
			if w.name == name {
				return w.id
			}
		}
		panic("procmap: unknown type " + name)
	}
	var l kernelLayout
	err := fillLayout(&l, func(typ, name string, size int) (field, error) {
		return s.member(id(typ), typ, name, size)
	})
	if err != nil {
		return nil, 0, err
	}
	upid, _ := s.typ(id("upid"))
	l.upidSize = int(binary.NativeEndian.Uint32(upid[8:]))
	return &l, id(iterTarget), nil
}

// scanLayout is the layout and attach target of raw BTF b.
func scanLayout(b []byte) (*kernelLayout, uint32, error) {
	want := btfWanted()
	s, err := scanBTF(b, want)
	if err != nil {
		return nil, 0, err
	}
	return s.layout(want)
}
