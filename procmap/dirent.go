//go:build !darwin

package procmap

// dirent walks the linux_dirent64 records in buf[:n]: it returns the name
// of the record at off (with its terminating NUL, which the kernel always
// writes) and the offset of the next record. ok is false at the end or on a
// malformed record.
//
//	struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
func dirent(buf []byte, off int) (name []byte, next int, ok bool) {
	const nameOff = 19
	if off+nameOff > len(buf) {
		return nil, 0, false
	}
	reclen := int(buf[off+16]) | int(buf[off+17])<<8
	if reclen < nameOff+1 || off+reclen > len(buf) {
		return nil, 0, false
	}
	rec := buf[off+nameOff : off+reclen]
	for i, c := range rec {
		if c == 0 {
			return rec[:i+1], off + reclen, true
		}
	}
	return nil, 0, false
}
