package procmap

import (
	"errors"
	"io/fs"

	"github.com/procnet/procnet/internal/procfile"
)

// SELinux reports whether SELinux is enabled on the system under root
// ("" or "/" for the live one): whether its file system is mounted,
// which libselinux's is_selinux_enabled tests first (sys/fs/selinux/enforce
// exists). netstat -Z shows the processes' contexts only then.
func SELinux(root string) bool {
	if root == "" {
		root = "/"
	}
	f, err := procfile.Open(root, "sys/fs/selinux/enforce")
	if err == nil {
		f.Close()
		return true
	}
	return !errors.Is(err, fs.ErrNotExist)
}
