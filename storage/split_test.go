package storage

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"portabot/bot"
)

// The store is two files: the main one and the inbox beside it. These tests
// cover what the split adds: both files opened, locked, sealed and
// versioned together, a dedupe that reads both, and a turn's two writes
// (the main file, then the inbox) surviving a crash between them.

func TestInboxFileBesideMain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portabot.db")
	if got, want := InboxPath(path), filepath.Join(dir, "portabot.db-inbox"); got != want {
		t.Fatalf("InboxPath(%s) = %s, want %s", path, got, want)
	}
	db := mustOpenPath(t, path, WithSealKey(testKey))
	mustEnqueue(t, db, inbound("5511987654321", 1))
	for _, file := range []string{path, InboxPath(path)} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatalf("Open did not create %s: %v", file, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s mode = %v, want -rw-------", file, mode)
		}
	}
	// The inbox lives in its own file only; the main file keeps the rest.
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for _, name := range inboxBuckets {
			if tx.Bucket(name) != nil {
				t.Errorf("the main file has a %s bucket", name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.ibolt.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			switch string(name) {
			case "meta", "inbox", "inbox_ids", "inbox_convs":
			default:
				t.Errorf("the inbox file has a %s bucket", name)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	wantDepth(t, db, 1)
}

// TestOpenLocksBothFiles: a store holds both files, and one held elsewhere
// (the inbox alone, say, by a half-stopped process) fails Open, naming that
// file, without keeping the other.
func TestOpenLocksBothFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{path, InboxPath(path)} {
		_, err := bolt.Open(file, 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
		if !errors.Is(err, bolterrors.ErrTimeout) {
			t.Errorf("bbolt open of %s held by the store: error = %v, want a lock timeout", file, err)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	held, err := bolt.Open(InboxPath(path), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, WithLockTimeout(200*time.Millisecond))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), InboxPath(path)) {
		t.Errorf("Open(inbox file held) error = %v, want ErrLocked naming %s", err, InboxPath(path))
	}
	// The main file was let go: holding it now succeeds.
	main, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Errorf("the main file stayed locked after the failed Open: %v", err)
	} else {
		main.Close()
	}
	held.Close()
	mustOpenPath(t, path)
}

func TestOpenRefusesNewerInboxFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	writeRaw(t, InboxPath(path), bucketMeta, keySchema, "99")
	_, err = Open(path)
	if err == nil || !strings.Contains(err.Error(), InboxPath(path)) || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatalf("Open(inbox file with schema 99) error = %v, want a refusal naming the inbox file", err)
	}
	if got := readRaw(t, InboxPath(path), bucketMeta, keySchema); got != "99" {
		t.Errorf("inbox schema after refusal = %q, want it untouched", got)
	}
}

// TestCrashBetweenCommitAndInboxRemoval: the turn is durable in the main
// file, and the process dies before the message leaves the inbox. After the
// restart the message is not processed again, the row goes, and a
// redelivery from Meta is recognised.
func TestCrashBetweenCommitAndInboxRemoval(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "portabot.db")
	const client = "5511987654321"
	m1, m2 := inbound(client, 1), inbound(client, 2)

	db, err := Open(path, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, db, m1, m2)
	// The inbox file as it is before the turn, copied while the store runs.
	var before bytes.Buffer
	if err := db.ibolt.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&before); return err }); err != nil {
		t.Fatal(err)
	}
	_, msgs, release, ok, err := db.Claim(ctx)
	if err != nil || !ok || len(msgs) != 2 {
		t.Fatalf("Claim() = %v, ok %v, %v", msgs, ok, err)
	}
	mustCommit(t, db, bot.Turn{MessageID: m1.ID, Conversation: sampleConversation(client, ""),
		Outbox: []bot.Outbound{outbound(client, "answer to 1")}})
	release()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The crash: the main file has the turn, the inbox file never saw the
	// removal that followed it.
	if err := os.WriteFile(InboxPath(path), before.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path, WithSealKey(testKey))
	wantDepth(t, db, 2) // m1's row is still there...
	if n, err := db.Enqueue(ctx, []bot.Inbound{m1}); err != nil || n != 0 {
		t.Errorf("Enqueue(redelivered m1) = %d, %v; want 0, nil", n, err)
	}
	got := claimAll(t, db) // ...but it is never handed out
	if diff := cmp.Diff(map[string][]bot.Inbound{client: {m2}}, got); diff != "" {
		t.Errorf("claimed after the restart (-want +got):\n%s", diff)
	}
	wantDepth(t, db, 0)
	checkIndexes(t, db)
	if err := db.Commit(ctx, bot.Turn{MessageID: m1.ID, Conversation: sampleConversation(client, "")}); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("Commit(m1 again) error = %v, want ErrDuplicate", err)
	}
	rows, err := db.OutboundRows(ctx, client)
	if err != nil || len(rows) != 1 {
		t.Errorf("OutboundRows() = %v, %v; want the one reply to m1", texts(rows), err)
	}
}

