package procmap

import "github.com/procnet/procnet/internal/procfile"

// Parsers for the few proc files procmap reads. They work on byte slices
// from reused buffers and allocate nothing.

// parseSocketLink parses the text of a /proc/PID/fd link. It reports the
// inode for "socket:[INODE]" and false for anything else (files, pipes,
// anon inodes, malformed text).
func parseSocketLink(b []byte) (uint64, bool) {
	const prefix = "socket:["
	if len(b) < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[len(b)-1] != ']' {
		return 0, false
	}
	return dec(b[len(prefix) : len(b)-1])
}

// parseNetNS parses an ns/net link, "net:[4026531840]".
func parseNetNS(b []byte) (uint64, bool) {
	const prefix = "net:["
	if len(b) < len(prefix)+2 || string(b[:len(prefix)]) != prefix || b[len(b)-1] != ']' {
		return 0, false
	}
	return dec(b[len(prefix) : len(b)-1])
}

// parsePID parses a /proc entry name; only positive decimal numbers that
// fit an int32 are PIDs.
func parsePID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 10 || b[0] == '0' {
		return 0, false
	}
	v, ok := dec(b)
	if !ok || v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// statStartField is the field number of starttime in /proc/PID/stat
// (proc(5), 1-based).
const statStartField = 22

// parseStat returns the command name and start time (field 22, in clock
// ticks since boot) from the text of /proc/PID/stat. The name sits between
// the first '(' and the LAST ')': it may itself hold spaces and
// parentheses, so the numbered fields are counted after the last ')'.
func parseStat(b []byte) (comm []byte, start uint64, ok bool) {
	open, closing := -1, -1
	for i, c := range b {
		if c == '(' && open < 0 {
			open = i
		}
		if c == ')' {
			closing = i
		}
	}
	if open < 0 || closing < open {
		return nil, 0, false
	}
	comm = b[open+1 : closing]
	// After ") " comes field 3 (state). Walk the space-separated fields.
	field := 2
	i := closing + 1
	for i < len(b) {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\n' {
			j++
		}
		if j == i {
			break
		}
		field++
		if field == statStartField {
			start, ok = dec(b[i:j])
			return comm, start, ok
		}
		i = j
	}
	return nil, 0, false
}

// parseStatusUID returns the real UID from the text of /proc/PID/status:
// the first number of the "Uid:" line.
func parseStatusUID(b []byte) (uint32, bool) {
	for len(b) > 0 {
		line := b
		rest := []byte(nil)
		for i, c := range b {
			if c == '\n' {
				line, rest = b[:i], b[i+1:]
				break
			}
		}
		if len(line) > 4 && string(line[:4]) == "Uid:" {
			i := 4
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			j := i
			for j < len(line) && line[j] >= '0' && line[j] <= '9' {
				j++
			}
			v, ok := dec(line[i:j])
			if !ok || v > 1<<32-1 {
				return 0, false
			}
			return uint32(v), true
		}
		b = rest
	}
	return 0, false
}

// splitCmdline splits the NUL-separated argv of /proc/PID/cmdline. An
// empty file (kernel threads, zombies) gives nil. A process that rewrote
// its argv area may leave no final NUL, or use spaces instead; the text is
// taken as it is.
func splitCmdline(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	n := 1
	for _, c := range b {
		if c == 0 {
			n++
		}
	}
	args := make([]string, 0, n)
	s := string(b) // one allocation shared by every argument
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			args = append(args, s[start:i])
			start = i + 1
		}
	}
	return append(args, s[start:])
}

// dec parses an unsigned decimal number without allocating (a wrapper,
// not a function variable, so that it inlines).
func dec(b []byte) (uint64, bool) { return procfile.Dec(b) }
