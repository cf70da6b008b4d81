package netstat_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/procnet/procnet/netstat"
	fixture "github.com/procnet/procnet/procnettest"
)

func TestNamespaces(t *testing.T) {
	root := fixture.Root(t, "testdata/netns.txtar")
	got, err := netstat.Namespaces(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []netstat.Namespace{
		{Inode: 4026531840, PID: 1, PIDs: []int{1, 120}, Container: "init.scope"},
		{Inode: 4026532301, PID: 300, PIDs: []int{300, 301}, Container: "3f4e5d6c7b8a"},
		{Inode: 4026532402, PID: 400, PIDs: []int{400}, Container: "a1b2c3d4e5f6"},
		{Inode: 4026532503, PID: 500, PIDs: []int{500}, Container: "0123456789ab"},
		{Inode: 4026532550, PID: 550, PIDs: []int{550}, Container: "web1"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Namespaces (-want +got):\n%s", d)
	}

	ns, err := netstat.NamespaceOf(root, 301)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(netstat.Namespace{Inode: 4026532301, PID: 301, PIDs: []int{301}, Container: "3f4e5d6c7b8a"}, ns); d != "" {
		t.Errorf("NamespaceOf(301) (-want +got):\n%s", d)
	}
	if _, err := netstat.NamespaceOf(root, 700); err == nil || err.Error() != "readlink proc/700/ns/net: no such file or directory" {
		t.Errorf("NamespaceOf(700): %v", err)
	}
	if _, err := netstat.NamespaceOf(root, 600); err == nil || err.Error() != "proc/600/ns/net:1: invalid syntax" {
		t.Errorf("NamespaceOf(600): %v", err)
	}
	if _, err := netstat.Namespaces(t.TempDir()); err == nil || err.Error() != "open proc: no such file or directory" {
		t.Errorf("Namespaces without proc: %v", err)
	}
}

func TestContainerHint(t *testing.T) {
	const id = "3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e"
	for _, tc := range []struct{ cgroup, want string }{
		{"0::/system.slice/docker-" + id + ".scope\n", "3f4e5d6c7b8a"},
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c9f2b1e_7d4a.slice/cri-containerd-" + id + ".scope\n", "3f4e5d6c7b8a"},
		{"0::/kubepods/besteffort/pod0c9f2b1e-7d4a/" + id + "\n", "3f4e5d6c7b8a"},
		{"0::/machine.slice/libpod-" + id + ".scope/container\n", "3f4e5d6c7b8a"},
		{"0::/system.slice/crio-" + id + ".scope\n", "3f4e5d6c7b8a"},
		{"12:cpuset:/docker/" + id + "\n1:name=systemd:/docker/" + id + "\n", "3f4e5d6c7b8a"},
		{"0::/system.slice/nginx.service\n", "nginx.service"},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope"},
		{"0::/system.slice/containerd.service/sub\n", "containerd.service"},
		{"4:memory:/process_api/fa5a169a56ba92f5c65b708303448e68\n1:name=systemd:/\n0::/\n", ""},
		{"1:name=systemd:/system.slice/ssh.service\n", "ssh.service"},
		{"0::/lxc/web1\n", "web1"},
		{"0::/lxc.payload.db/init.scope\n", "db"},
		{"0::/\n", ""},
		{"", ""},
		{"garbage\n:\n::\n", ""},
		{"0::/docker-" + id[:63] + ".scope\n", "docker-" + id[:63] + ".scope"}, // 63 digits: no ID
		{"0::/docker-" + id[:63] + "G.scope\n", "docker-" + id[:63] + "G.scope"},
		{"0::/a:b/nginx.service", "nginx.service"}, // ':' in the path, no final newline
	} {
		if got := netstat.ContainerHint([]byte(tc.cgroup)); got != tc.want {
			t.Errorf("ContainerHint(%q) = %q, want %q", tc.cgroup, got, tc.want)
		}
	}
}

func TestParseNetNSLink(t *testing.T) {
	for _, tc := range []struct {
		link string
		want uint64
		ok   bool
	}{
		{"net:[4026531840]", 4026531840, true},
		{"net:[18446744073709551615]", 1<<64 - 1, true},
		{"net:[18446744073709551616]", 0, false},
		{"net:[]", 0, false},
		{"net:[+1]", 0, false},
		{"net:[1", 0, false},
		{"mnt:[1]", 0, false},
		{"socket:[1]", 0, false},
	} {
		got, ok := netstat.ParseNetNSLink(tc.link)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseNetNSLink(%q) = %d, %v; want %d, %v", tc.link, got, ok, tc.want, tc.ok)
		}
	}
}

// TestNamespacesLive checks that the live system's list holds this
// process in its own namespace.
func TestNamespacesLive(t *testing.T) {
	list, err := netstat.Namespaces("")
	if err != nil {
		t.Fatal(err)
	}
	self, err := netstat.NamespaceOf("", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range list {
		for _, pid := range ns.PIDs {
			if pid == os.Getpid() {
				if ns.Inode != self.Inode {
					t.Errorf("listed in %d, NamespaceOf says %d", ns.Inode, self.Inode)
				}
				return
			}
		}
	}
	t.Errorf("PID %d is in no namespace of %v", os.Getpid(), list)
}

func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("0::/system.slice/docker-3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e.scope\n"))
	f.Add([]byte("12:memory:/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n1:name=systemd:/\n"))
	f.Add([]byte("0::/lxc/x\n0::/lxc.payload.\n"))
	f.Add([]byte("0::/user.slice/session-1.scope"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h := netstat.ContainerHint(b)
		if len(h) > len(b) {
			t.Errorf("hint %q longer than its input", h)
		}
	})
}

// List every network namespace once, with its container and members;
// netstat.Reader{Root: root, PID: ns.PID} then reads its tables.
func ExampleNamespaces() {
	root := exampleRoot("netns.txtar")
	defer os.RemoveAll(root)

	spaces, err := netstat.Namespaces(root)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ns := range spaces {
		fmt.Println(ns.Inode, ns.Container, "members", ns.PIDs)
	}
	// Output:
	// 4026531840 init.scope members [1 120]
	// 4026532301 3f4e5d6c7b8a members [300 301]
	// 4026532402 a1b2c3d4e5f6 members [400]
	// 4026532503 0123456789ab members [500]
	// 4026532550 web1 members [550]
}