// TestDedupeAcrossFiles: Enqueue skips a message waiting in the inbox file
// and one processed in the main file, whichever way it got there, and
// across a restart.
func TestDedupeAcrossFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	const client = "5511987654321"
	waiting, processed, direct, fresh := inbound(client, 1), inbound(client, 2), inbound(client, 3), inbound(client, 4)

	db, err := Open(path, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	mustEnqueue(t, db, waiting, processed)
	mustCommit(t, db, bot.Turn{MessageID: processed.ID, Conversation: sampleConversation(client, "")})
	mustCommit(t, db, bot.Turn{MessageID: direct.ID, Conversation: sampleConversation(client, "")})
	check := func(db *DB) {
		t.Helper()
		for _, m := range []bot.Inbound{waiting, processed, direct} {
			if n, err := db.Enqueue(ctx, []bot.Inbound{m}); err != nil || n != 0 {
				t.Errorf("Enqueue(%s) = %d, %v; want 0, nil", m.ID, n, err)
			}
		}
		wantDepth(t, db, 1)
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path, WithSealKey(testKey))
	check(db)
	// In one batch, the new one alone is taken.
	if n, err := db.Enqueue(ctx, []bot.Inbound{direct, fresh, waiting, fresh, processed}); err != nil || n != 1 {
		t.Errorf("Enqueue(mixed batch) = %d, %v; want 1, nil", n, err)
	}
	got := claimAll(t, db)
	if diff := cmp.Diff(map[string][]bot.Inbound{client: {waiting, fresh}}, got); diff != "" {
		t.Errorf("waiting messages (-want +got):\n%s", diff)
	}
}

// TestOpenMovesSchema1Inbox: a file written when the inbox shared it has
// its waiting messages moved to the inbox file, still sealed and in order;
// a crash half-way through the move (rows copied, not yet dropped from the
// main file) moves nothing twice.
func TestOpenMovesSchema1Inbox(t *testing.T) {
	ctx := context.Background()
	const a, b = "5511987654321", "5521912345678"
	msgs := []bot.Inbound{inbound(a, 1), inbound(b, 2), inbound(a, 3)}
	for _, crashed := range []bool{false, true} {
		t.Run("crashed="+strconv.FormatBool(crashed), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "portabot.db")
			db, err := Open(path, WithSealKey(testKey))
			if err != nil {
				t.Fatal(err)
			}
			mustEnqueue(t, db, msgs...)
			mustCommit(t, db, bot.Turn{MessageID: "wamid.done", Conversation: sampleConversation(a, "")})
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			toSchema1(t, path, crashed)

			db = mustOpenPath(t, path, WithSealKey(testKey))
			wantDepth(t, db, len(msgs))
			checkIndexes(t, db)
			err = db.bolt.View(func(tx *bolt.Tx) error {
				for _, name := range inboxBuckets {
					if tx.Bucket(name) != nil {
						t.Errorf("the main file still has the %s bucket", name)
					}
				}
				if got := string(tx.Bucket(bucketMeta).Get(keySchema)); got != strconv.Itoa(schemaVersion) {
					t.Errorf("main schema = %q, want %d", got, schemaVersion)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// The sequence moved with the rows: a new message sorts after
			// the moved ones.
			later := inbound(a, 4)
			mustEnqueue(t, db, later)
			if n, err := db.Enqueue(ctx, []bot.Inbound{msgs[0]}); err != nil || n != 0 {
				t.Errorf("Enqueue(moved message) = %d, %v; want 0, nil", n, err)
			}
			want := map[string][]bot.Inbound{a: {msgs[0], msgs[2], later}, b: {msgs[1]}}
			if diff := cmp.Diff(want, claimAll(t, db)); diff != "" {
				t.Errorf("claimed after the move (-want +got):\n%s", diff)
			}
			if ok, err := db.Processed(ctx, "wamid.done"); err != nil || !ok {
				t.Errorf("Processed(wamid.done) = %v, %v; want true", ok, err)
			}
		})
	}
}

// toSchema1 turns the store at path into the single file schema 1 wrote:
// the inbox buckets moved into the main file, the version set to 1, and the
// inbox file removed, or, when crashed, left as a move that committed in
// the inbox file and died before the main file let go of its copy.
func toSchema1(t *testing.T, path string, crashed bool) {
	t.Helper()
	ib, err := bolt.Open(InboxPath(path), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	mb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = ib.View(func(itx *bolt.Tx) error {
		return mb.Update(func(mtx *bolt.Tx) error {
			for _, name := range inboxBuckets {
				src := itx.Bucket(name)
				dst, err := mtx.CreateBucket(name)
				if err != nil {
					return err
				}
				if err := src.ForEach(func(k, v []byte) error { return dst.Put(bytes.Clone(k), bytes.Clone(v)) }); err != nil {
					return err
				}
				if err := dst.SetSequence(src.Sequence()); err != nil {
					return err
				}
			}
			return mtx.Bucket(bucketMeta).Put(keySchema, []byte("1"))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ib.Close(); err != nil {
		t.Fatal(err)
	}
	if !crashed {
		if err := os.Remove(InboxPath(path)); err != nil {
			t.Fatal(err)
		}
	}
}
