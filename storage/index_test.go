package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/fsm"
)

// commitCases writes n cases of distinct clients, every third one done.
func commitCases(t *testing.T, db *DB, n int) {
	t.Helper()
	for i := range n {
		id := mustNewCaseID(t, db)
		c := sampleCase(id, fmt.Sprintf("55119876%05d", i))
		c.Phone = fmt.Sprintf("+55219876%05d", i)
		if i%3 == 0 {
			c.State, c.Closed = fsm.Done, at(i)
		}
		mustCommit(t, db, bot.Turn{Conversation: sampleConversation(c.Client, id), Case: &c})
	}
}

// A store written before the indexes existed gets them at its first open by
// this version, built from its cases.
func TestOpenBuildsTheIndexOfAnOlderStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	commitCases(t, db, 12)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// As schema 3 left it: no index buckets.
	raw, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		for _, name := range indexBuckets {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("3"))
	})
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path)
	ctx := context.Background()
	counts, err := db.CaseCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[fsm.Done] != 4 || counts[fsm.MigratingTemplates] != 8 || len(counts) != 2 {
		t.Errorf("counts after the upgrade = %v, want 4 done and 8 migrating_templates", counts)
	}
	page, err := db.ListCases(ctx, bot.CaseQuery{States: []fsm.State{fsm.Done}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range page.Cases {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"10", "7", "4", "1"}) {
		t.Errorf("done cases after the upgrade = %v, want [10 7 4 1]", ids)
	}
	found, err := db.CasesByNumber(ctx, "+5521987600005")
	if err != nil || len(found) != 1 || found[0].ID != "6" {
		t.Errorf("CasesByNumber(+5521987600005) after the upgrade = %v, %v; want case 6", found, err)
	}
	var schema string
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		schema = string(tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	if schema != "4" {
		t.Errorf("schema after the upgrade = %q, want 4", schema)
	}
}

// indexCase with no case after is a deletion: the case leaves every index
// and its state's count.
func TestIndexCaseDeletion(t *testing.T) {
	db := mustOpen(t)
	commitCases(t, db, 3)
	ctx := context.Background()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		key, _ := caseKey("1")
		before, err := storedCase(tx.Bucket(bucketCases), key)
		if err != nil {
			return err
		}
		if err := indexCase(tx, before, nil); err != nil {
			return err
		}
		return tx.Bucket(bucketCases).Delete(key)
	})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := db.CaseCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[fsm.Done] != 0 || counts[fsm.MigratingTemplates] != 2 {
		t.Errorf("counts after deleting done case 1 = %v, want no done and 2 migrating_templates", counts)
	}
	for _, id := range []string{"+5521987600000", "5511987600000"} {
		if found, err := db.CasesByNumber(ctx, id); err != nil || len(found) != 0 {
			t.Errorf("CasesByNumber(%s) after the deletion = %v, %v; want none", id, found, err)
		}
	}
	if closed, err := db.CasesClosedSince(ctx, at(-1)); err != nil || len(closed) != 0 {
		t.Errorf("CasesClosedSince after the deletion = %v, %v; want none", closed, err)
	}
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketCasesByState).Cursor().First(); k != nil && string(k[:len(fsm.Done)]) == string(fsm.Done) {
			t.Errorf("cases_by_state still holds %q", k)
		}
		return nil
	})
}
