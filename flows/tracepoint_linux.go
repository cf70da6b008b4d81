package flows

import (
	"encoding/binary"
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
//
// The kernel runs a tracing program at most once at a time per CPU: a
// call that comes while the program runs on its CPU is skipped and only
// counted (bpf_prog_inc_misses_counter, the program's recursion_misses).
// That happens when a softirq interrupts the program where it runs in
// process context (connect, close, a socket backlog processed by
// release_sock, all with BH enabled) and changes another socket's state:
// a client's FIN_WAIT2→CLOSE when the server's FIN is received, the
// server's LAST_ACK→CLOSE. Those closes were lost (some 0.1 to 0.7 % of
// 1,000 connections on a busy machine). So the program is loaded twice:
// the main copy marks itself busy on its CPU while it runs, and a second
// copy, attached to the same tracepoint, handles a call only when the
// main copy is busy on that CPU, which is exactly when the kernel skips
// the main copy for it (the second copy cannot itself be interrupted
// then: it runs in the softirq). What is still lost is a call that comes
// in the few instructions between the kernel marking the main copy as
// running and the program marking itself busy (and the same at its end):
// the main copy's recursion misses less the calls the second copy
// handled, reported as Stats.Missed.

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
	// socksSize is how many sockets the map remembers at once.
	socksSize = 1 << 16
)

// The per-CPU u64 slots of the "stats" map.
const (
	statLost      = 0 // records the ring buffer had no room for
	statBusy      = 1 // the main copy is running on this CPU (1) or not (0)
	statNested    = 2 // calls the second copy handled for the busy main copy
	statUntracked = 3 // sockets the socket map had no room for
	statSlots     = 4
)

// progParams are the load-time constants of the program.
type progParams struct {
	netns    uint32 // inode of the network namespace to watch
	pidnsDev uint64 // dev_t (kernel encoding) and inode of the pid
	pidnsIno uint64 // namespace PIDs are reported in
	states   bool   // send every other state change too
	wakeAt   int    // bytes waiting in the ring that wake the reader
	// nested makes the second copy: it runs only while the main copy is
	// busy on its CPU.
	nested bool
	// spinNs (tests only) makes the main copy busy-wait that long on
	// each call for a socket whose remote port is spinPort (network
	// order, as loaded), so that interrupts land in it often.
	spinNs   int32
	spinPort uint16
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
		sIdx   = -80 // u32, the stats map's key
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
	// statPtr leaves this CPU's stats[k] (or NULL) in R0.
	statPtr := func(k int64) asm.Instructions {
		return asm.Instructions{
			asm.StoreImm(asm.RFP, sIdx, k, asm.Word),
			asm.LoadMapPtr(asm.R1, 0).WithReference("stats"),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, sIdx),
			asm.FnMapLookupElem.Call(),
		}
	}
	// count adds one to stats[k] (atomically: the main copy's count
	// can be interrupted by the second copy's).
	labels := 0
	count := func(k int64) asm.Instructions {
		labels++
		done := fmt.Sprintf("counted%d", labels)
		return append(statPtr(k),
			asm.JEq.Imm(asm.R0, 0, done),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
			asm.Mov.Imm(asm.R1, 0).WithSymbol(done),
		)
	}
	// update stores the stack value for the socket, counting a failure
	// (the map full: the socket's PID is not remembered).
	update := func() asm.Instructions {
		labels++
		done := fmt.Sprintf("updated%d", labels)
		return append(asm.Instructions{
			asm.LoadMapPtr(asm.R1, 0).WithReference("socks"),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, sKey),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, sVal),
			asm.Mov.Imm(asm.R4, 0), // BPF_ANY
			asm.FnMapUpdateElem.Call(),
			asm.JEq.Imm(asm.R0, 0, done),
		}, append(count(statUntracked), asm.Mov.Imm(asm.R1, 0).WithSymbol(done))...)
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

	// The prologue: the main copy marks itself busy on this CPU; the second copy goes on only if the main
	// copy is busy here, that is, this call interrupted it.
	insns := cat(asm.Mov.Reg(rSk, asm.R1), statPtr(statBusy))
	if !p.nested {
		insns = cat(insns,
			asm.JEq.Imm(asm.R0, 0, "start"),
			stImm64(asm.R0, 0, 1),
		)
	} else {
		insns = cat(insns,
			asm.JEq.Imm(asm.R0, 0, "out"),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.JEq.Imm(asm.R1, 0, "out"),
			count(statNested),
		)
	}
	insns = cat(insns,
		asm.Mov.Reg(asm.R1, rSk).WithSymbol("start"),
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
	)
	if p.spinNs > 0 && !p.nested {
		// Only the test's connections spin, at most 4,096 clock reads.
		insns = cat(insns,
			ld(asm.R1, rSk, l.skcDport),
			asm.JNE.Imm(asm.R1, int32(p.spinPort), "spun"),
			asm.FnKtimeGetNs.Call(),
			asm.Mov.Reg(rRec, asm.R0),
			asm.Mov.Imm(rTmp, 0),
			asm.FnKtimeGetNs.Call().WithSymbol("spin"),
			asm.Sub.Reg(asm.R0, rRec),
			asm.JGE.Imm(asm.R0, p.spinNs, "spun"),
			asm.Add.Imm(rTmp, 1),
			asm.JLT.Imm(rTmp, 4096, "spin"),
			asm.Mov.Imm(rRec, 0).WithSymbol("spun"),
			asm.Mov.Imm(rTmp, 0),
		)
	}
	insns = cat(insns,
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
		update(),
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
		update(),
		asm.Ja.Label("emit"),

		now.WithSymbol("passive"),
		asm.Mov.Reg(rVal, asm.R0),
		asm.Mov.Imm(rTmp, flagPassive),
		zeroValue,
		update(),
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
		update(),
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
		asm.Mov.Imm(asm.R1, 0).WithSymbol("lost"),
		count(statLost),
		asm.Ja.Label("after"),
	)
	if !p.nested {
		// The main copy is no longer busy here.
		out := statPtr(statBusy)
		out[0] = out[0].WithSymbol("out")
		insns = cat(insns, out,
			asm.JEq.Imm(asm.R0, 0, "ret"),
			stImm64(asm.R0, 0, 0),
			asm.Mov.Imm(asm.R0, 0).WithSymbol("ret"),
			asm.Return(),
		)
	} else {
		insns = cat(insns, asm.Mov.Imm(asm.R0, 0).WithSymbol("out"), asm.Return())
	}
	return insns
}

