package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWatchTmux watches as a person would: the binary runs -c in a tmux
// pane while the test opens and closes loopback connections on one
// port; the pane must show green "+" rows, then red "-" rows, and after
// C-c a shell prompt, the cursor shown and no colour left on.
func TestWatchTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "netstat")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()

	session := fmt.Sprintf("procnet-watch-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// A plain shell with a known prompt, no rc files.
	tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50",
		"env", "-i", "PATH="+os.Getenv("PATH"), "TERM=xterm-256color", "PS1=READY$ ", "sh")
	defer exec.Command("tmux", "kill-session", "-t", session).Run()

	capture := func() string { return tmux("capture-pane", "-p", "-e", "-t", session) }
	waitFor := func(what string, ok func(string) bool) string {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for {
			s := capture()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s on the pane:\n%s", what, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("prompt", func(s string) bool { return strings.Contains(s, "READY$") })
	tmux("send-keys", "-t", session, bin+" -tanp -c 0.5 --port "+strconv.Itoa(port), "Enter")
	waitFor("listing", func(s string) bool { return strings.Contains(s, "Active Internet connections") })

	// Three connections to the listener, on 127.0.0.1 only.
	var conns []net.Conn
	for range 3 {
		c, err := net.DialTimeout("tcp4", ln.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		conns = append(conns, <-accepted)
	}
	// tmux repeats no attribute a line inherits from the one before, so
	// the colour shows once per run of rows of one colour.
	green := "\x1b[32m+ tcp"
	s := waitFor("green + rows", func(s string) bool { return strings.Contains(s, green) && marked(s, "+ tcp") >= 2 })
	if !strings.Contains(s, "ESTABLISHED") {
		t.Errorf("no ESTABLISHED row:\n%s", s)
	}
	for _, c := range conns {
		c.Close()
	}
	red := "\x1b[31m- tcp"
	waitFor("red - rows", func(s string) bool { return strings.Contains(s, red) && marked(s, "- tcp") >= 1 })

	tmux("send-keys", "-t", session, "C-c")
	s = waitFor("prompt after C-c", func(s string) bool {
		ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return strings.Contains(ls[len(ls)-1], "READY$")
	})
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if last := ls[len(ls)-1]; coloured(last) {
		t.Errorf("prompt line carries attributes: %q", last)
	}
	// The pane's cursor is visible again and typing is not coloured.
	if f := strings.TrimSpace(tmux("display-message", "-p", "-t", session, "#{cursor_flag}")); f != "1" {
		t.Errorf("cursor_flag %q after C-c, want 1", f)
	}
	tmux("send-keys", "-t", session, "echo plain-$((6*7))", "Enter")
	s = waitFor("echo", func(s string) bool { return strings.Contains(s, "plain-42") })
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "plain-42") && coloured(l) {
			t.Errorf("output after the watch is coloured: %q", l)
		}
	}
}

// TestWatchTmuxSignals: in a tmux pane, the watch hides the cursor;
// Ctrl-Z gives the shell its prompt with the cursor shown and no colour
// on, fg redraws with the cursor hidden again; SIGHUP and SIGQUIT (Ctrl-\)
// end it with the cursor shown and no goroutine dump; TERM=dumb gets the
// piped layout and never hides the cursor.
func TestWatchTmuxSignals(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	bin := builtBinary(t)
	root := watchRoot(t)
	session := fmt.Sprintf("procnet-signals-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40",
		"env", "-i", "PATH="+os.Getenv("PATH"), "TERM=xterm-256color", "PS1=READY$ ", "sh")
	defer exec.Command("tmux", "kill-session", "-t", session).Run()
	capture := func() string { return tmux("capture-pane", "-p", "-e", "-t", session) }
	cursor := func() string {
		return strings.TrimSpace(tmux("display-message", "-p", "-t", session, "#{cursor_flag}"))
	}
	waitFor := func(what string, ok func(screen, cursor string) bool) string {
		t.Helper()
		deadline := time.Now().Add(8 * time.Second)
		for {
			s, c := capture(), cursor()
			if ok(s, c) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s on the pane (cursor_flag %s):\n%s", what, c, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	prompt := func(s, c string) bool {
		ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return strings.HasSuffix(strings.TrimSpace(sgr.ReplaceAllString(ls[len(ls)-1], "")), "READY$") && c == "1"
	}
	watching := func(s, c string) bool { return strings.Contains(s, "Every 500ms: netstat") && c == "0" }
	// restored: the prompt is back, the cursor shown, nothing coloured.
	restored := func(what string) {
		t.Helper()
		s := waitFor("prompt with the cursor shown after "+what, prompt)
		ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
		if last := ls[len(ls)-1]; coloured(last) {
			t.Errorf("after %s the prompt line carries attributes: %q", what, last)
		}
		if strings.Contains(s, "goroutine ") {
			t.Errorf("after %s, a goroutine dump:\n%s", what, s)
		}
	}
	start := func() int {
		t.Helper()
		tmux("send-keys", "-t", session, "clear; "+bin+" -tan -c 0.5 --root "+root, "Enter")
		waitFor("the watch, cursor hidden", watching)
		// The watch is the shell's child.
		sh := strings.TrimSpace(tmux("display-message", "-p", "-t", session, "#{pane_pid}"))
		b, err := os.ReadFile("/proc/" + sh + "/task/" + sh + "/children")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		if len(f) != 1 {
			t.Fatalf("children of the shell: %q", b)
		}
		pid, _ := strconv.Atoi(f[0])
		return pid
	}
	waitFor("prompt", func(s, _ string) bool { return strings.Contains(s, "READY$") })

	// Ctrl-Z, then fg; twice, as the handler must be back after the stop.
	pid := start()
	for range 2 {
		tmux("send-keys", "-t", session, "C-z")
		restored("Ctrl-Z")
		if s := capture(); !strings.Contains(s, "Stopped") {
			t.Errorf("no job stopped:\n%s", s)
		}
		tmux("send-keys", "-t", session, "clear; fg", "Enter")
		waitFor("the watch redrawn after fg, cursor hidden", watching)
	}
	// SIGHUP to the watch (our own child's child, by PID).
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	restored("SIGHUP")

	// Ctrl-\ (SIGQUIT).
	start()
	tmux("send-keys", "-t", session, `C-\`)
	restored("SIGQUIT")

	// TERM=dumb: appended rounds, the cursor never hidden.
	tmux("send-keys", "-t", session, "clear; TERM=dumb "+bin+" -tan -c 0.2 --root "+root, "Enter")
	s := waitFor("two dumb rounds", func(s, _ string) bool { return strings.Count(s, "=== ") >= 2 })
	if c := cursor(); c != "1" || strings.Contains(s, "Every ") {
		t.Errorf("TERM=dumb: cursor_flag %s:\n%s", c, s)
	}
	tmux("send-keys", "-t", session, "C-c")
	restored("C-c under TERM=dumb")
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

// marked counts the lines that start with prefix once escapes are gone.
func marked(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(sgr.ReplaceAllString(s, ""), "\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// coloured reports whether a captured line sets any attribute: tmux may
// begin it with a return to the default colours, nothing else.
func coloured(l string) bool {
	for _, m := range sgr.FindAllString(l, -1) {
		switch m {
		case "\x1b[0m", "\x1b[m", "\x1b[39m", "\x1b[49m", "\x1b[39;49m":
		default:
			return true
		}
	}
	return false
}
