package storage

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store's two files are one store: each records, in its meta bucket,
// the identity the store was given when it was created, and the inbox file
// a value sealed with the store's key. Open compares them, so that a
// missing, emptied or swapped file, or a different PORTABOT_DB_KEY, stops
// start-up with a message naming the file, instead of a store quietly
// created afresh (the acknowledged messages, which Meta will not deliver
// again, gone) or an inbox no claim can open.
var (
	keyStoreID  = []byte("store_id")
	keyKeyCheck = []byte("key_check")
	// keyCheckText is what the key marker seals; only its opening matters.
	keyCheckText = []byte("portabot seal key check")
)

// restoreHint is the way out of a damaged or missing store file.
const restoreHint = "stop portabot and restore both store files from the same backup (or, to start with no cases at all, move both away)"

// fileState is what is on disk at a store file's path before Open.
type fileState int

const (
	fileMissing fileState = iota
	fileEmpty
	filePresent
)

func statFile(path string) (fileState, int64, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileMissing, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("storage: %s: %w", path, err)
	}
	if fi.Size() == 0 {
		return fileEmpty, 0, nil
	}
	return filePresent, fi.Size(), nil
}

// checkBoltFile reads the two meta pages of an existing bbolt file and
// refuses it unless one is valid and the file holds every page it names:
// bbolt maps the file and would fault, not fail, on a page past its end.
func checkBoltFile(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", path, err)
	}
	defer f.Close()
	const metaOffset = 16 // bbolt's page header
	const metaLen = 64
	damaged := func(why string) error {
		return fmt.Errorf("storage: %s is damaged (%s); %s", path, why, restoreHint)
	}
	var best *struct{ pageSize, pgid, txid uint64 }
	buf := make([]byte, metaOffset+metaLen)
	pageSize := int64(0)
	for i := range 2 {
		off := int64(i) * pageSize
		if i == 1 && pageSize == 0 {
			// Without a valid first page, the usual page size is the
			// best guess of where the second is.
			off = int64(os.Getpagesize())
		}
		if _, err := f.ReadAt(buf, off); err != nil {
			if errors.Is(err, io.EOF) {
				continue
			}
			return fmt.Errorf("storage: read %s: %w", path, err)
		}
		m := buf[metaOffset:]
		magic := binary.LittleEndian.Uint32(m[0:])
		version := binary.LittleEndian.Uint32(m[4:])
		h := fnv.New64a()
		_, _ = h.Write(m[:56])
		if magic != 0xED0CDAED || version != 2 || h.Sum64() != binary.LittleEndian.Uint64(m[56:]) {
			continue
		}
		ps := uint64(binary.LittleEndian.Uint32(m[8:]))
		pgid := binary.LittleEndian.Uint64(m[40:])
		txid := binary.LittleEndian.Uint64(m[48:])
		if i == 0 {
			pageSize = int64(ps)
		}
		if best == nil || txid > best.txid {
			best = &struct{ pageSize, pgid, txid uint64 }{ps, pgid, txid}
		}
	}
	if best == nil {
		return damaged("no valid bbolt meta page")
	}
	if best.pageSize == 0 || uint64(size) < best.pgid*best.pageSize {
		return damaged(fmt.Sprintf("%d bytes long, shorter than the %d its pages need", size, best.pgid*best.pageSize))
	}
	return nil
}

func newStoreID() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

// checkFiles looks at both files before bbolt opens (and so creates)
// either: the store is created only where neither exists.
func checkFiles(path string) (mainState, inboxState fileState, err error) {
	ipath := InboxPath(path)
	mainState, msize, err := statFile(path)
	if err != nil {
		return 0, 0, err
	}
	inboxState, isize, err := statFile(ipath)
	if err != nil {
		return 0, 0, err
	}
	for _, f := range []struct {
		path  string
		state fileState
		size  int64
	}{{path, mainState, msize}, {ipath, inboxState, isize}} {
		switch f.state {
		case fileEmpty:
			return 0, 0, fmt.Errorf("storage: %s is empty, so the store it belongs to is damaged; %s", f.path, restoreHint)
		case filePresent:
			if err := checkBoltFile(f.path, f.size); err != nil {
				return 0, 0, err
			}
		}
	}
	if mainState == fileMissing && inboxState == filePresent {
		return 0, 0, fmt.Errorf("storage: %s is missing, though its inbox %s exists: the cases and conversations are gone; %s", path, ipath, restoreHint)
	}
	return mainState, inboxState, nil
}

// WithNewInbox lets Open create a missing inbox file beside an existing
// main file: what a main file restored from a Backup, which holds no inbox,
// needs once. Without it Open refuses, as the inbox holds messages Meta
// will not deliver again.
func WithNewInbox() Option {
	return func(o *options) { o.newInbox = true }
}

// refuseMissingInbox refuses to create the inbox file beside a main file
// written since the inbox has had a file of its own.
func refuseMissingInbox(bdb *bolt.DB, path string) error {
	return bdb.View(func(tx *bolt.Tx) error {
		if err := checkSchema(tx, path); err != nil {
			return err
		}
		if storedSchema(tx) < 2 {
			return nil
		}
		return fmt.Errorf("storage: %s is missing beside %s: the messages it held, acknowledged to Meta, are lost; %s. "+
			"If %s was restored from a backup (a backup holds no inbox), run portabot check --new-inbox --db %s to start it with an empty one",
			InboxPath(path), path, restoreHint, path, path)
	})
}

