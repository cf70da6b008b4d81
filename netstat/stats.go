package netstat

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strconv"

	"github.com/procnet/procnet/internal/procfile"
)

// Stats are the kernel's protocol counters, as `netstat -s` shows them:
// the groups of proc/net/snmp (Ip, Icmp, IcmpMsg, Tcp, Udp, UdpLite), then
// proc/net/netstat (TcpExt, IpExt, MPTcpExt, …), then proc/net/snmp6 (Ip6,
// Icmp6, Udp6, UdpLite6), each group and counter in file order.
type Stats struct {
	Groups []StatGroup
}

// StatGroup is one protocol's counters, such as "Tcp" or "TcpExt".
type StatGroup struct {
	// Name is the group's name: the line prefix before the colon in snmp
	// and netstat ("Ip", "TcpExt"), the counter prefix through its "6" in
	// snmp6 ("Ip6", "Icmp6", "UdpLite6").
	Name string
	// File is the file the group came from, relative to the root, such as
	// "proc/net/snmp" or "proc/42/net/snmp6".
	File string
	// Stats are the counters in file order. In snmp6 groups the name is
	// without the group prefix: "Ip6InReceives" is "InReceives" in "Ip6".
	Stats []Stat
}

// Stat is one named counter. Values are signed: Tcp MaxConn is -1 (no
// limit), and a few others are gauges (Tcp CurrEstab).
type Stat struct {
	Name  string
	Value int64
}

// Group returns the group named name, or nil.
func (s *Stats) Group(name string) *StatGroup {
	for i := range s.Groups {
		if s.Groups[i].Name == name {
			return &s.Groups[i]
		}
	}
	return nil
}

// Get returns the counter name of the group group ("Tcp", "ActiveOpens").
func (s *Stats) Get(group, name string) (int64, bool) {
	if g := s.Group(group); g != nil {
		return g.Get(name)
	}
	return 0, false
}

// Get returns the counter called name.
func (g *StatGroup) Get(name string) (int64, bool) {
	for _, st := range g.Stats {
		if st.Name == name {
			return st.Value, true
		}
	}
	return 0, false
}

// ReadStats reads proc/net/snmp, proc/net/netstat and proc/net/snmp6 under
// root ("" or "/" for the live system); with pid > 0 it reads
// proc/PID/net/…, the counters of that process's network namespace.
//
// Both results may be non-empty: a line that cannot be parsed is reported
// as a *ParseError naming file and line, and the other counters are kept;
// all errors are joined into one. A file the kernel does not have (snmp6
// without IPv6) is skipped silently; one that cannot be opened or read
// gives an *fs.PathError naming it relative to root.
func ReadStats(root string, pid int) (*Stats, error) {
	if root == "" {
		root = "/"
	}
	dir := "proc/net/"
	if pid > 0 {
		dir = "proc/" + strconv.Itoa(pid) + "/net/"
	}
	st := new(Stats)
	var errs []error
	buf := make([]byte, procfile.BufSize)
	for _, name := range [...]string{"snmp", "netstat", "snmp6"} {
		path := dir + name
		f, err := procfile.Open(root, path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err) // procfile.Open names the file
			}
			continue
		}
		if name == "snmp6" {
			errs = st.parseSnmp6(errs, path, f, buf)
		} else {
			errs = st.parsePairs(errs, path, f, buf)
		}
		f.Close()
	}
	return st, errors.Join(errs...)
}

