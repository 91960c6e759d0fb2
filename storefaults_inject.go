//go:build portabot_faults

package main

import (
	"fmt"
	"os"
	"syscall"

	"portabot/storage"
)

// With PORTABOT_FAULT_DISK_FULL naming a file, every commit of the store
// fails as on a full disk while that file exists: a test creates it to fill
// the disk and removes it to free it, with serve running.
func init() {
	flag := os.Getenv("PORTABOT_FAULT_DISK_FULL")
	if flag == "" {
		return
	}
	storeFaults = append(storeFaults, storage.WithWriteFault(func() error {
		if _, err := os.Stat(flag); err == nil {
			return fmt.Errorf("write: %w (test fault: %s exists)", syscall.ENOSPC, flag)
		}
		return nil
	}))
}