// initSafely is init with bbolt's panics on damaged pages turned into an
// error naming the files and the way out.
func (db *DB) initSafely() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("storage: %s or %s is damaged (%v); run portabot check, then %s", db.path, InboxPath(db.path), v, restoreHint)
		}
	}()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return db.init()
}

// checkIdentity gives both files the store's identity when it has none (a
// new store, or one from before identities), refuses files of different
// stores, and checks the seal key against the inbox's sealed marker,
// writing the marker when there is none yet. Called by init once both
// files have their buckets.
func (db *DB) checkIdentity() error {
	ipath := InboxPath(db.path)
	var mainID, inboxID []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		mainID = bytes.Clone(tx.Bucket(bucketMeta).Get(keyStoreID))
		return nil
	})
	if err != nil {
		return err
	}
	return db.ibolt.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		inboxID = meta.Get(keyStoreID)
		switch {
		case mainID == nil && inboxID == nil:
			id := newStoreID()
			if err := meta.Put(keyStoreID, id); err != nil {
				return fmt.Errorf("storage: write the store id of %s: %w", ipath, err)
			}
			if err := db.bolt.Update(func(mtx *bolt.Tx) error { return mtx.Bucket(bucketMeta).Put(keyStoreID, id) }); err != nil {
				return fmt.Errorf("storage: write the store id of %s: %w", db.path, err)
			}
		case mainID != nil && inboxID == nil:
			if !db.inboxFresh {
				return fmt.Errorf("storage: %s has no store id while %s has one: it is not this store's inbox; %s", ipath, db.path, restoreHint)
			}
			if err := meta.Put(keyStoreID, mainID); err != nil {
				return fmt.Errorf("storage: write the store id of %s: %w", ipath, err)
			}
		case !bytes.Equal(mainID, inboxID):
			return fmt.Errorf("storage: %s and %s belong to different stores (their store ids differ); %s", db.path, ipath, restoreHint)
		}
		if db.sealer == nil {
			return nil
		}
		if sealed := meta.Get(keyKeyCheck); sealed != nil {
			if _, err := db.sealer.Open(nil, nil, sealed, sealAD(bucketMeta, keyKeyCheck)); err != nil {
				return fmt.Errorf("storage: PORTABOT_DB_KEY does not open %s: it is not the key this store was created with; start portabot with that key (the store's messages cannot be read without it)", ipath)
			}
			return nil
		}
		// A store from before the marker: a waiting message tells whether
		// this is its key, before the marker makes it so for good.
		if k, v := tx.Bucket(bucketInbox).Cursor().First(); k != nil {
			if _, err := db.sealer.Open(nil, nil, v, sealAD(bucketInbox, k)); err != nil {
				return fmt.Errorf("storage: PORTABOT_DB_KEY does not open the messages waiting in %s: it is not the key they were sealed with; start portabot with that key", ipath)
			}
		}
		marker, err := db.seal(bucketMeta, keyKeyCheck, keyCheckText)
		if err != nil {
			return err
		}
		if err := meta.Put(keyKeyCheck, marker); err != nil {
			return fmt.Errorf("storage: write the key marker of %s: %w", ipath, err)
		}
		return nil
	})
}

// walkInbox reads every page of the inbox file, opened read-only, before
// Open opens it for writing. Opened for writing, bbolt rebuilds the inbox's
// freelist with a check that panics, on a damaged page, in a goroutine of
// its own that nothing can recover; read here, the same damage is a panic
// this goroutine turns into an error naming the file. The inbox is a queue,
// small unless a backlog waits, so the walk is quick.
func walkInbox(ipath string, timeout time.Duration) (err error) {
	bdb, err := openBolt(ipath, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return err
	}
	defer bdb.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("storage: %s is damaged (%v); %s", ipath, v, restoreHint)
		}
	}()
	return bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			walkBucket(b)
			return nil
		})
	})
}

// walkBucket visits every key of b and of the buckets nested in it.
func walkBucket(b *bolt.Bucket) {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				walkBucket(nb)
			}
		}
	}
}

// Check runs bbolt's consistency check over both files and returns what it
// found, each problem naming its file; none means both are sound. A panic
// on a damaged page is one more problem, not a crash.
func (db *DB) Check() []error {
	var problems []error
	for _, f := range []struct {
		bolt *bolt.DB
		path string
	}{{db.bolt, db.path}, {db.ibolt, InboxPath(db.path)}} {
		func() {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			defer func() {
				if v := recover(); v != nil {
					problems = append(problems, fmt.Errorf("%s: damaged page (%v); %s", f.path, v, restoreHint))
				}
			}()
			// bbolt's check runs in a goroutine of its own, where a panic
			// on a damaged page cannot be recovered: the pages are read
			// here first, where it can.
			_ = f.bolt.View(func(tx *bolt.Tx) error {
				return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
					walkBucket(b)
					return nil
				})
			})
			err := f.bolt.View(func(tx *bolt.Tx) error {
				for err := range tx.Check() {
					problems = append(problems, fmt.Errorf("%s: %w; %s", f.path, err, restoreHint))
				}
				return nil
			})
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %w", f.path, err))
			}
		}()
	}
	return problems
}
