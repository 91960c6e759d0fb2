package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/fsm"
)

// mustOpen opens a store on a fresh file that is closed, and checked to close
// cleanly, when the test ends.
func mustOpen(tb testing.TB, opts ...Option) *DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "portabot.db"), opts...)
}

func mustOpenPath(tb testing.TB, path string, opts ...Option) *DB {
	tb.Helper()
	db, err := Open(path, opts...)
	if err != nil {
		tb.Fatalf("Open(%s) error = %v", path, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close() error = %v", err)
		}
	})
	return db
}

func TestContract(t *testing.T) {
	testStoreContract(t, func(t *testing.T) bot.Store { return mustOpen(t) })
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	db := mustOpenPath(t, path)
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file holds clients' phone numbers: nobody else on the machine
	// may read it.
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode = %v, want -rw-------", mode)
	}
}

func TestOpenWritesSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(schemaVersion)
	for _, file := range []string{path, InboxPath(path)} {
		if got := readRaw(t, file, bucketMeta, keySchema); got != want {
			t.Errorf("%s: meta schema = %q, want %q", file, got, want)
		}
	}
	// A second open of an up-to-date file neither fails nor rewrites it.
	mustOpenPath(t, path)
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	writeRaw(t, path, bucketMeta, keySchema, "99")

	_, err := Open(path)
	if err == nil {
		t.Fatal("Open(file with schema 99) succeeded, want an error")
	}
	for _, want := range []string{path, "schema version 99", fmt.Sprintf("newer than the %d this portabot understands", schemaVersion)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open() error = %q, want it to mention %q", err, want)
		}
	}
	// The refusal must let go of the file, or the next attempt (after an
	// upgrade, say) would find it locked.
	if got := readRaw(t, path, bucketMeta, keySchema); got != "99" {
		t.Errorf("meta schema after refusal = %q, want it untouched (%q)", got, "99")
	}
}

func TestOpenRefusesUnreadableSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	writeRaw(t, path, bucketMeta, keySchema, "one")
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "unreadable schema version") {
		t.Errorf("Open(file with schema %q) error = %v, want an unreadable schema version error", "one", err)
	}
}

func TestOpenHeldFileFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	first, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}

	// bbolt's flock is per open file description, so a second Open in this
	// process stands in for a second portabot process. The first holds
	// the lock until the test ends: the second returns by giving up or
	// not at all.
	second, err := Open(path)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a held file succeeded, want an error")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open error = %v, want it to match ErrLocked", err)
	}
	want := "storage: " + path + " is in use by another portabot process (bbolt lock not acquired within 1s)"
	if err.Error() != want {
		t.Errorf("second Open error = %q, want %q", err, want)
	}

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	mustOpenPath(t, path, WithLockTimeout(100*time.Millisecond))
}

func TestOpenLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	mustOpenPath(t, path)
	_, err := Open(path, WithLockTimeout(200*time.Millisecond))
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "within 200ms") {
		t.Errorf("Open(held, 200ms) error = %v, want ErrLocked naming 200ms", err)
	}
	// Zero would make bbolt wait for ever.
	if _, err := Open(path, WithLockTimeout(0)); err == nil || errors.Is(err, ErrLocked) {
		t.Errorf("Open(timeout 0) error = %v, want a refusal of the option", err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "portabot.db")
	_, err := Open(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("Open(%s) error = %v, want a not-exist error naming the path", path, err)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id := mustNewCaseID(t, db)
	conv := sampleConversation("5511987654321", id)
	c := sampleCase(id, conv.Key)
	events := []bot.AuditEvent{{CaseID: id, At: at(1), Actor: "bot", Kind: "opened"}}
	mustCommit(t, db, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: events})
	unused := mustNewCaseID(t, db)
	if err := db.SetWABA(ctx, id, "104996122399160", "U0AGENT"); err != nil {
		t.Fatal(err)
	}
	before := snapshotOf(t, db, []string{conv.Key}, []string{id})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path)
	after := snapshotOf(t, db, []string{conv.Key}, []string{id})
	if diff := cmp.Diff(before, after, cmpEmpty); diff != "" {
		t.Errorf("store changed across reopen (-before +after):\n%s", diff)
	}
	if len(after.Audit[id]) != 2 {
		t.Errorf("audit after reopen has %d events, want 2", len(after.Audit[id]))
	}
	if ok, err := db.Processed(ctx, "wamid.1"); err != nil || !ok {
		t.Errorf("Processed(wamid.1) after reopen = %v, %v; want true, nil", ok, err)
	}
	if err := db.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv}); !errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("Commit(wamid.1) after reopen error = %v, want bot.ErrDuplicate", err)
	}
	// Ids handed out before the restart, even unused ones, stay taken.
	if next := mustNewCaseID(t, db); next != "3" || unused != "2" {
		t.Errorf("ids: unused before reopen %q, next after %q; want 2 then 3", unused, next)
	}
}

func TestCommitKeepsIDsUnique(t *testing.T) {
	db := mustOpen(t)
	// A case arriving under an id NewCaseID never issued (an import, a
	// restored record) pushes the sequence past it.
	c := sampleCase("10", "5511987654321")
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(c.Client, c.ID), Case: &c})
	if got := mustNewCaseID(t, db); got != "11" {
		t.Errorf("NewCaseID() after committing case 10 = %q, want %q", got, "11")
	}
	for _, id := range []string{"", "abc", "007", "0", "-3", "1.5"} {
		c := sampleCase(id, "5511987654321")
		if err := db.Commit(context.Background(), bot.Turn{Conversation: sampleConversation(c.Client, ""), Case: &c}); err == nil {
			t.Errorf("Commit(case id %q) succeeded, want an error", id)
		}
	}
}

