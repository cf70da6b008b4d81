package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	fixture "github.com/procnet/procnet/procnettest"
)

// hostileRune reports a rune (or a byte that is not UTF-8) that must never
// reach an output raw: a control character other than newline, DEL, a C1
// control, a line or paragraph separator, a bidi formatting character.
func hostileRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r < 0x20 && r != '\n', r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func checkClean(t *testing.T, what, s string) {
	t.Helper()
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if hostileRune(r, size) {
			lo, hi := max(i-30, 0), min(i+30, len(s))
			t.Errorf("%s: raw %U at byte %d: %q", what, r, i, s[lo:hi])
			return
		}
		i += size
	}
}

// checkValues checks every string value of a JSON document, as a reader
// of the JSON sees it (decoded: "\u001b" is an ESC again).
func checkValues(t *testing.T, what string, v any) {
	t.Helper()
	switch v := v.(type) {
	case string:
		checkClean(t, what+" (decoded JSON)", v)
	case []any:
		for _, e := range v {
			checkValues(t, what, e)
		}
	case map[string]any:
		for _, e := range v {
			checkValues(t, what, e)
		}
	}
}

// TestHostileNamesEveryMode: names from a hostile root's etc/hosts,
// etc/services, etc/passwd and etc/networks, a hostile DNS answer, comm,
// argv and a unix path never put a control character, C1 control, line
// separator or bidi override raw into any output: table (with and without
// -e, -ee), CSV, JSON, --summary (each --by), --summary --json and
// --csv, -r. Each output must show the hostile names escaped (so the test
// sees them at all).
func TestHostileNamesEveryMode(t *testing.T) {
	root := fixture.Root(t, "testdata/hostile.txtar")
	res := &fakeResolver{names: map[string]string{"10.0.0.2": "\x1b[31mdn\x07\x7f\x08\u009b\x9b\u202e\u2028s\r.example."}}
	for _, tc := range []struct {
		args string
		want []string // escaped text the output must hold
	}{
		{"-tuap", []string{`\x1b:\x1b[31mse`, `100/\x1b[32mar`}},
		{"-tuapW", []string{`\x1b[31mdn\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028s\r.example:49152`, `\x1b[31mho\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028st:\x1b[31mse\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028rv`, `\x1b[31mud\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028p`}},
		{"-tuape", []string{`\x1b[31mus\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028er\r`}},
		{"-tuapee", []string{`\x1b[31mus\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028er\r`}},
		{"-xap", []string{`/tmp/\x1b[2Jso\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028ck\r`}},
		{"--csv -tuapx", []string{`\x1b[31mev\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028il\r`, `\x1b[31mus\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028er\r`, `/tmp/\x1b[2Jso`}},
		{"--json -tuapx", []string{`\\x1b[31mev\\x07\\x7f\\x08\\xc2\\x9b\\x9b\\u202e\\u2028il\\r`, `\\x1b[31mus\\x07`, `/tmp/\\x1b[2Jso`, `--flag\\x1b[0m`}},
		{"--summary -tua", []string{`\x1b[32mar\x07\x7f\x`, `\x1b[31mus`}},
		{"--summary -tua -W", []string{`\x1b[32mar\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028gv\r`, `\x1b[31mus\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028er\r`}},
		{"--summary --by remote -tua -W", []string{`\x1b[31mdn\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028s\r.example`}},
		{"--summary --by port -tua -W", []string{`\x1b[31mse\x07\x7f\x08\xc2\x9b\x9b\u202e\u2028rv`, `\x1b[31mud\x07`}},
		{"--summary --json -tua", []string{`\\x1b[32mar\\x07`, `\\x1b[31mus\\x07`}},
		{"--summary --csv -tua", []string{`\x1b[32mar\x07`, `\x1b[31mus\x07`}},
		{"-r", []string{`\x1b[31mne\x07`, `\x1b[31mho\x07`}},
	} {
		t.Run(tc.args, func(t *testing.T) {
			out, errs, code := runCLI(t, res, append(strings.Fields(tc.args), "--root", root)...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			checkClean(t, "stdout", out)
			checkClean(t, "stderr", errs)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
			switch {
			case strings.Contains(tc.args, "--json"):
				for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					var v any
					if err := json.Unmarshal([]byte(line), &v); err != nil {
						t.Fatalf("invalid JSON %q: %v", line, err)
					}
					checkValues(t, "JSON", v)
				}
			case strings.Contains(tc.args, "--csv"):
				if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil {
					t.Errorf("invalid CSV: %v", err)
				}
			}
		})
	}
}
