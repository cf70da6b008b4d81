package flows

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/procnet/procnet/internal/kbtf"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

// The tracepoint source: a tp_btf program on sock:inet_sock_set_state
// (include/trace/events/sock.h: TP_PROTO(const struct sock *sk, const int
// oldstate, const int newstate)). It keeps, per socket, a hash map entry
// {open time, PID, flags, comm} written where the current task is the
// socket's process (connect: CLOSE→SYN_SENT; close: ESTABLISHED→FIN_WAIT1,
// CLOSE_WAIT→LAST_ACK) or at a passive open (SYN_RECV→ESTABLISHED), and
// sends a record to a ring buffer at an open (→ESTABLISHED), at a close
// (→CLOSE, with the tcp_sock's final counters read through BTF offsets),
// and when a listener opens or closes (so that accepted connections can
// be given their listener's owner). Only sockets of the caller's network
// namespace pass; PIDs are those of the caller's pid namespace.

// tcpLayout holds the offsets the program reads, from the kernel's BTF.
type tcpLayout struct {
	skProtocol, skcFamily, skcDport field
	skcRcvSaddr, skcDaddr           field
	skcV6RcvSaddr, skcV6Daddr       field
	skcNet, netInum                 field
	inetSport, skFlags              field
	taskLeader, taskComm            field
	bytesSent, bytesReceived        field
	bytesRetrans                    field
	segsOut, segsIn                 field
}

type field struct {
	off  int
	size asm.Size
}

func readTCPLayout(spec *btf.Spec) (*tcpLayout, error) {
	var l tcpLayout
	netNs, err := member(spec, "net", "ns", -1)
	if err != nil {
		return nil, err
	}
	for _, m := range []struct {
		dst       *field
		typ, name string
		size      int
	}{
		{&l.skProtocol, "sock", "sk_protocol", 2},
		{&l.skFlags, "sock_common", "skc_flags", 8},
		{&l.skcFamily, "sock_common", "skc_family", 2},
		{&l.skcDport, "sock_common", "skc_dport", 2},
		{&l.skcRcvSaddr, "sock_common", "skc_rcv_saddr", 4},
		{&l.skcDaddr, "sock_common", "skc_daddr", 4},
		{&l.skcV6RcvSaddr, "sock_common", "skc_v6_rcv_saddr", 16},
		{&l.skcV6Daddr, "sock_common", "skc_v6_daddr", 16},
		{&l.skcNet, "sock_common", "skc_net", 8},
		{&l.netInum, "ns_common", "inum", 4},
		{&l.bytesSent, "tcp_sock", "bytes_sent", 8},
		{&l.bytesReceived, "tcp_sock", "bytes_received", 8},
		{&l.bytesRetrans, "tcp_sock", "bytes_retrans", 8},
		{&l.segsOut, "tcp_sock", "segs_out", 4},
		{&l.segsIn, "tcp_sock", "segs_in", 4},
		// Not skc_num: a socket going to CLOSE gives its port back
		// (inet_put_port zeroes skc_num) before the tracepoint runs.
		{&l.inetSport, "inet_sock", "inet_sport", 2},
		// The process's name is its thread group leader's comm (what
		// /proc/PID/stat shows), not the current thread's.
		{&l.taskLeader, "task_struct", "group_leader", 8},
		{&l.taskComm, "task_struct", "comm", 16},
	} {
		f, err := member(spec, m.typ, m.name, m.size)
		if err != nil {
			return nil, err
		}
		*m.dst = f
	}
	// struct sock starts with struct sock_common __sk_common.
	common, err := member(spec, "sock", "__sk_common", -1)
	if err != nil {
		return nil, err
	}
	for _, f := range []*field{&l.skcFamily, &l.skcDport, &l.skcRcvSaddr, &l.skcDaddr,
		&l.skcV6RcvSaddr, &l.skcV6Daddr, &l.skcNet, &l.skFlags} {
		f.off += common.off
	}
	l.netInum.off += netNs.off
	return &l, nil
}

