package flows

import "slices"

// Filter selects events as a listing's filters select sockets: by port,
// by process and by address family. The zero Filter keeps every event.
type Filter struct {
	// Ports keeps events whose local or remote port is one of them;
	// LocalPorts and RemotePorts look at one side. Empty means any, as
	// in netstat.Filter.
	Ports, LocalPorts, RemotePorts []uint16
	// PIDs keeps the events attributed to one of these processes, and
	// Programs those whose Program is one of these names (the kernel's
	// comm, unescaped). Empty means any; an event with no process (PID 0,
	// Program "") passes neither unless 0 or "" is listed.
	PIDs     []int
	Programs []string
	// IPv4 and IPv6 keep the events whose remote address is of that
	// family, an IPv4-mapped IPv6 address counting as IPv4. Neither or
	// both: either family.
	IPv4, IPv6 bool
}

// Match reports whether f keeps ev. It does not allocate.
func (f *Filter) Match(ev *Event) bool {
	lp, rp := ev.Local.Port(), ev.Remote.Port()
	switch {
	case len(f.Ports) > 0 && !slices.Contains(f.Ports, lp) && !slices.Contains(f.Ports, rp),
		len(f.LocalPorts) > 0 && !slices.Contains(f.LocalPorts, lp),
		len(f.RemotePorts) > 0 && !slices.Contains(f.RemotePorts, rp),
		len(f.PIDs) > 0 && !slices.Contains(f.PIDs, ev.PID),
		len(f.Programs) > 0 && !slices.Contains(f.Programs, ev.Program):
		return false
	}
	if f.IPv4 != f.IPv6 {
		return ev.Remote.Addr().Unmap().Is4() == f.IPv4
	}
	return true
}
