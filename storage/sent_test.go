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
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// longReply is about the size of the bot's longer replies: a paragraph of
// instructions and two buttons.
var longReply = bot.Reply{
	Text:    strings.Repeat("Seu número foi adicionado à conta da empresa. ", 17),
	Buttons: []bot.Button{{ID: "yes", Title: "Sim, continuar"}, {ID: "no", Title: "Não, cancelar"}},
}

// storedRow is the raw value of outbox row id, and whether it is kept in
// outbox_sent rather than outbox.
func storedRow(tb testing.TB, db *DB, id string) (data []byte, sent bool) {
	tb.Helper()
	idk, ok := outboundKey(id)
	if !ok {
		tb.Fatalf("bad row id %q", id)
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		owed, done := tx.Bucket(bucketOutbox).Get(idk), tx.Bucket(bucketOutboxSent).Get(idk)
		if (owed == nil) == (done == nil) {
			tb.Fatalf("row %s is stored in outbox: %v, in outbox_sent: %v; want exactly one", id, owed != nil, done != nil)
		}
		data, sent = bytes.Clone(owed), done != nil
		if sent {
			data = bytes.Clone(done)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return data, sent
}

// wantNoReply fails unless row id is stored as sent and holds nothing of
// reply, while read back it is want with an empty Reply.
func wantNoReply(tb testing.TB, db *DB, want bot.Outbound, reply bot.Reply) {
	tb.Helper()
	data, sent := storedRow(tb, db, want.ID)
	if !sent {
		tb.Errorf("sent row %s is not in outbox_sent", want.ID)
	}
	for _, s := range []string{reply.Text[:40], reply.Buttons[0].Title, reply.Buttons[0].ID + `"`} {
		if bytes.Contains(data, []byte(s)) {
			tb.Errorf("sent row %s still holds %q of its reply (%d bytes): %s", want.ID, s, len(data), data)
		}
	}
	if len(data) >= 500 {
		tb.Errorf("sent row %s is %d bytes, want under 500", want.ID, len(data))
	}
	got, err := db.Outbound(context.Background(), want.ID)
	if err != nil {
		tb.Fatal(err)
	}
	want.Reply = bot.Reply{}
	if diff := cmp.Diff(want, got); diff != "" {
		tb.Errorf("sent row read back (-want +got):\n%s", diff)
	}
}

// wantReply fails unless row id is stored among the rows owed and reads
// back with reply whole.
func wantReply(tb testing.TB, db *DB, id string, reply bot.Reply) {
	tb.Helper()
	data, sent := storedRow(tb, db, id)
	if sent || !bytes.Contains(data, []byte(reply.Text)) {
		tb.Errorf("row %s in outbox_sent: %v, holds its text: %v; want it in outbox, text and all", id, sent, bytes.Contains(data, []byte(reply.Text)))
	}
	got, err := db.Outbound(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	if diff := cmp.Diff(reply, got.Reply); diff != "" {
		tb.Errorf("row %s reply (-want +got):\n%s", id, diff)
	}
}

// TestSentRowKeepsNoReply: a row Meta accepted is stored without its reply,
// whether the dispatcher marked it or a status settled it while its send
// was in doubt, and only then: a reply part of which Meta took keeps its
// text. Everything else stays, statuses go on recording on it (a "failed"
// after "sent" included), and nothing sends it again.
func TestSentRowKeepsNoReply(t *testing.T) {
	ctx := context.Background()
	const client = "5511987654321"
	for _, tc := range []struct {
		name string
		// settle makes the claimed row r sent and returns it as it
		// should be stored.
		settle func(t *testing.T, db *DB, r bot.Outbound) bot.Outbound
	}{
		{"marked by the dispatcher", func(t *testing.T, db *DB, r bot.Outbound) bot.Outbound {
			r.State, r.Sending, r.MetaID, r.PartsSent = bot.OutboundSent, time.Time{}, "wamid.out.1", 1
			if err := db.MarkOutbound(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r
		}},
		{"settled by statuses", func(t *testing.T, db *DB, r bot.Outbound) bot.Outbound {
			// The reply went as two messages and the attempt's answer
			// was lost: the first status counts a part, and the row,
			// still owed, keeps its text for the part left.
			if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: "sent", Recipient: client,
				Ref: bot.OutboundRef(r.ID, 1, 2)}); err != nil {
				t.Fatal(err)
			}
			wantReply(t, db, r.ID, longReply)
			if got, err := db.Outbound(ctx, r.ID); err != nil || got.State != bot.OutboundPending || got.PartsSent != 1 {
				t.Fatalf("row after the first part's status = %+v, %v; want pending with one part sent", got, err)
			}
			if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.2", Status: "sent", Recipient: client,
				Ref: bot.OutboundRef(r.ID, 2, 2)}); err != nil {
				t.Fatal(err)
			}
			r.State, r.Sending, r.MetaID, r.PartsSent, r.Status = bot.OutboundSent, time.Time{}, "wamid.out.1", 2, "sent"
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := mustOpen(t)
			row := outbound(client, "")
			row.Reply = longReply
			mustCommit(t, db, bot.Turn{Conversation: sampleConversation(client, ""), Outbox: []bot.Outbound{row}})
			rows, release := mustClaimOutbound(t, db, at(2), 1)
			if len(rows) != 1 {
				t.Fatalf("ClaimOutbound() = %d rows, want 1", len(rows))
			}
			r := rows[0]
			r.Attempts, r.Sending = 1, at(2)
			if err := db.MarkSending(ctx, r); err != nil {
				t.Fatal(err)
			}
			wantReply(t, db, r.ID, longReply)
			want := tc.settle(t, db, r)
			release()
			wantNoReply(t, db, want, longReply)
			wantStats(t, db, 0, 1, 0, 0)
			checkIndexes(t, db)

			// The attempt's own mark, late and carrying the reply, stores
			// no text either, and cannot make the row owed again.
			late := r
			late.State, late.Sending, late.MetaID, late.PartsSent = bot.OutboundSent, time.Time{}, "wamid.out.1", 2
			if err := db.MarkOutbound(ctx, late); err != nil {
				t.Fatal(err)
			}
			want.PartsSent = max(want.PartsSent, late.PartsSent)
			wantNoReply(t, db, want, longReply)
			late.State, late.NextAttempt = bot.OutboundPending, at(3)
			if err := db.MarkOutbound(ctx, late); !errors.Is(err, bot.ErrAlreadySent) {
				t.Errorf("MarkOutbound(pending) of a sent row error = %v, want ErrAlreadySent", err)
			}

			for _, st := range []struct{ status, detail, error string }{
				{"delivered", "", ""},
				{"read", "", ""},
				{"failed", "131026 message undeliverable", "131026 message undeliverable"},
			} {
				if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: st.status, Detail: st.detail,
					Recipient: client, Ref: bot.OutboundRef(r.ID, 1, 2)}); err != nil {
					t.Fatalf("OutboundStatus(%s) error = %v", st.status, err)
				}
				want.Status, want.Error = st.status, st.error
				wantNoReply(t, db, want, longReply)
			}
			rows, release = mustClaimOutbound(t, db, at(60*24*7), 10)
			if len(rows) != 0 {
				t.Errorf("ClaimOutbound() after a failed status = %+v, want nothing to send", rows)
			}
			release()
			wantStats(t, db, 0, 1, 0, 0)
			checkIndexes(t, db)
		})
	}
}

