package netstat

import (
	"errors"
	"io/fs"

	"github.com/procnet/procnet/internal/procfile"
)

// Has reports whether the root holds the table proc/net/NAME
// (proc/PID/net/NAME with PID set), such as "sctp/eps", "ax25" or
// "ipx/socket": tables of protocols this package does not parse, whose
// presence a caller may need to tell from their absence (net-tools says
// "no support" for an absent one). Only a missing file is absent: one
// that exists but cannot be opened as a table counts as present.
func (r *Reader) Has(name string) bool {
	f, err := procfile.Open(r.root(), r.dir()+"/"+name)
	if err == nil {
		f.Close()
		return true
	}
	return !errors.Is(err, fs.ErrNotExist)
}
