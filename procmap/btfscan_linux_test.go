package procmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/google/go-cmp/cmp"

	fixture "github.com/procnet/procnet/procnettest"
)

var _ = fixture.Root

var layoutCmp = cmp.AllowUnexported(kernelLayout{}, field{})

// btfBuilder writes raw BTF for tests.
type btfBuilder struct {
	types []byte
	strs  []byte
	n     uint32
}

func (b *btfBuilder) str(s string) uint32 {
	if b.strs == nil {
		b.strs = []byte{0}
	}
	if s == "" {
		return 0
	}
	off := uint32(len(b.strs))
	b.strs = append(append(b.strs, s...), 0)
	return off
}

// add appends a type and returns its ID; extra are the u32 words after
// struct btf_type.
func (b *btfBuilder) add(name string, kind, vlen int, kflag bool, sizeType uint32, extra ...uint32) uint32 {
	info := uint32(kind)<<24 | uint32(vlen)
	if kflag {
		info |= 1 << 31
	}
	for _, v := range append([]uint32{b.str(name), info, sizeType}, extra...) {
		b.types = binary.NativeEndian.AppendUint32(b.types, v)
	}
	b.n++
	return b.n
}

func (b *btfBuilder) blob() []byte {
	b.str("")
	h := make([]byte, 24)
	binary.NativeEndian.PutUint16(h, btfMagic)
	h[2] = 1
	binary.NativeEndian.PutUint32(h[4:], 24)
	binary.NativeEndian.PutUint32(h[8:], 0)
	binary.NativeEndian.PutUint32(h[12:], uint32(len(b.types)))
	binary.NativeEndian.PutUint32(h[16:], uint32(len(b.types)))
	binary.NativeEndian.PutUint32(h[20:], uint32(len(b.strs)))
	return append(append(h, b.types...), b.strs...)
}

// member words: name, type, bit offset.
func (b *btfBuilder) m(name string, typ, bits uint32) []uint32 {
	return []uint32{b.str(name), typ, bits}
}

func cat(ws ...[]uint32) []uint32 {
	var r []uint32
	for _, w := range ws {
		r = append(r, w...)
	}
	return r
}

// fakeKernelBTF is a small BTF with every type the program needs: a
// bitfield, an anonymous union, typedefs, an array and a decoy of another
// kind named like a struct.
func fakeKernelBTF() ([]byte, *kernelLayout, uint32) {
	var b btfBuilder
	i32 := b.add("int", btfKindInt, 0, false, 4, 0x01000020)
	u64 := b.add("long long unsigned int", btfKindInt, 0, false, 8, 64)
	ptr := b.add("", btfKindPtr, 0, false, 0)
	pidT := b.add("pid_t", btfKindTypedef, 0, false, i32)
	cpid := b.add("", btfKindConst, 0, false, pidT)
	upid := b.add("upid", btfKindStruct, 2, false, 16, cat(b.m("nr", i32, 0), b.m("ns", ptr, 64))...)
	arr := b.add("", btfKindArray, 0, false, 0, upid, i32, 1)
	b.add("pid", btfKindStruct, 3, false, 96, cat(b.m("count", i32, 0), b.m("level", i32, 32), b.m("numbers", arr, 640))...)
	b.add("pid", btfKindFunc, 0, false, 0) // decoy (bad FUNC, never followed)
	anon := b.add("", btfKindUnion, 2, false, 8, cat(b.m("tgid", cpid, 0), b.m("x", u64, 0))...)
	b.add("task_struct", btfKindStruct, 6, true, 256, cat(
		b.m("flags", i32, 3<<24), // a 3-bit bitfield at bit 0 (kind_flag)
		b.m("pid", pidT, 64*8),
		b.m("", anon, 68*8),
		b.m("thread_pid", ptr, 80*8),
		b.m("start_boottime", u64, 88*8),
		b.m("group_leader", ptr, 96*8),
	)...)
	b.add("file", btfKindStruct, 1, false, 64, b.m("f_inode", ptr, 32*8)...)
	b.add("inode", btfKindStruct, 2, false, 128, cat(b.m("i_sb", ptr, 40*8), b.m("i_ino", u64, 64*8))...)
	b.add("super_block", btfKindStruct, 1, false, 128, b.m("s_magic", u64, 96*8)...)
	proto := b.add("", btfKindProto, 1, false, i32, b.str("ctx"), ptr)
	fn := b.add(iterTarget, btfKindFunc, 0, false, proto)
	l := &kernelLayout{
		taskPid: field{64, asm.Word}, taskTgid: field{68, asm.Word}, taskThreadPid: field{80, asm.DWord},
		taskStart: field{88, asm.DWord}, taskLeader: field{96, asm.DWord},
		pidLevel: field{4, asm.Word}, pidNumbers: field{off: 80}, upidNr: field{0, asm.Word}, upidSize: 16,
		fileInode: field{32, asm.DWord}, inodeIno: field{64, asm.DWord}, inodeSb: field{40, asm.DWord},
		sbMagic: field{96, asm.DWord},
	}
	return b.blob(), l, fn
}

