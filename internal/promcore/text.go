package promcore

// text.go writes a scrape in the text exposition format 0.0.4 byte for
// byte as client_golang's Registry.Gather and expfmt.MetricFamilyToText
// do: the families sorted by name, those with no sample left out, each
// with its HELP and TYPE lines; its samples sorted by their label values,
// the labels (constant ones included) sorted by name; label values
// escaped (\ " and newline), HELP text escaped (\ and newline), values as
// strconv's shortest 'g' form.

import (
	"bufio"
	"cmp"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// sample is one emitted value with its label pairs, sorted by name.
type sample struct {
	labels [][2]string
	v      float64
}

// WriteText reads the sockets once (Collect) and writes the exposition
// to w.
func (c *Collector) WriteText(w io.Writer) error {
	return writeText(w, c.Descs(), c.Collect)
}

// writeText writes the samples collect emits of the families descs.
func writeText(w io.Writer, descs []*Desc, collect func(Emit)) error {
	got := make(map[*Desc][]sample, len(descs))
	collect(func(d *Desc, v float64, lv ...string) {
		ls := make([][2]string, 0, len(lv)+len(d.Const))
		for i, n := range d.Labels {
			ls = append(ls, [2]string{n, lv[i]})
		}
		for n, v := range d.Const {
			ls = append(ls, [2]string{n, v})
		}
		slices.SortFunc(ls, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		got[d] = append(got[d], sample{ls, v})
	})
	slices.SortFunc(descs, func(a, b *Desc) int { return strings.Compare(a.Name, b.Name) })
	bw := bufio.NewWriter(w)
	var b []byte
	for _, d := range descs {
		ss := got[d]
		if len(ss) == 0 {
			continue
		}
		slices.SortFunc(ss, func(x, y sample) int {
			if c := cmp.Compare(len(x.labels), len(y.labels)); c != 0 {
				return c
			}
			for i := range x.labels {
				if c := strings.Compare(x.labels[i][1], y.labels[i][1]); c != 0 {
					return c
				}
			}
			return 0
		})
		b = append(b[:0], "# HELP "...)
		b = append(b, d.Name...)
		b = append(b, ' ')
		b = appendEscaped(b, d.Help, false)
		b = append(b, "\n# TYPE "...)
		b = append(b, d.Name...)
		b = append(b, ' ')
		b = append(b, d.Type.String()...)
		b = append(b, '\n')
		for _, s := range ss {
			b = append(b, d.Name...)
			for i, l := range s.labels {
				sep := byte(',')
				if i == 0 {
					sep = '{'
				}
				b = append(b, sep)
				b = append(b, l[0]...)
				b = append(b, `="`...)
				b = appendEscaped(b, l[1], true)
				b = append(b, '"')
			}
			if len(s.labels) > 0 {
				b = append(b, '}')
			}
			b = append(b, ' ')
			b = appendFloat(b, s.v)
			b = append(b, '\n')
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendEscaped appends s with \ and newline escaped, and " too in a
// label value.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\':
			b = append(b, `\\`...)
		case ch == '\n':
			b = append(b, `\n`...)
		case ch == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, ch)
		}
	}
	return b
}

// appendFloat appends v as expfmt writes it.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case v == 0:
		return append(b, '0') // -0 too
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// WriteTextfile writes one exposition to path atomically, as
// prometheus.WriteToTextfile does: into a temporary file in the same
// directory (its name is path's base and a random suffix, so no *.prom
// reader sees it half written), made 0644, then renamed over path.
func (c *Collector) WriteTextfile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := c.WriteText(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
