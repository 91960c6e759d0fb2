package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Health's durable probe runs at most every probeEvery, so that a load
// balancer asking often costs one tiny commit per file every few seconds;
// a probe unanswered after probeStuck means the writer is stuck (a hung
// disk, a commit that never ends).
const (
	probeEvery = 5 * time.Second
	probeStuck = 10 * time.Second
)

var keyProbe = []byte("probe")

type probeState struct {
	started  time.Time // of the probe in flight or the last one
	inFlight bool
	err      error         // the last finished probe's
	stuck    time.Duration // probeStuck unless a test shortens it
}

// Health reports whether the store can take writes now: the last commit of
// either file did not fail, a small durable write to both (made at most
// every probeEvery, in the background) succeeded and did not hang, and the
// seal key still opens the inbox's marker. An error says which and what to
// do; nil means ready.
func (db *DB) Health(ctx context.Context) error {
	for _, w := range []struct {
		w    *writer
		path string
	}{{db.w, db.path}, {db.iw, InboxPath(db.path)}} {
		if msg := w.w.lastFail.Load(); msg != nil {
			return fmt.Errorf("storage: the last write to %s failed (%s); check the disk (full, read-only?)", w.path, *msg)
		}
	}
	if err := db.keyOpensInbox(); err != nil {
		return err
	}
	now := time.Now()
	db.probeMu.Lock()
	defer db.probeMu.Unlock()
	p := &db.probe
	stuck := p.stuck
	if stuck == 0 {
		stuck = probeStuck
	}
	if p.inFlight {
		if now.Sub(p.started) > stuck {
			return fmt.Errorf("storage: a write to the store has not finished in %v; the disk or the writer is stuck", now.Sub(p.started).Round(time.Second))
		}
		return p.err
	}
	if now.Sub(p.started) >= probeEvery {
		p.started, p.inFlight = now, true
		go db.runProbe(now)
	}
	return p.err
}

// runProbe writes the time to the meta bucket of both files.
func (db *DB) runProbe(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A panic here would end the process from a goroutine nothing else
	// watches; it is the probe's failure instead, which /readyz reports.
	defer func() {
		if v := recover(); v != nil {
			db.probeMu.Lock()
			db.probe.inFlight, db.probe.err = false, fmt.Errorf("storage: the readiness probe panicked (%v); restart portabot and report the bug", v)
			db.probeMu.Unlock()
		}
	}()
	v := []byte(strconv.FormatInt(now.UnixNano(), 10))
	op := func(tx *bolt.Tx) (func() error, error) {
		return func() error { return tx.Bucket(bucketMeta).Put(keyProbe, v) }, nil
	}
	err := db.write(ctx, "readiness probe of "+db.path, op)
	if err == nil {
		err = db.iw.write(ctx, "readiness probe of "+InboxPath(db.path), op)
	}
	db.probeMu.Lock()
	db.probe.inFlight, db.probe.err = false, err
	db.probeMu.Unlock()
}

// keyOpensInbox checks the seal key against the inbox's sealed marker.
func (db *DB) keyOpensInbox() error {
	if db.sealer == nil {
		return nil
	}
	return db.ibolt.View(func(tx *bolt.Tx) error {
		sealed := tx.Bucket(bucketMeta).Get(keyKeyCheck)
		if sealed == nil {
			return errors.New("storage: the inbox has no key marker; restart portabot to write it")
		}
		if _, err := db.sealer.Open(nil, nil, sealed, sealAD(bucketMeta, keyKeyCheck)); err != nil {
			return fmt.Errorf("storage: the seal key does not open %s; start portabot with the PORTABOT_DB_KEY the store was created with", InboxPath(db.path))
		}
		return nil
	})
}
