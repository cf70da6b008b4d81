package promcore

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fixture "github.com/procnet/procnet/procnettest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serve runs c.Serve on a loopback port until the test ends; it returns
// the address, the cancel that stops it, and Serve's result.
func serve(t *testing.T, c *Collector, maxInFlight int) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, returned := make(chan error, 1), make(chan struct{})
	go func() {
		done <- c.Serve(ctx, ln, maxInFlight, 5*time.Second)
		close(returned)
	}()
	t.Cleanup(func() { cancel(); <-returned })
	return ln.Addr().String(), cancel, done
}

// rawGet sends request on a new connection and returns the response.
func rawGet(t *testing.T, addr, request string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(request, " ")
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	r := io.Reader(resp.Body)
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeAsPromhttp: /metrics answers as promhttp.HandlerFor does for
// the same Accept-Encoding headers: the same encoding chosen, the same
// Content-Type and Vary, the same exposition.
func TestServeAsPromhttp(t *testing.T) {
	c := New(Options{Root: fixture.Root(t, "../../metrics/testdata/host.txtar")})
	reg := prometheus.NewRegistry()
	reg.MustRegister(adapt(c))
	ref := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	addr, _, _ := serve(t, c, 4)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	for _, ae := range []string{"", "gzip", "GZIP", "gzip;q=0", "identity", "*", "gzip, identity",
		"identity;q=0.5, gzip", "identity;q=0.9, gzip;q=0.8", "deflate, br", "br, gzip;q=0.1", "*;q=0, gzip"} {
		req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		want := httptest.NewRecorder()
		ref.ServeHTTP(want, req)
		got, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if got.StatusCode != 200 {
			t.Fatalf("%s", got.Status)
		}
		for _, h := range []string{"Content-Encoding", "Content-Type", "Vary"} {
			if g, w := strings.Join(got.Header.Values(h), ","), strings.Join(want.Header().Values(h), ","); g != w {
				t.Errorf("Accept-Encoding %q: %s %q, promhttp %q", ae, h, g, w)
			}
		}
		if g, w := body(t, got), body(t, want.Result()); untimed(g) != untimed(w) {
			t.Errorf("Accept-Encoding %q: body differs from promhttp's:\n%s", ae, fixture.Diff([]byte(untimed(w)), []byte(untimed(g))))
		}
	}
}

// TestServeRequests: HEAD has no body, / points to /metrics, other paths
// are 404, what is not an HTTP/1 request 400.
func TestServeRequests(t *testing.T) {
	c := New(Options{Root: fixture.Root(t, "../../metrics/testdata/host.txtar")})
	addr, _, _ := serve(t, c, 4)
	for _, tc := range []struct {
		req, status, body string
	}{
		{"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", ""},
		{"GET /metrics?x=1 HTTP/1.0\r\n\r\n", "200 OK", "# HELP procnet_denied_processes "},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "200 OK", "procnet netstat: metrics at /metrics\n"},
		{"GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", "404 Not Found", "404 page not found\n"},
		{"garbage\r\n\r\n", "400 Bad Request", "400 Bad Request"},
		{"GET /metrics SPDY/3\r\n\r\n", "400 Bad Request", "400 Bad Request"},
		{"GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", "400 Bad Request", "400 Bad Request"},
	} {
		resp := rawGet(t, addr, tc.req)
		if b := body(t, resp); resp.Status != tc.status || !strings.HasPrefix(b, tc.body) || tc.body == "" && b != "" {
			t.Errorf("%q: %s %.60q, want %s %q", tc.req, resp.Status, b, tc.status, tc.body)
		}
	}
}

// TestServeInFlight: beyond maxInFlight scrapes at a time, 503.
func TestServeInFlight(t *testing.T) {
	c := New(Options{Root: fixture.Root(t, "../../metrics/testdata/host.txtar")})
	addr, _, _ := serve(t, c, 2)
	c.mu.Lock() // every scrape waits here, holding its slot
	resps := make(chan *http.Response)
	for range 3 {
		go func() {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Error(err)
			}
			resps <- resp
		}()
	}
	first := <-resps
	c.mu.Unlock()
	if b := body(t, first); first.StatusCode != http.StatusServiceUnavailable || b != "Limit of concurrent requests reached (2), try again later.\n" {
		t.Errorf("the third scrape: %s %q", first.Status, b)
	}
	for range 2 {
		if resp := <-resps; resp.StatusCode != http.StatusOK {
			t.Errorf("a scrape within the bound: %s", resp.Status)
		}
	}
}

// TestServeDrain: once ctx ends, Serve accepts no more connections,
// drops one that sent no request, and returns nil after the scrape under
// way is answered in full.
func TestServeDrain(t *testing.T) {
	c := New(Options{Root: fixture.Root(t, "../../metrics/testdata/host.txtar")})
	addr, cancel, done := serve(t, c, 1)
	// A connection that sends nothing, accepted before the scrapes below
	// (the accept queue is in order): once one of them is answered, it is
	// in the server's hands.
	idle, err := net.Dial("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	c.mu.Lock()
	// Two scrapes: one holds the only slot (waiting on c.mu), the other
	// is refused; the first answer is the refusal.
	resps := make(chan *http.Response, 2)
	for range 2 {
		go func() {
			conn, err := net.Dial("tcp4", addr)
			if err != nil {
				t.Error(err)
				resps <- nil
				return
			}
			io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Error(err)
			}
			resps <- resp
		}()
	}
	if r := <-resps; r == nil || r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("no refusal: %v", r)
	}
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a scrape under way: %v", err)
	case r := <-resps:
		t.Fatalf("answered while the scrape waits: %v", r)
	default:
	}
	c.mu.Unlock()
	r := <-resps
	if r == nil || r.StatusCode != 200 || !strings.HasPrefix(body(t, r), "# HELP ") {
		t.Fatalf("the scrape under way: %v", r)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n, err := idle.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("the idle connection: %d bytes, %v; want it closed", n, err)
	}
	if conn, err := net.Dial("tcp4", addr); err == nil {
		conn.Close()
		t.Error("a connection accepted after Serve returned")
	}
}
