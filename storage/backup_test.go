package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portabot/bot"
	"portabot/internal/eventually"
)

func backupMsg(id, from string) bot.Inbound {
	return bot.Inbound{ID: id, From: from, Text: "hello " + id, At: time.Unix(1700000000, 0).UTC()}
}

// TestBackupUnderWritesHoldsEveryAcknowledgement enqueues and processes
// messages from several goroutines while a backup is taken: every Enqueue
// that returned before the backup answered is in the restored store exactly
// once, waiting in its inbox or processed in its main file, never both
// waiting and unprocessed twice, never neither.
func TestBackupUnderWritesHoldsEveryAcknowledgement(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	stop := make(chan struct{})
	var (
		mu    sync.Mutex
		acked []string
		seq   atomic.Int64
		wg    sync.WaitGroup
	)
	for g := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("wamid.backup.%d", seq.Add(1))
				if _, err := db.Enqueue(ctx, []bot.Inbound{backupMsg(id, fmt.Sprintf("55119000000%02d", g))}); err != nil {
					t.Errorf("Enqueue: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	// A runner takes messages out of the inbox as it goes, so that the
	// backup catches some processed, some waiting, some in between.
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			key, msgs, release, ok, err := db.Claim(ctx)
			if err != nil {
				t.Errorf("Claim: %v", err)
				return
			}
			if !ok {
				time.Sleep(time.Millisecond)
				continue
			}
			for _, m := range msgs {
				if err := db.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: sampleConversation(key, "")}); err != nil {
					t.Errorf("Commit: %v", err)
				}
			}
			release()
		}
	})
	eventually.True(t, "some messages acknowledged", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) > 200 })

	var before []string
	var buf bytes.Buffer
	m, err := db.WriteBackup(&buf, func(BackupManifest) {
		mu.Lock()
		before = append([]string(nil), acked...)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, "more messages acknowledged after the backup", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) > len(before)+100 })
	close(stop)
	wg.Wait()

	target := filepath.Join(t.TempDir(), "restored", "portabot.db")
	rep, err := Restore(bytes.NewReader(buf.Bytes()), target, RestoreOptions{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.KeyChecked || rep.Manifest.StoreID != m.StoreID || m.StoreID == "" {
		t.Errorf("Restore() = %+v; want the key checked and the store id %q", rep, m.StoreID)
	}
	restored := mustOpenPath(t, target, WithSealKey(testKey))
	waiting := map[string]int{}
	for {
		key, msgs, release, ok, err := restored.Claim(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		for _, m := range msgs {
			waiting[m.ID]++
			if err := restored.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: sampleConversation(key, "")}); err != nil {
				t.Fatal(err)
			}
		}
		release()
	}
	processedBefore := 0
	for _, id := range before {
		if waiting[id] > 1 {
			t.Errorf("%s handed out %d times by the restored inbox", id, waiting[id])
		}
		if waiting[id] == 0 {
			ok, err := restored.Processed(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				t.Errorf("%s was acknowledged before the backup answered and is neither waiting nor processed in it", id)
				continue
			}
			processedBefore++
		}
	}
	t.Logf("%d messages acknowledged before the backup answered: %d processed in it, %d waiting; %d acknowledged after", len(before), processedBefore, len(before)-processedBefore, seq.Load()-int64(len(before)))
	if processedBefore == 0 || processedBefore == len(before) {
		t.Logf("the backup caught no message %s; the order of the snapshots went untested this run", map[bool]string{true: "waiting", false: "processed"}[processedBefore == len(before)])
	}
}

