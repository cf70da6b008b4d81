package procnettest

import (
	"fmt"
	"net"
	"os"
	"testing"
)

// TestSocketInode: the inode is the one this process's fd link names.
func TestSocketInode(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File() // a dup: the same socket
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("socket:[%d]", SocketInode(t, ln.(*net.TCPListener))), link; got != want {
		t.Errorf("SocketInode gives %s, the fd link %s", got, want)
	}
}
