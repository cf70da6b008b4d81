package promcore

// serve.go serves the exposition over HTTP/1.x with package net alone:
// net/http and the crypto/tls, x509 and http2 it links cost every run of
// the command ~2 MiB of RSS and 4 MB of binary, for a server that answers
// one GET. One request per connection (Connection: close), as a scraper
// needs; the rest of the protocol is refused.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ContentType is the exposition's media type, as promhttp sends it when
// it chooses the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

const (
	maxHeader    = 1 << 20          // request line and header, as net/http's default
	headerWithin = 10 * time.Second // for the request line and header
)

// Serve answers HTTP requests on ln until ctx ends: /metrics with one
// exposition of c per request, as promhttp.HandlerFor with
// MaxRequestsInFlight: maxInFlight (beyond it 503; gzipped when
// Accept-Encoding prefers gzip to identity), / with a line pointing
// there. When ctx ends it stops accepting, drops the connections that
// have not sent a request, and waits at most drain for the responses
// under way; it returns nil once they are sent, an error if drain passed
// first or accepting failed.
func (c *Collector) Serve(ctx context.Context, ln net.Listener, maxInFlight int, drain time.Duration) error {
	inFlight := make(chan struct{}, maxInFlight)
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	stopped := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for conn := range conns {
			conn.SetReadDeadline(time.Now()) // ends a wait for a request
		}
		mu.Unlock()
	})
	defer stopped()
	var err error
	for {
		conn, aerr := ln.Accept()
		if aerr != nil {
			if ctx.Err() == nil {
				err = aerr
			}
			break
		}
		conn.SetReadDeadline(time.Now().Add(headerWithin))
		mu.Lock()
		conns[conn] = true
		if ctx.Err() != nil {
			conn.SetReadDeadline(time.Now()) // accepted as ctx ended
		}
		mu.Unlock()
		wg.Go(func() {
			c.serveConn(conn, inFlight)
			mu.Lock()
			delete(conns, conn)
			mu.Unlock()
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-time.After(drain):
		mu.Lock()
		for conn := range conns {
			conn.Close()
		}
		mu.Unlock()
		return fmt.Errorf("responses under way after %v", drain)
	}
}

// serveConn answers the one request of conn.
func (c *Collector) serveConn(conn net.Conn, inFlight chan struct{}) {
	defer conn.Close()
	r := textproto.NewReader(bufio.NewReader(io.LimitReader(conn, maxHeader)))
	line, err := r.ReadLine()
	if err != nil {
		return
	}
	method, target, _ := strings.Cut(line, " ")
	target, proto, _ := strings.Cut(target, " ")
	header, err := r.ReadMIMEHeader()
	if err != nil || method == "" || !strings.HasPrefix(target, "/") || !strings.HasPrefix(proto, "HTTP/1.") {
		respond(conn, method, "400 Bad Request", nil, "400 Bad Request")
		return
	}
	conn.SetReadDeadline(time.Time{})
	switch path, _, _ := strings.Cut(target, "?"); path {
	case "/metrics":
	case "/":
		respond(conn, method, "200 OK", nil, "procnet netstat: metrics at /metrics\n")
		return
	default:
		respond(conn, method, "404 Not Found", nil, "404 page not found\n")
		return
	}
	select {
	case inFlight <- struct{}{}:
		defer func() { <-inFlight }()
	default:
		respond(conn, method, "503 Service Unavailable", nil,
			fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.\n", cap(inFlight)))
		return
	}
	var text bytes.Buffer
	extra := []string{"Vary: Accept", "Vary: Accept-Encoding"}
	if prefersGzip(header.Values("Accept-Encoding")) {
		extra = append(extra, "Content-Encoding: gzip")
		gz := gzip.NewWriter(&text)
		c.WriteText(gz) // into memory: no error
		gz.Close()
	} else {
		c.WriteText(&text)
	}
	respond(conn, method, "200 OK", append(extra, "Content-Type: "+ContentType), text.String())
}

// respond writes a whole response, text/plain unless header says.
func respond(w io.Writer, method, status string, header []string, body string) {
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + status + "\r\n")
	if len(header) == 0 {
		header = []string{"Content-Type: text/plain; charset=utf-8", "X-Content-Type-Options: nosniff"}
	}
	for _, h := range header {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Date: " + time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") + "\r\n")
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n")
	if method != "HEAD" {
		b.WriteString(body)
	}
	io.WriteString(w, b.String())
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
