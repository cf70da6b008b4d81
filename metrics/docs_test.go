package metrics

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rulesBlock is the fenced YAML block of docs/prometheus.md that holds
// the alert rules (the one starting "groups:").
func rulesBlock(t *testing.T) string {
	t.Helper()
	doc := string(readFile(t, "../docs/prometheus.md"))
	for _, block := range strings.Split(doc, "```yaml\n")[1:] {
		body, _, _ := strings.Cut(block, "```")
		if strings.HasPrefix(body, "groups:") {
			return body
		}
	}
	t.Fatal("docs/prometheus.md: no ```yaml block starting with groups:")
	return ""
}

// rulesTests are promtool unit tests of the documented rules: each alert
// fires on the load it is for, and not on what it is not for.
const rulesTests = `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'procnet_program_sockets{instance="h1",job="procnet",program="java",state="ESTABLISHED"}'
        values: '600x20'
      - series: 'procnet_program_sockets{instance="h1",job="procnet",program="sshd",state="ESTABLISHED"}'
        values: '400x20'
      - series: 'procnet_program_sockets{instance="h1",job="procnet",program="",state="ESTABLISHED"}'
        values: '9000x20'
    alert_rule_test:
      - eval_time: 3m
        alertname: ProgramManyEstablished
        exp_alerts: []
      - eval_time: 6m
        alertname: ProgramManyEstablished
        exp_alerts:
          - exp_labels: {severity: warning, instance: h1, job: procnet, program: java, state: ESTABLISHED}
            exp_annotations:
              summary: 'java on h1 holds 600 ESTABLISHED sockets'
  - interval: 1m
    input_series:
      - series: 'procnet_program_sockets{instance="h1",job="procnet",program="app",state="CLOSE_WAIT"}'
        values: '0+2x40'
      - series: 'procnet_program_sockets{instance="h1",job="procnet",program="web",state="CLOSE_WAIT"}'
        values: '90x40'
    alert_rule_test:
      - eval_time: 35m
        alertname: CloseWaitGrowing
        exp_alerts:
          - exp_labels: {severity: warning, instance: h1, job: procnet, program: app, state: CLOSE_WAIT}
            exp_annotations:
              summary: 'CLOSE_WAIT sockets of app on h1 keep growing'
  - interval: 1m
    input_series:
      - series: 'procnet_scrape_errors_total{instance="h1",job="procnet"}'
        values: '0 0 0 1 1 1'
    alert_rule_test:
      - eval_time: 2m
        alertname: ProcnetScrapeErrors
        exp_alerts: []
      - eval_time: 5m
        alertname: ProcnetScrapeErrors
        exp_alerts:
          - exp_labels: {severity: info, instance: h1, job: procnet}
            exp_annotations:
              summary: 'procnet could not read some socket tables on h1'
  - interval: 1m
    input_series:
      - series: 'procnet_program_tcp_sent_bytes_total{instance="h1",job="procnet",program="rsync"}'
        values: '0+6000x10'
      - series: 'procnet_program_tcp_received_bytes_total{instance="h1",job="procnet",program="rsync"}'
        values: '0+600x10'
    promql_expr_test:
      - expr: program:procnet_program_tcp_bytes:rate5m
        eval_time: 10m
        exp_samples:
          - labels: 'program:procnet_program_tcp_bytes:rate5m{instance="h1",program="rsync"}'
            value: 110
`

// TestDocumentedRules checks the alert rules of docs/prometheus.md with
// promtool: their syntax (check rules) and their behaviour (test rules).
func TestDocumentedRules(t *testing.T) {
	rules := rulesBlock(t)
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (.ci/run installs prometheus)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules_test.yml"), []byte(rulesTests), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"check", "rules", "rules.yml"}, {"test", "rules", "rules_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
