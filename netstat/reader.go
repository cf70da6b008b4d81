package netstat

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"os"
	"strconv"

	"github.com/procnet/procnet/internal/procfile"
)

// Reader reads the socket tables under one root directory. Its zero value
// reads the live system's tables. A Reader keeps its buffers between scans,
// so a program that polls should keep one: after the first scan, reading
// rows makes no heap allocation.
//
// A Reader is not safe for concurrent use; use one per goroutine.
type Reader struct {
	// Root is the directory holding proc/ ("" or "/" for the live system;
	// a fixture tree or a container's root otherwise).
	Root string
	// PID, when positive, reads proc/PID/net/…: the tables of that
	// process's network namespace. Zero reads proc/net/… (the reader's own).
	PID int
	// Source says where the live system's tables come from: over netlink
	// when the kernel allows (SourceAuto, the zero value), or always
	// from proc/net (SourceProc). See Source.
	Source Source
	// NoRetransmits says the caller does not need Socket.Retransmits and
	// Timeout (netstat -o's retrnsmt and timeout columns): they are left
	// zero. On the netlink source this spares the kernel filling a
	// tcp_info for every TCP row, about a third of a dump.
	NoRetransmits bool
	// Traffic asks for Socket.Traffic: bytes and segments sent and
	// received by each TCP socket, from the tcp_info of the netlink
	// source. Rows read from proc (a fixture root, a PID's namespace,
	// SourceProc, or netlink refused) have Traffic.Known false: the text
	// has no such columns. Without it, Socket.Traffic is always zero
	// and no tcp_info is asked for on its account.
	Traffic bool

	diag   diagConn
	buf    []byte
	fields [][]byte
	seen   recentInodes
	lr     procfile.Lines
	paths  map[string]string // interned unix socket paths
	ctx    context.Context   // of the scan under way
	// traffic is the fixture's traffic file, read by withTraffic.
	traffic *trafficTable
}

// Sockets returns the rows of the live system's Internet socket tables that
// pass f. See Reader.Sockets.
func Sockets(ctx context.Context, f Filter) iter.Seq2[Socket, error] {
	return new(Reader).Sockets(ctx, f)
}

// List returns the rows under root that pass f, and the errors met. Both
// may be non-empty: a bad row is reported and the rows around it are kept.
func List(ctx context.Context, root string, f Filter) ([]Socket, error) {
	r := Reader{Root: root}
	return r.AppendSockets(ctx, nil, f)
}

// dir returns the directory of the tables, e.g. "proc/net" or
// "proc/42/net", relative to the root.
func (r *Reader) dir() string {
	if r.PID > 0 {
		return "proc/" + strconv.Itoa(r.PID) + "/net"
	}
	return "proc/net"
}

func (r *Reader) root() string {
	if r.Root == "" {
		return "/"
	}
	return r.Root
}

// open opens a table. A table the kernel does not have (no IPv6, no
// UDP-Lite) is not an error: it reports (nil, nil).
func (r *Reader) open(name string) (*os.File, error) {
	f, err := procfile.Open(r.root(), name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err // procfile.Open names the file relative to the root
	}
	return f, nil
}

func (r *Reader) init() {
	if r.buf == nil {
		r.buf = make([]byte, procfile.BufSize)
		r.fields = make([][]byte, 0, 32)
	}
}

// Sockets returns an iterator over the rows that pass f, table by table in
// the order of AllProtos and each in file order.
//
// A row that cannot be parsed yields a *ParseError (and a zero Socket) and
// the scan goes on. A table that cannot be opened or read yields an
// *fs.PathError naming it, and the scan goes on with the next table. A
// table the kernel lacks is skipped silently. A row repeated within one
// read (the kernel resumes long dumps by position) is delivered once; rows
// with inode 0 (TIME_WAIT, request sockets) are never merged.
//
// When ctx is done the scan stops within a few hundred rows (one 64 KiB
// read of proc, or 64 rows of netlink), yielding ctx.Err() last.
//
// The iterator reuses the Reader's buffers: it must not run concurrently
// with another scan of the same Reader.
func (r *Reader) Sockets(ctx context.Context, f Filter) iter.Seq2[Socket, error] {
	return func(yield func(Socket, error) bool) {
		r.init()
		r.ctx = ctx
		defer func() { r.ctx = nil }()
		for _, p := range AllProtos {
			if !f.Protos.Has(p) {
				continue
			}
			if err := ctx.Err(); err != nil {
				yield(Socket{}, err)
				return
			}
			if !r.scan(p, &f, yield) {
				return
			}
		}
	}
}

// AppendSockets appends the rows that pass f to dst and returns it, with
// every error met joined into one.
func (r *Reader) AppendSockets(ctx context.Context, dst []Socket, f Filter) ([]Socket, error) {
	var errs []error
	for s, err := range r.Sockets(ctx, f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dst = append(dst, s)
	}
	return dst, errors.Join(errs...)
}

func (r *Reader) scanTable(p Proto, f *Filter, yield func(Socket, error) bool) bool {
	name := r.dir() + "/" + p.String()
	file, err := r.open(name)
	if err != nil {
		return yield(Socket{}, err)
	}
	if file == nil {
		return true
	}
	defer file.Close()
	r.seen.reset()
	r.lr.ResetContext(r.ctx, file, name, r.buf)
	var s Socket
	var end rowEnd
	for {
		// Not lr.All: the hottest loop of the module stays a plain loop.
		line, err := r.lr.Next()
		if err == io.EOF {
			return true
		}
		if err != nil { // a line too long, a read error that ends the file, ctx's error
			if !yield(Socket{}, err) || r.ctx.Err() != nil {
				return false
			}
			continue
		}
		if r.lr.Line() == 1 {
			end.drops = !p.IsTCP() && namesDrops(line)
			continue
		}
		if len(line) == 0 {
			continue // a blank line
		}
		end.cut = r.lr.Partial() && line[len(line)-1] != ' ' && line[len(line)-1] != '\t'
		ok, ferr := r.parseRow(&s, p, line, f, end)
		if ferr != nil {
			if !yield(Socket{}, &ParseError{File: name, Line: r.lr.Line(), Field: ferr.field, Err: ferr.err}) {
				return false
			}
			continue
		}
		if !ok {
			continue
		}
		if s.Inode != 0 && !r.seen.add(s.Inode) {
			continue
		}
		if !yield(s, nil) {
			return false
		}
	}
}
