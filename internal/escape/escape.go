// Package escape holds the one rule by which every output of procnet
// (table, CSV, JSON values, Prometheus labels, stderr notes) shows text it
// did not write itself: argv, comm, unix paths, names read from a root's
// etc/ files. Whatever such text holds, the result steers no terminal and
// spans one line.
//
// The rule: a newline, tab and carriage return become \n, \t and \r; every
// other C0 control byte, DEL, a C1 control (as a raw byte or UTF-8 encoded:
// 0x9b and U+009B are both CSI), and any byte that is not valid UTF-8
// become \xNN, byte by byte; the Unicode line and paragraph separators
// (U+2028, U+2029) and the bidirectional formatting characters (U+061C,
// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which reorder or break
// what a terminal shows, become \uNNNN. Everything else, backslash
// included, is kept as it is, so plain text is printed unchanged.
package escape

import "unicode/utf8"

const hex = "0123456789abcdef"

// String returns s under the rule. It does not allocate when s needs no
// escaping.
func String(s string) string {
	if !Needed(s) {
		return s
	}
	return string(Append(make([]byte, 0, len(s)+8), s))
}

// Needed reports whether String would change s.
func Needed(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return true
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if special(r, size) {
			return true
		}
		i += size
	}
	return false
}

// Append appends s under the rule to dst and returns the extended buffer.
func Append(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			dst = append(dst, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r <= 0x9f:
			for _, b := range []byte(s[i : i+size]) {
				dst = append(dst, '\\', 'x', hex[b>>4], hex[b&15])
			}
		case special(r, size):
			dst = append(dst, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}

// special reports whether a decoded non-ASCII rune must be escaped.
func special(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r <= 0x9f: // C1 controls
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x2028 && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// AppendJSON appends s under the rule as a JSON string literal: a JSON
// value shows what a table shows. The rule leaves only printable text, so
// JSON needs to escape just the quotes and backslashes of the result.
func AppendJSON(dst []byte, s string) []byte {
	dst = append(dst, '"')
	// The common case, printable ASCII with no quote or backslash, is
	// copied as it is: one pass, no escaping pass, no widening pass.
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := len(dst)
	dst = Append(dst, s)
	n := 0
	for _, c := range dst[start:] {
		if c == '"' || c == '\\' {
			n++
		}
	}
	if n > 0 {
		// Widen in place, from the end: each quote or backslash gets a
		// backslash before it.
		end := len(dst)
		dst = append(dst, make([]byte, n)...)
		w := len(dst)
		for r := end - 1; r >= start; r-- {
			c := dst[r]
			w--
			dst[w] = c
			if c == '"' || c == '\\' {
				w--
				dst[w] = '\\'
			}
		}
	}
	return append(dst, '"')
}
