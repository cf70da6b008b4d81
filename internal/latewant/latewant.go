// Package latewant carries, in a context, the inodes a caller learns while
// procmap.Build runs beside it: the join of the socket tables with their
// owners (package procnet) starts the owner pass before
// the table scan has told which sockets it needs. It is plumbing between
// this module's packages, kept out of procmap's public Options.
//
// # Concurrency
//
// A Want is read-only once put in a context; Inodes is called at most
// once, from Build's goroutine.
package latewant

import "context"

// Want supplies the set of inodes (value true) late.
type Want struct {
	// Inodes returns the set; Build calls it once, when it first needs
	// the set: before the /proc walk, which then stops early as with
	// procmap.Options.Inodes; after the kernel's fd pass with the BPF
	// source, which thus overlaps the caller's work, and then reads the
	// details of the wanted sockets' owners only.
	Inodes func() map[uint64]bool
	// BPFOnly says the set is worth waiting for only on the BPF source
	// (it saves describing the other owners); the /proc walk then walks
	// in full without calling Inodes, keeping every owner.
	BPFOnly bool
}

type key struct{}

// NewContext returns ctx carrying w.
func NewContext(ctx context.Context, w Want) context.Context {
	return context.WithValue(ctx, key{}, w)
}

// FromContext returns the Want ctx carries, if any.
func FromContext(ctx context.Context) (Want, bool) {
	w, ok := ctx.Value(key{}).(Want)
	return w, ok && w.Inodes != nil
}
