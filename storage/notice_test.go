package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

func TestNoticeContract(t *testing.T) {
	testNoticeContract(t, func(t *testing.T) noticeBackend {
		db := mustOpen(t)
		t.Cleanup(func() { checkNoticeIndexes(t, db) })
		return db
	})
}

func TestNoticesPersistAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := openCase(t, db, 1), openCase(t, db, 2)
	commitNotices(t, db, a, notice(a, "a1"), notice(a, "a2"))
	commitNotices(t, db, b, notice(b, "b1"))
	if err := db.SetThread(ctx, a, "1715000000.000100"); err != nil {
		t.Fatal(err)
	}
	rows, _ := mustClaimNotices(t, db, at(10), 10)
	if len(rows) != 2 {
		t.Fatalf("ClaimNotices() = %v, want [a1 b1]", noticeTexts(rows))
	}
	var a1 bot.Notice
	for _, n := range rows {
		if n.CaseID == b {
			markNoticeSent(t, db, n)
		} else {
			a1 = n
		}
	}
	// a1 is held when the process stops, never released.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path)
	wantNoticeStats(t, db, 2, 1, 0)
	wantThreads(t, db, map[string]string{a: "1715000000.000100", b: ""})
	rows, release := mustClaimNotices(t, db, at(10), 10)
	if len(rows) != 1 || rows[0].ID != a1.ID || rows[0].Text != "a1" {
		t.Errorf("ClaimNotices() after reopen = %v, want a1 again: holds do not survive a restart", noticeTexts(rows))
	}
	release()
	commitNotices(t, db, b, notice(b, "b2"))
	rows, release = mustClaimNotices(t, db, at(10), 10)
	defer release()
	for _, n := range rows {
		if n.CaseID == b && (n.Text != "b2" || n.ID <= a1.ID) {
			t.Errorf("notice written after reopen = %+v; want b2 with an id after %s", n, a1.ID)
		}
	}
	checkNoticeIndexes(t, db)
}

// TestThreadNotInCaseRecord checks the layout SetThread relies on: the case
// record never holds the thread, whatever the committed case carried.
func TestThreadNotInCaseRecord(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	db := mustOpenPath(t, path)
	id := mustNewCaseID(t, db)
	c := sampleCase(id, "5511987654321")
	c.Thread = "1715000111.000111"
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(c.Client, id), Case: &c})
	if err := db.SetThread(ctx, id, "1715000222.000222"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetWABA(ctx, id, "104996122399160", "U0AGENT"); err != nil {
		t.Fatal(err)
	}
	key, _ := caseKey(id)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec := tx.Bucket(bucketCases).Get(key)
		if bytes.Contains(rec, []byte("1715000")) {
			t.Errorf("case record holds a thread: %s", rec)
		}
		if got := string(tx.Bucket(bucketCaseThreads).Get(key)); got != "1715000222.000222" {
			t.Errorf("case_threads[%s] = %q, want the thread SetThread recorded", id, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoticeIndexesStayConsistent drives the notices through many random
// operations and checks every index against the notices after each one.
func TestNoticeIndexesStayConsistent(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	r := rand.New(rand.NewPCG(3, 4))
	var ids []string
	for i := range 4 {
		ids = append(ids, openCase(t, db, i))
	}
	states := []bot.OutboundState{bot.OutboundPending, bot.OutboundSent, bot.OutboundFailed}
	for step := range 400 {
		switch r.IntN(3) {
		case 0:
			id := ids[r.IntN(len(ids))]
			var ns []bot.Notice
			for i := range r.IntN(3) {
				n := notice(id, fmt.Sprintf("s%d.%d", step, i))
				n.NextAttempt = at(r.IntN(20))
				ns = append(ns, n)
			}
			commitNotices(t, db, id, ns...)
		default:
			rows, release := mustClaimNotices(t, db, at(r.IntN(20)), 1+r.IntN(3))
			for _, n := range rows {
				n.Attempts++
				n.State = states[r.IntN(len(states))]
				n.NextAttempt = at(r.IntN(20))
				if err := db.MarkNotice(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			release()
		}
		checkNoticeIndexes(t, db)
		if t.Failed() {
			t.Fatalf("indexes broke at step %d", step)
		}
	}
}

// checkNoticeIndexes compares every notice index with the notices.
func checkNoticeIndexes(tb testing.TB, db *DB) {
	tb.Helper()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		pending, heads, due := map[string]bool{}, map[string]string{}, map[string]string{}
		stats := map[string]uint64{}
		err := tx.Bucket(bucketNotices).ForEach(func(k, v []byte) error {
			var n bot.Notice
			if err := decode(v, &n, "notice"); err != nil {
				return err
			}
			if n.ID != noticeID(k) {
				tb.Errorf("notice under %x has id %q", k, n.ID)
			}
			ck, ok := caseKey(n.CaseID)
			if !ok {
				tb.Errorf("notice %s has case id %q", n.ID, n.CaseID)
				return nil
			}
			stats[string(n.State)]++
			if n.State == bot.OutboundPending {
				pending[string(ck)+string(k)] = true
				if _, ok := heads[string(ck)]; !ok { // notices come in id order: the first is the head
					d := string(dueKey(n.NextAttempt, k))
					heads[string(ck)], due[d] = d, string(ck)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		gotPending, gotHeads, gotDue := map[string]bool{}, map[string]string{}, map[string]string{}
		tx.Bucket(bucketNoticesPending).ForEach(func(k, _ []byte) error { gotPending[string(k)] = true; return nil })
		tx.Bucket(bucketNoticesHeads).ForEach(func(k, v []byte) error { gotHeads[string(k)] = string(v); return nil })
		tx.Bucket(bucketNoticesDue).ForEach(func(k, v []byte) error { gotDue[string(k)] = string(v); return nil })
		for _, ix := range []struct {
			name      string
			want, got any
		}{
			{"notices_pending", pending, gotPending},
			{"notices_heads", heads, gotHeads},
			{"notices_due", due, gotDue},
		} {
			if diff := cmp.Diff(ix.want, ix.got); diff != "" {
				tb.Errorf("%s out of line with notices (-notices +index):\n%s", ix.name, diff)
			}
		}
		gotStats := map[string]uint64{}
		tx.Bucket(bucketNoticesStats).ForEach(func(k, v []byte) error {
			if n := binary.BigEndian.Uint64(v); n > 0 {
				gotStats[string(k)] = n
			}
			return nil
		})
		if diff := cmp.Diff(stats, gotStats); diff != "" {
			tb.Errorf("notices_stats out of line with notices (-notices +counts):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("checkNoticeIndexes: %v", err)
	}
}
