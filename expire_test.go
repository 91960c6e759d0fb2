package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"portabot/bot"
	"portabot/fsm"
	"portabot/storage"
)

func TestRetentionConfig(t *testing.T) {
	cfg, err := loadServeConfig(sandboxGetenv(nil))
	if err != nil || cfg.Retention != 180*24*time.Hour {
		t.Errorf("default PORTABOT_RETENTION: %v, %v; want 180 days", cfg.Retention, err)
	}
	for v, want := range map[string]time.Duration{"0": 0, "24h": 24 * time.Hour, "8760h": 365 * 24 * time.Hour} {
		cfg, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_RETENTION": v}))
		if err != nil || cfg.Retention != want {
			t.Errorf("PORTABOT_RETENTION=%q: %v, %v; want %v", v, cfg.Retention, err, want)
		}
	}
	for _, v := range []string{"-1h", "1h", "100000h", "180d"} {
		if _, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_RETENTION": v})); err == nil {
			t.Errorf("PORTABOT_RETENTION=%q accepted, want an error", v)
		}
	}
}

// TestRetentionPass: serve's pruner, on a test clock 181 days after a
// case closed, replaces its numbers, drops its idle conversation, prunes
// the processed markers, scrubs the freed pages, and counts each.
func TestRetentionPass(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, storage.KeySize)
	st, err := storage.Open(filepath.Join(t.TempDir(), "portabot.db"), storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	closed := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	const client = "5511987654321"
	var ids []string
	for range 3 {
		id, err := st.NewCaseID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		c := bot.Case{ID: id, Client: client, ClientPhone: client, Phone: "+" + client, State: fsm.Done,
			Created: closed, Updated: closed, Closed: closed}
		conv := bot.Conversation{Key: client, Phone: client, State: fsm.Done, CaseID: id, Created: closed, Updated: closed, LastSeen: closed}
		if err := st.Commit(ctx, bot.Turn{MessageID: "wamid." + id, Conversation: conv, Case: &c}); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string]int{}
	report := func(kind string, n int) { counts[kind] += n }
	now := func() time.Time { return time.Now().Add(181 * 24 * time.Hour) }
	if err := retentionPass(ctx, st, defaultRetention, now, report, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// Three cases and the conversation; the three markers (set now, 181
	// days before the test clock).
	if counts["expired"] != 4 || counts["processed_markers"] != 3 || counts["pages_scrubbed"] == 0 {
		t.Errorf("retention counted %v; want 4 expired, 3 markers and some pages scrubbed", counts)
	}
	for _, id := range ids {
		c, _ := st.Case(ctx, id)
		if c.Phone != bot.Pseudonym(bot.PseudonymKey(key), client) {
			t.Errorf("case %s after retention has phone %q, want the keyed hash", id, c.Phone)
		}
	}
	// Nothing is due any more: a second pass removes nothing.
	clear(counts)
	if err := retentionPass(ctx, st, defaultRetention, now, report, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if counts["expired"]+counts["processed_markers"]+counts["pages_scrubbed"] != 0 {
		t.Errorf("a second pass removed %v, want nothing", counts)
	}
}
