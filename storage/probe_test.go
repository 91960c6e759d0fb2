package storage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// /readyz used to test only a read, and said ready while every write
// failed (a full or read-only disk).
func TestHealthReportsFailedWrite(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	waitHealthy(t, db)
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.Health(context.Background())
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("store not healthy: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
