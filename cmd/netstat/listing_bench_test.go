package main

import (
	"io"
	"net"
	"strings"
	"testing"
)

// loopbackLoad holds n TCP connections on 127.0.0.1 (2n sockets and a
// listener) for the benchmark, so that rendering, not the fixed cost of a
// run, is what is measured. They close when the benchmark ends.
func loopbackLoad(b *testing.B, n int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close(); s.Close() })
	}
}

// BenchmarkListingFormats is `netstat -tanp -n` and its --json and --csv
// forms in-process over 1,000 loopback connections of this process: the
// streamed listing and the structured writers.
func BenchmarkListingFormats(b *testing.B) {
	loopbackLoad(b, 1000)
	for _, args := range [][]string{{"-tanp", "-n"}, {"-tanp", "-n", "--json"}, {"-tanp", "-n", "--csv"}, {"-tanxp", "-n", "--json"}} {
		b.Run(strings.Join(args, " "), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := runWith(args, io.Discard, io.Discard, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
