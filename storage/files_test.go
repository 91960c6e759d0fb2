package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// newClosedStore creates a store at dir/portabot.db with a waiting message,
// and closes it.
func newClosedStore(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "portabot.db")
	db, err := Open(path, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if !db.Created() {
		t.Error("Created() = false on a store's first start")
	}
	mustEnqueue(t, db, inbound("5511987654321", 1))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func wantRefused(t *testing.T, path, names string, opts ...Option) {
	t.Helper()
	db, err := Open(path, opts...)
	if err == nil {
		db.Close()
		t.Fatalf("Open succeeded; want a refusal naming %s", names)
	}
	if !strings.Contains(err.Error(), names) {
		t.Errorf("Open error = %v; want it to name %s", err, names)
	}
}

// A deleted inbox used to be created afresh, and the acknowledged messages
// it held vanished without a word.
func TestOpenRefusesMissingInbox(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	if err := os.Remove(InboxPath(path)); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, InboxPath(path), WithSealKey(testKey))
	if _, err := os.Stat(InboxPath(path)); err == nil {
		t.Error("the refused Open created the inbox file")
	}
}

// A truncated main file used to become an empty store: the cases gone and
// old messages processed again.
func TestOpenRefusesEmptyFiles(t *testing.T) {
	for _, which := range []string{"main", "inbox"} {
		t.Run(which, func(t *testing.T) {
			path := newClosedStore(t, t.TempDir())
			target := path
			if which == "inbox" {
				target = InboxPath(path)
			}
			if err := os.Truncate(target, 0); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, path, target, WithSealKey(testKey))
			wantRefused(t, path, "backup", WithSealKey(testKey))
		})
	}
}

func TestOpenRefusesMissingMainFile(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, path, WithSealKey(testKey))
}

func TestOpenRefusesAnotherStoresInbox(t *testing.T) {
	a := newClosedStore(t, t.TempDir())
	b := newClosedStore(t, t.TempDir())
	other, err := os.ReadFile(InboxPath(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(InboxPath(a), other, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, a, "different stores", WithSealKey(testKey))
}

// A short inbox file made bbolt fault at open (it maps pages past the end
// of the file).
func TestOpenShortFileIsAnError(t *testing.T) {
	for _, size := range []int64{100, 5000, 9000} {
		path := newClosedStore(t, t.TempDir())
		if err := os.Truncate(InboxPath(path), size); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, path, InboxPath(path), WithSealKey(testKey))
	}
}

// Damaged pages made bbolt panic; they are an error naming the files and
// the way out.
func TestOpenDamagedPagesIsAnError(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	copy(data[2*page:], bytes.Repeat([]byte{0xA5}, len(data)-2*page))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, "restore", WithSealKey(testKey))
}

func TestOpenSecondStartIsNotCreated(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	db := mustOpenPath(t, path, WithSealKey(testKey))
	if db.Created() {
		t.Error("Created() = true on a second start")
	}
}

// A damaged page in the inbox used to panic when a claim reached it,
// after serve said it was serving.
func TestOpenDamagedInboxPageIsAnError(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	data, err := os.ReadFile(InboxPath(path))
	if err != nil {
		t.Fatal(err)
	}
	page := os.Getpagesize()
	for p := 2; (p+1)*page <= len(data); p++ {
		copy(data[p*page:(p+1)*page], bytes.Repeat([]byte{0x5A}, page))
	}
	if err := os.WriteFile(InboxPath(path), data, 0o600); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, path, InboxPath(path), WithSealKey(testKey))
}

// Check reports damaged pages of the main file (which Open does not read
// whole) as problems naming the file, and does not panic.
func TestCheckFindsDamagedMainPages(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	db := mustOpenPath(t, path, WithSealKey(testKey))
	if problems := db.Check(); len(problems) != 0 {
		t.Fatalf("Check of a sound store: %v", problems)
	}
	// Damaged under the open store, as a disk fault would: bbolt maps the
	// file shared, so it reads the damage.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	page := int64(os.Getpagesize())
	for off := 2 * page; off+page <= fi.Size(); off += page {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0x5A}, int(page)), off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	problems := db.Check()
	if len(problems) == 0 {
		t.Fatal("Check found nothing in a damaged file")
	}
	if !strings.Contains(problems[0].Error(), path) || !strings.Contains(problems[0].Error(), "backup") {
		t.Errorf("Check problem = %v; want the file and the way out", problems[0])
	}
}

// A store from before the key marker gets one at its next Open, but only
// once a waiting message shows the key is the one it was sealed with.
func TestOpenChecksLegacyStoreKeyOnItsMessages(t *testing.T) {
	path := newClosedStore(t, t.TempDir())
	ibdb, err := bolt.Open(InboxPath(path), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ibdb.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyKeyCheck) }); err != nil {
		t.Fatal(err)
	}
	ibdb.Close()
	wantRefused(t, path, "PORTABOT_DB_KEY", WithSealKey(bytes.Repeat([]byte{3}, KeySize)))
	db := mustOpenPath(t, path, WithSealKey(testKey))
	if err := db.Health(t.Context()); err != nil {
		t.Errorf("Health with the right key: %v", err)
	}
}
