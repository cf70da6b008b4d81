package iface

import (
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
)

// appendErr appends err to errs, the errors of a joined error one by one,
// so that errors.Join of the result is one flat list.
func appendErr(errs []error, err error) []error {
	if err == nil {
		return errs
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = appendErr(errs, e)
		}
		return errs
	}
	return append(errs, err)
}
