package iface

import (
	"errors"
	"strconv"
)

// ParseError reports a row that could not be read. The rows before and
// after it are still returned.
type ParseError struct {
	File  string // path relative to the root, such as "proc/net/dev" or "sys/class/net/eth0/mtu"
	Line  int    // 1-based line number within File
	Field string // the column at fault, such as "rx_bytes"; may be empty
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
	ErrFieldCount = errors.New("wrong number of fields")
	ErrSyntax     = errors.New("invalid syntax")
	ErrRange      = errors.New("value out of range")
)
