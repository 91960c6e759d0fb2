package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Scrubbing free pages
//
// bbolt never writes a page in place: a transaction writes the pages it
// changed elsewhere and frees the old copies, which keep their bytes until
// bbolt reuses them. After an erasure the deleted numbers and texts are
// still in the file, on free pages. Scrub overwrites those pages with zeros.
//
// A freed page may still be read by a transaction that began before it was
// freed; bbolt calls it pending and reuses it only once no such
// transaction is open. bbolt's page info tells free and pending apart from
// neither, so Scrub works only when nothing is pending: on the writer (no
// other write of the file can free pages meanwhile), it opens and rolls back
// a write transaction, which releases every page no reader holds and records
// how many stay pending; with none pending, every page the next write
// transaction calls free is read by nobody, and a reader that starts
// meanwhile sees the latest tree, which uses none of them. The zeros are
// written with the file's own descriptor closed to bbolt: through a second
// one, and synced before the writer goes on.
//
// The pages are scrubbed scrubChunk at a time, each chunk a separate stop
// of the writer, so that turns wait for at most one chunk.

// scrubChunk is how many pages one stop of the writer looks at.
const scrubChunk = 4096

// scrubTries is how many times Scrub waits for readers to let go of freed
// pages, a millisecond longer each time (about a second in all), before
// leaving them for the next Scrub.
const scrubTries = 45

// ScrubStats says what Scrub did: Zeroed pages written over, Held pages it
// could not reach because a reader still held freed pages (the next Scrub
// gets them).
type ScrubStats struct {
	Zeroed int
	Held   bool
}

// ScrubOwed reports whether the last Scrub left pages for the next one
// (a reader held them, or it failed).
func (db *DB) ScrubOwed() bool { return db.scrubOwed.Load() }

// errHeld says a reader still holds freed pages.
var errHeld = errors.New("freed pages still held by a reader")

// Scrub overwrites with zeros every free page of both files of the store,
// so that nothing deleted can be read back from them (see above). Forget
// calls it, and serve after a retention pass or when ScrubOwed; it is safe
// at any time, and costs a read of every page's header and of every free
// page, in chunks between which the writer goes on.
func (db *DB) Scrub(ctx context.Context) (st ScrubStats, err error) {
	defer func() { db.scrubOwed.Store(st.Held || err != nil) }()
	for _, f := range []struct {
		w    *writer
		bdb  *bolt.DB
		path string
	}{{db.w, db.bolt, db.path}, {db.iw, db.ibolt, InboxPath(db.path)}} {
		var s ScrubStats
		s, err = scrubFile(ctx, f.w, f.bdb, f.path)
		st.Zeroed += s.Zeroed
		st.Held = st.Held || s.Held
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

func scrubFile(ctx context.Context, w *writer, bdb *bolt.DB, path string) (ScrubStats, error) {
	var st ScrubStats
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return st, fmt.Errorf("storage: scrub %s: %w", path, err)
	}
	defer f.Close()
	size := bdb.Info().PageSize
	page, zeros := make([]byte, size), make([]byte, size)
	for from := 0; ; from += scrubChunk {
		var end bool
		for try := 0; ; try++ {
			err = w.runAlone(ctx, "scrub", func() error {
				var err error
				end, err = scrubPages(bdb, f, from, page, zeros, &st.Zeroed)
				return err
			})
			if !errors.Is(err, errHeld) || try == scrubTries {
				break
			}
			// Readers are short; a backup is not, and then the pages
			// wait for the next Scrub.
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(time.Duration(try+1) * time.Millisecond):
			}
		}
		switch {
		case errors.Is(err, errHeld):
			// Pending pages hold up every chunk alike.
			st.Held = true
			return st, nil
		case err != nil:
			return st, fmt.Errorf("storage: scrub %s: %w", path, err)
		}
		if end || ctx.Err() != nil {
			return st, ctx.Err()
		}
	}
}

// scrubPages zeroes the free pages among scrubChunk from page id from, and
// reports whether they were the file's last.
func scrubPages(bdb *bolt.DB, f *os.File, from int, page, zeros []byte, zeroed *int) (end bool, err error) {
	probe, err := bdb.Begin(true)
	if err != nil {
		return false, err
	}
	if err := probe.Rollback(); err != nil {
		return false, err
	}
	if bdb.Stats().PendingPageN > 0 {
		return false, errHeld
	}
	tx, err := bdb.Begin(true)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback() }()
	size := len(page)
	high := int(tx.Size() / int64(size))
	wrote := false
	for id := from; id < min(from+scrubChunk, high); id++ {
		info, err := tx.Page(id)
		if err != nil {
			return false, err
		}
		if info == nil || info.Type != "free" {
			continue
		}
		off := int64(id) * int64(size)
		if _, err := f.ReadAt(page, off); err != nil {
			return false, err
		}
		if bytes.Equal(page, zeros) {
			continue
		}
		if _, err := f.WriteAt(zeros, off); err != nil {
			return false, err
		}
		wrote = true
		*zeroed++
	}
	if wrote {
		if err := f.Sync(); err != nil {
			return false, err
		}
	}
	return from+scrubChunk >= high, nil
}
