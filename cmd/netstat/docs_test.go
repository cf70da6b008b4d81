package main

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsRecipesAbsolute: what runs unattended (a cron line, a systemd
// ExecStart, a shell script) names our binary by an absolute path: under
// cron's or systemd's PATH a bare `netstat` is net-tools', which rejects
// our flags with status 3, our "over threshold" status. And the textfile
// recipe creates its directory.
func TestDocsRecipesAbsolute(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	cron := regexp.MustCompile(`^\s*(@\w+|([-*/,0-9]+\s+){5})`)
	bare := regexp.MustCompile(`(^|[\s;|&(])netstat(\s|$)`)
	checked := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		script := false // inside a fenced block that began with a shebang
		fence, n := false, 0
		for sc.Scan() {
			n++
			line := sc.Text()
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				fence, script = !fence, false
				continue
			}
			if fence && strings.HasPrefix(line, "#!") {
				script = true
				continue
			}
			cmd := line
			switch {
			case script:
			case strings.HasPrefix(strings.TrimSpace(line), "ExecStart="):
				cmd = strings.TrimPrefix(strings.TrimSpace(line), "ExecStart=")
			case cron.MatchString(line):
				cmd = cron.ReplaceAllString(line, "")
			default:
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(cmd), "#") {
				continue
			}
			checked++
			if bare.MatchString(cmd) {
				t.Errorf("%s:%d: runs unattended with a bare netstat (net-tools' under cron/systemd): %s", name, n, line)
			}
		}
		f.Close()
	}
	if checked < 3 {
		t.Errorf("only %d unattended command lines found: the check has lost its recipes", checked)
	}
	b, err := os.ReadFile("../../docs/prometheus.md")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(install -d|mkdir -p)[^\n]*/var/lib/node_exporter/textfile_collector`).Match(b) {
		t.Errorf("docs/prometheus.md does not create the textfile directory")
	}
}
