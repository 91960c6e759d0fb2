package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/internal/eventually"
)

// /readyz used to test only a read, and said ready while every write
// failed (a full or read-only disk).
func TestHealthReportsFailedWrite(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	waitHealthy(t, db)
	// A probe that commits after the failing write would rightly clear
	// the failure: the disk took a write again. Hold probes off meanwhile.
	quietProbe(t, db, func(p *probeState) { p.started = time.Now().Add(time.Hour) })
	failing := func(tx *bolt.Tx) (func() error, error) {
		return func() error { return errors.New("no space left on device") }, nil
	}
	if err := db.write(ctx, "a write the disk refuses", failing); err == nil {
		t.Fatal("the failing write succeeded")
	}
	err := db.Health(ctx)
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), db.Path()) {
		t.Errorf("Health after a failed write = %v; want it named, with the file", err)
	}
	quietProbe(t, db, func(p *probeState) { p.started = time.Time{} })
	mustEnqueue(t, db, inbound("5511987654321", 1))
	if err := db.write(ctx, "a write that works", func(tx *bolt.Tx) (func() error, error) {
		return func() error { return tx.Bucket(bucketMeta).Put([]byte("x"), []byte("y")) }, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, db)
}

func waitHealthy(t *testing.T, db *DB) {
	t.Helper()
	var err error
	eventually.Until(t, 10*time.Second, func() bool {
		err = db.Health(context.Background())
		return err == nil
	}, func() string { return fmt.Sprintf("store not healthy: %v", err) })
}

// quietProbe waits until no readiness probe is in flight, then changes its
// state with set.
func quietProbe(t *testing.T, db *DB, set func(*probeState)) {
	t.Helper()
	eventually.Within(t, 10*time.Second, "the readiness probe to finish", func() bool {
		db.probeMu.Lock()
		defer db.probeMu.Unlock()
		if db.probe.inFlight {
			return false
		}
		set(&db.probe)
		return true
	})
}

// A writer that never finishes its commit (a hung disk) makes the store
// unhealthy, though every read still works.
func TestHealthReportsStuckWriter(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	waitHealthy(t, db)
	// Once the probe waitHealthy started has finished, the next Health
	// starts one of its own.
	quietProbe(t, db, func(p *probeState) {
		p.stuck = 200 * time.Millisecond
		p.started = time.Time{}
	})
	hang := make(chan struct{})
	blocked := make(chan struct{})
	go func() {
		_ = db.write(ctx, "a commit that hangs", func(tx *bolt.Tx) (func() error, error) {
			return func() error {
				close(blocked)
				<-hang
				return nil
			}, nil
		})
	}()
	<-blocked
	defer close(hang)
	_ = db.Health(ctx) // starts a probe, which waits behind the hung commit
	// Rather than wait out the limit, date the probe's start back past it.
	db.probeMu.Lock()
	inFlight := db.probe.inFlight
	db.probe.started = db.probe.started.Add(-time.Second)
	db.probeMu.Unlock()
	if !inFlight {
		t.Fatal("Health started no probe behind the hung commit")
	}
	err := db.Health(ctx)
	if err == nil || !strings.Contains(err.Error(), "stuck") {
		t.Errorf("Health with the writer hung = %v; want it reported stuck", err)
	}
}