// member finds member name of struct typ, looking into anonymous structs
// and unions, and checks its size (want -1: any).
func member(spec *btf.Spec, typ, name string, want int) (field, error) {
	off, t, err := kbtf.Member(spec, typ, name)
	if err != nil {
		return field{}, err
	}
	n, err := btf.Sizeof(t)
	if err != nil {
		return field{}, fmt.Errorf("btf: %s.%s: %w", typ, name, err)
	}
	if want >= 0 && n != want {
		return field{}, fmt.Errorf("btf: %s.%s has size %d, want %d", typ, name, n, want)
	}
	f := field{off: off}
	switch n {
	case 1:
		f.size = asm.Byte
	case 2:
		f.size = asm.Half
	case 4:
		f.size = asm.Word
	case 8:
		f.size = asm.DWord
	}
	return f, nil
}

// The program's own constants (the record layout and the kernel's TCP
// states are in record.go, next to the decoder).
const (
	sockDone = 1 // SOCK_DONE of enum sock_flags

	// map value: u64 start, u32 pid, u32 flags, comm[16]
	valueSize = 32
)

// progParams are the load-time constants of the program.
type progParams struct {
	netns    uint32 // inode of the network namespace to watch
	pidnsDev uint64 // dev_t (kernel encoding) and inode of the pid
	pidnsIno uint64 // namespace PIDs are reported in
	states   bool   // send every other state change too
	wakeAt   int    // bytes waiting in the ring that wake the reader
}

// bpf_ringbuf_submit flags and the reader's polling period.
const (
	rbNoWakeup    = 1 // BPF_RB_NO_WAKEUP
	rbForceWakeup = 2 // BPF_RB_FORCE_WAKEUP

	// flushInterval bounds how long a record can wait in the ring for
	// its reader: the program wakes the reader only when wakeAt bytes
	// are waiting.
	flushInterval = 50 * time.Millisecond
)

