package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/netip"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/procnet/procnet"
	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/internal/escape"
	"github.com/procnet/procnet/names"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/procmap"
)

// Resolver looks up the names of an address (reverse DNS). *net.Resolver
// is one; tests inject a fake so that no query ever leaves the machine.
type Resolver = names.DNS

// newNames returns the names a listing prints: services, users, networks
// and hosts under the root, and reverse DNS (Resolve) with a time budget
// for the whole listing. Every name it gives is already escaped.
func newNames(root string, res Resolver, budget time.Duration) *names.Resolver {
	return &names.Resolver{Root: root, DNS: res, Timeout: budget}
}

// row is one socket with its owners and namespace.
type row = procnet.Conn

// snapshot is what one listing read: the rows it shows, held (read) or
// read from the tables as they are ranged over (stream).
type snapshot struct {
	// inet and unix range over the rows shown; never nil.
	inet   iter.Seq[*row]
	unix   iter.Seq[*procnet.UnixConn]
	owners *procmap.Map // nil when owners were not asked for
	// scanErr, for a streamed listing, is where the exit status the
	// tables call for is left while they are read; quiet makes a pass
	// that only looks (names' prefetch) leave errors to the pass that
	// writes.
	scanErr error
	quiet   bool
}

// none ranges over no row.
func none[T any](func(*T) bool) {}

// rowsOf ranges over rows.
func rowsOf[T any](rows []T) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		for i := range rows {
			if !yield(&rows[i]) {
				return
			}
		}
	}
}

// streamOf ranges over the rows of seq in one reused row: nothing is
// allocated per row. An error goes to failed, which says whether it ends
// the scan.
func streamOf[T any](seq iter.Seq2[T, error], failed func(error) bool) iter.Seq[*T] {
	return func(yield func(*T) bool) {
		var cur T
		for r, err := range seq {
			if err != nil {
				if failed(err) {
					return
				}
				continue
			}
			if cur = r; !yield(&cur) {
				return
			}
		}
	}
}

// lister reads listings for one configuration, keeping its buffers
// between rounds of -c.
type lister struct {
	c      *config
	reader *procnet.Reader
	names  *names.Resolver
	buf    []byte
	progs  map[progKey]string
	// memberships: -g, multicast memberships, between the Internet and
	// unix tables.
	memberships []iface.Group
	// stamp is the time of the round under -c (RFC 3339, ms), written
	// into every JSON object and as CSV's first column; "" otherwise.
	stamp string
	// csvHeader: the CSV header was written (once per run, also under -c).
	csvHeader bool
	// noUnix: the unix listing is not printed after all (-g failed,
	// and net-tools stops after a table that failed).
	noUnix bool
	// at: under -c, what the round says of the row being written (watch.go).
	at watchRow
}

func newLister(c *config) *lister {
	return &lister{
		c:      c,
		reader: procnet.NewReader(c.options()),
		names:  newNames(c.root, c.resolver, c.dnsTimeout),
	}
}

func (c *config) protos() netstat.ProtoSet {
	var ps []netstat.Proto
	add := func(on bool, v4, v6 netstat.Proto) {
		if on && c.inet {
			ps = append(ps, v4)
		}
		if on && c.inet6 {
			ps = append(ps, v6)
		}
	}
	add(c.tcp, netstat.TCP, netstat.TCP6)
	add(c.udp, netstat.UDP, netstat.UDP6)
	add(c.udplite, netstat.UDPLite, netstat.UDPLite6)
	add(c.raw, netstat.Raw, netstat.Raw6)
	if len(ps) == 0 {
		return netstat.ProtoSet(1) // bit 0 names no table: read none
	}
	return netstat.Protos(ps...)
}

// options are the library's options for the listing c asks for.
func (c *config) options() procnet.Options {
	o := procnet.Options{
		Root:          c.root,
		Filter:        c.filter(),
		Unix:          c.unixWanted(),
		Owners:        c.needOwners(),
		Cmdline:       !c.noCmdline,
		AllNamespaces: c.allNetns,
		NamespacePID:  c.netnsPID,
		OwnerSource:   c.ownerSource,
		// Only -o prints the retransmit and probe counters; without it
		// the netlink source skips the kernel's tcp_info per row.
		NoRetransmits: !c.timers,
		Traffic:       c.traffic,
		Show:          c.show(),
	}
	if c.pid >= 0 {
		o.PIDs = []int{c.pid}
	}
	if c.program != "" {
		o.Programs = []string{c.program}
	}
	return o
}

