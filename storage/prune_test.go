package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// TestPruneOutbox: only sent rows made and last due before the cutoff go,
// with their index entries; rows in any other state, newer rows and a row a
// claim holds stay, and a late status for a row gone finds nothing.
func TestPruneOutbox(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	const a, b = "5511987654321", "5521912345678"
	row := func(client, text string, created, due int) bot.Outbound {
		o := outbound(client, text)
		o.Created, o.NextAttempt = at(created), at(due)
		return o
	}
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(a, ""), Outbox: []bot.Outbound{
		row(a, "old sent", 1, 1), row(a, "old parked", 2, 2), row(a, "old sent late", 3, 12),
	}})
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(b, ""), Outbox: []bot.Outbound{
		row(b, "old sent b", 4, 4), row(b, "old failed", 5, 5), row(b, "old sent b2", 6, 6), row(b, "new sent", 20, 20),
	}})
	rowsOf := func(client string) map[string]bot.Outbound {
		t.Helper()
		rows, err := db.OutboundRows(ctx, client)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bot.Outbound{}
		for _, r := range rows {
			// By the message it answers: a sent row keeps no text.
			m[strings.TrimPrefix(r.InReplyTo, "wamid.in.")] = r
		}
		return m
	}
	// Settle every row as its text says, through the dispatcher's calls.
	settle := func(r bot.Outbound, state bot.OutboundState, metaID string) {
		t.Helper()
		r.State, r.MetaID, r.Attempts = state, metaID, 1
		if err := db.MarkOutbound(ctx, r); err != nil {
			t.Fatalf("MarkOutbound(%s) error = %v", r.Reply.Text, err)
		}
	}
	ra, rb := rowsOf(a), rowsOf(b)
	settle(ra["old sent"], bot.OutboundSent, "wamid.out.1")
	settle(ra["old parked"], bot.OutboundParked, "")
	settle(ra["old sent late"], bot.OutboundSent, "wamid.out.3")
	settle(rb["old sent b"], bot.OutboundSent, "wamid.out.4")
	settle(rb["old failed"], bot.OutboundFailed, "")
	settle(rb["new sent"], bot.OutboundSent, "wamid.out.7")
	// b's next row is claimed, and settled as sent by Meta's status while
	// the claim still holds it: it stays until the claim lets go.
	claimed, release := mustClaimOutbound(t, db, at(30), 5)
	if i := slices.IndexFunc(claimed, func(r bot.Outbound) bool { return r.Reply.Text == "old sent b2" }); i < 0 {
		t.Fatalf("ClaimOutbound() = %v, want old sent b2 among them", texts(claimed))
	}
	held := rb["old sent b2"]
	if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.6", Status: "sent", Recipient: b,
		Ref: bot.OutboundRef(held.ID, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	wantStats(t, db, 0, 5, 1, 1)

	if n, err := db.PruneOutbox(ctx, at(10), 1); err != nil || n != 1 {
		t.Errorf("PruneOutbox(limit 1) = %d, %v; want 1", n, err)
	}
	if n, err := db.PruneOutbox(ctx, at(10), 100); err != nil || n != 1 {
		t.Errorf("PruneOutbox() = %d, %v; want 1 (old sent b; old sent late was due after the cutoff, b2 is held)", n, err)
	}
	checkIndexes(t, db)
	wantStats(t, db, 0, 3, 1, 1)
	got := func(client string) []string {
		var s []string
		for text := range rowsOf(client) {
			s = append(s, text)
		}
		slices.Sort(s)
		return s
	}
	if want := []string{"old parked", "old sent late"}; !slices.Equal(got(a), want) {
		t.Errorf("rows of a = %v, want %v", got(a), want)
	}
	if want := []string{"new sent", "old failed", "old sent b2"}; !slices.Equal(got(b), want) {
		t.Errorf("rows of b = %v, want %v", got(b), want)
	}
	for _, r := range []bot.Receipt{
		{MetaID: "wamid.out.1", Status: "read"},
		{MetaID: "wamid.other", Status: "read", Recipient: a, Ref: bot.OutboundRef(ra["old sent"].ID, 1, 1)},
	} {
		if err := db.OutboundStatus(ctx, r); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("OutboundStatus(%+v) for a pruned row: error = %v, want ErrNotFound", r, err)
		}
	}

	release()
	if n, err := db.PruneOutbox(ctx, at(10), 100); err != nil || n != 1 {
		t.Errorf("PruneOutbox() after the claim ended = %d, %v; want 1", n, err)
	}
	if n, err := db.PruneOutbox(ctx, at(15), 100); err != nil || n != 1 {
		t.Errorf("PruneOutbox(later cutoff) = %d, %v; want 1 (old sent late)", n, err)
	}
	if n, err := db.PruneOutbox(ctx, at(10), 100); err != nil || n != 0 {
		t.Errorf("PruneOutbox() with nothing left = %d, %v; want 0", n, err)
	}
	checkIndexes(t, db)
	wantStats(t, db, 0, 1, 1, 1)
	if want := []string{"new sent", "old failed"}; !slices.Equal(got(b), want) {
		t.Errorf("rows of b = %v, want %v", got(b), want)
	}
}

// TestOutboxPagesFilled: outbox rows, appended in id order by turns
// committed together and then marked sent one by one, fill the pages of
// outbox_sent well past bbolt's default half, and leave none in outbox.
func TestOutboxPagesFilled(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	// About the size of the greeting with its three buttons: 1.1 kB.
	text := strings.Repeat("a reply of about a kilobyte ", 25)
	for i := range 50 {
		client := fmt.Sprintf("55119%08d", i)
		var out []bot.Outbound
		for j := range 6 {
			row := outbound(client, text)
			row.InReplyTo = fmt.Sprintf("wamid.in.%d.%d", i, j)
			out = append(out, row)
		}
		mustCommit(t, db, bot.Turn{Conversation: sampleConversation(client, ""), Outbox: out})
		rows, err := db.OutboundRows(ctx, client)
		if err != nil || len(rows) != len(out) {
			t.Fatalf("OutboundRows() = %v, %v", rows, err)
		}
		for j, r := range rows {
			markSent(t, db, r, fmt.Sprintf("wamid.out.%d.%d", i, j))
		}
	}
	var owed, st bolt.BucketStats
	err := db.bolt.View(func(tx *bolt.Tx) error {
		owed, st = tx.Bucket(bucketOutbox).Stats(), tx.Bucket(bucketOutboxSent).Stats()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if owed.KeyN != 0 || owed.LeafPageN != 0 {
		t.Errorf("outbox holds %d rows in %d leaf pages with every reply sent, want none", owed.KeyN, owed.LeafPageN)
	}
	fill := float64(st.LeafInuse) / float64(st.LeafAlloc)
	t.Logf("outbox_sent: %d rows of %d bytes in %d leaf pages, %.0f%% in use", st.KeyN, st.LeafInuse/st.KeyN, st.LeafPageN, 100*fill)
	if fill < 0.7 {
		t.Errorf("outbox_sent leaf pages %.0f%% in use, want at least 70%%", 100*fill)
	}
}
