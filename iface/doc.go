// Package iface reads network interfaces and their counters from
// /proc/net/dev and /sys/class/net under any root directory: the live
// system, a container's root or a fixture tree.
//
// /proc/net/dev has two header lines, then one row per interface: the
// name, a colon and 16 counters. The name ends at the last colon of the
// first word, so rows with no space after the colon (old kernels, or any
// counter wider than its column: "eth0:158526390 …") and alias names
// ("team0:1: …") read right. MTU and IFF_* flags come from
// sys/class/net/NAME, with the running bit derived as the kernel does for
// SIOCGIFFLAGS, so Flags.String gives the Flg column of netstat -i.
//
// Two Samples give per-second rates; a counter that goes down is taken for
// a reset, never for a huge increase.
//
// # Concurrency
//
// A Reader is not safe for concurrent use (it reuses its buffers): use one
// per goroutine. Interfaces, Delta and Rates may be called from any number
// of goroutines. Interface, Counters, Sample and Rate are plain values
// (nothing here writes a Sample's slice after returning it), safe to share.
package iface
