// Package flows streams TCP connection events — a connection opened, a
// connection closed, optionally every state change — with the time, the
// addresses, the process where it can be trusted, the duration and the
// final byte and segment counts: the history that polling the socket
// tables misses (of 1,000 connections living 10 ms each, a poll every
// second sees about 1 %).
//
//	f, err := flows.Start(flows.Options{})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer f.Close()
//	for {
//		ev, err := f.Next(ctx)
//		if err == io.EOF || ctx.Err() != nil {
//			break
//		}
//		if err != nil {
//			log.Print(err) // a bad record; the feed goes on
//			continue
//		}
//		fmt.Println(ev.Kind, ev.Local, ev.Remote, ev.PID, ev.Traffic.BytesSent)
//	}
//
// # Sources
//
// Start takes the best source that works (Options.Source forces one;
// Feed.Skipped says why better ones were passed over):
//
// SourceTracepoint (root: CAP_BPF and CAP_PERFMON; kernel BTF) attaches a
// BPF program, assembled in Go with its struct offsets read from
// /sys/kernel/btf/vmlinux, to the tracepoint sock:inet_sock_set_state as a
// BTF raw tracepoint (tp_btf), writing to a BPF ring buffer. It keeps only
// the sockets of the caller's network namespace (compared in the kernel)
// and sends two records per connection, so user space does little. It
// sees every connection. The PID (of the caller's pid namespace) is taken
// only where the running task is the socket's process: at connect(2)
// (CLOSE→SYN_SENT) and at the process's close (ESTABLISHED→FIN_WAIT1,
// CLOSE_WAIT→LAST_ACK). Other transitions run in softirq or as the peer,
// so an accepted connection is given its listener's owner (listeners are
// recorded at listen(2), or read once at Start) and marked Passive with
// AttrListener, until its own process closes it (AttrTask). Connections
// older than the feed get the owner a scan at Start saw (AttrTracker).
// The final counters are read from the tcp_sock when it goes to CLOSE:
// bytes_received there counts the peer's FIN as a byte, which is taken
// off (SOCK_DONE says a FIN came), so BytesSent and BytesReceived are the
// bytes written and read. The local port is inet_sport, since a socket
// going to CLOSE has given its bound port back. A connection left in
// FIN_WAIT2 by an orphaning close closes when tcp_fin_timeout expires,
// and is reported then. The tracepoint never sees TIME_WAIT: a closing
// connection's full socket goes to CLOSE and a separate timewait socket
// takes over. If user space falls behind, the ring buffer (Options.RingSize)
// fills and records are dropped: Stats.Lost counts them. The kernel runs
// a tracing program at most once at a time per CPU and skips a call that
// interrupts it there (a softirq receiving a FIN while the program runs in
// a process's connect or close): so the program is loaded twice, and the
// second copy handles exactly the calls that come while the first is busy
// on their CPU (Stats.Nested). A call in the few instructions around the
// first copy's own is still missed: Stats.Missed counts those, and Lost
// includes them.
//
// SourceDestroy reads the sock_diag destroy notifications (the multicast
// groups `ss -E` joins; no privilege needed): every TCP socket the kernel
// frees, with its final tcp_info, but no process. Owners come from a scan
// of the tables and fd tables every Options.Interval (procmap.Tracker), so
// a connection shorter than that has none (or its listener's, if
// accepted), and its Duration is measured from the first scan that saw
// it. Opens come from the same scans, so short connections have no Open.
// A socket reset by its own process (SO_LINGER 0) has had its peer
// cleared by then (tcp_disconnect), so only the other side of such a
// connection is reported. The byte counts include the peer's FIN, as
// tcp_info does after a FIN.
//
// SourcePoll compares those scans: a connection that opens and closes
// between two scans is never seen, and the counters are the last the
// scans read.
//
// All three sources are Linux's (BPF, netlink, /proc): elsewhere Start
// fails with an error wrapping ErrUnavailable. The tracepoint record's
// decoder builds, and is tested, on any system.
//
// Filter keeps the events of some ports, processes or one address
// family, as the filters of a socket listing keep rows (Filter.Match).
//
// # Traffic per connection and per process
//
// A Meter turns rounds of socket rows (netstat.Reader with Traffic) and
// the Close events drained between them into bytes and bytes per second
// per connection and per owner, counting a connection that closed between
// two rounds by its final counters: the nethogs view, exact for TCP,
// without capturing packets. See Meter for what is counted.
//
// # Concurrency
//
// A Feed runs one goroutine; Next may be called from one goroutine at a
// time, Close from any.
package flows
