package storage

import (
	"context"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// Space is what the main file takes on disk and what its data needs.
// bbolt never gives pages back to the file system: a file that held a
// million conversations stays that size after retention dropped them, and
// the freed pages are reused by later writes. So the size of the file says
// how large the store once was, and InUse how much it holds now.
type Space struct {
	// FileBytes is the size of the main file.
	FileBytes int64
	// InUseBytes is the pages bbolt has written up to less its free and
	// pending pages (bbolt's own page accounting): what later writes
	// cannot reuse.
	InUseBytes int64
}

// Space reports the main file's size and the bytes of it in use.
func (db *DB) Space(ctx context.Context) (Space, error) {
	var s Space
	if err := ctx.Err(); err != nil {
		return s, fmt.Errorf("storage: space: %w", err)
	}
	fi, err := os.Stat(db.path)
	if err != nil {
		return s, fmt.Errorf("storage: space: %w", err)
	}
	s.FileBytes = fi.Size()
	// tx.Size is the high-water mark of the pages written; the file
	// beyond it is bbolt's room to grow (it grows the file in steps of up
	// to 1 GiB).
	var used int64
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		used = tx.Size()
		return nil
	})
	// bbolt counts the free pages when it loads its freelist and after
	// each write; FreeAlloc is only set by the latter, so count pages.
	st := db.bolt.Stats()
	s.InUseBytes = used - int64(st.FreePageN+st.PendingPageN)*int64(db.bolt.Info().PageSize)
	return s, nil
}

// CompactTo writes a compacted copy of the main file to path (which must
// not exist) and returns the bytes of its pages: the smallest file holding the same
// data, pages filled as far as they go, which is what the store would
// need on disk had it never held more than it does now. The copy is a
// plain bbolt file, sealed as the store is; it is for measuring, and is
// not a backup (Backup copies both files).
func (db *DB) CompactTo(ctx context.Context, path string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: compact: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		return 0, fmt.Errorf("storage: compact to %s: the file exists; name a new one", path)
	}
	dst, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return 0, fmt.Errorf("storage: compact to %s: %w", path, err)
	}
	if err := bolt.Compact(dst, db.bolt, 64<<20); err != nil {
		dst.Close()
		return 0, fmt.Errorf("storage: compact to %s: %w", path, err)
	}
	// The pages written, not the file: bbolt grows a file in steps (doubling
	// up to 1 GiB), which would hide any difference below a step.
	var size int64
	_ = dst.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		return nil
	})
	if err := dst.Close(); err != nil {
		return 0, fmt.Errorf("storage: compact to %s: %w", path, err)
	}
	return size, nil
}
