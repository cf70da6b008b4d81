package iface

// Flags are an interface's IFF_* bits (the values of golang.org/x/sys/unix),
// as SIOCGIFFLAGS reports them to net-tools.
type Flags uint32

// The interface flags.
const (
	FlagUp           Flags = 0x1     // IFF_UP: administratively up
	FlagBroadcast    Flags = 0x2     // IFF_BROADCAST
	FlagDebug        Flags = 0x4     // IFF_DEBUG
	FlagLoopback     Flags = 0x8     // IFF_LOOPBACK
	FlagPointToPoint Flags = 0x10    // IFF_POINTOPOINT
	FlagNoTrailers   Flags = 0x20    // IFF_NOTRAILERS
	FlagRunning      Flags = 0x40    // IFF_RUNNING: up and operationally up (see Reader)
	FlagNoARP        Flags = 0x80    // IFF_NOARP
	FlagPromisc      Flags = 0x100   // IFF_PROMISC
	FlagAllMulti     Flags = 0x200   // IFF_ALLMULTI
	FlagMaster       Flags = 0x400   // IFF_MASTER: bonding master
	FlagSlave        Flags = 0x800   // IFF_SLAVE: bonding slave
	FlagMulticast    Flags = 0x1000  // IFF_MULTICAST
	FlagPortSel      Flags = 0x2000  // IFF_PORTSEL
	FlagAutoMedia    Flags = 0x4000  // IFF_AUTOMEDIA
	FlagDynamic      Flags = 0x8000  // IFF_DYNAMIC
	FlagLowerUp      Flags = 0x10000 // IFF_LOWER_UP: carrier present
	FlagDormant      Flags = 0x20000 // IFF_DORMANT
	FlagEcho         Flags = 0x40000 // IFF_ECHO
)

// Has reports whether every bit of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// The letters of net-tools 2.10 `netstat -i` (lib/interface.c,
// ife_print_short), in its order. P stands for both promiscuous and
// point-to-point there.
var letters = [...]struct {
	bit Flags
	c   byte
}{
	{FlagAllMulti, 'A'}, {FlagBroadcast, 'B'}, {FlagDebug, 'D'}, {FlagLoopback, 'L'},
	{FlagMulticast, 'M'}, {FlagDynamic, 'd'}, {FlagPromisc, 'P'}, {FlagNoTrailers, 'N'},
	{FlagNoARP, 'O'}, {FlagPointToPoint, 'P'}, {FlagSlave, 's'}, {FlagMaster, 'm'},
	{FlagRunning, 'R'}, {FlagUp, 'U'},
}

// String returns the flags as the Flg column of `netstat -i` shows them:
// "BMRU" for a running Ethernet interface, "LRU" for loopback, "BO" for a
// down interface without ARP. Bits without a letter (LowerUp, Dormant, …)
// are not shown. The zero Flags give "[NO FLAGS]", as netstat prints.
func (f Flags) String() string {
	if f == 0 {
		return "[NO FLAGS]"
	}
	var b [16]byte
	s := b[:0]
	for _, l := range letters {
		if f&l.bit != 0 {
			s = append(s, l.c)
		}
	}
	return string(s)
}

// flagNames are the flag names of ifconfig (net-tools 2.10 lib/interface.c,
// ife_print_long), in its order.
var flagNames = [...]struct {
	bit  Flags
	name string
}{
	{FlagUp, "UP"}, {FlagBroadcast, "BROADCAST"}, {FlagDebug, "DEBUG"},
	{FlagLoopback, "LOOPBACK"}, {FlagPointToPoint, "POINTOPOINT"},
	{FlagNoTrailers, "NOTRAILERS"}, {FlagRunning, "RUNNING"}, {FlagNoARP, "NOARP"},
	{FlagPromisc, "PROMISC"}, {FlagAllMulti, "ALLMULTI"}, {FlagSlave, "SLAVE"},
	{FlagMaster, "MASTER"}, {FlagMulticast, "MULTICAST"}, {FlagDynamic, "DYNAMIC"},
}

// Names returns the names ifconfig prints between "flags=N<" and ">"
// for the bits set in f, in its order: ["UP", "BROADCAST", "RUNNING",
// "MULTICAST"] for a running Ethernet interface. Bits ifconfig does not
// name (PortSel, AutoMedia, LowerUp, Dormant, Echo) are left out.
func (f Flags) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	return out
}