func (c *config) inetWanted() bool { return c.tcp || c.udp || c.udplite || c.raw }

// unixWanted reports whether the listing reads the unix table: not with a
// port or state filter, which unix rows cannot pass (--summary turned -x
// off in parse: it counts Internet sockets).
func (c *config) unixWanted() bool {
	return c.unix && c.states == 0 && c.port < 0 && c.sport < 0 && c.dport < 0
}

// needOwners reports whether the listing shows or filters by processes.
func (c *config) needOwners() bool {
	return c.programs || c.pid >= 0 || c.program != ""
}

func (c *config) filter() netstat.Filter {
	f := netstat.Filter{Protos: c.protos(), States: c.states}
	if c.port >= 0 {
		f.Ports = []uint16{uint16(c.port)}
	}
	if c.sport >= 0 {
		f.LocalPorts = []uint16{uint16(c.sport)}
	}
	if c.dport >= 0 {
		f.RemotePorts = []uint16{uint16(c.dport)}
	}
	return c.show().Filter(f) // -l reads only the states a server can be in
}

// show is net-tools' -l/-a rule, which procnet applies.
func (c *config) show() procnet.Show {
	switch {
	case c.all:
		return procnet.ShowAll
	case c.listening:
		return procnet.ShowServers
	}
	return procnet.ShowConnected
}

// read takes one snapshot: the tables, and the owners when asked for,
// of every namespace asked for. It stops between rows once ctx ends,
// with ctx's error. Rows that could not be read are reported on stderr;
// the exit status they call for is the error returned beside the
// snapshot.
func (l *lister) read(ctx context.Context, stderr io.Writer) (*snapshot, error) {
	c := l.c
	got, err := l.reader.Snapshot(ctx)
	if got == nil {
		return nil, err
	}
	tableErr := report(stderr, err)
	snap := &snapshot{owners: got.Procs, inet: rowsOf(got.Conns), unix: rowsOf(got.Unix)}
	if c.allNetns {
		reportSkipped(stderr, got.Skipped)
	}
	return snap, tableErr
}

// sockets prints the socket listing or, with --summary, the counts per
// group; once, or with -c every interval until a signal (watch.go).
func sockets(ctx context.Context, c *config, stdout, stderr io.Writer) error {
	switch {
	case c.continuous && c.groups && !c.inetWanted() && !c.unix && !c.sctp:
		return groupsEvery(c, stdout, stderr) // -gc: as net-tools, the table again each interval
	case c.continuous:
		return watchSignals(ctx, c, stdout, stderr)
	case c.summary:
		return summary(ctx, c, stdout, stderr)
	}
	w := bufio.NewWriterSize(stdout, 64<<10)
	l := newLister(c)
	snap, err := l.listing(ctx, stderr)
	if snap == nil {
		return err
	}
	if c.programs {
		warnDenied(stderr, snap.owners)
	}
	var gerr error
	if c.groups {
		l.memberships, gerr = l.readGroups(stderr)
		if gerr != nil {
			// net-tools stops after a table that failed.
			l.noUnix, snap.unix = true, none[procnet.UnixConn]
		}
	}
	var werr error
	switch {
	case c.json:
		werr = l.writeJSON(w, snap)
	case c.csv:
		werr = l.writeCSV(w, snap)
	default:
		werr = l.writeTable(w, snap)
	}
	if werr == nil {
		werr = w.Flush()
	}
	if err := cmp.Or(werr, snap.scanErr, err, gerr); err != nil {
		return err
	}
	return c.compatFlags.after(stderr, (&netstat.Reader{Root: c.root}).Has, c.listening, c.all)
}

// listing reads the listing: streamed when c.streams, else held.
func (l *lister) listing(ctx context.Context, stderr io.Writer) (*snapshot, error) {
	if l.c.streams() {
		return l.stream(ctx, stderr)
	}
	return l.read(ctx, stderr)
}

