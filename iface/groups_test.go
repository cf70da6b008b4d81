package iface

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixture "github.com/procnet/procnet/procnettest"
)

// TestGroups reads a fixture's igmp and igmp6 and compares every row and
// error with a golden file: bad rows are reported by file and line and the
// rows around them kept.
func TestGroups(t *testing.T) {
	root := fixture.Root(t, "testdata/groups.txtar")
	got, err := Groups(root)
	var b strings.Builder
	for _, g := range got {
		fmt.Fprintf(&b, "%d %s %v %d\n", g.Index, g.Interface, g.Addr, g.Users)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("error %v is not a *ParseError", err)
	}
	fmt.Fprintf(&b, "errors:\n%v\n", err)
	fixture.Golden(t, "testdata/groups.golden", []byte(b.String()))
}

// TestGroupsMissing: no igmp6 (IPv6 off) is no error; no igmp is one
// that says the file does not exist, and the IPv6 rows are kept.
func TestGroupsMissing(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/net"), 0o755)
	if got, err := Groups(root); len(got) != 0 || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "proc/net/igmp") {
		t.Errorf("no tables: %v, %v", got, err)
	}
	os.WriteFile(filepath.Join(root, "proc/net/igmp"), []byte("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"), 0o644)
	if got, err := Groups(root); len(got) != 0 || err != nil {
		t.Errorf("no igmp6: %v, %v", got, err)
	}
	os.Remove(filepath.Join(root, "proc/net/igmp"))
	os.WriteFile(filepath.Join(root, "proc/net/igmp6"), []byte("1    lo              ff020000000000000000000000000001     1 0000000C 0\n"), 0o644)
	if got, err := Groups(root); len(got) != 1 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no igmp: %v, %v", got, err)
	}
}

// TestGroupsPID reads the tables of a process's namespace.
func TestGroupsPID(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "proc/42/net"), 0o755)
	os.WriteFile(filepath.Join(root, "proc/42/net/igmp6"), []byte("9    lo              ff020000000000000000000000000001     1 0000000C 0\n"), 0o644)
	r := Reader{Root: root, PID: 42}
	got, err := r.Groups()
	if len(got) != 1 || got[0].Index != 9 || !strings.Contains(fmt.Sprint(err), "proc/42/net/igmp") {
		t.Errorf("PID 42: %v, %v", got, err)
	}
}

// TestGroupsLive: the live tables parse without error and hold loopback's
// all-hosts group (every kernel joins 224.0.0.1 on an up interface with
// multicast, ff02::1 where IPv6 is on).
func TestGroupsLive(t *testing.T) {
	got, err := Groups("/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Skip("no multicast memberships here")
	}
	for _, g := range got {
		if g.Interface == "" || !g.Addr.IsMulticast() {
			t.Errorf("bad row %+v", g)
		}
	}
}
