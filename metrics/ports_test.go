package metrics

import (
	"slices"
	"testing"
)

func TestParsePorts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint16
	}{
		{"none", []uint16{}},
		{"22", []uint16{22}},
		{"22,80,8000-8002", []uint16{22, 80, 8000, 8001, 8002}},
		{"65535", []uint16{65535}},
	} {
		got, err := ParsePorts(tc.in)
		if err != nil || got == nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePorts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "0", "65536", "80-22", "x", "22,", "1-2-3", "-5"} {
		if got, err := ParsePorts(in); err == nil {
			t.Errorf("ParsePorts(%q) = %v, want an error", in, got)
		}
	}
}
