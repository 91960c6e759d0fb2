package storage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"portabot/bot"
)

// A captured signed Slack action must still be refused after a restart,
// until Slack itself would refuse its signature.
func TestTriggersSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	now := at(0)
	clock := func() time.Time { return now }
	db, err := Open(path, WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	if seen, err := db.RememberTrigger(ctx, "13345224609.738474920.8088930838d88f008e0", now.Add(11*time.Minute)); err != nil || seen {
		t.Fatalf("first RememberTrigger = %v, %v; want false, nil", seen, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path, WithClock(clock))
	if seen, err := db.RememberTrigger(ctx, "13345224609.738474920.8088930838d88f008e0", now.Add(11*time.Minute)); err != nil || !seen {
		t.Errorf("RememberTrigger after reopen = %v, %v; want a replay", seen, err)
	}
	now = now.Add(12 * time.Minute)
	if seen, err := db.RememberTrigger(ctx, "13345224609.738474920.8088930838d88f008e0", now.Add(11*time.Minute)); err != nil || seen {
		t.Errorf("RememberTrigger once expired = %v, %v; want it taken as new", seen, err)
	}
}

func TestAuditRefusal(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	id := mustNewCaseID(t, db)
	conv := sampleConversation("5511987654321", id)
	c := sampleCase(id, conv.Key)
	mustCommit(t, db, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c})
	if err := db.AuditRefusal(ctx, id, "U0READER", "takeover"); err != nil {
		t.Fatal(err)
	}
	events, err := db.Audit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(events); n == 0 || events[n-1].Actor != "U0READER" || events[n-1].Kind != "refused" || events[n-1].Detail != "takeover" {
		t.Errorf("audit after a refusal: %+v", events)
	}
	if err := db.AuditRefusal(ctx, "999", "U0READER", "takeover"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("refusal on a missing case: %v, want ErrNotFound", err)
	}
}
