package storage_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/storage"
)

func TestBusinessTokenIsSealedAndBoundToItsCase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	key := bytes.Repeat([]byte{3}, storage.KeySize)
	db, err := storage.Open(path, storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	const token = "EAAGbusinessTokenThatMustNeverBeReadable"
	if err := db.PutBusinessToken(ctx, "7", "123456789012345", token); err != nil {
		t.Fatal(err)
	}
	if err := db.PutBusinessToken(ctx, "8", "999", "another"); err != nil {
		t.Fatal(err)
	}
	waba, got, err := db.BusinessToken(ctx, "7")
	if err != nil || waba != "123456789012345" || got != token {
		t.Fatalf("BusinessToken = %q, %q, %v", waba, got, err)
	}
	if _, _, err := db.BusinessToken(ctx, "9"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a case without a token: %v, want ErrNotFound", err)
	}
	db.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(token)) {
		t.Fatal("the business token is in the file in the clear")
	}

	// A sealed token copied under another case opens for neither.
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("business_tokens"))
		var k7, k8 []byte
		_ = bk.ForEach(func(k, v []byte) error {
			if k7 == nil {
				k7 = append([]byte(nil), k...)
			} else {
				k8 = append([]byte(nil), k...)
			}
			return nil
		})
		return bk.Put(k8, append([]byte(nil), bk.Get(k7)...))
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	db, err = storage.Open(path, storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, tok, err := db.BusinessToken(ctx, "8"); err == nil {
		t.Fatalf("case 8 opened case 7's token: %q", tok)
	}
}
