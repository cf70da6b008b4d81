// Package netstat reads the kernel's socket tables — /proc/net/tcp, tcp6,
// udp, udp6, udplite, udplite6, raw, raw6 and unix — into typed Go values.
//
// # Reading
//
// A Reader reads the tables under a root directory: "/" (or "") for the
// live system, or any tree holding proc/net/…, such as a fixture captured
// from another machine. Setting Reader.PID reads proc/PID/net/… instead,
// the tables of that process's network namespace. One code path serves
// all of these.
//
//	var r netstat.Reader
//	for s, err := range r.Sockets(netstat.Filter{States: netstat.States(netstat.Listen)}) {
//		if err != nil {
//			log.Print(err) // a bad row; the scan goes on
//			continue
//		}
//		fmt.Println(s.Proto, s.Local, s.Inode)
//	}
//
// Sockets streams the rows through a fixed 64 KiB buffer (one per
// source), so a table of any size costs the same memory; after a Reader's first scan, reading a
// row makes no heap allocation (unix paths are interned the same way).
// List and AppendSockets collect the rows into a slice.
//
// A Filter is applied inside the scan: the state column is checked first,
// then the ports, then the inode, and only a row that passes has its
// addresses decoded, so rows that are filtered out cost little.
//
// # Netlink or proc
//
// For the live system (Root "" or "/", PID 0) the Reader's zero Source,
// SourceAuto, reads tcp, tcp6, udp, udp6, udplite and udplite6 over a
// NETLINK_SOCK_DIAG socket (inet_diag, as `ss` does) instead of parsing
// proc's text: about half the CPU per row. The rows are the same, in the
// same order (both walk the kernel's listening hash, then its established
// hash), with the same values: Retransmits and Timeout come from tcp_info
// as proc prints them, a listener's TxQueue is 0 as in proc (netlink's
// Send-Q is the maximum backlog), a request socket's UID is its
// listener's, UDP Drops is the socket's drop counter, TimerTicks is the
// remaining milliseconds / 10 (the very value proc prints for HZ = 100,
// 250, 500 or 1000). SYN_RECV request sockets need proc: netlink's
// retransmit count is the SYN-ACKs resent where proc's is the timer's
// expiries (they differ after a client resent its SYN, or under
// TCP_DEFER_ACCEPT), and netlink gives no owner. So when a dump holds a
// request socket and Retransmits are wanted (NoRetransmits false), the
// Reader reads that table's request rows from proc and takes their
// Retransmits and UID (a request gone from proc in between keeps
// netlink's count). With NoRetransmits the UID is found by matching the
// request's local address to a listener, which a SO_REUSEPORT group with
// several owners makes ambiguous. On a 32-bit inode space (every current
// kernel) Inode is exact.
//
// When netlink fails — no permission, no sock_diag, no diag module for a
// protocol — SourceAuto reads that table from proc, silently. Fixture
// roots, a PID's namespace and the raw tables are always read from proc
// (raw_diag is an optional module). SourceProc forces proc, and
// SourceNetlink forces netlink, reporting a *DiagError for a table it
// cannot read that way.
//
// # What the columns mean
//
// Addresses are netip.AddrPort. Each 32-bit word of an address is printed
// by the kernel in host byte order; the Reader decodes it in the host's
// order, so it is right on big-endian machines too. In the IPv6 tables a
// dual-stack socket talking IPv4 shows IPv4-mapped addresses
// (::ffff:127.0.0.1); they are kept as such, and Socket.Proto still says
// tcp6 — call Addr().Unmap() to show them as IPv4, as net-tools does.
//
// State is the `st` column. For TCP it is the TCP state. For UDP,
// UDP-Lite and raw sockets, Close means unconnected and Established means
// connected to one peer. TIME_WAIT and request sockets have UID 0 and
// Inode 0: never join them to processes by inode.
//
// TxQueue and RxQueue are netstat's Send-Q and Recv-Q. For a listener the
// kernel reports the current accept backlog in RxQueue (ss reports the
// maximum backlog instead). Timer, TimerTicks, Retransmits and Timeout are
// the columns `netstat -o` shows.
//
// # Traffic
//
// With Reader.Traffic, each TCP row read over netlink carries what the
// connection has moved (Socket.Traffic): bytes sent and received, exactly
// the bytes written and read — tcp_info's tcpi_bytes_sent less
// tcpi_bytes_retrans, and tcpi_bytes_received less the peer's FIN once it
// came (CLOSE_WAIT, LAST_ACK, CLOSING) — and segments out and in. They
// need tcp_info, which Reader asks for anyway unless NoRetransmits is
// set. The proc text has no such columns: rows read from it, and
// TIME_WAIT and request sockets, have Traffic.Known false, never a zero
// that would read as idle. Without Reader.Traffic the field stays zero
// and costs nothing.
//
// A fixture tree keeps them in a file of its own, since the text has
// none: proc/net/procnet-traffic (TrafficFile; proc/PID/net/… for a
// namespace), one line per TCP socket — proto, local and remote address,
// inode, then bytes sent, bytes received, segments out, segments in:
//
//	tcp 127.0.0.1:43210 127.0.0.1:8080 51234 1000000 123456 40 31
//
// Under a root other than the live system's, a Reader asked for Traffic
// reads that file at the first TCP table of a scan and fills the rows
// whose four keys match a line (Known); other rows stay unknown, a bad
// line is a *ParseError naming the file and line, and the lines around it
// are kept. Reader.AppendTrafficFile writes the file from live sockets,
// for a capture.
//
// # Errors
//
// A row that cannot be parsed is reported as a *ParseError naming the file
// (relative to the root) and line, as in
// "proc/net/tcp6:17: local address: invalid syntax", and the rows around
// it are still delivered. A table that cannot be opened or read is an
// *fs.PathError naming it ("open proc/net/tcp: permission denied"); the
// other tables are still read. A table the kernel does not have (no IPv6,
// no UDP-Lite) is no error.
//
// The kernel resumes a long dump at a position, so one read can print a
// row twice; the Reader drops a row whose non-zero inode it saw among the
// last few thousand rows (repeats are always that close).
//
// # Concurrency
//
// A Reader is not safe for concurrent use: use one per goroutine. The
// values it yields are plain values, safe to share.
package netstat
