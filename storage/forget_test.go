package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/fsm"
)

// The client whose traces the erasure and retention tests look for, and one
// who stays.
const (
	goneClient   = "5511987654321"
	goneNational = "11987654321"
	goneText     = "meu cachorro se chama Biscoito"
	keptClient   = "5521912345678"
)

// goneBytes are the forms the erased client's number and words may take
// in a file. Masked forms (+55*******4321) are not personal data.
var goneBytes = []string{goneClient, "+" + goneClient, goneNational, goneText}

// scanFiles reports which of needles are in any byte of the store's files.
func scanFiles(t *testing.T, path string, needles ...string) []string {
	t.Helper()
	var found []string
	for _, p := range []string{path, InboxPath(path)} {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(raw, []byte(n)) {
				found = append(found, fmt.Sprintf("%q in %s", n, p))
			}
		}
	}
	return found
}

// seedClient writes many turns of client's port, so that copies of their
// rows spread over pages bbolt has since freed: a conversation rewritten
// each turn, audit, replies, notices with their words, messages waiting in
// the inbox and messages already processed.
func seedClient(t *testing.T, db *DB, client, text string, turns int) string {
	t.Helper()
	ctx := context.Background()
	id := mustNewCaseID(t, db)
	c := sampleCase(id, client)
	c.Phone, c.National, c.ClientPhone, c.InFlight = "+"+client, client[2:], client, ""
	conv := sampleConversation(client, id)
	for i := range turns {
		c.State = fsm.AwaitCode
		if i == turns-1 {
			c.State, c.Closed = fsm.Done, at(10)
		}
		conv.Delivered = i
		msgs := []bot.Inbound{{ID: fmt.Sprintf("wamid.%s.%d", client, i), From: client, Text: text + " " + client, At: at(i)}}
		mustEnqueue(t, db, msgs...)
		mustCommit(t, db, bot.Turn{MessageID: msgs[0].ID, Conversation: conv, Case: &c,
			Audit:   []bot.AuditEvent{{Actor: "client", Kind: "stale_button", Detail: text + " +" + client}},
			Outbox:  []bot.Outbound{reply(client, msgs[0].ID, fmt.Sprintf("reply %d to +%s", i, client))},
			Notices: []bot.Notice{{Kind: bot.NoticeClientMessage, Text: "Client: " + text, Created: at(i), NextAttempt: at(i)}}})
	}
	// Two more wait in the inbox, unprocessed.
	mustEnqueue(t, db, bot.Inbound{ID: "wamid.wait1." + client, From: client, Text: text, At: at(20)},
		bot.Inbound{ID: "wamid.wait2." + client, From: client, Text: text, At: at(21)})
	if err := db.PutBusinessToken(ctx, id, "104996122399160", "EAAG-token-"+client); err != nil {
		t.Fatal(err)
	}
	return id
}

// reply is a pending reply to client answering message id.
func reply(client, id, text string) bot.Outbound {
	o := outbound(client, text)
	o.InReplyTo = id
	return o
}

// checkTx is bbolt's consistency check of tx's file.
func checkTx(tx *bolt.Tx) error {
	for err := range tx.Check() {
		return err
	}
	return nil
}

func TestForgetLeavesNoByteOfTheClient(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	id := seedClient(t, db, goneClient, goneText, 60)
	keptID := seedClient(t, db, keptClient, "quero portar a padaria", 5)
	// Settled by now, so the rows are where serve leaves them.
	if err := db.settleDrops(ctx); err != nil {
		t.Fatal(err)
	}
	if found := scanFiles(t, db.Path(), goneBytes...); len(found) == 0 {
		t.Fatal("the client's number is in no file before the erasure: the scan proves nothing")
	}

	got, err := db.Forget(ctx, bot.ForgetRequest{Number: goneClient, Actor: "U0DPO", At: at(500)})
	if err != nil {
		t.Fatalf("Forget() error = %v", err)
	}
	if len(got.Cases) != 1 || got.Cases[0] != id || got.Conversations != 1 || got.AuditEvents != 60 ||
		got.Notices != 60 || got.Outbox != 60 || got.Inbox < 2 || got.Tokens != 1 {
		t.Errorf("Forget() = %+v; want case %s, 1 conversation, 60 audit events, 60 notices, 60 replies, the 2 waiting messages, 1 token", got, id)
	}
	if found := scanFiles(t, db.Path(), goneBytes...); len(found) > 0 {
		t.Errorf("after Forget the files still hold: %v", found)
	}
	if found := scanFiles(t, db.Path(), keptClient); len(found) == 0 {
		t.Error("the other client's number is gone too")
	}
	tomb, err := db.Case(ctx, id)
	if err != nil || tomb.Erased.IsZero() || tomb.ErasedBy != "U0DPO" || tomb.Phone != "" || tomb.Client != "" {
		t.Errorf("Case(%s) after Forget = %+v, %v; want a tombstone erased by U0DPO without numbers", id, tomb, err)
	}
	audit, _ := db.Audit(ctx, id)
	if len(audit) != 1 || audit[0].Kind != "erased" || audit[0].Actor != "U0DPO" {
		t.Errorf("Audit(%s) after Forget = %+v; want the one erased event", id, audit)
	}
	if _, err := db.Conversation(ctx, goneClient); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Conversation(%s) after Forget: %v, want not found", goneClient, err)
	}
	if c, err := db.Case(ctx, keptID); err != nil || c.Phone != "+"+keptClient {
		t.Errorf("the other client's case = %+v, %v; want it untouched", c, err)
	}
	// The store is still whole for bbolt, zeroed pages and all.
	if err := db.bolt.View(func(tx *bolt.Tx) error { return checkTx(tx) }); err != nil {
		t.Errorf("bbolt check after Forget: %v", err)
	}
}