func TestBTFScanFake(t *testing.T) {
	b, want, wantID := fakeKernelBTF()
	got, id, err := scanLayout(b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, layoutCmp); d != "" || id != wantID {
		t.Errorf("target %d, want %d; layout (-want +got):\n%s", id, wantID, d)
	}
	// cilium/ebpf reads the same blob the same way.
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := readLayout(spec)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(cl, got, layoutCmp); d != "" {
		t.Errorf("scanner differs from cilium/ebpf (-cilium +scan):\n%s", d)
	}
}

func TestBTFScanErrors(t *testing.T) {
	good, _, _ := fakeKernelBTF()
	sc, err := scanBTF(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := func(id uint32) int { return 24 + int(sc.offs[id-1]) }
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	put := func(off int, v uint32) []byte {
		return mod(func(b []byte) []byte { binary.NativeEndian.PutUint32(b[off:], v); return b })
	}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"short":          good[:20],
		"magic":          mod(func(b []byte) []byte { b[0] ^= 0xff; return b }),
		"version":        mod(func(b []byte) []byte { b[2] = 2; return b }),
		"hdr len":        put(4, 1<<20),
		"type len":       put(12, 1<<30),
		"str off":        put(16, 1<<31),
		"truncated":      good[:len(good)-1],
		"type cut":       put(12, binary.NativeEndian.Uint32(good[12:])-4),
		"unknown kind":   put(24+4, 31<<24),
		"no strings":     put(20, 0),
		"bad member id":  put(at(6)+btfTypeSize+4, 9999), // upid.nr's type
		"typedef cycle":  put(at(4)+8, 4),                // pid_t -> pid_t
		"member missing": mod(func(b []byte) []byte { return bytes.Replace(b, []byte("i_ino\x00"), []byte("i_inx\x00"), 1) }),
		"no target":      mod(func(b []byte) []byte { return bytes.Replace(b, []byte(iterTarget), []byte("bpf_iter_task_fil_"), 1) }),
		"two structs": mod(func(b []byte) []byte {
			return bytes.Replace(b, []byte("super_block\x00"), []byte("inode\x00\x00\x00\x00\x00\x00\x00"), 1)
		}),
	} {
		_, _, err := scanLayout(b)
		if !errors.Is(err, errBTFScan) {
			t.Errorf("%s: err = %v, want errBTFScan", name, err)
		}
	}
}

func FuzzBTFScan(f *testing.F) {
	good, _, _ := fakeKernelBTF()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, _, err := scanLayout(b)
		if err != nil {
			if !errors.Is(err, errBTFScan) {
				t.Fatalf("error %v does not wrap errBTFScan", err)
			}
			return
		}
		spec, err := btf.LoadSpecFromReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		if cl, err := readLayout(spec); err == nil {
			if d := cmp.Diff(cl, l, layoutCmp); d != "" {
				t.Errorf("scanner differs from cilium/ebpf (-cilium +scan):\n%s", d)
			}
		}
	})
}

// On this kernel, the scanner finds what cilium/ebpf finds.
func TestLiveBTFScan(t *testing.T) {
	raw, err := os.ReadFile(vmlinuxBTF)
	if err != nil {
		t.Skip(err)
	}
	got, id, err := scanLayout(raw)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	want, err := readLayout(spec)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, layoutCmp); d != "" {
		t.Errorf("layout (-cilium +scan):\n%s", d)
	}
	var fn *btf.Func
	if err := spec.TypeByName(iterTarget, &fn); err != nil {
		t.Fatal(err)
	}
	wantID, err := spec.TypeID(fn)
	if err != nil {
		t.Fatal(err)
	}
	if id != uint32(wantID) {
		t.Errorf("attach target %s: id %d, cilium/ebpf %d", iterTarget, id, wantID)
	}
}

// The fast load works here and loads the program cilium/ebpf loads.
func TestLiveLoadBPFFast(t *testing.T) {
	requireBPF(t)
	fast, err := loadBPFFast()
	if err != nil {
		t.Fatal(err)
	}
	defer fast.close()
	slow, err := loadBPFCilium()
	if err != nil {
		t.Fatal(err)
	}
	defer slow.close()
	fi, err := fast.prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	si, err := slow.prog.Info()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Tag != si.Tag || fi.Name != si.Name || fi.Type != si.Type {
		t.Errorf("fast load: %s %q tag %s; cilium/ebpf: %s %q tag %s", fi.Type, fi.Name, fi.Tag, si.Type, si.Name, si.Tag)
	}
}

// BenchmarkLiveLoadBPFCilium is the load as it was before loadBPFFast:
// cilium/ebpf decodes the kernel's BTF.
func BenchmarkLiveLoadBPFCilium(b *testing.B) {
	requireBPFBench(b)
	b.ReportAllocs()
	for b.Loop() {
		it, err := loadBPFCilium()
		if err != nil {
			b.Fatal(err)
		}
		it.close()
	}
}

// BenchmarkBTFScan is the scanner alone over the kernel's BTF.
func BenchmarkBTFScan(b *testing.B) {
	raw, err := os.ReadFile(vmlinuxBTF)
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := scanLayout(raw); err != nil {
			b.Fatal(err)
		}
	}
}