func TestProcessedRecordsCommitTime(t *testing.T) {
	committed := time.Date(2026, 5, 4, 13, 0, 0, 0, time.FixedZone("BRT", -3*3600))
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path, WithClock(func() time.Time { return committed }))
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, db, bot.Turn{MessageID: "wamid.1", Conversation: sampleConversation("5511987654321", "")})
	id := mustNewCaseID(t, db)
	c := sampleCase(id, "5511987654321")
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(c.Client, id), Case: &c})
	if err := db.SetWABA(context.Background(), id, "104996122399160", "U0AGENT"); err != nil {
		t.Fatal(err)
	}
	got, err := db.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Updated.Equal(committed) {
		t.Errorf("Case.Updated after SetWABA = %v, want the clock's %v", got.Updated, committed)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Kept so that old markers can be pruned by age one day.
	raw := readRaw(t, path, bucketProcessed, []byte("wamid.1"))
	if got, ok := processedAt([]byte(raw)); !ok || !got.Equal(committed) || len(raw) != 8 {
		t.Errorf("processed[wamid.1] = %q (%v, %v), want the 8-byte commit time %v", raw, got, ok, committed)
	}
	// Files written before kept RFC 3339 text, which still reads.
	if got, ok := processedAt([]byte("2026-05-04T16:00:00.5Z")); !ok || !got.Equal(committed.Add(500*time.Millisecond)) {
		t.Errorf("processedAt(RFC 3339) = %v, %v; want %v", got, ok, committed.Add(500*time.Millisecond))
	}
}

func TestReadsOutliveTheirTransaction(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	id := mustNewCaseID(t, db)
	conv := sampleConversation("5511987654321", id)
	c := sampleCase(id, conv.Key)
	mustCommit(t, db, bot.Turn{MessageID: "wamid.0", Conversation: conv, Case: &c})
	gotConv, err := db.Conversation(ctx, conv.Key)
	if err != nil {
		t.Fatal(err)
	}
	gotCase, err := db.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	// Overwrite the same records and grow the file well past its first
	// mapping, so bbolt reuses and remaps the pages the reads came from.
	filler := strings.Repeat("x", 16<<10)
	for i := range 100 {
		conv2, c2 := conv, c
		conv2.Step, c2.Problem = filler, filler
		conv2.Key = fmt.Sprintf("55119%08d", i%3)
		if i%3 == 0 {
			conv2.Key = conv.Key
		}
		mustCommit(t, db, bot.Turn{MessageID: fmt.Sprintf("wamid.%d", i+1), Conversation: conv2, Case: &c2})
	}
	if diff := cmp.Diff(conv, gotConv); diff != "" {
		t.Errorf("conversation read earlier changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c, gotCase); diff != "" {
		t.Errorf("case read earlier changed (-want +got):\n%s", diff)
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	id := mustNewCaseID(t, db)
	conv := sampleConversation("5511987654321", id)
	c := sampleCase(id, conv.Key)
	mustCommit(t, db, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: []bot.AuditEvent{
		{CaseID: id, At: at(1), Actor: "bot", Kind: "opened"},
	}})

	var buf bytes.Buffer
	if err := db.Backup(&buf); err != nil {
		t.Fatalf("Backup() error = %v", err)
	}
	// The live store keeps working while and after the copy is taken.
	c.State = fsm.Done
	mustCommit(t, db, bot.Turn{MessageID: "wamid.2", Conversation: conv, Case: &c})

	copyPath := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored := mustOpenPath(t, copyPath, WithNewInbox())
	got, err := restored.Case(ctx, id)
	if err != nil {
		t.Fatalf("Case() on the backup error = %v", err)
	}
	if got.State != fsm.MigratingTemplates {
		t.Errorf("backup case state = %q, want the state at backup time %q", got.State, fsm.MigratingTemplates)
	}
	if ok, _ := restored.Processed(ctx, "wamid.2"); ok {
		t.Error("backup knows wamid.2, committed after it was taken")
	}
	if trail, err := restored.Audit(ctx, id); err != nil || len(trail) != 1 {
		t.Errorf("backup Audit() = %v, %v; want one event", trail, err)
	}
}

func TestClosedStore(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "portabot.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close() error = %v, want nil", err)
	}
	if _, err := db.Conversation(context.Background(), "5511987654321"); err == nil || errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Conversation() on a closed store error = %v, want a closed-database error", err)
	}
}

// BenchmarkCommit measures one engine turn: a conversation, its case and one
// audit event, each commit made durable (two fdatasyncs in bbolt).
func BenchmarkCommit(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	id := mustNewCaseID(b, db)
	conv := sampleConversation("5511987654321", id)
	c := sampleCase(id, conv.Key)
	ev := []bot.AuditEvent{{At: at(1), Actor: "client", Kind: "transition", From: fsm.AskPhone, To: fsm.AddingNumber}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		conv.Delivered = i
		if err := db.Commit(ctx, bot.Turn{MessageID: fmt.Sprintf("wamid.%d", i), Conversation: conv, Case: &c, Audit: ev}); err != nil {
			b.Fatal(err)
		}
	}
}

// writeRaw puts one key straight into a bbolt file, to build files this
// package would not write itself.
func writeRaw(tb testing.TB, path string, bucket, key []byte, value string) {
	tb.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.Put(key, []byte(value))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func readRaw(tb testing.TB, path string, bucket, key []byte) string {
	tb.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer bdb.Close()
	var v string
	err = bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return fmt.Errorf("no bucket %s", bucket)
		}
		v = string(b.Get(key))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
