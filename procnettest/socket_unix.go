//go:build unix

package procnettest

import (
	"syscall"
	"testing"
)

// SocketInode returns the inode of the socket behind c (a *net.TCPConn,
// *net.TCPListener, *net.UDPConn, …): the number its /proc/PID/fd link
// names as socket:[INODE] and the inode column of the kernel's tables,
// by which a live test finds its own sockets in what procnet read. An
// error fails t.
func SocketInode(t testing.TB, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return uint64(st.Ino)
}