// tracepoint is a loaded and attached program with its maps.
type tracepoint struct {
	coll   *ebpf.Collection
	links  []link.Link // the main copy's, then the second copy's
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
	params := progParams{
		netns: uint32(netns), pidnsDev: pdev, pidnsIno: pino, states: opts.States,
		wakeAt: ring / 8, spinNs: tracepointTest.spinNs,
	}
	if tracepointTest.spinNs > 0 {
		var port [2]byte
		binary.BigEndian.PutUint16(port[:], tracepointTest.spinPort)
		params.spinPort = binary.NativeEndian.Uint16(port[:])
	}
	prog := func(name string, p progParams) *ebpf.ProgramSpec {
		return &ebpf.ProgramSpec{
			Name:         name,
			Type:         ebpf.Tracing,
			AttachType:   ebpf.AttachTraceRawTp,
			AttachTo:     "inet_sock_set_state",
			License:      "Dual MIT/GPL", // bpf_probe_read_kernel and others are GPL-only
			Instructions: program(l, p),
		}
	}
	cs := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"events": {Name: "procnet_flows", Type: ebpf.RingBuf, MaxEntries: uint32(ring)},
			"socks": {Name: "procnet_socks", Type: ebpf.Hash, KeySize: 8, ValueSize: valueSize,
				MaxEntries: socksSize},
			"stats": {Name: "procnet_stats", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8, MaxEntries: statSlots},
		},
		Programs: map[string]*ebpf.ProgramSpec{"flows": prog("procnet_flows", params)},
	}
	if !tracepointTest.single {
		params.nested, params.spinNs = true, 0
		cs.Programs["nested"] = prog("procnet_nested", params)
	}
	coll, err := ebpf.NewCollectionWithOptions(cs, ebpf.CollectionOptions{Cache: cache})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: load: %+v", ErrUnavailable, ve)
		}
		return nil, fmt.Errorf("%w: load: %w", ErrUnavailable, err)
	}
	t := &tracepoint{coll: coll, offset: monoOffset()}
	// The main copy first: a call that does not interrupt it finds it
	// not busy in the second copy, whichever runs first.
	for _, name := range []string{"flows", "nested"} {
		if coll.Programs[name] == nil {
			continue
		}
		lk, err := link.AttachTracing(link.TracingOptions{Program: coll.Programs[name]})
		if err != nil {
			t.closeLinks()
			coll.Close()
			return nil, fmt.Errorf("%w: attach: %w", ErrUnavailable, err)
		}
		t.links = append(t.links, lk)
	}
	t.rd, err = ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		t.closeLinks()
		coll.Close()
		return nil, fmt.Errorf("%w: ring buffer: %w", ErrUnavailable, err)
	}
	t.rd.SetDeadline(time.Now().Add(flushInterval))
	return t, nil
}

// tracepointTest lets tests load only the main copy (single) and make it
// spin on each call for their connections to spinPort.
var tracepointTest struct {
	single   bool
	spinNs   int32
	spinPort uint16
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

// sum returns stats[k] summed over the CPUs.
func (t *tracepoint) sum(k uint32) uint64 {
	var per []uint64
	if err := t.coll.Maps["stats"].Lookup(k, &per); err != nil {
		return 0
	}
	var n uint64
	for _, v := range per {
		n += v
	}
	return n
}

// stats reads the program's counters and the kernel's count of the main
// copy's skipped calls.
func (t *tracepoint) stats() Stats {
	// The second copy's count first: for any call, the kernel counts the
	// main copy's miss before the second copy counts its catch, so that
	// Missed is never negative.
	st := Stats{Lost: t.sum(statLost), Nested: t.sum(statNested), Untracked: t.sum(statUntracked)}
	if ps, err := t.coll.Programs["flows"].Stats(); err == nil && ps.RecursionMisses > st.Nested {
		st.Missed = ps.RecursionMisses - st.Nested
	}
	return st
}

func (t *tracepoint) closeLinks() {
	for _, lk := range t.links {
		lk.Close()
	}
}

func (t *tracepoint) close() error {
	err := t.rd.Close()
	t.closeLinks()
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
	sc.listenersOnly = f.opts.NoOldOwners
	sc.scan(time.Now(), nil, nil)
	// The tracker's memory of every socket's owner is not needed until a
	// rescan (rare: a listener the first scan missed), which makes another.
	sc.tr = nil
	f.closeSrc = func() { tp.rd.Close() }
	f.statsFn = tp.stats
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
