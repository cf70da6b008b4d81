// Package route reads the kernel's routing tables from /proc/net/route
// (IPv4, the main table) and /proc/net/ipv6_route, under any root
// directory: the live system, a container's root or a fixture tree.
//
// The two files look alike but are encoded differently. In route, each
// address is a 32-bit word printed with %08X from its in-memory bytes, so
// it reads reversed on little-endian hosts; the Flags column is hex, the
// other numbers decimal (printed with %d: a large metric comes out
// negative), and the lines are padded with spaces to 127 columns. In
// ipv6_route, addresses are 32 hex digits in network order, prefix
// lengths are hex, metric, refcnt, use and flags are 8-digit hex, and the
// device comes last, right-aligned, or is missing.
//
// Entries carry standard values (netip.Prefix, netip.Addr) and the RTF_*
// Flags, whose String and String6 methods give the letters net-tools
// netstat -rn prints. A row that cannot be parsed is reported as a
// *ParseError with file and line, and the rows around it are kept.
//
// # Concurrency
//
// A Reader is not safe for concurrent use (it reuses its buffers): use one
// per goroutine. IPv4 and IPv6 may be called from any number of
// goroutines. Entries are plain values, safe to share.
package route
