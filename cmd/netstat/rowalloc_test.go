package main

import (
	"net/netip"
	"testing"

	"github.com/procnet/procnet/netstat"
)

// TestRowAllocs keeps formatting a row free of per-row allocations in
// numeric mode: the table (with -e and -o) and JSON append straight into
// the lister's buffer.
func TestRowAllocs(t *testing.T) {
	c, err := parse([]string{"-tanoe"})
	if err != nil {
		t.Fatal(err)
	}
	l := newLister(c)
	r := &row{Socket: netstat.Socket{
		Proto: netstat.TCP6, State: netstat.Established, Inode: 123456, UID: 0,
		Local:  netip.MustParseAddrPort("[2001:db8:bbbb:aaaa:dddd:cccc:eeee:1]:443"),
		Remote: netip.MustParseAddrPort("[::ffff:127.0.0.1]:51000"),
	}}
	snap := &snapshot{}
	b := make([]byte, 0, 4096)
	l.names.User(0) // load etc/passwd once
	if a := testing.AllocsPerRun(100, func() { b = l.appendRow(b[:0], r, nil) }); a != 0 {
		t.Errorf("a table row made %v allocations", a)
	}
	if a := testing.AllocsPerRun(100, func() { b = l.appendJSONRow(b[:0], snap, r) }); a != 0 {
		t.Errorf("a JSON row made %v allocations", a)
	}
}
