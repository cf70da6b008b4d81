package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
)

// compatFlags are the net-tools 2.10 flags for what this netstat has no
// table of, or that change nothing on Linux today. They are accepted and
// print what net-tools prints: its message, or its empty table.
type compatFlags struct {
	version    bool // -V, --version: module version and VCS revision
	groups     bool // -g, --groups: multicast memberships (groups.go)
	masquerade bool // -M: ip_masquerade left Linux in 2.4
	selinux    bool // -Z: SELinux contexts
	sctp       bool // -S: SCTP endpoints and associations
	cache      bool // -C: with -r, the routing cache instead of the FIB
	// tcpip is a long option net-tools lists and then rejects as out of
	// range.
	tcpip bool
	// noTable is the first family named (-A, --<af>, -2, -f), in the
	// order net-tools tries them (noTableOrder), whose sockets net-tools
	// reads from a /proc table this netstat does not read; "" for none.
	noTable string
	// groups4 and groups6 say which of igmp and igmp6 -g shows: both,
	// unless -4 or -6 (or -A) named one family.
	groups4, groups6 bool
}

// afAliases maps the names net-tools' -A (and --<af>) takes to its
// family names (lib/af.c, aftrans).
var afAliases = map[string]string{
	"ax25": "ax25", "ip": "inet", "ip6": "inet6", "ipx": "ipx", "rose": "rose",
	"appletalk": "ddp", "netrom": "netrom", "inet": "inet", "inet6": "inet6",
	"ddp": "ddp", "unix": "unix", "tcpip": "inet", "econet": "ec", "x25": "x25",
	"ash": "ash", "bluetooth": "bluetooth",
}

// afLongOptions are the families net-tools takes as --<af> (besides
// --inet, --inet6 and --unix, which are flags of their own here).
var afLongOptions = []string{"ax25", "x25", "ip", "ipx", "appletalk", "netrom", "ddp", "rose", "bluetooth"}

// noTableOrder is the order in which net-tools tries the families it
// reads and we do not; the first that fails ends its run, so only its
// message is printed. tables are the proc/net files net-tools reads them
// from; Bluetooth it was built without.
var noTableOrder = []struct {
	af, feature string
	tables      []string
}{
	{"ipx", "AF IPX", []string{"ipx/socket", "ipx"}}, {"ax25", "AF AX25", []string{"ax25"}},
	{"x25", "AF X25", []string{"x25"}}, {"netrom", "AF NETROM", []string{"nr"}}, {"rose", "AF ROSE", []string{"rose"}},
	{"bluetooth", "AF BLUETOOTH", nil},
}

// firstNoTable returns the first family of noTableOrder that families
// names (bluetooth also for -2 and -f), or "".
func firstNoTable(families []string, bluetooth bool) string {
	for _, f := range noTableOrder {
		if slices.Contains(families, f.af) || f.af == "bluetooth" && bluetooth {
			return f.af
		}
	}
	return ""
}

// named reports whether the command line names a kind of socket of
// ours (net-tools' flag_arg): then only the named kinds are listed.
func (cf *compatFlags) named() bool {
	return cf.groups || cf.sctp || cf.noTable != ""
}

// run handles the flags that end the run before any table is read. done
// reports whether it did.
// has reports whether the kernel has a proc/net table; selinux whether
// SELinux is enabled.
func (cf *compatFlags) run(stdout, stderr io.Writer, has func(string) bool, selinux bool) (done bool, err error) {
	if cf.tcpip {
		// net-tools' --tcpip is past the end of its family options.
		fmt.Fprintln(stderr, "netstat.c: Internal Error `longopts 1 range'.")
	}
	switch {
	case cf.version:
		_, err := io.WriteString(stdout, versionText(debug.ReadBuildInfo()))
		return true, err
	case cf.selinux:
		// net-tools without SELinux says this and exits 1; with it,
		// it lists contexts, which are not read here.
		if selinux {
			fmt.Fprintln(stderr, "netstat: SELinux contexts (-Z) are not listed by this netstat.")
		} else {
			fmt.Fprintln(stderr, "SELinux is not enabled on this machine.")
		}
		return true, exitError{1}
	case cf.masquerade:
		// Linux 2.4 replaced ip_masquerade with netfilter's conntrack.
		if has("ip_masquerade") {
			fmt.Fprintln(stderr, "netstat: proc/net/ip_masquerade exists, but this netstat does not list masqueraded connections.")
		} else {
			fmt.Fprintln(stderr, "netstat: no support for `ip_masquerade' on this system.")
		}
		return true, exitError{1}
	}
	return false, nil
}

// after prints, once the listing is written, net-tools' message for the
// first table named that it would have read and we do not (SCTP's, then
// the families'), and returns the exit status it calls for. has reports
// whether the kernel has a proc/net table.
func (cf *compatFlags) after(stderr io.Writer, has func(string) bool, listening, all bool) error {
	if cf.sctp {
		// net-tools reads the endpoints for -l or -a, the
		// associations for -a or without -l.
		var tables []string
		if all || listening {
			tables = append(tables, "sctp/eps")
		}
		if all || !listening {
			tables = append(tables, "sctp/assocs")
		}
		unlisted(stderr, has, "AF INET (sctp)", tables...)
		return exitError{1}
	}
	for _, f := range noTableOrder {
		switch {
		case f.af != cf.noTable:
		case f.tables == nil:
			fmt.Fprint(stderr, "netstat: feature `"+f.feature+"' not supported.\n"+
				"Please recompile `net-tools' with newer kernel source or full configuration.\n")
			return exitError{1}
		default:
			unlisted(stderr, has, f.feature, f.tables...)
			return exitError{1}
		}
	}
	return nil
}

// versionText is -V's output: the module's version and the VCS revision
// it was built from, as the Go toolchain recorded them.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "netstat (procnet): no build information\n"
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	rev := "revision unknown (built without VCS information)"
	if r := vcs["vcs.revision"]; r != "" {
		rev = "revision " + r
		if t := vcs["vcs.time"]; t != "" {
			rev += " (" + t + ")"
		}
		if vcs["vcs.modified"] == "true" {
			rev += " with local changes"
		}
	}
	return fmt.Sprintf("netstat (procnet) %s %s\n%s\nbuilt with %s\n", bi.Main.Path, bi.Main.Version, rev, bi.GoVersion)
}

// unlisted says that sockets of feature, which net-tools reads from one
// of tables, are not listed: in net-tools' words when the kernel has no
// such table, in ours when it has one (net-tools would list its rows).
func unlisted(stderr io.Writer, has func(string) bool, feature string, tables ...string) {
	for _, t := range tables {
		if has(t) {
			fmt.Fprintf(stderr, "netstat: proc/net/%s exists, but this netstat does not list `%s' sockets.\n", t, feature)
			return
		}
	}
	fmt.Fprintf(stderr, "netstat: no support for `%s' on this system.\n", feature)
}
