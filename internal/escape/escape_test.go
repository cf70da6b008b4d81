package escape

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nginx: master", "nginx: master"},
		{"héllo wörld", "héllo wörld"},
		{`back\slash`, `back\slash`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"\x1b[31mred\x07\x08\x7f", `\x1b[31mred\x07\x08\x7f`},
		{"raw\x9bcsi", `raw\x9bcsi`},
		{"utf8\u009bcsi", `utf8\xc2\x9bcsi`},
		{"bidi\u202egnp.exe", `bidi\u202egnp.exe`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{"iso\u2066x\u2069\u200f\u061c", `iso\u2066x\u2069\u200f\u061c`},
		{"\xff\xfe", `\xff\xfe`},
		{"", ""},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if Needed(tc.in) != (tc.in != tc.want) {
			t.Errorf("Needed(%q) = %v", tc.in, Needed(tc.in))
		}
	}
}

func TestStringNoAlloc(t *testing.T) {
	s := "/usr/sbin/nginx -g daemon off;"
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Errorf("String of plain text allocates %v times", n)
	}
}

// FuzzString checks the rule's promise: the result holds no byte below
// 0x20, no DEL, no C1 control and no separator or bidi rune, and is valid
// UTF-8.
func FuzzString(f *testing.F) {
	f.Add("a\x1b\u202e\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) || Needed(out) {
			t.Fatalf("String(%q) = %q still needs escaping", s, out)
		}
	})
}

func TestAppendJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"nginx", `"nginx"`},
		{`say "hi"\`, `"say \"hi\"\\"`},
		{"a\nb\x1b", `"a\\nb\\x1b"`},
		{"héllo\u202e\"", `"héllo\\u202e\""`},
		{"", `""`},
	} {
		if got := string(AppendJSON([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("AppendJSON(%q) = %s, want x%s", tc.in, got, tc.want)
		}
	}
	b := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { b = AppendJSON(b[:0], "/usr/sbin/nginx") }); n != 0 {
		t.Errorf("AppendJSON of plain text allocates %v times", n)
	}
}

// FuzzAppendJSON checks that the literal is valid JSON whose value is
// String(s).
func FuzzAppendJSON(f *testing.F) {
	f.Add("a\"\\\x1b\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		lit := AppendJSON(nil, s)
		var got string
		if err := json.Unmarshal(lit, &got); err != nil || got != String(s) {
			t.Fatalf("AppendJSON(%q) = %s: %q, %v; want %q", s, lit, got, err, String(s))
		}
	})
}
