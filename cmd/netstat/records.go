package main

// The --json and --csv forms of -r, -i and --rate: each row is a list of
// fields, written as one JSON object or one CSV record.

import (
	"bytes"
	"encoding/csv"
	"strconv"

	"github.com/procnet/procnet/internal/escape"
)

// field is one value of a row.
type field struct {
	key  string
	val  string // the number's digits or the text
	kind fieldKind
}

type fieldKind uint8

const (
	fNumber fieldKind = iota // a JSON number; "" is null (an empty CSV field)
	fText                    // a JSON string
	fAbsent                  // not in the JSON object; an empty CSV field
	fRaw                     // JSON written as it is (--summary's states)
)

func uintField(key string, v uint64) field { return field{key, strconv.FormatUint(v, 10), fNumber} }
func floatField(key string, v float64) field {
	return field{key, strconv.FormatFloat(v, 'f', -1, 64), fNumber}
}
func textField(key, s string) field { return field{key, s, fText} }

// optText is text when known, else null (an empty CSV field).
func optText(key, s string, known bool) field {
	if !known {
		return field{key, "", fNumber}
	}
	return textField(key, s)
}

// appendFields appends fs as a CSV record (text escaped by sanitize) or
// as a JSON object on a line of its own.
func appendFields(b []byte, fs []field, asCSV bool) []byte {
	if asCSV {
		rec := make([]string, len(fs))
		for i, f := range fs {
			rec[i] = sanitize(f.val)
		}
		return appendCSV(b, rec)
	}
	b = append(b, '{')
	first := true
	for _, f := range fs {
		if f.kind == fAbsent {
			continue
		}
		b = appendKey(b, first, f.key)
		first = false
		switch {
		case f.kind == fText:
			b = escape.AppendJSON(b, f.val)
		case f.kind == fRaw:
			b = append(b, f.val...)
		case f.val == "":
			b = append(b, "null"...)
		default:
			b = append(b, f.val...)
		}
	}
	return append(b, '}', '\n')
}

// appendHeader appends the CSV header row of fs: its keys.
func appendHeader(b []byte, fs []field) []byte {
	rec := make([]string, len(fs))
	for i, f := range fs {
		rec[i] = f.key
	}
	return appendCSV(b, rec)
}

// appendCSV appends one CSV record (RFC 4180, as encoding/csv writes it).
// Callers sanitize text that comes from the system.
func appendCSV(b []byte, rec []string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(rec)
	w.Flush()
	return append(b, buf.Bytes()...)
}
