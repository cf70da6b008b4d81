package main

import (
	"testing"

	"github.com/procnet/procnet/netstat"
)

// -l reads the tables for the states that can have no peer (LISTEN, and
// Close for UDP and raw), so that the kernel skips the connections; a
// --state list narrows that further, and one with none of those states is
// kept as given (its rows all fail -l's rule).
func TestListeningStates(t *testing.T) {
	unconnected := netstat.States(netstat.Listen, netstat.Close)
	for _, tc := range []struct {
		args    []string
		want    netstat.StateSet
		streams bool
	}{
		{[]string{"-tln"}, unconnected, false},
		{[]string{"-tulnp"}, unconnected, false},
		{[]string{"-tan"}, 0, true},
		{[]string{"-tlan"}, 0, true},
		{[]string{"-tn"}, 0, true},
		{[]string{"-tln", "--state", "listen,established"}, netstat.States(netstat.Listen), false},
		{[]string{"-tln", "--state", "established"}, netstat.States(netstat.Established), false},
	} {
		c, err := parse(tc.args)
		if err != nil {
			t.Fatal(tc.args, err)
		}
		if got := c.filter().States; got != tc.want {
			t.Errorf("%v: States = %b, want %b", tc.args, got, tc.want)
		}
		if got := c.streams(); got != tc.streams {
			t.Errorf("%v: streams = %v, want %v", tc.args, got, tc.streams)
		}
	}
}
