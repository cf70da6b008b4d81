// Command compare times a list of commands side by side and prints a
// Markdown table of medians.
//
// Commands come from -config FILE and/or repeated -cmd flags, one command a
// line, three fields separated by " | ":
//
//	name | rule | argv...
//
// argv is split on blanks (no shell; write `sh -c '…'` as `sh -c …`, the
// rest of the line after "-c" is one argument). Lines starting with # are
// comments.
//
// Each command first runs once untimed with its stdout streamed through a
// counter (nothing is stored) to find how many sockets it saw; that run also
// warms the caches. Then all commands run in alternation -runs times (the
// starting command rotates each round), stdout to /dev/null. For each run
// compare records the wall time (fork to reap), CPU time (user+sys) and peak
// RSS (ru_maxrss) from wait4's rusage, which include any children the
// command waited for.
//
// The counting rule says how the socket count is read from the output:
//
//	sockets     the last "sockets=N" (and "owned=M" if present)
//	lines-K     output lines minus K header lines
//	prefix:S    lines starting with S
//	contains:S  lines containing S
//	none        no count
//
// A rule may end in "=N" to expect N sockets from that command, or in "=?"
// to show the count unchecked (e.g. rounds of a watch); otherwise -expect
// applies. A count that differs from its expectation (or, with no
// expectation, from the reference command's count) is flagged.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type command struct {
	name    string
	rule    string
	expect  int // -1: none
	noCheck bool
	argv    []string

	count, owned int // -1: unknown
	countErr     string
	wall, cpu    []time.Duration
	rss          []int64 // KiB
	failures     []string
}

type cmdFlags []string

func (c *cmdFlags) String() string     { return strings.Join(*c, "; ") }
func (c *cmdFlags) Set(s string) error { *c = append(*c, s); return nil }

func main() {
	var cmds cmdFlags
	config := flag.String("config", "", "file of `name | rule | argv` lines")
	flag.Var(&cmds, "cmd", "a `name | rule | argv` command (repeatable)")
	runs := flag.Int("runs", 5, "timed runs per command")
	ref := flag.String("ref", "", "reference command name for the ratios (default: the first)")
	expect := flag.Int("expect", -1, "socket count every command should see (-1: compare with the reference)")
	timeout := flag.Duration("timeout", 5*time.Minute, "limit for one run")
	title := flag.String("title", "", "heading printed above the table")
	flag.Parse()

	var lines []string
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			fail(err)
		}
		lines = strings.Split(string(b), "\n")
	}
	lines = append(lines, cmds...)
	var list []*command
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c, err := parseLine(l, *expect)
		if err != nil {
			fail(fmt.Errorf("command %d: %w", i+1, err))
		}
		list = append(list, c)
	}
	if len(list) == 0 {
		fail(errors.New("no commands"))
	}
	refIdx := 0
	if *ref != "" {
		refIdx = slices.IndexFunc(list, func(c *command) bool { return c.name == *ref })
		if refIdx < 0 {
			fail(fmt.Errorf("no command named %q", *ref))
		}
	}

	for _, c := range list {
		c.countRun(*timeout)
		fmt.Fprintf(os.Stderr, "compare: %-22s count=%d %s\n", c.name, c.count, c.countErr)
	}
	busy0, total0 := hostCPU()
	phase := time.Now()
	for r := 0; r < *runs; r++ {
		for j := range list {
			c := list[(j+r)%len(list)]
			c.timedRun(*timeout)
		}
		fmt.Fprintf(os.Stderr, "compare: round %d/%d done\n", r+1, *runs)
	}
	busy1, total1 := hostCPU()
	var used time.Duration
	for _, c := range list {
		for _, d := range c.cpu {
			used += d
		}
	}
	printTable(os.Stdout, *title, list, list[refIdx], *runs)
	if total1 > total0 {
		// /proc/stat is not namespaced: it shows the whole machine.
		fmt.Printf("Machine during the timed runs: %.1f s wall, %.1f of %.1f CPU-seconds busy, "+
			"%.1f s of them by the commands: others used ≈ %.0f%% of the machine.\n\n",
			time.Since(phase).Seconds(), busy1-busy0, total1-total0, used.Seconds(),
			max(0, 100*(busy1-busy0-used.Seconds())/(total1-total0)))
	}
}

