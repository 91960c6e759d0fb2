//go:build unix

package main

import (
	"path/filepath"
	"syscall"
)

// freeDisk returns the bytes an unprivileged writer may still use on the
// filesystem holding the store file at db.
func freeDisk(db string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(db), &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
