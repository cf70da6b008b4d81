package route

import (
	"errors"

	"github.com/procnet/procnet/internal/procfile"
)

// ParseError reports a row that could not be read: the file (relative to
// the root), the 1-based line, the column at fault and why. The rows
// before and after it are still returned. It is the same type as
// netstat.ParseError.
type ParseError = procfile.ParseError

// The reasons a ParseError gives. ErrFieldCount, ErrSyntax and ErrRange
// are the very values of netstat.
var (
	ErrFieldCount = procfile.ErrFieldCount
	ErrSyntax     = procfile.ErrSyntax
	ErrRange      = procfile.ErrRange
	// ErrMask is a Genmask whose one bits are not contiguous from the
	// top. The kernel's FIB stores prefix lengths, so it never prints one.
	ErrMask = errors.New("non-contiguous netmask")
)