// parsePairs reads the snmp/netstat layout: a header line naming the
// counters, then a line of values with the same prefix.
//
//	Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens …
//	Tcp: 1 200 120000 -1 173 …
func (s *Stats) parsePairs(errs []error, file string, r io.Reader, buf []byte) []error {
	var lr procfile.Lines
	lr.Reset(r, file, buf)
	var (
		header  []string // counter names of the pending header line
		prefix  string
		headAt  int
		pending bool
	)
	for line, err := range lr.All() {
		if err != nil { // a line too long, or a read error that ends the file
			errs = append(errs, err)
			pending = false
			continue
		}
		name, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			if len(bytes.TrimSpace(line)) > 0 {
				errs = append(errs, &ParseError{File: file, Line: lr.Line(), Err: ErrSyntax})
			}
			continue
		}
		if pending && string(name) == prefix {
			// The values line of the pending header.
			pending = false
			g := StatGroup{Name: prefix, File: file, Stats: make([]Stat, 0, len(header))}
			i := 0
			for w := range statWords(rest) {
				if i == len(header) {
					errs = append(errs, &ParseError{File: file, Line: lr.Line(), Field: prefix, Err: errStatsCount})
					break
				}
				v, ok := parseInt64(w)
				if !ok {
					errs = append(errs, &ParseError{File: file, Line: lr.Line(), Field: prefix + " " + header[i], Err: ErrSyntax})
				} else {
					g.Stats = append(g.Stats, Stat{header[i], v})
				}
				i++
			}
			if i < len(header) {
				errs = append(errs, &ParseError{File: file, Line: lr.Line(), Field: prefix, Err: errStatsCount})
			}
			s.Groups = append(s.Groups, g)
			continue
		}
		if pending {
			errs = append(errs, &ParseError{File: file, Line: headAt, Field: prefix, Err: errStatsNoValues})
		}
		prefix, headAt, pending = string(name), lr.Line(), true
		header = header[:0]
		for w := range statWords(rest) {
			header = append(header, string(w))
		}
	}
	if pending {
		errs = append(errs, &ParseError{File: file, Line: headAt, Field: prefix, Err: errStatsNoValues})
	}
	return errs
}

// parseSnmp6 reads "Ip6InReceives   123" lines, grouping the counters by
// their prefix through the first "6".
func (s *Stats) parseSnmp6(errs []error, file string, r io.Reader, buf []byte) []error {
	var lr procfile.Lines
	lr.Reset(r, file, buf)
	var g *StatGroup
	for line, err := range lr.All() {
		if err != nil { // a line too long, or a read error that ends the file
			errs = append(errs, err)
			continue
		}
		var ws [3][]byte
		n := 0
		for w := range statWords(line) {
			if n < len(ws) {
				ws[n] = w
			}
			n++
		}
		if n == 0 {
			continue
		}
		if n != 2 {
			errs = append(errs, &ParseError{File: file, Line: lr.Line(), Err: ErrFieldCount})
			continue
		}
		v, ok := parseInt64(ws[1])
		if !ok {
			errs = append(errs, &ParseError{File: file, Line: lr.Line(), Field: string(ws[0]), Err: ErrSyntax})
			continue
		}
		group, name := ws[0], ws[0]
		if i := bytes.IndexByte(ws[0], '6'); i > 0 && i < len(ws[0])-1 {
			group, name = ws[0][:i+1], ws[0][i+1:]
		}
		if g == nil || g.Name != string(group) {
			g = nil
			for i := range s.Groups {
				if s.Groups[i].File == file && s.Groups[i].Name == string(group) {
					g = &s.Groups[i]
				}
			}
			if g == nil {
				s.Groups = append(s.Groups, StatGroup{Name: string(group), File: file})
				g = &s.Groups[len(s.Groups)-1]
			}
		}
		g.Stats = append(g.Stats, Stat{string(name), v})
	}
	return errs
}

var (
	errStatsCount    = errors.New("header and values differ in number")
	errStatsNoValues = errors.New("header line without a values line")
)

// statWords yields the words of b, split at spaces and tabs.
func statWords(b []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		i := 0
		for {
			for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
				i++
			}
			if i == len(b) {
				return
			}
			j := i
			for j < len(b) && b[j] != ' ' && b[j] != '\t' {
				j++
			}
			if !yield(b[i:j]) {
				return
			}
			i = j
		}
	}
}

// parseInt64 parses an optionally negative decimal that fits int64.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	v, ok := dec(b)
	if !ok || v > 1<<63 || (!neg && v == 1<<63) {
		return 0, false
	}
	if neg {
		return -int64(v), true
	}
	return int64(v), true
}
