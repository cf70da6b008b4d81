package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/procnet/procnet/procnettest" // defines -update, as in every test package
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line   string
		rule   string
		expect int
		check  bool
		argv   []string
	}{
		{"ss | lines-1 | ss -tanp", "lines-1", 7, true, []string{"ss", "-tanp"}},
		{"p | prefix:tcp=12 | x -p", "prefix:tcp", 12, true, []string{"x", "-p"}},
		{"w | prefix:Active Internet=? | sh -c a b; test $? = 124", "prefix:Active Internet", -1, false,
			[]string{"sh", "-c", "a b; test $? = 124"}},
	} {
		c, err := parseLine(tc.line, 7)
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		got := []any{c.rule, c.expect, !c.noCheck, c.argv}
		want := []any{tc.rule, tc.expect, tc.check, tc.argv}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tc.line, d)
		}
	}
	for _, bad := range []string{"a | b", "a | lines-x | c", "a | what | c", "a | none | ", "a | none=x | c"} {
		if _, err := parseLine(bad, -1); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCounter(t *testing.T) {
	out := "Proto Recv-Q\ntcp 0 0\ntcp6 0 0\nudp 0\nsockets=12 owned=9\ntcp no newline"
	for _, tc := range []struct {
		rule                  string
		lines, match, sockets int
	}{
		{"lines-1", 6, 0, -1},
		{"prefix:tcp", 6, 3, -1},
		{"contains:0 0", 6, 2, -1},
		{"sockets", 6, 0, 12},
	} {
		k := &counter{rule: tc.rule, sockets: -1, owned: -1}
		// Feed in awkward pieces: lines split across writes.
		for i := 0; i < len(out); i += 5 {
			n, err := k.Write([]byte(out[i:min(i+5, len(out))]))
			if err != nil || n != min(5, len(out)-i) {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		k.close()
		if d := cmp.Diff([]int{tc.lines, tc.match, tc.sockets}, []int{k.lines, k.match, k.sockets}); d != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.rule, d)
		}
	}
}

func TestMedian(t *testing.T) {
	if got := median([]time.Duration{5, 1, 3}); got != 3 {
		t.Errorf("odd median = %v", got)
	}
	if got := median([]int64{4, 1, 3, 2}); got != 2 {
		t.Errorf("even median = %v", got)
	}
	if got := median([]int64(nil)); got != 0 {
		t.Errorf("empty median = %v", got)
	}
}

func TestCheck(t *testing.T) {
	ref := &command{name: "ref", rule: "lines-1", expect: -1, count: 10}
	for _, tc := range []struct {
		c    command
		want string
	}{
		{command{rule: "lines-1", expect: 10, count: 10, owned: -1}, "ok"},
		{command{rule: "lines-1", expect: 10, count: 11, owned: -1}, "MISMATCH** want 10"},
		{command{rule: "lines-1", expect: -1, count: 9, owned: -1}, "MISMATCH** ref 10"},
		{command{rule: "sockets", expect: 10, count: 10, owned: 8}, "owned 8"},
		{command{rule: "none", expect: 10, count: -1, owned: -1}, "ok"},
		{command{rule: "prefix:x", noCheck: true, expect: -1, count: 3, owned: -1}, "ok"},
		{command{rule: "lines-0", expect: 10, count: 10, owned: -1, failures: []string{"exit 1"}}, "exit≠0"},
	} {
		if got := tc.c.check(ref); !strings.Contains(got, tc.want) {
			t.Errorf("%+v: check = %q, want it to contain %q", tc.c, got, tc.want)
		}
	}
}
