package netstat

import (
	"context"
	"io"
	"iter"
	"strconv"

	"github.com/procnet/procnet/internal/procfile"
)

// UnixType is a unix socket's type (SOCK_STREAM, …).
type UnixType uint16

// The unix socket types the kernel prints.
const (
	Stream    UnixType = 1
	Datagram  UnixType = 2
	RawType   UnixType = 3
	RDM       UnixType = 4
	SeqPacket UnixType = 5
)

// String returns net-tools' name for t: STREAM, DGRAM, RAW, RDM, SEQPACKET.
func (t UnixType) String() string {
	switch t {
	case Stream:
		return "STREAM"
	case Datagram:
		return "DGRAM"
	case RawType:
		return "RAW"
	case RDM:
		return "RDM"
	case SeqPacket:
		return "SEQPACKET"
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

// UnixState is a unix socket's state (the kernel's socket_state).
type UnixState uint8

// The socket states (include/uapi/linux/net.h).
const (
	Free          UnixState = 0
	Unconnected   UnixState = 1
	Connecting    UnixState = 2
	Connected     UnixState = 3
	Disconnecting UnixState = 4
)

// String returns the kernel's name: FREE, UNCONNECTED, CONNECTING,
// CONNECTED, DISCONNECTING. (net-tools prints UNCONNECTED as an empty
// column, or LISTENING when the socket accepts connections.)
func (s UnixState) String() string {
	switch s {
	case Free:
		return "FREE"
	case Unconnected:
		return "UNCONNECTED"
	case Connecting:
		return "CONNECTING"
	case Connected:
		return "CONNECTED"
	case Disconnecting:
		return "DISCONNECTING"
	}
	return "UNKNOWN(" + strconv.Itoa(int(s)) + ")"
}

// UnixFlags are the socket flags the kernel prints for unix sockets.
type UnixFlags uint32

// Accepting (__SO_ACCEPTCON) marks a listening socket.
const Accepting UnixFlags = 1 << 16

// UnixSocket is one row of proc/net/unix.
type UnixSocket struct {
	RefCount uint32
	Protocol uint32
	Flags    UnixFlags
	Type     UnixType
	State    UnixState
	Inode    uint64
	// Path is the bound name as the kernel printed it: empty when the
	// socket has none, starting with '@' for the abstract namespace (the
	// kernel prints its NUL bytes as '@' too), and otherwise a file name,
	// which may hold spaces and even newlines.
	Path string
}

// Listening reports whether the socket accepts connections.
func (u *UnixSocket) Listening() bool { return u.Flags&Accepting != 0 }

// StateName returns u's state as the machine-readable outputs (JSON,
// CSV, Prometheus labels) print it, in Socket.StateName's vocabulary:
// LISTEN for a listener, UNCONN for any other unconnected socket, else
// the kernel's name (CONNECTED, CONNECTING, DISCONNECTING, FREE).
// (net-tools' table prints LISTENING and a blank.)
func (u *UnixSocket) StateName() string {
	switch {
	case u.State == Unconnected && u.Listening():
		return "LISTEN"
	case u.State == Unconnected:
		return "UNCONN"
	}
	return u.State.String()
}

// maxInterned bounds the Reader's cache of unix paths.
const maxInterned = 4096

// UnixSockets returns an iterator over the rows of proc/net/unix (of the
// Reader's namespace). Errors are reported as in Sockets. Paths are
// interned in the Reader, so repeated scans of the same sockets allocate
// nothing.
//
// When ctx is done the scan stops, yielding ctx.Err() last.
func (r *Reader) UnixSockets(ctx context.Context) iter.Seq2[UnixSocket, error] {
	return func(yield func(UnixSocket, error) bool) {
		r.init()
		r.ctx = ctx
		defer func() { r.ctx = nil }()
		if err := ctx.Err(); err != nil {
			yield(UnixSocket{}, err)
			return
		}
		if r.paths == nil {
			r.paths = make(map[string]string)
		}
		name := r.dir() + "/unix"
		file, err := r.open(name)
		if err != nil {
			yield(UnixSocket{}, err)
			return
		}
		if file == nil {
			return
		}
		defer file.Close()
		r.seen.reset()
		r.lr.ResetContext(r.ctx, file, name, r.buf)
		// A row is held back until the next line shows it is complete: a
		// path with a newline continues on lines that are not rows.
		var (
			pending  UnixSocket
			have     bool
			pathBuf  []byte
			pathLine bool
		)
		flush := func() bool {
			if !have {
				return true
			}
			have = false
			if pathLine {
				pending.Path = r.intern(pathBuf)
			}
			if pending.Inode != 0 && !r.seen.add(pending.Inode) {
				return true
			}
			return yield(pending, nil)
		}
		for {
			// Not lr.All: this body's closure (flush) would then escape.
			line, err := r.lr.Next()
			if err == io.EOF {
				break
			}
			if err != nil { // a line too long, a read error that ends the file, ctx's error
				if r.ctx.Err() != nil {
					yield(UnixSocket{}, err)
					return
				}
				if !flush() || !yield(UnixSocket{}, err) {
					return
				}
				continue
			}
			if r.lr.Line() == 1 {
				continue
			}
			if have && !looksLikeUnixRow(line) {
				// The previous row's path held a newline.
				pathBuf = append(append(pathBuf, '\n'), line...)
				pathLine = true
				continue
			}
			if !flush() {
				return
			}
			if len(line) == 0 {
				continue
			}
			u, path, ferr := parseUnix(line, r.fields[:0])
			if ferr != nil {
				if !yield(UnixSocket{}, &ParseError{File: name, Line: r.lr.Line(), Field: ferr.field, Err: ferr.err}) {
					return
				}
				continue
			}
			pending, have = u, true
			pathBuf = append(pathBuf[:0], path...)
			pathLine = len(path) > 0
		}
		flush()
	}
}

// intern returns b as a string, shared with earlier rows of the same path.
func (r *Reader) intern(b []byte) string {
	if s, ok := r.paths[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.paths) < maxInterned {
		r.paths[s] = s
	}
	return s
}

// looksLikeUnixRow reports whether line starts like a row: hex digits and
// a colon ("ffff8f2a01234000: ").
func looksLikeUnixRow(line []byte) bool {
	i := 0
	for i < len(line) && procfile.Unhex[line[i]] != 0xff {
		i++
	}
	return i >= 8 && i+1 < len(line) && line[i] == ':' && line[i+1] == ' '
}

// parseUnix parses "Num: RefCount Protocol Flags Type St Inode [Path]".
// The path is everything after the seventh field and its one space.
func parseUnix(line []byte, fs [][]byte) (UnixSocket, []byte, *fieldError) {
	var u UnixSocket
	// Split the first seven fields by hand, remembering where they end.
	i, end := 0, 0
	for len(fs) < 7 {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return u, nil, &fieldError{"", ErrFieldCount}
		}
		j := i
		for j < len(line) && line[j] != ' ' {
			j++
		}
		fs = append(fs, line[i:j])
		i, end = j, j
	}
	num := fs[0]
	if len(num) < 2 || num[len(num)-1] != ':' {
		return u, nil, &fieldError{"num", ErrSyntax}
	}
	if _, ok := hex(num[:len(num)-1]); !ok {
		return u, nil, &fieldError{"num", ErrSyntax}
	}
	ref, ok1 := hex(fs[1])
	proto, ok2 := hex(fs[2])
	flags, ok3 := hex(fs[3])
	if !ok1 || !ok2 || !ok3 || ref > 0xffffffff || proto > 0xffffffff || flags > 0xffffffff {
		return u, nil, &fieldError{"flags", ErrSyntax}
	}
	typ, ok := hex(fs[4])
	if !ok || typ > 0xffff {
		return u, nil, &fieldError{"type", ErrSyntax}
	}
	st, ok := hex(fs[5])
	if !ok || st > 0xff {
		return u, nil, &fieldError{"state", ErrSyntax}
	}
	inode, ok := dec(fs[6])
	if !ok {
		return u, nil, &fieldError{"inode", ErrSyntax}
	}
	u = UnixSocket{RefCount: uint32(ref), Protocol: uint32(proto), Flags: UnixFlags(flags),
		Type: UnixType(typ), State: UnixState(st), Inode: inode}
	var path []byte
	if end < len(line) {
		path = line[end+1:]
	}
	return u, path, nil
}
