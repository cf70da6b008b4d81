package procfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	_ "github.com/procnet/procnet/procnettest" // defines -update
)

// FuzzLineReader checks that the line reader returns every byte of its
// input, split at newlines, whatever the read sizes.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), 4)
	f.Add([]byte("header\nrow one\nrow two\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk <= 0 || chunk > 64 {
			chunk = 7
		}
		var lr Lines
		lr.Reset(iotest{bytes.NewReader(data), chunk}, "f", make([]byte, 16))
		var got []string
		long := 0
		for {
			line, err := lr.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, ErrLineTooLong) {
				long++
				got = append(got, "")
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if lr.Partial() != (len(data) > 0 && data[len(data)-1] != '\n' && len(got) == bytes.Count(data, []byte("\n"))) {
				t.Fatalf("line %d: Partial() = %v", len(got)+1, lr.Partial())
			}
			got = append(got, string(line))
		}
		want := strings.Split(string(data), "\n")
		if len(want) > 0 && want[len(want)-1] == "" {
			want = want[:len(want)-1]
		}
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d", len(got), len(want))
		}
		for i := range want {
			if len(want[i]) >= 16 {
				if got[i] != "" {
					t.Fatalf("line %d: long line returned as %q", i, got[i])
				}
				continue
			}
			if got[i] != want[i] {
				t.Fatalf("line %d = %q, want %q", i, got[i], want[i])
			}
		}
	})
}

// iotest returns at most n bytes per Read, as /proc does page by page.
type iotest struct {
	r io.Reader
	n int
}

func (r iotest) Read(p []byte) (int, error) {
	if len(p) > r.n {
		p = p[:r.n]
	}
	return r.r.Read(p)
}

func TestParseError(t *testing.T) {
	e := &ParseError{File: "proc/net/tcp6", Line: 17, Field: "local address", Err: io.ErrUnexpectedEOF}
	if got := e.Error(); got != "proc/net/tcp6:17: local address: unexpected EOF" {
		t.Errorf("Error() = %q", got)
	}
	if e.Unwrap() != io.ErrUnexpectedEOF {
		t.Errorf("Unwrap")
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		s     string
		hex   uint64
		hexOK bool
		dec   uint64
		decOK bool
	}{
		{"0", 0, true, 0, true},
		{"1F", 31, true, 0, false},
		{"18446744073709551615", 0, false, 18446744073709551615, true},
		{"18446744073709551616", 0, false, 0, false},
		{"FFFFFFFFFFFFFFFF", 1<<64 - 1, true, 0, false},
		{"", 0, false, 0, false},
		{"-1", 0, false, 0, false},
	} {
		if h, ok := Hex([]byte(tc.s)); ok != tc.hexOK || (ok && h != tc.hex) {
			t.Errorf("Hex(%q) = %d, %v", tc.s, h, ok)
		}
		if d, ok := Dec([]byte(tc.s)); ok != tc.decOK || (ok && d != tc.dec) {
			t.Errorf("Dec(%q) = %d, %v", tc.s, d, ok)
		}
	}
	if got := Fields(nil, []byte("  a\tbb  c "), 2); len(got) != 2 || string(got[1]) != "bb" {
		t.Errorf("Fields = %q", got)
	}
	_ = bytes.MinRead
	_ = strings.ToUpper
}

// failAfter returns its data, then a read error.
type failAfter struct{ data []byte }

func (f *failAfter) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, &fs.PathError{Op: "read", Path: "/abs/path", Err: syscall.EIO}
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestLinesErrors: the reader names its file in every error, reports a
// read error once and then ends.
func TestLinesErrors(t *testing.T) {
	var lr Lines
	long := strings.Repeat("x", 40) + "\nok\n"
	lr.Reset(&failAfter{[]byte("head\n" + long + "partial")}, "proc/net/tcp", make([]byte, 16))
	var got []string
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, "error: "+err.Error())
			continue
		}
		got = append(got, string(line))
	}
	want := []string{"head", "error: proc/net/tcp:2: line longer than 64 KiB", "ok",
		"error: read proc/net/tcp: input/output error"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
