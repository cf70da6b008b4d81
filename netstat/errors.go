package netstat

import (
	"errors"

	"github.com/procnet/procnet/internal/procfile"
)

// ParseError reports a row that could not be read: the file (relative to
// the root), the 1-based line, the column at fault and why, as in
// "proc/net/tcp6:17: local address: invalid syntax". The rows before and
// after it are still delivered. The route and iface packages report the
// same type.
type ParseError = procfile.ParseError

// The reasons a ParseError gives. ErrFieldCount, ErrSyntax and ErrRange
// are the very values of route and iface.
var (
	ErrFieldCount = procfile.ErrFieldCount
	ErrSyntax     = procfile.ErrSyntax
	ErrRange      = procfile.ErrRange
	// ErrTruncated: the row lacks columns its layout always has after the
	// one named (it was cut, maybe inside that column).
	ErrTruncated = errors.New("row cut short")
)

// fieldError is a parse failure before the file and line are known.
type fieldError struct {
	field string
	err   error
}
