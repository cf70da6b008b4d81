package iface

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/procnet/procnet/internal/procfile"
)

// Counters are an interface's statistics: the 16 columns of
// /proc/net/dev, in file order. They count since the interface was
// created (or its driver last reset them).
type Counters struct {
	RxBytes      uint64
	RxPackets    uint64
	RxErrs       uint64
	RxDrop       uint64
	RxFifo       uint64 // netstat -i shows it as RX-OVR
	RxFrame      uint64
	RxCompressed uint64
	RxMulticast  uint64
	TxBytes      uint64
	TxPackets    uint64
	TxErrs       uint64
	TxDrop       uint64
	TxFifo       uint64 // netstat -i shows it as TX-OVR
	TxColls      uint64
	TxCarrier    uint64
	TxCompressed uint64
}

// numCounters is the number of counters in a /proc/net/dev row.
const numCounters = 16

// Interface is one network interface: its counters from /proc/net/dev and
// its MTU and flags (see Reader for where those come from).
type Interface struct {
	// Name is the interface name. Old kernels list IPv4 aliases such as
	// "eth0:1" as interfaces of their own.
	Name string
	Counters
	// MTU is the link's MTU; 0 when HasLink is false.
	MTU int
	// Flags are the IFF_* flags as SIOCGIFFLAGS reports them to
	// net-tools: on the live system rtnetlink's ifi_flags, which are
	// that very value; under a root sys/class/net/NAME/flags plus the
	// bits the kernel adds for SIOCGIFFLAGS: FlagRunning when the
	// interface is up and its operstate is "up" or "unknown",
	// FlagLowerUp when it has carrier, FlagDormant when its operstate is
	// "dormant". One difference remains under a root: sysfs shows
	// FlagPromisc and FlagAllMulti whenever they are in effect (for a
	// bridge port, or under tcpdump), while SIOCGIFFLAGS shows them only
	// when a user set them (ip link set promisc on). 0 when HasLink is
	// false.
	Flags Flags
	// HasLink reports whether the link attributes (MTU and Flags) are
	// known. It is false for an interface that vanished between the two
	// reads, and, under a root or for a PID, for an interface without a
	// sys/class/net/NAME directory: every interface of another network
	// namespace than the one sysfs was mounted in.
	HasLink bool
}

// Reader reads interfaces under one root directory. Its zero value reads
// the live system. A Reader keeps its buffers between calls, so a program
// that polls should keep one.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	// Root is the directory holding proc/ and sys/ ("" or "/" for the live
	// system; a fixture tree or a container's root otherwise).
	Root string
	// PID, when positive, reads proc/PID/net/…: the interfaces and
	// addresses of that process's network namespace. Link attributes
	// (MTU, flags, hardware) still come from sys/class/net, which shows
	// the namespace sysfs was mounted in.
	PID int
	// CountersOnly skips the link attributes: MTU, Flags and HasLink stay
	// zero. They cost an rtnetlink dump on the live system and four opens
	// per interface under a root; a program that polls counters for
	// rates does not need them.
	CountersOnly bool

	buf    []byte
	small  [256]byte // for sysfs attributes
	fields [][]byte
	lr     procfile.Lines
	names  map[string]string
	row    Interface
}

// Interfaces returns the interfaces under root. See Reader.Interfaces.
func Interfaces(root string) ([]Interface, error) {
	r := Reader{Root: root}
	return r.AppendInterfaces(nil)
}

// Interfaces returns every interface of proc/net/dev in file order (net-tools
// sorts them by name), down ones included (netstat -i shows only those with
// FlagUp unless -a), each with its MTU and Flags. On the live system (Root
// "" or "/", PID 0) those come from an rtnetlink RTM_GETLINK dump of the
// caller's own network namespace, as `ip link` reads them, so they are
// right inside `unshare -n` or `nsenter -n`, where /sys/class/net shows
// the host's interfaces; elsewhere from sys/class/net/NAME.
//
// Both results may be non-empty: a row or sysfs attribute that cannot be
// parsed is reported as a *ParseError naming file and line, and the other
// rows are kept; all errors are joined into one. A missing proc/net/dev
// gives (nil, nil); a missing sys/class/net/NAME, or a link the dump does
// not list, leaves HasLink false. A file that cannot be opened or read
// gives an *fs.PathError naming it relative to the root. Where no
// rtnetlink dump can be had, sysfs is read instead.
func (r *Reader) Interfaces() ([]Interface, error) { return r.AppendInterfaces(nil) }

// AppendInterfaces is Interfaces appending to dst.
func (r *Reader) AppendInterfaces(dst []Interface) ([]Interface, error) {
	name := "proc/net/dev"
	if r.PID > 0 {
		name = "proc/" + strconv.Itoa(r.PID) + "/net/dev"
	}
	f, err := procfile.Open(r.root(), name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return dst, nil
		}
		return dst, err // procfile.Open names the file relative to the root
	}
	defer f.Close()
	start := len(dst)
	dst, errs := r.parse(dst, name, f)
	if r.CountersOnly || len(dst) == start {
		return dst, errors.Join(errs...)
	}
	if r.live() {
		links, err := dumpLinksFunc()
		if links != nil || err == nil {
			errs = appendErr(errs, err)
			byName := make(map[string]*Link, len(links))
			for i := range links {
				byName[links[i].Name] = &links[i]
			}
			for i := range dst[start:] {
				ifc := &dst[start+i]
				if l, ok := byName[ifc.Name]; ok {
					ifc.MTU, ifc.Flags, ifc.HasLink = l.MTU, l.Flags, true
				}
			}
			return dst, errors.Join(errs...)
		}
		// No rtnetlink (a sandbox that forbids it): sysfs, as under a
		// root, silently.
	}
	for i := range dst[start:] {
		if err := r.readSys(&dst[start+i]); err != nil {
			errs = append(errs, err)
		}
	}
	return dst, errors.Join(errs...)
}