func backupOf(t *testing.T, db *DB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := db.WriteBackup(&buf, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRestoreRefusesWithoutChangingTheStore(t *testing.T) {
	ctx := context.Background()
	src := mustOpen(t, WithSealKey(testKey))
	if _, err := src.Enqueue(ctx, []bot.Inbound{backupMsg("wamid.src", "5511900000001")}); err != nil {
		t.Fatal(err)
	}
	archive := backupOf(t, src)

	// The target holds a message of its own.
	target := filepath.Join(t.TempDir(), "portabot.db")
	other, err := Open(target, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Enqueue(ctx, []bot.Inbound{backupMsg("wamid.target", "5511900000002")}); err != nil {
		t.Fatal(err)
	}

	// Open: a running serve holds it.
	if _, err := Restore(bytes.NewReader(archive), target, RestoreOptions{Key: testKey, Force: true}); err == nil || !strings.Contains(err.Error(), "stop serve first") {
		t.Errorf("Restore() over an open store = %v; want a refusal naming serve", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(target)

	cut := archive[:len(archive)/2]
	tampered := bytes.Clone(archive)
	tampered[len(tampered)/3] ^= 0xff
	otherKey := bytes.Repeat([]byte{7}, 32)
	for _, c := range []struct {
		name    string
		archive []byte
		o       RestoreOptions
		want    string
	}{
		{"holds data", archive, RestoreOptions{Key: testKey}, "--force"},
		{"cut short", cut, RestoreOptions{Key: testKey, Force: true}, "not a whole portabot backup"},
		{"tampered", tampered, RestoreOptions{Key: testKey, Force: true}, "not a whole portabot backup"},
		{"wrong key", archive, RestoreOptions{Key: otherKey, Force: true}, "PORTABOT_DB_KEY"},
		{"not an archive", []byte("hello"), RestoreOptions{Force: true}, "not a whole portabot backup"},
	} {
		_, err := Restore(bytes.NewReader(c.archive), target, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Restore() = %v; want an error saying %q", c.name, err, c.want)
		}
		if c.name == "holds data" && !errors.Is(err, ErrStoreHoldsData) {
			t.Errorf("%s: Restore() = %v; want ErrStoreHoldsData", c.name, err)
		}
		if after, _ := os.ReadFile(target); !bytes.Equal(before, after) {
			t.Fatalf("%s: the refused restore changed %s", c.name, target)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(target), restoreDirPrefix+"*")); len(leftovers) > 0 {
		t.Errorf("refused restores left %v behind", leftovers)
	}

	// Forced, the old files are moved aside and the backup is in place.
	rep, err := Restore(bytes.NewReader(archive), target, RestoreOptions{Key: testKey, Force: true,
		Now: func() time.Time { return time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.MovedAside) != 2 || rep.Waiting != 1 {
		t.Errorf("Restore() = %+v; want both old files moved aside and one waiting message", rep)
	}
	aside, err := os.ReadFile(target + ".replaced-20261204T150000Z")
	if err != nil || !bytes.Equal(aside, before) {
		t.Errorf("the replaced main file was not kept aside unchanged: %v", err)
	}
	restored := mustOpenPath(t, target, WithSealKey(testKey))
	_, msgs, release, ok, err := restored.Claim(ctx)
	if err != nil || !ok || len(msgs) != 1 || msgs[0].ID != "wamid.src" {
		t.Fatalf("Claim() on the restored store = %v, %v, %v; want the backup's message", msgs, ok, err)
	}
	release()
}

// FuzzVerifyBackup feeds VerifyBackup, the archive reader restore uses,
// altered and arbitrary archives: it must refuse them with an error, never
// panic, and accept only what matches its manifest.
func FuzzVerifyBackup(f *testing.F) {
	db := mustOpen(f, WithSealKey(testKey))
	if _, err := db.Enqueue(context.Background(), []bot.Inbound{backupMsg("wamid.fuzz", "5511900000009")}); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := db.WriteBackup(&buf, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:len(buf.Bytes())/2])
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, archive []byte) {
		m, err := VerifyBackup(bytes.NewReader(archive))
		if err == nil && (m.Format != backupFormat || m.MainSHA256 == "" || m.InboxSHA256 == "") {
			t.Errorf("VerifyBackup accepted an archive with manifest %+v", m)
		}
	})
}
