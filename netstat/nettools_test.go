package netstat

import "testing"

// TestNetToolsColumns: the columns of net-tools' table for each kind of
// socket, as netstat 2.10 prints them.
func TestNetToolsColumns(t *testing.T) {
	for _, tc := range []struct {
		s            Socket
		proto, state string
		service      string
		timer        string
	}{
		{Socket{Proto: TCP, State: Listen}, "tcp", "LISTEN", "tcp", "off (0.00/0/0)"},
		{Socket{Proto: TCP6, State: Established, Timer: TimerKeepalive, TimerTicks: 719950, Retransmits: 2, Timeout: 1},
			"tcp6", "ESTABLISHED", "tcp", "keepalive (7199.50/2/1)"},
		{Socket{Proto: TCP, State: TimeWait, Timer: 7, TimerTicks: 100}, "tcp", "TIME_WAIT", "tcp", "unkn-7 (1.00/0/0)"},
		{Socket{Proto: UDP, State: Established, Timer: 2, TimerTicks: 50, Retransmits: 3}, "udp", "ESTABLISHED", "udp", "on2 (0.50/0/0)"},
		{Socket{Proto: UDPLite6, State: Close, Timer: TimerOff, TimerTicks: 50}, "udpl6", "", "udp", "off (0.00/0/0)"},
		{Socket{Proto: UDPLite, State: Listen}, "udpl", "UNKNOWN", "udp", "off (0.00/0/0)"},
		{Socket{Proto: Raw6, State: Close}, "raw6", "7", "raw", "off (0.00/0/0)"},
		{Socket{Proto: UDP, State: Established, Timer: 3}, "udp", "ESTABLISHED", "udp", "unkn-3 (0.00/0/0)"},
	} {
		s := tc.s
		got := [...]string{s.Proto.NetTools(), s.NetToolsState(), s.Proto.ServiceProto(), string(s.AppendNetToolsTimer(nil))}
		if want := [...]string{tc.proto, tc.state, tc.service, tc.timer}; got != want {
			t.Errorf("%+v: got %q, want %q", s, got, want)
		}
	}
	for _, tc := range []struct {
		u                 UnixSocket
		flags, typ, state string
	}{
		{UnixSocket{Flags: Accepting, Type: Stream, State: Unconnected}, "[ ACC ]", "STREAM", "LISTENING"},
		{UnixSocket{Type: Datagram, State: Unconnected}, "[ ]", "DGRAM", ""},
		{UnixSocket{Flags: 1<<17 | 1<<18, Type: SeqPacket, State: Connected}, "[ W N ]", "SEQPACKET", "CONNECTED"},
		{UnixSocket{Flags: Accepting | 1<<18 | 1, Type: 9, State: 7}, "[ ACC N ]", "UNKNOWN", "UNKNOWN"},
	} {
		u := tc.u
		got := [...]string{u.NetToolsFlags(), u.NetToolsType(), u.NetToolsState()}
		if want := [...]string{tc.flags, tc.typ, tc.state}; got != want {
			t.Errorf("%+v: got %q, want %q", u, got, want)
		}
	}
	s := Socket{Proto: TCP, Timer: TimerRetransmit, TimerTicks: 20}
	b := make([]byte, 0, 64)
	if a := testing.AllocsPerRun(100, func() { b = s.AppendNetToolsTimer(b[:0]) }); a != 0 {
		t.Errorf("AppendNetToolsTimer made %v allocations", a)
	}
}
