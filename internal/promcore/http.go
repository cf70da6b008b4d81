package promcore

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ContentType is the exposition's media type, as promhttp sends it when
// it chooses the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// Handler serves one exposition of c per request, as promhttp.HandlerFor
// with MaxRequestsInFlight: maxInFlight does for the text format: beyond
// maxInFlight requests at a time, 503; gzipped when the request's
// Accept-Encoding prefers gzip to identity.
func (c *Collector) Handler(maxInFlight int) http.Handler {
	inFlight := make(chan struct{}, maxInFlight)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case inFlight <- struct{}{}:
			defer func() { <-inFlight }()
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", maxInFlight),
				http.StatusServiceUnavailable)
			return
		}
		var text bytes.Buffer
		c.WriteText(&text) // into memory: no error
		h := w.Header()
		h.Add("Vary", "Accept")
		h.Add("Vary", "Accept-Encoding")
		h.Set("Content-Type", ContentType)
		if !prefersGzip(r.Header.Values("Accept-Encoding")) {
			w.Write(text.Bytes())
			return
		}
		h.Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		gz.Write(text.Bytes())
		gz.Close()
	})
}

// prefersGzip is promhttp's choice between its offers identity and gzip
// (in that order): the offer of the highest q among the codings listed
// (or "*", case-sensitive as promhttp), the first offer on a tie;
// identity when none is listed.
func prefersGzip(header []string) bool {
	best, gz := -1.0, false
	for _, offer := range []string{"identity", "gzip"} {
		for _, h := range header {
			for _, spec := range strings.Split(h, ",") {
				name, params, _ := strings.Cut(spec, ";")
				name = strings.TrimSpace(name)
				if name != "*" && name != offer {
					continue
				}
				q := 1.0
				if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
					var err error
					if q, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
						q = 0
					}
				}
				if q > best {
					best, gz = q, offer == "gzip"
				}
			}
		}
	}
	return gz && best > 0
}
