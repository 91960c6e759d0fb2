package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/faq"
	"portabot/internal/eventually"
	"portabot/storage"
)

// TestFullDiskDoesNotThrottleThePatientClient: while the disk is full the
// runner keeps failing the same client's turn; once it has room, the client
// gets their answer, not the slow-down notice their own pace never earned.
// A worker whose turn failed pauses until it is woken or its idle poll
// ends; in a bubble those pauses pass on the bubble's clock.
func TestFullDiskDoesNotThrottleThePatientClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var full atomic.Bool
		db, err := storage.Open(filepath.Join(t.TempDir(), "serve.db"), storage.WithSealKey(make([]byte, storage.KeySize)),
			storage.WithWriteFault(func() error {
				if full.Load() {
					return fmt.Errorf("write: %w", syscall.ENOSPC)
				}
				return nil
			}))
		if err != nil {
			t.Fatal(err)
		}
		b := bot.New(db, nil, faq.Default(), bot.Config{DestWABA: "100200300400500", Outbox: true}, slog.New(slog.DiscardHandler))
		sender := &recordingSender{}
		d := delivery.NewDispatcher(b, db, sender, delivery.DefaultDispatcherConfig())
		rc := delivery.DefaultRunnerConfig()
		rc.Workers = 2
		rc.Rate, rc.Burst = rate.Every(time.Minute), 3
		var failed atomic.Int64
		rc.OnTurn = func(_ time.Duration, err error) {
			if err != nil {
				failed.Add(1)
			}
		}
		rc.OnProcessed = d.Notify
		runner := delivery.NewRunner(b, db, rc)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		t.Cleanup(func() { cancel(); wg.Wait(); db.Close() })

		const who = "5511944440000"
		if _, err := db.Enqueue(ctx, []bot.Inbound{{ID: "wamid.full.1", From: who, Text: "hi", At: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		full.Store(true)
		wg.Go(func() { runner.Run(ctx) })
		wg.Go(func() { d.Run(ctx) })
		eventually.True(t, "five turns refused by the full disk", func() bool { runner.Notify(); return failed.Load() >= 5 })
		full.Store(false)
		eventually.True(t, "the answer", func() bool { return len(sender.to(who)) >= 1 })
		d.Notify()
		runner.Notify()
		got := sender.to(who)
		for _, r := range got {
			if strings.Contains(r, "faster than I can read") {
				t.Errorf("the client wrote once and got a slow-down notice after %d turns the disk refused: %q", failed.Load(), got)
			}
		}
	})
}

// panicky is a store whose Claim panics a number of times: a bug or a
// damaged page in one loop of serve.
type panicky struct {
	*storage.DB
	left atomic.Int64
}

func (p *panicky) Claim(ctx context.Context) (string, []bot.Inbound, func(), bool, error) {
	if p.left.Add(-1) >= 0 {
		panic("claim: boom")
	}
	return p.DB.Claim(ctx)
}

// TestRunnerSurvivesAPanickingLoop: a worker loop that panics is logged
// with its name and stack, counted, and started again; the client is still
// answered and the process lives. The restart waits GuardLoop's backoff
// of a second, on the bubble's clock.
func TestRunnerSurvivesAPanickingLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db, err := storage.Open(filepath.Join(t.TempDir(), "serve.db"), storage.WithSealKey(make([]byte, storage.KeySize)))
		if err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		b := bot.New(db, nil, faq.Default(), bot.Config{DestWABA: "100200300400500", Outbox: true},
			slog.New(slog.NewTextHandler(&logs, nil)))
		p := &panicky{DB: db}
		p.left.Store(1)
		sender := &recordingSender{}
		d := delivery.NewDispatcher(b, db, sender, delivery.DefaultDispatcherConfig())
		rc := delivery.DefaultRunnerConfig()
		rc.OnProcessed = d.Notify
		runner := delivery.NewRunner(b, p, rc)
		before := bot.PanicCounts()["runner worker"]
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		t.Cleanup(func() { cancel(); wg.Wait(); db.Close() })
		const who = "5511955550000"
		if _, err := db.Enqueue(ctx, []bot.Inbound{{ID: "wamid.panic.1", From: who, Text: "hi", At: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { runner.Run(ctx) })
		wg.Go(func() { d.Run(ctx) })
		eventually.True(t, "the answer after the worker's restart", func() bool { runner.Notify(); return len(sender.to(who)) >= 1 })
		if n := bot.PanicCounts()["runner worker"] - before; n != 1 {
			t.Errorf("runner worker panics counted: %d, want 1", n)
		}
		out := logs.String()
		for _, want := range []string{"goroutine panicked", "goroutine=\"runner worker\"", "claim: boom", "guard_test.go", "restarting a goroutine"} {
			if !strings.Contains(out, want) {
				t.Errorf("the log does not show %q:\n%s", want, out)
			}
		}
	})
}

// TestGuardLoopStopsWithItsContext: a loop that keeps panicking is
// restarted with backoff until its context ends, and then GuardLoop
// returns.
func TestGuardLoopStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int64
	done := make(chan struct{})
	go func() {
		bot.GuardLoop(ctx, "test loop", slog.New(slog.DiscardHandler), func(context.Context) {
			runs.Add(1)
			panic(errors.New("always"))
		})
		close(done)
	}()
	eventually.True(t, "the first run", func() bool { return runs.Load() >= 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("GuardLoop did not return after its context ended")
	}
	if n := bot.PanicCounts()["test loop"]; n != uint64(runs.Load()) {
		t.Errorf("%d panics counted for %d runs", n, runs.Load())
	}
}