// TestRowsOwedKeepTheirReply: rows waiting for a retry, parked or failed
// keep their reply, and a failed row made pending again is claimed with it
// whole; it loses it only once sent.
func TestRowsOwedKeepTheirReply(t *testing.T) {
	ctx := context.Background()
	const a, b, c = "5511987654321", "5521912345678", "5531933334444"
	db := mustOpen(t)
	for _, client := range []string{a, b, c} {
		row := outbound(client, "")
		row.Reply = longReply
		mustCommit(t, db, bot.Turn{Conversation: sampleConversation(client, ""), Outbox: []bot.Outbound{row}})
	}
	rows, release := mustClaimOutbound(t, db, at(2), 3)
	if len(rows) != 3 {
		t.Fatalf("ClaimOutbound() = %d rows, want 3", len(rows))
	}
	byClient := map[string]bot.Outbound{}
	for _, r := range rows {
		r.Attempts, r.Error = 1, "Meta said no"
		switch r.To {
		case a:
			r.NextAttempt = at(5)
		case b:
			r.State = bot.OutboundParked
		case c:
			r.State = bot.OutboundFailed
		}
		if err := db.MarkOutbound(ctx, r); err != nil {
			t.Fatal(err)
		}
		byClient[r.To] = r
	}
	release()
	for _, r := range byClient {
		wantReply(t, db, r.ID, longReply)
	}
	wantStats(t, db, 1, 0, 1, 1)

	failed := byClient[c]
	failed.State, failed.NextAttempt, failed.Error = bot.OutboundPending, at(6), ""
	if err := db.MarkOutbound(ctx, failed); err != nil {
		t.Fatal(err)
	}
	rows, release = mustClaimOutbound(t, db, at(6), 3)
	if len(rows) != 2 {
		t.Fatalf("ClaimOutbound() at the retries = %d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if diff := cmp.Diff(longReply, r.Reply); diff != "" {
			t.Errorf("retry of %s claimed with reply (-want +got):\n%s", r.To, diff)
		}
		r.Attempts++
		r.State, r.MetaID, r.PartsSent, r.Error = bot.OutboundSent, "wamid.out."+r.To, 1, ""
		if err := db.MarkOutbound(ctx, r); err != nil {
			t.Fatal(err)
		}
		wantNoReply(t, db, r, longReply)
	}
	release()
	wantReply(t, db, byClient[b].ID, longReply)
	wantStats(t, db, 0, 2, 1, 0)
	checkIndexes(t, db)
}