// program assembles the tracepoint program.
func program(l *tcpLayout, p progParams) asm.Instructions {
	const (
		rSk  = asm.R6
		rRec = asm.R7
		rTmp = asm.R8
		rVal = asm.R9
		rTcp = asm.R9 // in emit, once the value is copied

		sKey   = -8  // u64 sk, the map key
		sOld   = -16 // u64 oldstate
		sNew   = -24 // u64 newstate
		sKind  = -32 // u64 record kind
		sPidNS = -40 // struct bpf_pidns_info {u32 pid, tgid}
		sVal   = -72 // map value: start -72, pid -64, flags -60, comm -56..-40
		sIdx   = -80 // u32 0, the lost counter's key
	)
	ld := func(dst, src asm.Register, f field) asm.Instruction {
		return asm.LoadMem(dst, src, int16(f.off), f.size)
	}
	// fill writes the stack value from the current task: start from
	// rVal, flags from rTmp, pid and comm.
	fill := func(label string) asm.Instructions {
		return asm.Instructions{
			asm.StoreMem(asm.RFP, sVal, rVal, asm.DWord),
			asm.StoreMem(asm.RFP, sVal+12, rTmp, asm.Word),
			asm.StoreImm(asm.RFP, sVal+8, 0, asm.Word),
			asm.LoadImm(asm.R1, int64(p.pidnsDev), asm.DWord),
			asm.LoadImm(asm.R2, int64(p.pidnsIno), asm.DWord),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, sPidNS),
			asm.Mov.Imm(asm.R4, 8),
			asm.FnGetNsCurrentPidTgid.Call(),
			asm.JNE.Imm(asm.R0, 0, label),
			asm.LoadMem(asm.R1, asm.RFP, sPidNS+4, asm.Word), // tgid: the process
			asm.StoreMem(asm.RFP, sVal+8, asm.R1, asm.Word),
			asm.FnGetCurrentTaskBtf.Call().WithSymbol(label),
			ld(asm.R3, asm.R0, l.taskLeader),
			asm.Add.Imm(asm.R3, int32(l.taskComm.off)),
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, sVal+16),
			asm.Mov.Imm(asm.R2, 16),
			asm.FnProbeReadKernel.Call(),
		}
	}
	// zeroValue writes an empty stack value with start from rVal and
	// flags from rTmp, and points rVal at it.
	zeroValue := asm.Instructions{
		asm.StoreMem(asm.RFP, sVal, rVal, asm.DWord),
		asm.StoreImm(asm.RFP, sVal+8, 0, asm.Word),
		asm.StoreMem(asm.RFP, sVal+12, rTmp, asm.Word),
		stImm64(asm.RFP, sVal+16, 0),
		stImm64(asm.RFP, sVal+24, 0),
		asm.Mov.Reg(rVal, asm.RFP),
		asm.Add.Imm(rVal, sVal),
	}
	update := asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference("socks"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, sKey),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, sVal),
		asm.Mov.Imm(asm.R4, 0), // BPF_ANY
		asm.FnMapUpdateElem.Call(),
	}
	lookupAt := func(label string) asm.Instructions {
		first := asm.LoadMapPtr(asm.R1, 0).WithReference("socks")
		if label != "" {
			first = first.WithSymbol(label)
		}
		return asm.Instructions{
			first,
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, sKey),
			asm.FnMapLookupElem.Call(),
		}
	}
	lookup := asm.Instructions{
		asm.LoadMapPtr(asm.R1, 0).WithReference("socks"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, sKey),
		asm.FnMapLookupElem.Call(),
	}
	now := asm.FnKtimeGetNs.Call()
	setKind := func(k int64) asm.Instruction { return stImm64(asm.RFP, sKind, k) }
	cat := func(parts ...any) asm.Instructions {
		var out asm.Instructions
		for _, p := range parts {
			switch v := p.(type) {
			case asm.Instruction:
				out = append(out, v)
			case asm.Instructions:
				out = append(out, v...)
			}
		}
		return out
	}

	insns := cat(
		// Arguments, and the filters: TCP, our network namespace.
		asm.LoadMem(rSk, asm.R1, 0, asm.DWord),
		asm.LoadMem(asm.R2, asm.R1, 8, asm.DWord),
		asm.StoreMem(asm.RFP, sOld, asm.R2, asm.DWord),
		asm.LoadMem(asm.R2, asm.R1, 16, asm.DWord),
		asm.StoreMem(asm.RFP, sNew, asm.R2, asm.DWord),
		asm.JEq.Imm(rSk, 0, "out"),
		ld(asm.R1, rSk, l.skProtocol),
		asm.JNE.Imm(asm.R1, unix.IPPROTO_TCP, "out"),
		ld(asm.R1, rSk, l.skcNet),
		asm.JEq.Imm(asm.R1, 0, "out"),
		ld(asm.R1, asm.R1, l.netInum),
		asm.JNE.Imm32(asm.R1, int32(p.netns), "out"),
		asm.StoreMem(asm.RFP, sKey, rSk, asm.DWord),

		asm.LoadMem(asm.R1, asm.RFP, sNew, asm.DWord),
		asm.JEq.Imm(asm.R1, stSynSent, "connect"),
		asm.JEq.Imm(asm.R1, stListen, "listen"),
		asm.JEq.Imm(asm.R1, stEstablished, "established"),
		asm.JEq.Imm(asm.R1, stFinWait1, "taskclose"),
		asm.JEq.Imm(asm.R1, stLastAck, "taskclose"),
		asm.JEq.Imm(asm.R1, stClose, "close"),
		asm.Ja.Label("other"),

		// connect(2): remember when and who.
		now.WithSymbol("connect"),
		asm.Mov.Reg(rVal, asm.R0),
		asm.Mov.Imm(rTmp, flagActive|flagTask),
		fill("connect_comm"),
		update,
		asm.Ja.Label("other"),

		// listen(2): tell user space who listens.
		asm.Mov.Imm(rVal, 0).WithSymbol("listen"),
		asm.Mov.Imm(rTmp, flagTask),
		fill("listen_comm"),
		asm.Mov.Reg(rVal, asm.RFP),
		asm.Add.Imm(rVal, sVal),
		setKind(recListen),
		asm.Ja.Label("emit"),

		// An open: active (known from connect, or not) or passive.
		asm.LoadMem(asm.R1, asm.RFP, sOld, asm.DWord).WithSymbol("established"),
		asm.JEq.Imm(asm.R1, stSynRecv, "passive"),
		lookup,
		asm.Mov.Reg(rVal, asm.R0),
		setKind(recOpen),
		asm.JNE.Imm(rVal, 0, "emit"),
		now,
		asm.Mov.Reg(rVal, asm.R0),
		asm.Mov.Imm(rTmp, 0),
		zeroValue,
		update,
		asm.Ja.Label("emit"),

		now.WithSymbol("passive"),
		asm.Mov.Reg(rVal, asm.R0),
		asm.Mov.Imm(rTmp, flagPassive),
		zeroValue,
		update,
		setKind(recOpen),
		asm.Ja.Label("emit"),

		// The process closes: it is the socket's owner.
		lookupAt("taskclose"),
		asm.Mov.Imm(rVal, 0),
		asm.Mov.Imm(rTmp, 0),
		asm.JEq.Imm(asm.R0, 0, "taskclose_fill"),
		asm.LoadMem(rVal, asm.R0, 0, asm.DWord),
		asm.LoadMem(rTmp, asm.R0, 12, asm.Word),
		asm.Or.Imm(rTmp, flagTask|flagTaskClose).WithSymbol("taskclose_fill"),
		fill("taskclose_comm"),
		update,
		asm.Ja.Label("other"),

		// The socket is closed.
		lookupAt("close"),
		asm.Mov.Reg(rVal, asm.R0),
		asm.JNE.Imm(rVal, 0, "close_kind"),
		asm.Mov.Imm(rVal, 0),
		asm.Mov.Imm(rTmp, 0),
		zeroValue,
		setKind(recClose).WithSymbol("close_kind"),
		asm.LoadMem(asm.R1, asm.RFP, sOld, asm.DWord),
		asm.JNE.Imm(asm.R1, stListen, "emit"),
		setKind(recUnlisten),
		asm.Ja.Label("emit"),
	)
	if p.states {
		insns = cat(insns,
			lookupAt("other"),
			asm.Mov.Reg(rVal, asm.R0),
			setKind(recState),
			asm.JNE.Imm(rVal, 0, "emit"),
			asm.Mov.Imm(rTmp, 0),
			zeroValue,
			asm.Ja.Label("emit"),
		)
	} else {
		insns = cat(insns, asm.Ja.Label("out").WithSymbol("other"))
	}
	insns = cat(insns,
		// emit: a record from the value at rVal and the socket.
		asm.LoadMapPtr(asm.R1, 0).WithReference("events").WithSymbol("emit"),
		asm.Mov.Imm(asm.R2, recordSize),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
		asm.JEq.Imm(asm.R0, 0, "lost"),
		asm.Mov.Reg(rRec, asm.R0),
		now,
		asm.StoreMem(rRec, 0, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, rVal, 0, asm.DWord),
		asm.StoreMem(rRec, 8, asm.R1, asm.DWord),
		stImm64(rRec, 16, 0),
		stImm64(rRec, 24, 0),
		stImm64(rRec, 32, 0),
		stImm64(rRec, 104, 0),
		asm.LoadMem(asm.R1, rVal, 8, asm.Word),
		asm.StoreMem(rRec, 40, asm.R1, asm.Word),
		asm.LoadMem(asm.R1, asm.RFP, sKind, asm.DWord),
		asm.StoreMem(rRec, 44, asm.R1, asm.Byte),
		asm.LoadMem(asm.R1, asm.RFP, sOld, asm.DWord),
		asm.StoreMem(rRec, 45, asm.R1, asm.Byte),
		asm.LoadMem(asm.R1, asm.RFP, sNew, asm.DWord),
		asm.StoreMem(rRec, 46, asm.R1, asm.Byte),
		asm.LoadMem(asm.R1, rVal, 12, asm.Word),
		asm.StoreMem(rRec, 47, asm.R1, asm.Byte),
		asm.LoadMem(asm.R1, rVal, 16, asm.DWord),
		asm.StoreMem(rRec, 88, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, rVal, 24, asm.DWord),
		asm.StoreMem(rRec, 96, asm.R1, asm.DWord),
		// rVal is done with: it becomes the socket as a tcp_sock, whose
		// fields past struct sock the verifier then lets us load
		// directly (a load, where bpf_probe_read_kernel is a call).
		asm.Mov.Reg(asm.R1, rSk),
		asm.FnSkcToTcpSock.Call(),
		asm.Mov.Reg(rTcp, asm.R0),
		asm.StoreImm(rRec, 50, 0, asm.Half),
		ld(asm.R2, rSk, l.skcDport),
		asm.StoreMem(rRec, 52, asm.R2, asm.Half),
		asm.StoreImm(rRec, 54, 0, asm.Half),
		stImm64(rRec, 56, 0),
		stImm64(rRec, 64, 0),
		stImm64(rRec, 72, 0),
		stImm64(rRec, 80, 0),
		ld(asm.R1, rSk, l.skcFamily),
		asm.StoreMem(rRec, 48, asm.R1, asm.Half),
		asm.JEq.Imm(asm.R1, unix.AF_INET6, "v6"),
		ld(asm.R1, rSk, l.skcRcvSaddr),
		asm.StoreMem(rRec, 56, asm.R1, asm.Word),
		ld(asm.R1, rSk, l.skcDaddr),
		asm.StoreMem(rRec, 72, asm.R1, asm.Word),
		asm.Ja.Label("traffic_sport"),
	)
	probe := func(label string, dst int32, n int32, f field) asm.Instructions {
		first := asm.Mov.Reg(asm.R1, rRec)
		if label != "" {
			first = first.WithSymbol(label)
		}
		return asm.Instructions{
			first,
			asm.Add.Imm(asm.R1, dst),
			asm.Mov.Imm(asm.R2, n),
			asm.Mov.Reg(asm.R3, rSk),
			asm.Add.Imm(asm.R3, int32(f.off)),
			asm.FnProbeReadKernel.Call(),
		}
	}
	insns = cat(insns,
		probe("v6", 56, 16, l.skcV6RcvSaddr),
		probe("", 72, 16, l.skcV6Daddr),
		// The local port (inet_sport: the bound port is given back
		// before a socket goes to CLOSE) and, on a close, the counters.
		asm.JEq.Imm(rTcp, 0, "submit").WithSymbol("traffic_sport"),
		ld(asm.R1, rTcp, l.inetSport),
		asm.StoreMem(rRec, 50, asm.R1, asm.Half),
		asm.LoadMem(asm.R1, asm.RFP, sKind, asm.DWord),
		asm.JNE.Imm(asm.R1, recClose, "submit"),
		ld(asm.R1, rTcp, l.bytesSent),
		asm.StoreMem(rRec, 16, asm.R1, asm.DWord),
		ld(asm.R1, rTcp, l.bytesReceived),
		asm.StoreMem(rRec, 24, asm.R1, asm.DWord),
		ld(asm.R1, rTcp, l.bytesRetrans),
		asm.StoreMem(rRec, 104, asm.R1, asm.DWord),
		ld(asm.R1, rTcp, l.segsOut),
		asm.StoreMem(rRec, 32, asm.R1, asm.Word),
		ld(asm.R1, rTcp, l.segsIn),
		asm.StoreMem(rRec, 36, asm.R1, asm.Word),
		// SOCK_DONE (bit 1 of sk_flags): tcp_fin() saw the peer's FIN,
		// which bytes_received counts as one byte.
		ld(asm.R2, rSk, l.skFlags),
		asm.RSh.Imm(asm.R2, sockDone),
		asm.And.Imm(asm.R2, 1),
		asm.Mul.Imm(asm.R2, flagFin),
		asm.LoadMem(asm.R1, rRec, 47, asm.Byte),
		asm.Or.Imm(asm.R1, flagTraffic),
		asm.Or.Reg(asm.R1, asm.R2),
		asm.StoreMem(rRec, 47, asm.R1, asm.Byte),
		// Wake the reader only once a good part of the ring is full: it
		// reads the rest every flushInterval. A wakeup per record would
		// cost the reader a context switch per event.
		asm.LoadMapPtr(asm.R1, 0).WithReference("events").WithSymbol("submit"),
		asm.Mov.Imm(asm.R2, 0), // BPF_RB_AVAIL_DATA
		asm.FnRingbufQuery.Call(),
		asm.Mov.Imm(rTmp, rbNoWakeup),
		asm.JLT.Imm(asm.R0, int32(p.wakeAt), "submit_call"),
		asm.Mov.Imm(rTmp, rbForceWakeup),
		asm.Mov.Reg(asm.R1, rRec).WithSymbol("submit_call"),
		asm.Mov.Reg(asm.R2, rTmp),
		asm.FnRingbufSubmit.Call(),

		// A closed socket's entry goes.
		asm.LoadMem(asm.R1, asm.RFP, sKind, asm.DWord).WithSymbol("after"),
		asm.JNE.Imm(asm.R1, recClose, "out"),
		asm.LoadMapPtr(asm.R1, 0).WithReference("socks"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, sKey),
		asm.FnMapDeleteElem.Call(),
		asm.Ja.Label("out"),

		// The ring buffer was full: count the loss.
		asm.StoreImm(asm.RFP, sIdx, 0, asm.Word).WithSymbol("lost"),
		asm.LoadMapPtr(asm.R1, 0).WithReference("lost"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, sIdx),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "after"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.Ja.Label("after"),

		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
	return insns
}

