package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"portabot/bot"
	"portabot/internal/eventually"
	"portabot/storage"
)

func TestOutboxRetentionConfig(t *testing.T) {
	cfg, err := loadServeConfig(sandboxGetenv(nil))
	if err != nil || cfg.OutboxRetention != defaultOutboxRetention {
		t.Errorf("default PORTABOT_OUTBOX_RETENTION: %v, %v; want %v", cfg.OutboxRetention, err, defaultOutboxRetention)
	}
	for v, want := range map[string]time.Duration{"0": 0, "1m": time.Minute, "72h": 72 * time.Hour} {
		cfg, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_OUTBOX_RETENTION": v}))
		if err != nil || cfg.OutboxRetention != want {
			t.Errorf("PORTABOT_OUTBOX_RETENTION=%q: %v, %v; want %v", v, cfg.OutboxRetention, err, want)
		}
	}
	for _, v := range []string{"-1h", "30s", "9000h", "a day"} {
		_, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_OUTBOX_RETENTION": v}))
		if err == nil {
			t.Errorf("PORTABOT_OUTBOX_RETENTION=%q accepted, want an error", v)
		}
	}
}

// TestPruneOutboxLoop: serve's pruner deletes a reply sent longer ago than
// the retention and keeps a recent one and one still owed.
func TestPruneOutboxLoop(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(filepath.Join(t.TempDir(), "portabot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const client = "5511987654321"
	now := time.Now()
	row := func(text string, age time.Duration) bot.Outbound {
		return bot.Outbound{To: client, Reply: bot.Reply{Text: text}, Created: now.Add(-age), NextAttempt: now.Add(-age),
			LastInbound: now.Add(-age), State: bot.OutboundPending}
	}
	conv := bot.Conversation{Key: client, State: "menu"}
	if err := st.Commit(ctx, bot.Turn{Conversation: conv, Outbox: []bot.Outbound{
		row("old", 2*time.Hour), row("old owed", 2*time.Hour), row("recent", time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	rows, err := st.OutboundRows(ctx, client)
	if err != nil || len(rows) != 3 {
		t.Fatalf("OutboundRows() = %v, %v", rows, err)
	}
	for _, i := range []int{0, 2} {
		r := rows[i]
		r.State, r.MetaID, r.Attempts = bot.OutboundSent, "wamid.out."+r.ID, 1
		if err := st.MarkOutbound(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pruneOutbox(wctx, st, time.Hour, slog.New(slog.DiscardHandler))
	}()
	sent := -1
	eventually.Until(t, 10*time.Second, func() bool {
		var err error
		_, sent, _, _, err = st.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sent == 1
	}, func() string { return fmt.Sprintf("%d sent replies left, want 1", sent) })
	stop()
	<-done
	owed, recent := rows[1].ID, rows[2].ID
	// By id: the recent row, sent, keeps no text.
	rows, err = st.OutboundRows(ctx, client)
	if err != nil || len(rows) != 2 || rows[0].ID != owed || rows[1].ID != recent {
		t.Errorf("rows left = %+v, %v; want old owed and recent", rows, err)
	}
}