// deliverNotices marks every pending notice sent, as the dispatcher would
// have long before retention.
func deliverNotices(t *testing.T, db *DB) {
	t.Helper()
	for {
		rows, release := mustClaimNotices(t, db, time.Now(), 100)
		for _, n := range rows {
			markNoticeSent(t, db, n)
		}
		release()
		if len(rows) == 0 {
			return
		}
	}
}

func TestRetentionLeavesNoByteOfTheClient(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	id := seedClient(t, db, goneClient, goneText, 60)
	keptID := seedClient(t, db, keptClient, "quero portar a padaria", 5)
	// The other client's port is open again and they wrote today.
	kept, _ := db.Case(ctx, keptID)
	kept.State, kept.Closed = fsm.AwaitCode, time.Time{}
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(keptClient, keptID), Case: &kept})
	// The messages that waited were processed, and their notices sent.
	for _, c := range []string{goneClient, keptClient} {
		for _, w := range []string{"wamid.wait1.", "wamid.wait2."} {
			conv, _ := db.Conversation(ctx, c)
			mustCommit(t, db, bot.Turn{MessageID: w + c, Conversation: conv})
		}
	}
	if err := db.settleDrops(ctx); err != nil {
		t.Fatal(err)
	}
	deliverNotices(t, db)

	// The test clock: 180 days of retention ended a day from now, so
	// everything written so far is older.
	before := time.Now().Add(24 * time.Hour)
	total := 0
	for {
		n, err := db.Expire(ctx, before, 7)
		if err != nil {
			t.Fatalf("Expire() error = %v", err)
		}
		total += n
		if n < 7 {
			break
		}
	}
	// The closed case, its idle conversation, and the notices of both
	// clients (60 and 5, all sent).
	if total != 2+65 {
		t.Errorf("Expire() expired %d cases, conversations and notices, want 67", total)
	}
	for {
		n, err := db.PruneProcessed(ctx, before, 25)
		if err != nil {
			t.Fatalf("PruneProcessed() error = %v", err)
		}
		if n == 0 {
			break
		}
	}
	if found := scanFiles(t, db.Path(), goneBytes...); len(found) == 0 {
		t.Error("nothing of the client left before the scrub: the scan proves nothing")
	}
	if _, err := db.Scrub(ctx); err != nil {
		t.Fatalf("Scrub() error = %v", err)
	}
	if found := scanFiles(t, db.Path(), goneBytes...); len(found) > 0 {
		t.Errorf("after retention the files still hold: %v", found)
	}
	c, err := db.Case(ctx, id)
	pk := bot.PseudonymKey(testKey)
	if err != nil || c.Phone != bot.Pseudonym(pk, goneClient) || c.Client != bot.Pseudonym(pk, goneClient) || c.Expired.IsZero() {
		t.Errorf("Case(%s) after retention = %+v, %v; want the numbers replaced by the keyed hash a returning client gets", id, c, err)
	}
	if c.State != fsm.Done || c.WABA == "" || c.TraceID == "" {
		t.Errorf("Case(%s) after retention lost what is not personal: %+v", id, c)
	}
	audit, _ := db.Audit(ctx, id)
	if len(audit) != 60 {
		t.Errorf("the audit of case %s has %d events after retention, want its 60 kept without their detail", id, len(audit))
	}
	if c, err := db.Case(ctx, keptID); err != nil || c.Phone != "+"+keptClient {
		t.Errorf("the open case = %+v, %v; want it untouched", c, err)
	}
	if found := scanFiles(t, db.Path(), keptClient, "quero portar a padaria"); len(found) != 2 {
		t.Errorf("the open case's client is not all there: %v", found)
	}
	if ok, _ := db.Processed(ctx, "wamid."+keptClient+".1"); ok {
		t.Error("a processed marker older than the cutoff is still there")
	}
}

// TestScrubSparesPagesAReaderHolds: a read transaction that began before
// the erasure still sees the pages the erasure freed; Scrub leaves them,
// says so, and the reader reads its rows whole. Once the reader is done,
// the next Scrub zeroes them.
func TestScrubSparesPagesAReaderHolds(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	seedClient(t, db, goneClient, goneText, 30)
	if err := db.settleDrops(ctx); err != nil {
		t.Fatal(err)
	}
	reader, err := db.bolt.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	read := func() string {
		var all []byte
		_ = reader.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			all = append(all, v...)
			return nil
		})
		return string(all)
	}
	before := read()
	if _, err := db.Forget(ctx, bot.ForgetRequest{Number: goneClient, Actor: "ops"}); err != nil {
		t.Fatalf("Forget() error = %v", err)
	}
	st, err := db.Scrub(ctx)
	if err != nil || !st.Held || !db.ScrubOwed() {
		t.Errorf("Scrub() with a reader open = %+v, %v, owed %v; want the held pages left, and owed", st, err, db.ScrubOwed())
	}
	if got := read(); got != before || !strings.Contains(got, goneText) {
		t.Error("the reader's view changed under it: Scrub zeroed a page it still held")
	}
	if err := reader.Rollback(); err != nil {
		t.Fatal(err)
	}
	if found := scanFiles(t, db.Path(), goneBytes...); len(found) == 0 {
		t.Fatal("nothing left to scrub: the test proves nothing")
	}
	st, err = db.Scrub(ctx)
	if err != nil || st.Held || st.Zeroed == 0 || db.ScrubOwed() {
		t.Errorf("Scrub() once the reader is done = %+v, %v, owed %v; want pages zeroed and nothing owed", st, err, db.ScrubOwed())
	}
	if found := scanFiles(t, db.Path(), goneBytes...); len(found) > 0 {
		t.Errorf("after the second Scrub the files still hold: %v", found)
	}
}