func (r *Reader) root() string {
	if r.Root == "" {
		return "/"
	}
	return r.Root
}

// parse reads the rows of /proc/net/dev (named name) from f.
func (r *Reader) parse(dst []Interface, name string, f io.Reader) ([]Interface, []error) {
	if r.buf == nil {
		r.buf = make([]byte, procfile.BufSize)
		r.fields = make([][]byte, 0, 20)
		r.names = make(map[string]string)
	}
	r.lr.Reset(f, name, r.buf)
	var errs []error
	for line, err := range r.lr.All() {
		if err != nil { // a line too long, or a read error that ends the file
			errs = append(errs, err)
			continue
		}
		if r.lr.Line() <= 2 {
			continue // "Inter-|   Receive …" and " face |bytes …"
		}
		if field, err := r.parseRow(&r.row, line); err != nil {
			errs = append(errs, &ParseError{File: name, Line: r.lr.Line(), Field: field, Err: err})
			continue
		} else if r.row.Name == "" {
			continue // a blank line
		}
		dst = append(dst, r.row)
	}
	return dst, errs
}

var counterNames = [numCounters]string{
	"rx_bytes", "rx_packets", "rx_errs", "rx_drop", "rx_fifo", "rx_frame", "rx_compressed", "rx_multicast",
	"tx_bytes", "tx_packets", "tx_errs", "tx_drop", "tx_fifo", "tx_colls", "tx_carrier", "tx_compressed",
}

// parseRow parses "  eth0: 123 …", "eth0:123 …" (no space: old kernels,
// and any counter wider than its %8llu column) and "team0:1: 123 …"
// (an alias): the name is the first word up to its last colon.
func (r *Reader) parseRow(ifc *Interface, line []byte) (field string, err error) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i == len(line) {
		ifc.Name = ""
		return "", nil
	}
	j := i
	for j < len(line) && line[j] != ' ' && line[j] != '\t' {
		j++
	}
	word := line[i:j]
	colon := bytes.LastIndexByte(word, ':')
	if colon <= 0 {
		return "name", ErrSyntax
	}
	// The rest of the word after the colon is the first counter.
	r.fields = procfile.Fields(r.fields[:0], word[colon+1:], 64)
	r.fields = append(r.fields, procfile.Fields(r.fields[len(r.fields):], line[j:], 64)...)
	if len(r.fields) < numCounters {
		return "", ErrFieldCount
	}
	var c [numCounters]uint64
	for k := range c {
		v, ok := dec(r.fields[k])
		if !ok {
			return counterNames[k], ErrSyntax
		}
		c[k] = v
	}
	*ifc = Interface{
		Name: r.intern(word[:colon]),
		Counters: Counters{
			c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
			c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15],
		},
	}
	return "", nil
}

// intern returns b as a string, sharing one copy per distinct name.
func (r *Reader) intern(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	if len(r.names) > 1<<16 {
		clear(r.names)
	}
	s := string(b)
	r.names[s] = s
	return s
}

// readSys fills MTU, Flags and HasLink from sys/class/net/NAME.
func (r *Reader) readSys(ifc *Interface) error {
	dir := "sys/class/net/" + ifc.Name + "/"
	if !validName(ifc.Name) {
		return nil // "..", or a name with a slash: not a sysfs directory
	}
	mtu, err := r.attr(dir + "mtu")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	m, ok := dec(mtu)
	if !ok || m > 1<<31-1 {
		return &ParseError{File: dir + "mtu", Line: 1, Err: ErrSyntax}
	}
	fl, err := r.attr(dir + "flags")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	hx, ok := bytes.CutPrefix(fl, []byte("0x"))
	v, ok2 := hex(hx)
	if !ok || !ok2 || v > 0xffffffff {
		return &ParseError{File: dir + "flags", Line: 1, Err: ErrSyntax}
	}
	flags := Flags(v)
	// What dev_get_flags adds for SIOCGIFFLAGS (net/core/dev.c): running,
	// lower-up and dormant exist only while the device is up.
	if flags&FlagUp != 0 {
		// operstate and carrier are optional: old kernels lack the
		// first, and carrier reads EINVAL while the device is down.
		// (attr reuses one buffer: compare before the next read.)
		oper, err := r.attr(dir + "operstate")
		hasOper := err == nil
		operUp := hasOper && (string(oper) == "up" || string(oper) == "unknown")
		dormant := hasOper && string(oper) == "dormant"
		carrier, _ := r.attr(dir + "carrier")
		hasCarrier := string(carrier) == "1"
		switch {
		case operUp, !hasOper && hasCarrier:
			flags |= FlagRunning
		case dormant:
			flags |= FlagDormant
		}
		if hasCarrier {
			flags |= FlagLowerUp
		}
	}
	ifc.MTU, ifc.Flags, ifc.HasLink = int(m), flags, true
	return nil
}

func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.Contains(s, "/")
}

// attr reads a small sysfs attribute, without its trailing newline, into
// the Reader's buffer. A missing file gives an error matching
// fs.ErrNotExist; another failure an *fs.PathError relative to the root.
func (r *Reader) attr(name string) ([]byte, error) {
	f, err := procfile.Open(r.root(), name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, r.small[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, procfile.PathError("read", name, err)
	}
	return bytes.TrimSpace(r.small[:n]), nil
}

// hex and dec are procfile's parsers; plain wrappers (not function
// variables) so that both inline on the per-row path.
func hex(b []byte) (uint64, bool) { return procfile.Hex(b) }
func dec(b []byte) (uint64, bool) { return procfile.Dec(b) }
