package postgres

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"portabot/bot"
	"portabot/storage/storetest"
)

func TestBusinessTokenIsSealedAndBoundToItsCase(t *testing.T) {
	url := freshDatabase(t)
	db := mustOpen(t, url)
	ctx := context.Background()
	id, err := db.NewCaseID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.SampleCase(id, "5511987654321")
	storetest.MustCommit(t, db, bot.Turn{Conversation: storetest.SampleConversation(c.Client, id), Case: &c})
	const token = "EAAGm0PX4ZCpsBA-business-token"
	if err := db.PutBusinessToken(ctx, id, "102290129340398", token); err != nil {
		t.Fatal(err)
	}
	waba, got, err := db.BusinessToken(ctx, id)
	if err != nil || waba != "102290129340398" || got != token {
		t.Fatalf("BusinessToken = %q, %q, %v; want the WABA and the token", waba, got, err)
	}
	var sealed []byte
	if err := db.pool.QueryRow(ctx, `SELECT sealed FROM business_tokens`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(token)) {
		t.Error("the business token is stored in the clear")
	}
	// Moved onto another case, the sealed value does not open.
	if _, err := db.pool.Exec(ctx, `UPDATE business_tokens SET case_id = case_id + 1`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.BusinessToken(ctx, id); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("BusinessToken of the case after its row moved = %v, want not found", err)
	}
	n, _ := strconv.Atoi(id)
	if _, _, err := db.BusinessToken(ctx, strconv.Itoa(n+1)); err == nil {
		t.Error("a token copied onto another case opened")
	}
}

func TestSlackTriggersRefuseAReplayAcrossReplicas(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := context.Background()
	exp := time.Now().Add(5 * time.Minute)
	if seen, err := a.RememberTrigger(ctx, "13345224609.738474920.8088930838d88f008e0", exp); err != nil || seen {
		t.Fatalf("first sight = %v, %v; want new", seen, err)
	}
	if seen, err := b.RememberTrigger(ctx, "13345224609.738474920.8088930838d88f008e0", exp); err != nil || !seen {
		t.Errorf("the same trigger on another replica = %v, %v; want a replay", seen, err)
	}
	if seen, err := b.RememberTrigger(ctx, "other", exp); err != nil || seen {
		t.Errorf("another trigger = %v, %v; want new", seen, err)
	}
}

func TestAuditRefusalAndHealth(t *testing.T) {
	db := mustOpen(t, freshDatabase(t))
	ctx := context.Background()
	if err := db.AuditRefusal(ctx, "41", "U0STRANGER", "takeover"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("refusal on an unknown case = %v, want not found", err)
	}
	id, err := db.NewCaseID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.SampleCase(id, "5511987654321")
	storetest.MustCommit(t, db, bot.Turn{Conversation: storetest.SampleConversation(c.Client, id), Case: &c})
	if err := db.AuditRefusal(ctx, id, "U0STRANGER", "takeover"); err != nil {
		t.Fatal(err)
	}
	events, err := db.Audit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Kind != "refused" || last.Actor != "U0STRANGER" || last.Detail != "takeover" {
		t.Errorf("last audit event %+v, want the refusal", last)
	}
	if err := db.Health(ctx); err != nil {
		t.Errorf("Health on a live database = %v", err)
	}
}
