package netstat

import (
	"errors"
	"strconv"
)

// ParseError reports a row that could not be read. The rows before and
// after it are still delivered.
type ParseError struct {
	File  string // path relative to the root, such as "proc/net/tcp6"
	Line  int    // 1-based line number within File
	Field string // the column at fault, such as "local address"; may be empty
	Err   error
}

func (e *ParseError) Error() string {
	s := e.File + ":" + strconv.Itoa(e.Line) + ": "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// The reasons a ParseError gives.
var (
	ErrFieldCount = errors.New("too few fields")
	ErrSyntax     = errors.New("invalid syntax")
	ErrRange      = errors.New("value out of range")
)

// fieldError is a parse failure before the file and line are known.
type fieldError struct {
	field string
	err   error
}