// tracepoint is a loaded and attached program with its maps.
type tracepoint struct {
	coll   *ebpf.Collection
	link   link.Link
	rd     *ringbuf.Reader
	rec    ringbuf.Record
	offset time.Duration // wall clock minus CLOCK_MONOTONIC
}

// nsID returns the device (kernel encoding) and inode of /proc/self/ns/name.
func nsID(name string) (dev, ino uint64, err error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/"+name, &st); err != nil {
		return 0, 0, err
	}
	// The kernel's dev_t is MAJOR<<20 | MINOR; stat encodes it otherwise.
	dev = uint64(unix.Major(st.Dev))<<20 | uint64(unix.Minor(st.Dev))
	return dev, st.Ino, nil
}

func openTracepoint(opts *Options) (*tracepoint, error) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return nil, fmt.Errorf("%w: kernel BTF: %w", ErrUnavailable, err)
	}
	_, netns, err := nsID("net")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	pdev, pino, err := nsID("pid")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	cache := btf.NewCache()
	spec, err := cache.Kernel()
	if err != nil {
		return nil, fmt.Errorf("%w: kernel BTF: %w", ErrUnavailable, err)
	}
	l, err := readTCPLayout(spec)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ring := opts.RingSize
	if ring <= 0 {
		ring = 4 << 20
	}
	cs := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"events": {Name: "procnet_flows", Type: ebpf.RingBuf, MaxEntries: uint32(ring)},
			"socks": {Name: "procnet_socks", Type: ebpf.Hash, KeySize: 8, ValueSize: valueSize,
				MaxEntries: 1 << 16},
			"lost": {Name: "procnet_lost", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		},
		Programs: map[string]*ebpf.ProgramSpec{"flows": {
			Name:       "procnet_flows",
			Type:       ebpf.Tracing,
			AttachType: ebpf.AttachTraceRawTp,
			AttachTo:   "inet_sock_set_state",
			License:    "Dual MIT/GPL", // bpf_probe_read_kernel and others are GPL-only
			Instructions: program(l, progParams{
				netns: uint32(netns), pidnsDev: pdev, pidnsIno: pino, states: opts.States,
				wakeAt: ring / 8,
			}),
		}},
	}
	coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{Cache: cache})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: load: %+v", ErrUnavailable, ve)
		}
		return nil, fmt.Errorf("%w: load: %w", ErrUnavailable, err)
	}
	lk, err := link.AttachTracing(link.TracingOptions{Program: coll.Programs["flows"]})
	if err != nil {
		coll.Close()
		return nil, fmt.Errorf("%w: attach: %w", ErrUnavailable, err)
	}
	rd, err := ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		lk.Close()
		coll.Close()
		return nil, fmt.Errorf("%w: ring buffer: %w", ErrUnavailable, err)
	}
	rd.SetDeadline(time.Now().Add(flushInterval))
	return &tracepoint{coll: coll, link: lk, rd: rd, offset: monoOffset()}, nil
}

