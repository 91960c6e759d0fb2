package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"portabot/bot"
	"portabot/faq"
	"portabot/storage"
)

// benchStep runs one engine step per iteration: a question from a client
// the bot already knows, answered from the FAQ, the turn committed.
func benchStep(b *testing.B, store bot.Store, outbox bool) {
	eng := bot.New(store, nil, faq.Default(), bot.Config{DestWABA: "100200300400500", Outbox: outbox}, nil)
	ctx := context.Background()
	const clients = 256
	for i := range clients {
		if _, err := eng.Handle(ctx, bot.Inbound{ID: fmt.Sprint("warm.", i), From: fmt.Sprint(5511900000000 + i), Text: "hi", At: time.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in := bot.Inbound{ID: fmt.Sprint("m.", i), From: fmt.Sprint(5511900000000 + i%clients),
			Text: "how long does the migration take?", At: time.Now()}
		if _, err := eng.Handle(ctx, in); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkEngineStep measures the engine alone, over a store in memory.
func BenchmarkEngineStep(b *testing.B) { benchStep(b, newMemStore(), false) }

// BenchmarkEngineStepDurable adds the real store: one synced commit per
// step, with the reply written to the outbox as serve does.
func BenchmarkEngineStepDurable(b *testing.B) {
	db, err := storage.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	benchStep(b, db, true)
}
