package promcore

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePorts parses a list of ports for Options.ListenerPorts: numbers
// and ranges separated by commas ("22,80,443,8000-8099"), or "none" for
// an empty, non-nil list (no listener gets a series of its own).
func ParsePorts(s string) ([]uint16, error) {
	ports := []uint16{}
	if s == "none" {
		return ports, nil
	}
	for _, f := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(f, "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || a == 0 || a > b {
			return nil, fmt.Errorf("not a port or range: %q", f)
		}
		for p := a; p <= b; p++ {
			ports = append(ports, uint16(p))
		}
	}
	return ports, nil
}