// monoOffset is the wall clock minus CLOCK_MONOTONIC (what
// bpf_ktime_get_ns reads).
func monoOffset() time.Duration {
	var ts unix.Timespec
	before := time.Now()
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(before.UnixNano() - ts.Nano())
}

// read returns the next raw record; it blocks until one arrives or the
// tracepoint is closed (ringbuf.ErrClosed).
func (t *tracepoint) read() ([]byte, error) {
	for {
		err := t.rd.ReadInto(&t.rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.rd.SetDeadline(time.Now().Add(flushInterval))
			continue
		}
		if err != nil {
			return nil, err
		}
		return t.rec.RawSample, nil
	}
}

// lost returns how many records the ring buffer had no room for.
func (t *tracepoint) lost() uint64 {
	var per []uint64
	if err := t.coll.Maps["lost"].Lookup(uint32(0), &per); err != nil {
		return 0
	}
	var n uint64
	for _, v := range per {
		n += v
	}
	return n
}

func (t *tracepoint) close() error {
	err := t.rd.Close()
	t.link.Close()
	t.coll.Close()
	return err
}

// stImm64 stores an immediate (sign-extended from 32 bits) as a u64,
// which asm.StoreImm refuses to encode although the kernel accepts it.
func stImm64(dst asm.Register, off int16, v int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: v}
}

