package netstat

// nettools.go: the columns of net-tools' socket table (netstat.c, 2.10),
// for a program that prints its layout.

import "strconv"

// NetTools returns p as net-tools' Proto column names it: String, but
// udpl and udpl6 for UDP-Lite.
func (p Proto) NetTools() string {
	switch p {
	case UDPLite:
		return "udpl"
	case UDPLite6:
		return "udpl6"
	}
	return p.String()
}

// ServiceProto returns the protocol under which net-tools looks p's
// ports up in etc/services: tcp, raw, or udp (UDP-Lite too).
func (p Proto) ServiceProto() string {
	switch p {
	case TCP, TCP6:
		return "tcp"
	case Raw, Raw6:
		return "raw"
	}
	return "udp"
}

// NetToolsState returns net-tools' State column for s: a TCP socket's
// state name, a raw socket's state number, ESTABLISHED for a connected
// UDP or UDP-Lite socket, blank for an unconnected one and UNKNOWN for
// any other state. (StateName is the machine-readable vocabulary.)
func (s *Socket) NetToolsState() string {
	switch {
	case s.Proto.IsTCP():
		return s.State.String()
	case s.Proto == Raw || s.Proto == Raw6:
		return strconv.Itoa(int(s.State))
	case s.State == Established:
		return "ESTABLISHED"
	case s.State == Close:
		return ""
	}
	return "UNKNOWN"
}

// AppendNetToolsTimer appends net-tools' Timer column (`netstat -o`) for
// s: the timer, then its seconds left, the retransmits and the probes
// (timeout column), as "off (0.00/0/0)" or "keepalive (7199.50/0/0)".
// A UDP timer is "on1" or "on2" and its retransmits print as 0; a timer
// net-tools does not know is unkn-N. It allocates nothing.
func (s *Socket) AppendNetToolsTimer(b []byte) []byte {
	retr := uint64(s.Retransmits)
	tcp := s.Proto.IsTCP()
	if s.Proto == UDP || s.Proto == UDP6 || s.Proto == UDPLite || s.Proto == UDPLite6 {
		retr = 0 // net-tools zeroes it for UDP
	}
	secs := float64(s.TimerTicks) / UserHZ
	switch {
	case s.Timer == TimerOff:
		b = append(b, "off ("...)
		secs = 0
	case tcp && s.Timer <= TimerProbe:
		b = append(b, s.Timer.String()...)
		b = append(b, " ("...)
	case !tcp && s.Timer <= 2:
		b = append(b, "on"...)
		b = strconv.AppendInt(b, int64(s.Timer), 10)
		b = append(b, " ("...)
	default:
		b = append(b, "unkn-"...)
		b = strconv.AppendInt(b, int64(s.Timer), 10)
		b = append(b, " ("...)
	}
	b = strconv.AppendFloat(b, secs, 'f', 2, 64)
	b = append(b, '/')
	b = strconv.AppendUint(b, retr, 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, uint64(s.Timeout), 10)
	return append(b, ')')
}

// unixFlagColumns are the Flags column by (Flags>>16)&7: accepting
// (ACC), waiting for data (W, SO_WAITDATA), out of space (N, SO_NOSPACE).
var unixFlagColumns = [8]string{"[ ]", "[ ACC ]", "[ W ]", "[ ACC W ]", "[ N ]", "[ ACC N ]", "[ W N ]", "[ ACC W N ]"}

// NetToolsProto returns net-tools' Proto column for u: unix, or ?? for
// a protocol other than 0.
func (u *UnixSocket) NetToolsProto() string {
	if u.Protocol != 0 {
		return "??"
	}
	return "unix"
}

// NetToolsFlags returns net-tools' Flags column for u: "[ ]", "[ ACC ]",
// "[ ACC W N ]" and the like.
func (u *UnixSocket) NetToolsFlags() string { return unixFlagColumns[(u.Flags>>16)&7] }

// NetToolsType returns net-tools' Type column for u: String for the five
// types it knows, else UNKNOWN.
func (u *UnixSocket) NetToolsType() string {
	if u.Type >= Stream && u.Type <= SeqPacket {
		return u.Type.String()
	}
	return "UNKNOWN"
}

// NetToolsState returns net-tools' State column for u: LISTENING for a
// listener, blank for any other unconnected socket, the kernel's name for
// the other states and UNKNOWN for a state net-tools does not know.
func (u *UnixSocket) NetToolsState() string {
	switch u.State {
	case Unconnected:
		if u.Listening() {
			return "LISTENING"
		}
		return ""
	case Free, Connecting, Connected, Disconnecting:
		return u.State.String()
	}
	return "UNKNOWN"
}
