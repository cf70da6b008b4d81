//go:build !linux

package iface

func dumpLinks() ([]Link, error) { return nil, &NetlinkError{Op: "RTM_GETLINK", Err: ErrNotSupported} }
func dumpAddrs() ([]Addr, error) { return nil, &NetlinkError{Op: "RTM_GETADDR", Err: ErrNotSupported} }
