package netstat

import (
	"bytes"
	"errors"
	"github.com/procnet/procnet/internal/procfile"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Namespace is one network namespace seen under proc/: its inode and the
// processes in it. Read its tables once through any one member, with
// Reader{Root: root, PID: ns.PID}: proc/PID/net/tcp shows the whole
// namespace's table, not only that process's sockets.
type Namespace struct {
	// Inode is the number in the members' ns/net link ("net:[4026531840]").
	Inode uint64
	// PID is the lowest member's PID: the one to read the tables through.
	PID int
	// PIDs lists every member, sorted; if PID has exited by the time its
	// tables are read, the next one serves as well.
	PIDs []int
	// Container names what runs in the namespace, from the cgroup of
	// the lowest member (see ContainerHint): a container ID cut to 12
	// hex digits, a systemd unit such as "nginx.service", or "".
	Container string
}

// Namespaces lists the network namespaces of the processes under root
// ("" or "/" for the live system), ordered by their lowest member's PID, so
// the host's namespace (that of PID 1) comes first.
//
// A process's ns/net link is readable only by its owner and root: a
// caller without privilege sees the namespaces of its own processes only.
// Processes that vanish or refuse are left out silently. The only error is
// a proc directory that cannot be listed (a *fs.PathError naming "proc").
// A namespace without processes (held only by a bind mount, as
// `ip netns add` leaves it) is not listed.
func Namespaces(root string) ([]Namespace, error) {
	list, _, err := NamespacesDenied(root)
	return list, err
}

// NamespacesDenied is Namespaces, and says how many processes it left out
// because their ns/net link refused the caller (EACCES or EPERM: another
// user's process, read without root or CAP_SYS_PTRACE). Their namespaces
// are listed only if a readable process shares them; how many namespaces
// were missed cannot be known without the privilege. Processes that
// vanished during the scan are not counted.
func NamespacesDenied(root string) (list []Namespace, denied int, err error) {
	if root == "" {
		root = "/"
	}
	ents, err := os.ReadDir(filepath.Join(root, "proc"))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, 0, &fs.PathError{Op: "open", Path: "proc", Err: err}
	}
	var pids []int
	for _, e := range ents {
		if pid, ok := parsePID(e.Name()); ok {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	index := map[uint64]int{}
	var out []Namespace
	for _, pid := range pids {
		ino, err := netNS(root, pid)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				denied++
			}
			continue
		}
		i, seen := index[ino]
		if !seen {
			i = len(out)
			index[ino] = i
			out = append(out, Namespace{Inode: ino, PID: pid})
		}
		out[i].PIDs = append(out[i].PIDs, pid)
	}
	for i := range out {
		out[i].Container = containerOf(root, out[i].PID)
	}
	return out, denied, nil
}

// NamespaceOf describes the network namespace of process pid under root,
// with pid as its only listed member. It fails when the process's ns/net
// link cannot be read (no such process, or not the caller's).
func NamespaceOf(root string, pid int) (Namespace, error) {
	if root == "" {
		root = "/"
	}
	name := "proc/" + strconv.Itoa(pid) + "/ns/net"
	link, err := os.Readlink(filepath.Join(root, name))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Namespace{}, &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	ino, ok := ParseNetNSLink(link)
	if !ok {
		return Namespace{}, &ParseError{File: name, Line: 1, Err: ErrSyntax}
	}
	return Namespace{Inode: ino, PID: pid, PIDs: []int{pid}, Container: containerOf(root, pid)}, nil
}

