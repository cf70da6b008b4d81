package route_test

import (
	"errors"
	"testing"

	"github.com/procnet/procnet/iface"
	"github.com/procnet/procnet/netstat"
	"github.com/procnet/procnet/route"
)

// The packages report one ParseError type, and the shared reasons are one
// value each: a caller may test any package's error with any package's
// sentinel.
func TestReasonsShared(t *testing.T) {
	err := error(&netstat.ParseError{File: "proc/net/tcp", Line: 2, Err: netstat.ErrSyntax})
	var pe *route.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, route.ErrSyntax) || !errors.Is(err, iface.ErrSyntax) {
		t.Errorf("netstat's syntax error is not route's and iface's: %v", err)
	}
	err = &iface.ParseError{File: "proc/net/dev", Line: 3, Err: iface.ErrRange}
	if !errors.Is(err, netstat.ErrRange) || !errors.Is(err, route.ErrRange) {
		t.Errorf("iface's range error is not netstat's and route's: %v", err)
	}
}
