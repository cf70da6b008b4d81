package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestSIGPIPE: `netstat -tan | head -1` on the built binary ends quietly
// with status 0 once head goes away, whatever is left to write.
func TestSIGPIPE(t *testing.T) {
	if _, err := exec.LookPath("head"); err != nil {
		t.Skip("no head(1)")
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	var b bytes.Buffer
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i := range 50000 { // ~5 MB of output: far more than a pipe holds
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0200007F:%04X 01 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 30 10 -1\n", i, 1000+i%50000, 2000+i%3, 100000+i)
	}
	os.WriteFile(filepath.Join(root, "proc/net/tcp"), b.Bytes(), 0o644)
	bin := builtBinary(t)
	for _, args := range []string{"-tan", "--json -tan", "--csv -tan"} {
		// bash reports the exit status of the first command of the pipe.
		cmd := exec.Command("bash", "-c", bin+" "+args+" --root "+root+" 2>"+root+"/err | head -1 >/dev/null; echo ${PIPESTATUS[0]}")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		stderr, _ := os.ReadFile(root + "/err")
		if strings.TrimSpace(string(out)) != "0" || len(stderr) != 0 {
			t.Errorf("netstat %s | head -1: exit %s, stderr %q", args, strings.TrimSpace(string(out)), stderr)
		}
	}
}

// TestSignalDuringWatch: SIGINT or SIGTERM during -c ends the built
// binary promptly with status 0 and no stack trace.
func TestSignalDuringWatch(t *testing.T) {
	root := fixture.Root(t, "testdata/host.txtar")
	bin := builtBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		for _, args := range []string{"-tan -c 1", "-tanp -c 1", "--json -tan -c 1"} {
			cmd := exec.Command(bin, append(strings.Fields(args), "--root", root)...)
			out, _ := cmd.StdoutPipe()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Wait for the first round, then signal mid-watch.
			br := bufio.NewReader(out)
			if _, err := br.ReadString('\n'); err != nil {
				t.Fatalf("%s: no output: %v", args, err)
			}
			time.Sleep(300 * time.Millisecond)
			start := time.Now()
			cmd.Process.Signal(sig)
			go br.WriteTo(new(bytes.Buffer))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if el := time.Since(start); el > 2*time.Second {
					t.Errorf("%s, %v: took %v to exit", args, sig, el)
				}
				if err != nil {
					t.Errorf("%s, %v: %v; stderr:\n%s", args, sig, err, stderr.String())
				}
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("%s, %v: still running 5 s after the signal", args, sig)
			}
			if s := stderr.String(); strings.Contains(s, "goroutine") || strings.Contains(s, "panic") || strings.Contains(s, "signal:") {
				t.Errorf("%s, %v: stderr:\n%s", args, sig, s)
			}
		}
	}
}