// ParseNetNSLink parses the text of an ns/net link, "net:[4026531840]".
func ParseNetNSLink(link string) (uint64, bool) {
	n, ok := strings.CutPrefix(link, "net:[")
	if !ok {
		return 0, false
	}
	n, ok = strings.CutSuffix(n, "]")
	if !ok || n == "" || n[0] == '+' {
		return 0, false
	}
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// netNS reads proc/PID/ns/net under root.
func netNS(root string, pid int) (uint64, error) {
	link, err := os.Readlink(filepath.Join(root, "proc", strconv.Itoa(pid), "ns/net"))
	if err != nil {
		return 0, err
	}
	ino, ok := ParseNetNSLink(link)
	if !ok {
		return 0, ErrSyntax
	}
	return ino, nil
}

// containerOf reads proc/PID/cgroup under root and returns its hint. The
// read stays inside root and is bounded: a hostile tree can neither point
// it at a host file nor make it hold a huge one.
func containerOf(root string, pid int) string {
	f, err := procfile.Open(root, "proc/"+strconv.Itoa(pid)+"/cgroup")
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil || len(b) > 1<<20 {
		return ""
	}
	return ContainerHint(b)
}

// parsePID accepts a proc/ entry name that is a positive decimal PID.
func parsePID(s string) (int, bool) {
	if s == "" || len(s) > 10 || s[0] == '0' {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, v <= 1<<31-1
}

// ContainerHint names what a process runs in from the text of its
// proc/PID/cgroup: "hierarchy:controllers:path" lines (cgroup v2 has a
// single "0::/path" line; v1 one line per hierarchy).
//
// A container ID of 64 hex digits in a path element — "docker-<id>.scope",
// "cri-containerd-<id>.scope", "crio-<id>.scope", "libpod-<id>.scope",
// "/docker/<id>", "/kubepods/burstable/pod<uid>/<id>" — gives its first 12
// digits, as docker ps shows it. Otherwise an LXC container's name, from
// "/lxc/NAME" or "/lxc.payload.NAME". Otherwise the systemd unit (the last
// path element ending in .service or .scope, as "nginx.service") of the
// v2 or name=systemd line. Otherwise "": the root cgroup, a process
// inside a cgroup namespace, or a layout not known here.
func ContainerHint(cgroup []byte) string {
	var unit string
	for len(cgroup) > 0 {
		line := cgroup
		if i := bytes.IndexByte(cgroup, '\n'); i >= 0 {
			line, cgroup = cgroup[:i], cgroup[i+1:]
		} else {
			cgroup = nil
		}
		// hierarchy-ID:controller-list:cgroup-path; the path may hold ':'.
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			continue
		}
		j := bytes.IndexByte(line[i+1:], ':')
		if j < 0 {
			continue
		}
		controllers, path := line[i+1:i+1+j], line[i+2+j:]
		if id := containerID(path); id != "" {
			return id
		}
		if unit == "" && (len(controllers) == 0 || string(controllers) == "name=systemd") {
			unit = systemdUnit(path)
		}
	}
	return unit
}

// containerID finds a container ID or LXC name in a cgroup path.
func containerID(path []byte) string {
	elems := bytes.Split(path, []byte{'/'})
	for k := len(elems) - 1; k >= 0; k-- {
		e := elems[k]
		e = bytes.TrimSuffix(e, []byte(".scope"))
		if i := bytes.LastIndexByte(e, '-'); i >= 0 {
			e = e[i+1:] // docker-, cri-containerd-, crio-, libpod-
		}
		if len(e) == 64 && isHex(e) {
			return string(e[:12])
		}
	}
	for k, e := range elems {
		if name, ok := bytes.CutPrefix(e, []byte("lxc.payload.")); ok && len(name) > 0 {
			return string(name)
		}
		if string(e) == "lxc" && k+1 < len(elems) && len(elems[k+1]) > 0 {
			return string(elems[k+1])
		}
	}
	return ""
}

// systemdUnit returns the last element of path naming a service or scope.
func systemdUnit(path []byte) string {
	elems := bytes.Split(path, []byte{'/'})
	for k := len(elems) - 1; k >= 0; k-- {
		e := elems[k]
		if bytes.HasSuffix(e, []byte(".service")) || bytes.HasSuffix(e, []byte(".scope")) {
			return string(e)
		}
	}
	return ""
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