// hostCPU returns the machine's busy and total CPU seconds from /proc/stat.
func hostCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		n /= 100 // USER_HZ
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(2)
}

func parseLine(l string, expect int) (*command, error) {
	parts := strings.SplitN(l, " | ", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("want `name | rule | argv`: %q", l)
	}
	c := &command{name: strings.TrimSpace(parts[0]), rule: strings.TrimSpace(parts[1]), expect: expect, count: -1, owned: -1}
	if i := strings.LastIndexByte(c.rule, '='); i >= 0 && c.rule[i+1:] == "?" {
		c.rule, c.expect, c.noCheck = c.rule[:i], -1, true
	} else if i >= 0 {
		n, err := strconv.Atoi(c.rule[i+1:])
		if err != nil {
			return nil, fmt.Errorf("rule %q: bad expectation", c.rule)
		}
		c.rule, c.expect = c.rule[:i], n
	}
	switch r := c.rule; {
	case r == "sockets", r == "none", strings.HasPrefix(r, "prefix:"), strings.HasPrefix(r, "contains:"):
	case strings.HasPrefix(r, "lines-"):
		if _, err := strconv.Atoi(r[len("lines-"):]); err != nil {
			return nil, fmt.Errorf("rule %q: bad header count", r)
		}
	default:
		return nil, fmt.Errorf("unknown rule %q", r)
	}
	argv := strings.TrimSpace(parts[2])
	if rest, ok := strings.CutPrefix(argv, "sh -c "); ok {
		c.argv = []string{"sh", "-c", rest}
	} else {
		c.argv = strings.Fields(argv)
	}
	if len(c.argv) == 0 {
		return nil, errors.New("empty command")
	}
	return c, nil
}

// counter counts output lines by a rule while streaming, storing nothing
// but the current line.
type counter struct {
	rule         string
	lines, match int
	sockets      int
	owned        int
	cur          []byte
}

func (k *counter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			k.cur = append(k.cur, p...)
			if len(k.cur) > 1<<20 { // no sane line is this long; keep a tail
				k.cur = append(k.cur[:0], k.cur[len(k.cur)-4096:]...)
			}
			break
		}
		k.cur = append(k.cur, p[:i]...)
		k.line(k.cur)
		k.cur = k.cur[:0]
		p = p[i+1:]
	}
	return n, nil
}

func (k *counter) line(l []byte) {
	k.lines++
	switch {
	case k.rule == "sockets":
		if v, ok := intAfter(l, "sockets="); ok {
			k.sockets = v
		}
		if v, ok := intAfter(l, "owned="); ok {
			k.owned = v
		}
	case strings.HasPrefix(k.rule, "prefix:"):
		if bytes.HasPrefix(l, []byte(k.rule[len("prefix:"):])) {
			k.match++
		}
	case strings.HasPrefix(k.rule, "contains:"):
		if bytes.Contains(l, []byte(k.rule[len("contains:"):])) {
			k.match++
		}
	}
}

func (k *counter) close() {
	if len(k.cur) > 0 {
		k.line(k.cur)
		k.cur = nil
	}
}

func intAfter(l []byte, key string) (int, bool) {
	i := bytes.Index(l, []byte(key))
	if i < 0 {
		return 0, false
	}
	l = l[i+len(key):]
	j := 0
	for j < len(l) && l[j] >= '0' && l[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(l[:j]))
	return n, err == nil
}

type limited struct {
	buf bytes.Buffer
	max int
}

