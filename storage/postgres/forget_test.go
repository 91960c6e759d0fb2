package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"portabot/bot"
	"portabot/fsm"
	"portabot/storage/storetest"
)

// scanRows reports which of needles appear in any row of any table, read
// as text. Old row versions VACUUM has not yet reclaimed are not rows; the
// README leaves them to the database's housekeeping.
func scanRows(t *testing.T, db *DB, needles ...string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	var found []string
	for _, table := range tables {
		// bytea columns read as hex in text; sealed ones are opaque anyway.
		r, err := db.pool.Query(ctx, fmt.Sprintf(`SELECT t::text FROM %q t`, table))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var row string
			if err := r.Scan(&row); err != nil {
				t.Fatal(err)
			}
			for _, n := range needles {
				if strings.Contains(row, n) {
					found = append(found, fmt.Sprintf("%q in %s", n, table))
				}
			}
		}
		r.Close()
	}
	return found
}

const (
	goneClient = "5511987654321"
	goneText   = "meu cachorro se chama Biscoito"
)

var goneBytes = []string{goneClient, "+" + goneClient, "11987654321", goneText}

// seedClient writes a port of client with replies, notices with their
// words, processed and waiting messages, and a business token.
func seedClient(t *testing.T, db *DB, client, text string, turns int) string {
	t.Helper()
	ctx := context.Background()
	id := storetest.MustNewCaseID(t, db)
	c := storetest.SampleCase(id, client)
	c.Phone, c.National, c.ClientPhone, c.InFlight = "+"+client, client[2:], client, ""
	conv := storetest.SampleConversation(client, id)
	for i := range turns {
		c.State = fsm.AwaitCode
		if i == turns-1 {
			c.State, c.Closed = fsm.Done, storetest.At(10)
		}
		m := bot.Inbound{ID: fmt.Sprintf("wamid.%s.%d", client, i), From: client, Text: text, At: storetest.At(i)}
		storetest.MustEnqueue(t, db, m)
		reply := storetest.Outbound(client, fmt.Sprintf("reply %d to +%s", i, client))
		reply.InReplyTo = m.ID
		storetest.MustCommit(t, db, bot.Turn{MessageID: m.ID, Conversation: conv, Case: &c,
			Audit:   []bot.AuditEvent{{Actor: "client", Kind: "stale_button", Detail: text + " +" + client}},
			Outbox:  []bot.Outbound{reply},
			Notices: []bot.Notice{{Kind: bot.NoticeClientMessage, Text: "Client: " + text, Created: storetest.At(i), NextAttempt: storetest.At(i)}}})
	}
	storetest.MustEnqueue(t, db, bot.Inbound{ID: "wamid.wait." + client, From: client, Text: text, At: storetest.At(20)})
	if err := db.PutBusinessToken(ctx, id, "104996122399160", "EAAG-token"); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestForgetLeavesNoRowOfTheClient(t *testing.T) {
	admin(t)
	ctx := context.Background()
	db := mustOpen(t, freshDatabase(t))
	seedClient(t, db, goneClient, goneText, 10)
	seedClient(t, db, "5521912345678", "quero portar a padaria", 3)
	if found := scanRows(t, db, goneBytes...); len(found) == 0 {
		t.Fatal("the client is in no row before the erasure: the scan proves nothing")
	}
	got, err := db.Forget(ctx, bot.ForgetRequest{Number: goneClient, Actor: "U0DPO"})
	if err != nil {
		t.Fatalf("Forget() error = %v", err)
	}
	if len(got.Cases) != 1 || got.Conversations != 1 || got.AuditEvents != 10 || got.Outbox != 10 || got.Notices != 10 ||
		got.Inbox != 1 || got.Tokens != 1 {
		t.Errorf("Forget() = %+v", got)
	}
	if found := scanRows(t, db, goneBytes...); len(found) > 0 {
		t.Errorf("after Forget rows still hold: %v", found)
	}
	if found := scanRows(t, db, "5521912345678"); len(found) == 0 {
		t.Error("the other client is gone too")
	}
}

func TestRetentionLeavesNoRowOfTheClient(t *testing.T) {
	admin(t)
	ctx := context.Background()
	db := mustOpen(t, freshDatabase(t))
	seedClient(t, db, goneClient, goneText, 10)
	// The waiting message was processed, and the notices sent.
	conv, _ := db.Conversation(ctx, goneClient)
	storetest.MustCommit(t, db, bot.Turn{MessageID: "wamid.wait." + goneClient, Conversation: conv})
	for {
		rows, release := storetest.MustClaimNotices(t, db, time.Now(), 100)
		for _, n := range rows {
			storetest.MarkNoticeSent(t, db, n)
		}
		release()
		if len(rows) == 0 {
			break
		}
	}
	before := time.Now().Add(24 * time.Hour)
	for {
		n, err := db.Expire(ctx, before, 4)
		if err != nil {
			t.Fatal(err)
		}
		if n < 4 {
			break
		}
	}
	for {
		n, err := db.PruneProcessed(ctx, before, 4)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if found := scanRows(t, db, goneBytes...); len(found) > 0 {
		t.Errorf("after retention rows still hold: %v", found)
	}
	cs, _ := db.Cases(ctx)
	if len(cs) != 1 || cs[0].Phone != bot.Pseudonym(bot.PseudonymKey(testKey), goneClient) {
		t.Errorf("cases after retention = %+v; want the one with its number as the keyed hash", cs)
	}
}