// TestOpenMovesSchema2SentRows: a file written when sent rows kept their
// reply among the others has them moved to outbox_sent without it, once;
// the rows owed stay as they were, and statuses and pruning find the moved
// rows.
func TestOpenMovesSchema2SentRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	const a, b = "5511987654321", "5521912345678"
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, client := range []string{a, b} {
		row := outbound(client, "")
		row.Reply = longReply
		mustCommit(t, db, bot.Turn{Conversation: sampleConversation(client, ""), Outbox: []bot.Outbound{row}})
	}
	rows, release := mustClaimOutbound(t, db, at(2), 2)
	sent := markSent(t, db, rows[0], "wamid.out.old")
	release()
	owed := rows[1]
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	toSchema2(t, path, longReply)

	db = mustOpenPath(t, path)
	checkIndexes(t, db)
	wantNoReply(t, db, sent, longReply)
	wantReply(t, db, owed.ID, longReply)
	wantStats(t, db, 1, 1, 0, 0)
	if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.old", Status: "read"}); err != nil {
		t.Fatal(err)
	}
	sent.Status = "read"
	wantNoReply(t, db, sent, longReply)
	if n, err := db.PruneOutbox(ctx, at(10), 10); err != nil || n != 1 {
		t.Errorf("PruneOutbox() = %d, %v; want the moved row", n, err)
	}
	rows, release = mustClaimOutbound(t, db, at(2), 2)
	if len(rows) != 1 || rows[0].ID != owed.ID {
		t.Fatalf("ClaimOutbound() = %+v, want the row owed", rows)
	}
	if diff := cmp.Diff(longReply, rows[0].Reply); diff != "" {
		t.Errorf("row owed claimed with reply (-want +got):\n%s", diff)
	}
	release()
	checkIndexes(t, db)
}