func (w *limited) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *command) countRun(timeout time.Duration) {
	k := &counter{rule: c.rule, sockets: -1, owned: -1}
	stderr := &limited{max: 512}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.countErr = err.Error()
		return
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		c.countErr = err.Error()
		return
	}
	io.CopyBuffer(k, out, make([]byte, 64<<10))
	k.close()
	if err := cmd.Wait(); err != nil {
		c.countErr = strings.TrimSpace(err.Error() + " " + firstLine(stderr.buf.String()))
	}
	switch r := c.rule; {
	case r == "sockets":
		c.count, c.owned = k.sockets, k.owned
	case strings.HasPrefix(r, "lines-"):
		h, _ := strconv.Atoi(r[len("lines-"):])
		c.count = max(k.lines-h, 0)
	case strings.HasPrefix(r, "prefix:"), strings.HasPrefix(r, "contains:"):
		c.count = k.match
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func (c *command) timedRun(timeout time.Duration) {
	stderr := &limited{max: 512}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Stdout = nil // /dev/null
	cmd.Stderr = stderr
	start := time.Now()
	err := cmd.Start()
	if err != nil {
		c.failures = append(c.failures, err.Error())
		return
	}
	err = cmd.Wait()
	wall := time.Since(start)
	if err != nil {
		c.failures = append(c.failures, strings.TrimSpace(err.Error()+" "+firstLine(stderr.buf.String())))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return
	}
	c.wall = append(c.wall, wall)
	c.cpu = append(c.cpu, time.Duration(ru.Utime.Nano()+ru.Stime.Nano()))
	c.rss = append(c.rss, ru.Maxrss)
}

func median[T int64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func ratio[T int64 | time.Duration](a, b T) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64) + "×"
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

func printTable(w io.Writer, title string, list []*command, ref *command, runs int) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if title != "" {
		fmt.Fprintf(bw, "### %s\n\n", title)
	}
	fmt.Fprintf(bw, "Medians of %d alternated runs; ratios against `%s`.\n\n", runs, ref.name)
	fmt.Fprintln(bw, "| command | rule | wall s | × | wall min–max | CPU s | × | peak RSS MiB | × | sockets | owned | check |")
	fmt.Fprintln(bw, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	rw, rc, rr := median(ref.wall), median(ref.cpu), median(ref.rss)
	for _, c := range list {
		wall, cpu, rss := median(c.wall), median(c.cpu), median(c.rss)
		spread := "–"
		if len(c.wall) > 0 {
			spread = secs(slices.Min(c.wall)) + "–" + secs(slices.Max(c.wall))
		}
		count, owned := "–", "–"
		if c.count >= 0 {
			count = strconv.Itoa(c.count)
		}
		if c.owned >= 0 {
			owned = strconv.Itoa(c.owned)
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s | %.1f | %s | %s | %s | %s |\n",
			c.name, c.rule, secs(wall), ratio(wall, rw), spread, secs(cpu), ratio(cpu, rc),
			float64(rss)/1024, ratio(rss, rr), count, owned, c.check(ref))
	}
	fmt.Fprintln(bw)
	for _, c := range list {
		if c.countErr != "" {
			fmt.Fprintf(bw, "- `%s` counting run: %s\n", c.name, c.countErr)
		}
		if len(c.failures) > 0 {
			fmt.Fprintf(bw, "- `%s`: %d of %d timed runs failed: %s\n", c.name, len(c.failures), runs, c.failures[0])
		}
	}
	fmt.Fprintln(bw, "\nCommands:")
	for _, c := range list {
		fmt.Fprintf(bw, "- `%s`: `%s`\n", c.name, strings.Join(c.argv, " "))
	}
	fmt.Fprintln(bw)
}

func (c *command) check(ref *command) string {
	var bad []string
	switch {
	case c.rule == "none", c.noCheck:
	case c.count < 0:
		bad = append(bad, "no count")
	case c.expect >= 0 && c.count != c.expect:
		bad = append(bad, fmt.Sprintf("**MISMATCH** want %d", c.expect))
	case c.expect < 0 && ref.count >= 0 && c.count != ref.count:
		bad = append(bad, fmt.Sprintf("**MISMATCH** ref %d", ref.count))
	}
	if c.expect >= 0 && c.owned >= 0 && c.owned != c.expect && c.rule == "sockets" {
		bad = append(bad, fmt.Sprintf("**owned %d ≠ %d**", c.owned, c.expect))
	}
	if len(c.failures) > 0 || c.countErr != "" {
		bad = append(bad, "**exit≠0**")
	}
	if len(bad) == 0 {
		return "ok"
	}
	return strings.Join(bad, ", ")
}
