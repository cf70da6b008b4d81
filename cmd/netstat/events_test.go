package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/procnet/procnet/flows"
	"github.com/procnet/procnet/netstat"
)

func TestEventsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--count", "3"},
		{"--events-source", "poll"},
		{"--events", "--events-source", "bpf"},
		{"--events", "--csv"},
		{"--events", "-s"},
		{"--events", "--count", "-1"},
		{"--events", "--root", "/tmp"},
	} {
		var out, errb bytes.Buffer
		if code := exitCode(run(context.Background(), args, &out, &errb), &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

// TestEventsEscaped: a program name read from the kernel goes through the
// one escaping rule in the table and in JSON.
func TestEventsEscaped(t *testing.T) {
	ev := flows.Event{
		Kind: flows.Close, Time: time.Unix(1, 0), Proto: netstat.TCP6,
		Local:  netip.MustParseAddrPort("[::ffff:127.0.0.1]:80"),
		Remote: netip.MustParseAddrPort("[::ffff:127.0.0.1]:40000"),
		PID:    7, Program: "evil\x1b[31m\n\"x\\", Attribution: flows.AttrTask,
		Duration: 1500 * time.Millisecond,
		Traffic:  netstat.Traffic{BytesSent: 5, BytesReceived: 6, SegsOut: 1, SegsIn: 2, Known: true},
	}
	row := string(appendEventRow(nil, &ev))
	if strings.ContainsAny(strings.TrimSuffix(row, "\n"), "\x1b\n") || !strings.Contains(row, `7/evil\x1b[31m\n"x\`) {
		t.Errorf("row %q", row)
	}
	if !strings.Contains(row, "127.0.0.1:80 ") || !strings.Contains(row, " 1.5s ") {
		t.Errorf("row %q", row)
	}
	line := appendEventJSON(nil, &ev)
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := map[string]any{
		"proto": "tcp6", "local_address": "127.0.0.1", "local_port": 80.0, "remote_address": "127.0.0.1",
		"remote_port": 40000.0, "event": "close", "pid": 7.0, "program": `evil\x1b[31m\n"x\`,
		"duration": 1.5, "bytes_sent": 5.0, "bytes_received": 6.0, "segs_out": 1.0, "segs_in": 2.0,
		"attribution": "task", "passive": false, "time": "1970-01-01T00:00:01Z", "state": nil,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	ev.Traffic, ev.PID, ev.Kind = netstat.Traffic{}, 0, flows.Open
	m = nil
	json.Unmarshal(appendEventJSON(nil, &ev), &m)
	for _, k := range []string{"pid", "program", "duration", "bytes_sent", "bytes_received"} {
		if v, ok := m[k]; !ok || v != nil {
			t.Errorf("unknown %s: %#v", k, v)
		}
	}
}

// TestEventsLive runs --events --json with each source that works here
// and finds this process's connection opening and closing.
func TestEventsLive(t *testing.T) {
	for _, src := range []string{"tracepoint", "destroy", "poll"} {
		t.Run(src, func(t *testing.T) {
			l, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() { io.Copy(io.Discard, c); c.Close() }()
				}
			}()
			port := l.Addr().(*net.TCPAddr).Port
			// Client side only: its open (polled, or from the
			// tracepoint) and its close.
			args := []string{"--events", "--json", "--count", "2", "--events-source", src, "-c", "0.05",
				"--dport", strconv.Itoa(port)}
			pr, pw := io.Pipe()
			var errb bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- run(context.Background(), args, pw, &errb); pw.Close() }()
			lines := make(chan string, 4)
			go func() {
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			time.Sleep(300 * time.Millisecond) // the feed is up
			select {
			case err := <-done:
				if strings.Contains(errb.String(), "unavailable") {
					t.Skipf("%s: %v", errb.String(), err)
				}
				t.Fatalf("ended early: %v %s", err, errb.String())
			default:
			}
			c, err := net.Dial("tcp4", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.Write(make([]byte, 1234))
			// Closed once its open is reported: the polled sources see
			// a connection only if it outlives a scan.
			var got []string
			for line := range lines {
				got = append(got, line)
				if len(got) == 1 {
					c.Close()
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err, errb.String())
			}
			if len(got) != 2 {
				t.Fatalf("%d lines: %q", len(got), got)
			}
			lines0, lines1 := got[0], got[1]
			var open, closed map[string]any
			json.Unmarshal([]byte(lines0), &open)
			json.Unmarshal([]byte(lines1), &closed)
			if open["event"] != "open" || closed["event"] != "close" {
				t.Errorf("events %v, %v", open["event"], closed["event"])
			}
			for _, m := range []map[string]any{open, closed} {
				if m["pid"] != float64(os.Getpid()) || m["remote_port"] != float64(port) {
					t.Errorf("%v: pid %v port %v", m["event"], m["pid"], m["remote_port"])
				}
			}
			if src != "poll" && closed["bytes_sent"] != 1234.0 {
				t.Errorf("bytes_sent %v", closed["bytes_sent"])
			}
			if src == "poll" && !strings.Contains(errb.String(), "may be missed") {
				t.Errorf("no polling notice: %q", errb.String())
			}
		})
	}
}