// toSchema2 turns the store at path into what schema 2 wrote: every sent
// row, with reply given back to it, in outbox, no outbox_sent bucket, and
// the version set to 2.
func toSchema2(t *testing.T, path string, reply bot.Reply) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		outbox := tx.Bucket(bucketOutbox)
		err := tx.Bucket(bucketOutboxSent).ForEach(func(k, v []byte) error {
			var row bot.Outbound
			if err := decode(v, &row, "outbox row"); err != nil {
				return err
			}
			row.Reply = reply
			data, err := encode(row, "outbox row")
			if err != nil {
				return err
			}
			return outbox.Put(bytes.Clone(k), data)
		})
		if err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketOutboxSent); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkSentReplies: what 5,000 replies of about 800 bytes to as many
// clients leave in the main file once sent and reported delivered, with
// sixteen clients served at a time so that commits group as under load.
// It reports the file's size, the pages in use (the part of the file a
// process maps and touches) and the outbox's leaf pages.
func BenchmarkSentReplies(b *testing.B) {
	const n, parallel = 5000, 16
	ctx := context.Background()
	text := strings.Repeat("Seu número foi adicionado à conta da empresa. ", 17)
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "portabot.db")
		db := mustOpenPath(b, path)
		clients := make(chan int)
		var wg sync.WaitGroup
		for range parallel {
			wg.Go(func() {
				for i := range clients {
					if err := sendOne(ctx, db, i, text); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for i := range n {
			clients <- i
		}
		close(clients)
		wg.Wait()
		var used, leaves int
		err := db.bolt.View(func(tx *bolt.Tx) error {
			used = int(tx.Size())
			for _, name := range [][]byte{bucketOutbox, bucketOutboxSent} {
				leaves += tx.Bucket(name).Stats().LeafPageN
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
		b.ReportMetric(float64(used)/(1<<20), "used-MiB")
		b.ReportMetric(float64(leaves), "outbox-leaf-pages")
	}
}

// sendOne takes reply i of BenchmarkSentReplies the way serve does: the
// turn that writes it, the attempt, its mark, and Meta's statuses.
func sendOne(ctx context.Context, db *DB, i int, text string) error {
	client := fmt.Sprintf("55119%08d", i)
	now := time.Now()
	err := db.Commit(ctx, bot.Turn{Conversation: sampleConversation(client, ""), Outbox: []bot.Outbound{{
		To: client, Reply: bot.Reply{Text: text}, InReplyTo: fmt.Sprintf("wamid.HBgNNTUxMTk5OTk5MDAwMRUCABIYFjNFQjBEMjQ3QzM2MjE0%08d", i),
		LastInbound: now, Created: now, NextAttempt: now, State: bot.OutboundPending}}})
	if err != nil {
		return err
	}
	rows, err := db.OutboundRows(ctx, client)
	if err != nil || len(rows) != 1 {
		return fmt.Errorf("outbox rows of %s: %d, %v", client, len(rows), err)
	}
	r := rows[0]
	r.Attempts, r.Sending = 1, time.Now()
	if err := db.MarkSending(ctx, r); err != nil {
		return err
	}
	r.State, r.Sending, r.PartsSent = bot.OutboundSent, time.Time{}, 1
	r.MetaID = fmt.Sprintf("wamid.HBgNNTUxMTk5OTk5MDAwMRUCABEYEjQ1QjA5Q0ZBRUVC%08d", i)
	if err := db.MarkOutbound(ctx, r); err != nil {
		return err
	}
	for _, status := range []string{"sent", "delivered"} {
		err := db.OutboundStatus(ctx, bot.Receipt{MetaID: r.MetaID, Status: status, Recipient: client, Ref: bot.OutboundRef(r.ID, 1, 1)})
		if err != nil {
			return err
		}
	}
	return nil
}