// attribute gives a tracepoint event without a task PID the best owner
// known: the listener's for an accepted connection, else what the
// scanner saw.
func attribute(ev *Event, sc *scanner) {
	if ev.Passive {
		if o, ok := listener(sc.listeners, ev.Local); ok {
			ev.PID, ev.Program, ev.Attribution = o.pid, o.program, AttrListener
		}
		return
	}
	if o, ok := sc.ownerOf(ev.Local, ev.Remote); ok {
		ev.PID, ev.Program, ev.Attribution = o.pid, o.program, AttrTracker
	}
}

// startTracepoint starts the tracepoint source.
func (f *Feed) startTracepoint() error {
	tp, err := openTracepoint(&f.opts)
	if err != nil {
		return err
	}
	// Who owns what already: listeners, and connections older than the
	// feed, whose opens the program did not see.
	sc := newOwnerScanner()
	sc.scan(time.Now(), nil, nil)
	// The tracker's memory of every socket's owner is not needed until a
	// rescan (rare: a listener the first scan missed), which makes another.
	sc.tr = nil
	f.closeSrc = func() { tp.rd.Close() }
	f.lostFn = tp.lost
	f.run(func() {
		defer tp.close()
		var rescanned time.Time
		for {
			b, err := tp.read()
			if errors.Is(err, ringbuf.ErrClosed) {
				return
			}
			if err != nil {
				f.send(item{err: fmt.Errorf("flows: ring buffer: %w", err)})
				return
			}
			r, err := decodeRecord(b)
			if err != nil {
				if !f.send(item{err: err}) {
					return
				}
				continue
			}
			switch r.kind {
			case recListen:
				sc.listeners[r.local] = owner{pid: int(r.pid), program: r.comm}
			case recUnlisten:
				// Kept: connections it accepted may close after it.
				// A new listener on the address replaces it.
			}
			if (r.kind == recListen || r.kind == recUnlisten) && !f.opts.States {
				continue
			}
			ev := r.event(tp.offset)
			if ev.PID == 0 {
				attribute(&ev, sc)
				if ev.PID == 0 && ev.Passive && time.Since(rescanned) > time.Second {
					// A listener older than the feed that the first
					// scan missed: look again, at most once a second.
					rescanned = time.Now()
					sc.scan(rescanned, nil, nil)
					attribute(&ev, sc)
				}
			}
			if ev.Kind == Close {
				sc.forget(ev.Local, ev.Remote)
			}
			if !f.send(item{ev: ev}) {
				return
			}
		}
	})
	return nil
}
