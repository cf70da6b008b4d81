package procmap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// The fast load: offsets and attach target from scanLayout, the program
// loaded with one BPF_PROG_LOAD of our own (cilium/ebpf can only attach
// an iterator by name, which makes it decode the whole kernel BTF), then
// handed to cilium/ebpf as a Program to attach. loadBPF falls back to the
// cilium/ebpf path on any error here.

// progLoadAttr is the BPF_PROG_LOAD part of union bpf_attr
// (include/uapi/linux/bpf.h) up to attach_btf_obj_fd, on a 64-bit
// platform (pointers are __aligned_u64).
type progLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              unsafe.Pointer
	license            unsafe.Pointer
	logLevel           uint32
	logSize            uint32
	logBuf             unsafe.Pointer
	kernVersion        uint32
	progFlags          uint32
	progName           [16]byte
	progIfindex        uint32
	expectedAttachType uint32
	progBTFFd          uint32
	funcInfoRecSize    uint32
	funcInfo           unsafe.Pointer
	funcInfoCnt        uint32
	lineInfoRecSize    uint32
	lineInfo           unsafe.Pointer
	lineInfoCnt        uint32
	attachBTFID        uint32
	attachBTFObjFd     uint32
	_                  uint32
}

var bpfLicense = []byte("Dual MIT/GPL\x00") // bpf_seq_write is GPL-only

// loadBPFFast loads and attaches the program without cilium/ebpf's BTF.
func loadBPFFast() (*bpfIter, error) {
	if unsafe.Sizeof(uintptr(0)) != 8 || unsafe.Offsetof(progLoadAttr{}.attachBTFID) != 108 {
		return nil, errors.New("fast load: not a 64-bit platform")
	}
	raw, unmap, err := readVmlinuxBTF()
	if err != nil {
		return nil, err
	}
	l, target, err := scanLayout(raw)
	unmap()
	if err != nil {
		return nil, err
	}
	insns := program(l)
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, nativeOrder); err != nil {
		return nil, err
	}
	code := buf.Bytes()
	attr := &progLoadAttr{
		progType:           unix.BPF_PROG_TYPE_TRACING,
		insnCnt:            uint32(len(code) / 8),
		insns:              unsafe.Pointer(&code[0]),
		license:            unsafe.Pointer(&bpfLicense[0]),
		expectedAttachType: unix.BPF_TRACE_ITER,
		attachBTFID:        target,
	}
	copy(attr.progName[:15], "procnet_sockfd")
	var fd uintptr
	var errno unix.Errno
	// The verifier gives up with EAGAIN when a signal is pending (the Go
	// runtime's preemption, a profiler): try again a few times.
	for range 10 {
		fd, _, errno = unix.Syscall(unix.SYS_BPF, unix.BPF_PROG_LOAD, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr))
		if errno != unix.EAGAIN && errno != unix.EINTR {
			break
		}
	}
	runtime.KeepAlive(attr)
	runtime.KeepAlive(code)
	if errno != 0 {
		return nil, fmt.Errorf("fast load: BPF_PROG_LOAD: %w", errno)
	}
	prog, err := ebpf.NewProgramFromFD(int(fd))
	if err != nil {
		unix.Close(int(fd))
		return nil, fmt.Errorf("fast load: %w", err)
	}
	it, err := link.AttachIter(link.IterOptions{Program: prog})
	if err != nil {
		prog.Close()
		return nil, fmt.Errorf("fast load: attach: %w", err)
	}
	return &bpfIter{prog: prog, iter: it}, nil
}

// nativeOrder is binary.LittleEndian or binary.BigEndian, whichever is
// native: asm.Instructions.Marshal knows only those two.
var nativeOrder = func() binary.ByteOrder {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()

// readVmlinuxBTF maps (or else reads) the kernel's BTF.
func readVmlinuxBTF() (b []byte, release func(), err error) {
	f, err := os.Open(vmlinuxBTF)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() > 0 && st.Size() < 1<<30 {
		if b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_PRIVATE); err == nil {
			return b, func() { unix.Munmap(b) }, nil
		}
	}
	b, err = os.ReadFile(vmlinuxBTF)
	return b, func() {}, err
}
