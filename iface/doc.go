// Package iface reads network interfaces, their counters, link attributes
// and addresses: on the live system from the caller's own network
// namespace (proc/net and rtnetlink, as `ip link` and `ip addr`), and under
// any other root directory (a container's root, a capture, a fixture tree)
// from its proc/net and sys/class/net files.
//
// /proc/net/dev has two header lines, then one row per interface: the
// name, a colon and 16 counters. The name ends at the last colon of the
// first word, so rows with no space after the colon (old kernels, or any
// counter wider than its column: "eth0:158526390 …") and alias names
// ("team0:1: …") read right. MTU and IFF_* flags come from an rtnetlink
// RTM_GETLINK dump on the live system (the very flags SIOCGIFFLAGS gives)
// and from sys/class/net/NAME under a root, with the running bit derived
// as the kernel does for SIOCGIFFLAGS, so Flags.String gives the Flg
// column of netstat -i. sysfs shows the network namespace it was mounted
// in, not the reader's: that is why the live system is asked over
// rtnetlink.
//
// Links gives the link attributes (index, hardware type and addresses,
// transmit queue length, 64-bit counters) and Addrs every IPv4 and IPv6
// address with its label, prefix, broadcast or peer, scope and flags. Under
// a root the kernel publishes no IPv4 address per interface: Addrs derives
// them from proc/net/fib_trie and proc/net/route (see Reader.Addrs). The
// rtnetlink socket is Linux's; elsewhere a live read is an error
// (ErrNotSupported) and roots are read as on Linux. Link.Sysfs gives the
// sysfs files that read back to a Link: what a capture of the live system
// writes, since the live /sys/class/net may show another namespace.
//
// List gives the rows net-tools lists (netstat -i, -ie, ifconfig -a) in its
// order: the interfaces, their IPv4 aliases (eth0:1) and, per row, the
// addresses ifconfig shows with their netmask, broadcast, destination and
// IPv6 scope names.
//
// Two Samples give per-second rates; a counter that goes down is taken for
// a reset, never for a huge increase. A Meter keeps the last sample and
// gives the rates of each read, as netstat -i --rate -c prints them.
//
// # Concurrency
//
// A Reader or Meter is not safe for concurrent use (it reuses its
// buffers): use one per goroutine. Interfaces, Delta and Rates may be called from any number
// of goroutines. Interface, Counters, Link, Addr, Sample and Rate are plain
// values (nothing here writes a slice after returning it), safe to share.
package iface