// streams reports whether the listing is written while the tables are
// read rather than after: a whole listing (no port, process or namespace
// filter, not -l without -a), whose size grows with the system. Its
// memory is then the owner map and one buffer, not every row.
func (c *config) streams() bool {
	return !c.nsMode() && c.pid < 0 && c.program == "" &&
		c.port < 0 && c.sport < 0 && c.dport < 0 &&
		(c.all || !c.listening)
}

// stream prepares a listing that is read as it is written: the owners
// first (the fd walk does not depend on the tables), then the rows, each
// joined with its owners as it is read (procnet.Stream). Errors met in
// the tables go to stderr as they come; the exit status they call for is
// in scanErr once the listing was written; so is ctx's error if ctx ended
// the scan between rows.
func (l *lister) stream(ctx context.Context, stderr io.Writer) (*snapshot, error) {
	c := l.c
	st, err := l.reader.Stream(ctx)
	if err != nil {
		return nil, err
	}
	snap := &snapshot{owners: st.Procs, inet: none[row], unix: none[procnet.UnixConn]}
	// failed says whether err ends the scan, and records the exit
	// status it calls for.
	failed := func(err error) bool {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			snap.scanErr = err
			return true
		}
		if snap.quiet {
			return false
		}
		if r := report(stderr, err); r != nil {
			snap.scanErr = r
		}
		return false
	}
	if c.inetWanted() {
		snap.inet = streamOf(st.Conns(), failed)
	}
	if c.unixWanted() {
		snap.unix = streamOf(st.Unix(), failed)
	}
	return snap, nil
}

// warnDenied prints net-tools' warning when m (nil without owners) lacks
// some processes' fds, and reports whether it had to.
//
// As root the net-tools wording would be wrong: the fds were refused
// anyway (a sandbox, an LSM), so a note says so instead.
func warnDenied(stderr io.Writer, m *procmap.Map) bool {
	switch {
	case m == nil || m.Denied == 0:
		return false
	case quiet(stderr):
	case os.Geteuid() == 0:
		fmt.Fprintf(stderr, "(%d process(es) refused to show their fds even to root; their sockets show \"-\")\n", m.Denied)
	case len(m.Owners) == 0:
		fmt.Fprintf(stderr, "(No info could be read for \"-p\": geteuid()=%d but you should be root.)\n", os.Geteuid())
	default:
		io.WriteString(stderr, "(Not all processes could be identified, non-owned process info\n"+
			" will not be shown, you would have to be root to see it all.)\n")
	}
	return true
}

// appendEndpoint appends an address and port as net-tools renders them:
// IPv6 without brackets, IPv4-mapped as IPv4, port 0 as "*", and without
// -W cut to 22 columns, keeping the port. It writes in place: nothing is
// allocated per row.
func (l *lister) appendEndpoint(b []byte, ap netip.AddrPort, p netstat.Proto) []byte {
	start := len(b)
	a := ap.Addr().Unmap()
	switch {
	case l.c.numHosts, ap.Addr().Is4In6():
		// net-tools prints IPv4-mapped peers numerically, names or not.
		b = a.AppendTo(b)
	case a.IsUnspecified() && a.Is6():
		b = append(b, "[::]"...)
	default:
		if host := l.names.Host(a); host != "" {
			b = append(b, host...)
		} else {
			b = a.AppendTo(b)
		}
	}
	hostLen := len(b) - start
	var portBuf [24]byte
	port := portBuf[:0]
	switch {
	case ap.Port() == 0:
		port = append(port, '*')
	case !l.c.numPorts:
		if s, ok := l.names.Service(ap.Port(), p.ServiceProto()); ok {
			port = append(port, s...)
			break
		}
		fallthrough
	default:
		port = strconv.AppendUint(port, uint64(ap.Port()), 10)
	}
	if !l.c.wide && hostLen+len(port) > 22 {
		pl := runeCut(port, min(len(port), 18))
		b = b[:start+runeCut(b[start:], min(22-len(port[:pl]), hostLen))]
		port = port[:pl]
	}
	return append(append(b, ':'), port...)
}

// runeCut returns n, or less so that s[:n] does not end inside a UTF-8
// sequence: a name cut to its column keeps no stray byte of a character
// (a lone 0x9b is CSI to a terminal that is not in UTF-8 mode).
func runeCut[T string | []byte](s T, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// cut shortens s to at most n bytes, never inside a UTF-8 sequence.
func cut(s string, n int) string { return s[:runeCut(s, n)] }

// padFrom pads the field that starts at start to width n.
func padFrom(b []byte, start, n int) []byte {
	for i := len(b) - start; i < n; i++ {
		b = append(b, ' ')
	}
	return b
}

// progKey is what the PID/Program column depends on: the first owner's
// PID and process, and how many other PIDs share the socket.
type progKey struct {
	p           *procmap.Process
	pid, others int
}

func progKeyOf(owners []procmap.Owner, m procnet.Processes) progKey {
	var k progKey
	k.pid, k.others = procnet.FirstOwner(owners)
	k.p = m.Process(k.pid)
	return k
}

// cell renders the column for k.
func (k progKey) cell() string {
	s := strconv.Itoa(k.pid) + "/" + k.p.Name()
	suffix := ""
	if k.others > 0 {
		suffix = ",+" + strconv.Itoa(k.others)
	}
	if len(s)+len(suffix) > 19 {
		s = s[:max(19-len(suffix), 0)]
	}
	return escape.String(s + suffix)
}

// program is program, remembered: a process's sockets share the column,
// and building it (with its escaping) cost a tenth of a 100k-row listing.
func (l *lister) program(owners []procmap.Owner, m procnet.Processes) string {
	if len(owners) == 0 {
		return "-"
	}
	k := progKeyOf(owners, m)
	if s, ok := l.progs[k]; ok {
		return s
	}
	if l.progs == nil || len(l.progs) >= 4096 { // bounded across -c rounds
		l.progs = map[progKey]string{}
	}
	s := k.cell()
	l.progs[k] = s
	return s
}

// prefetch resolves every address of rows at once, within the DNS
// budget, before anything is printed: each distinct one but IPv4-mapped
// ones (printed as numbers). A streamed listing reads the tables twice:
// this pass collects the addresses, not the rows.
func (l *lister) prefetch(rows iter.Seq[*row]) {
	if l.c.numHosts {
		return
	}
	seen := map[netip.Addr]bool{}
	var addrs []netip.Addr
	for r := range rows {
		for _, a := range [2]netip.Addr{r.Local.Addr(), r.Remote.Addr()} {
			if !seen[a] && !a.Is4In6() {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
	}
	l.names.Resolve(context.Background(), addrs)
}

// appendUser appends what user returns, without allocating.
func (l *lister) appendUser(b []byte, uid uint32) []byte {
	if !l.c.numUsers {
		if n, ok := l.names.User(uid); ok {
			return append(b, n...)
		}
	}
	return strconv.AppendUint(b, uint64(uid), 10)
}

// user is the User column: the name, or the UID with -n or without one.
func (l *lister) user(uid uint32) string { return string(l.appendUser(nil, uid)) }

// title is net-tools' "(servers and established)" and friends.
func (c *config) title() string {
	switch {
	case c.all:
		return "(servers and established)"
	case c.listening:
		return "(only servers)"
	}
	return "(w/o servers)"
}

// writeTable prints net-tools' layout, byte for byte in numeric mode.
func (l *lister) writeTable(w io.Writer, snap *snapshot) error {
	c := l.c
	b := l.buf[:0]
	var err error
	if c.inetWanted() || c.sctp {
		snap.quiet = true // errors are the writing pass's to report
		l.prefetch(snap.inet)
		snap.quiet = false
		b = l.appendHeading(b, false, "")
		for r := range snap.inet {
			b = l.nsCellOf(b, r.Namespace)
			if b, err = spill(w, l.appendRow(b, r, snap.owners)); err != nil {
				return err
			}
		}
	}
	if c.groups {
		b = l.appendGroups(b, l.memberships)
	}
	if c.unix && !l.noUnix {
		b = l.appendHeading(b, true, "")
		for u := range snap.unix {
			b = l.nsCellOf(b, u.Namespace)
			if b, err = spill(w, l.appendUnix(b, &u.UnixSocket, snap.owners.Lookup(u.Inode), snap.owners)); err != nil {
				return err
			}
		}
	}
	l.buf = b
	_, err = w.Write(b)
	return err
}

// spill writes b to w once it holds more than 32 KiB, and returns it
// emptied then: a listing's memory stays one buffer.
func spill(w io.Writer, b []byte) ([]byte, error) {
	if len(b) <= 32<<10 {
		return b, nil
	}
	_, err := w.Write(b)
	return b[:0], err
}

// appendHeading appends the title and column header of the Internet
// listing, or with unix of the unix listing, with the columns -e, -p, -o
// and --traffic add; lead goes before the columns (watch mode's marker
// column).
func (l *lister) appendHeading(b []byte, unix bool, lead string) []byte {
	c := l.c
	what, columns := "Internet connections ", "Proto Recv-Q Send-Q Local Address           Foreign Address         State      "
	if unix {
		what, columns = "UNIX domain sockets ", "Proto RefCnt Flags       Type       State         I-Node  "
	}
	b = append(append(append(b, "Active "+what...), c.title()...), '\n')
	b = append(l.nsHeader(append(b, lead...)), columns...)
	if c.extend > 0 && !unix {
		b = append(b, " User       Inode     "...)
	}
	if c.programs {
		b = append(b, " PID/Program name    "...)
	}
	switch {
	case unix:
		b = append(b, " Path"...)
	case c.timers:
		b = append(b, " Timer"...)
	}
	if c.traffic && !unix {
		b = c.appendTrafficHeader(b)
	}
	return append(b, '\n')
}

// pad appends s left-aligned in a field of width n (a longer s pushes
// the columns after it, as -W does).
func pad(b []byte, s string, n int) []byte {
	b = append(b, s...)
	for i := len(s); i < n; i++ {
		b = append(b, ' ')
	}
	return b
}

// padLeft appends s right-aligned in a field of width n.
func padLeft(b []byte, s string, n int) []byte {
	for i := len(s); i < n; i++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// padNum appends v right-aligned in a field of width n.
func padNum(b []byte, v uint64, n int) []byte {
	var tmp [20]byte
	d := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(d); i < n; i++ {
		b = append(b, ' ')
	}
	return append(b, d...)
}

func (l *lister) appendRow(b []byte, r *row, m procnet.Processes) []byte {
	c := l.c
	b = pad(b, r.Proto.NetTools(), 5)
	b = append(b, ' ')
	b = padNum(b, uint64(r.RxQueue), 6)
	b = append(b, ' ')
	b = padNum(b, uint64(r.TxQueue), 6)
	b = append(b, ' ')
	start := len(b)
	b = padFrom(l.appendEndpoint(b, r.Local, r.Proto), start, 23)
	b = append(b, ' ')
	start = len(b)
	b = padFrom(l.appendEndpoint(b, r.Remote, r.Proto), start, 23)
	b = append(b, ' ')
	b = pad(b, r.NetToolsState(), 11)
	if c.extend > 0 {
		b = append(b, ' ')
		start = len(b)
		b = padFrom(l.appendUser(b, r.UID), start, 10)
		b = append(b, ' ')
		start = len(b)
		b = padFrom(strconv.AppendUint(b, r.Inode, 10), start, 10)
	}
	if c.programs {
		b = append(b, ' ')
		b = pad(b, l.program(r.Owners, m), 20)
	}
	if c.timers {
		b = append(b, ' ')
		b = r.AppendNetToolsTimer(b)
	}
	if c.traffic {
		b = l.appendTraffic(b, &r.Socket)
	}
	return append(b, '\n')
}

// appendUnix appends u, whose owners m describes.
func (l *lister) appendUnix(b []byte, u *netstat.UnixSocket, owners []procmap.Owner, m procnet.Processes) []byte {
	b = pad(b, u.NetToolsProto(), 5)
	b = append(b, ' ')
	b = pad(b, strconv.FormatUint(uint64(u.RefCount), 10), 6)
	b = append(b, ' ')
	b = pad(b, u.NetToolsFlags(), 11)
	b = append(b, ' ')
	b = pad(b, u.NetToolsType(), 10)
	b = append(b, ' ')
	b = pad(b, u.NetToolsState(), 13)
	b = append(b, ' ')
	b = pad(b, strconv.FormatUint(u.Inode, 10), 8)
	if l.c.programs {
		b = append(b, ' ')
		b = pad(b, l.program(owners, m), 20)
	}
	b = append(b, ' ')
	b = append(b, escape.String(u.Path)...)
	return append(b, '\n')
}
