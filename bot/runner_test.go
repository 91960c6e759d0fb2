package bot_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
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

// recordingSender is the WhatsApp side of the runner tests: it keeps what
// each client was sent, in order.
type recordingSender struct {
	mu   sync.Mutex
	sent map[string][]string
}

func (s *recordingSender) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string][]string{}
	}
	s.sent[row.To] = append(s.sent[row.To], row.Reply.Text)
	return bot.SendResult{MetaID: fmt.Sprintf("wamid.%s.%d", row.To, len(s.sent[row.To])), Parts: 1}, nil
}

func (s *recordingSender) MarkRead(ctx context.Context, id string) error { return nil }

func (s *recordingSender) to(client string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent[client]...)
}

// serveRig is the serve path without HTTP: a sealed bbolt inbox and outbox,
// the runner and the dispatcher.
type serveRig struct {
	db     *storage.DB
	runner *delivery.Runner
	sender *recordingSender
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func newServeRig(t *testing.T, tune func(*delivery.RunnerConfig)) *serveRig {
	t.Helper()
	key := make([]byte, storage.KeySize)
	db, err := storage.Open(filepath.Join(t.TempDir(), "serve.db"), storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	b := bot.New(db, nil, faq.Default(), bot.Config{DestWABA: "100200300400500", Outbox: true}, nil)
	rig := &serveRig{db: db, sender: &recordingSender{}}
	d := delivery.NewDispatcher(b, db, rig.sender, delivery.DefaultDispatcherConfig())
	rc := delivery.DefaultRunnerConfig()
	rc.Workers = 4
	rc.OnProcessed = d.Notify
	if tune != nil {
		tune(&rc)
	}
	rig.runner = delivery.NewRunner(b, db, rc)
	ctx, cancel := context.WithCancel(context.Background())
	rig.cancel = cancel
	rig.done.Go(func() { rig.runner.Run(ctx) })
	rig.done.Go(func() { d.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		rig.done.Wait()
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return rig
}

func (r *serveRig) enqueue(t *testing.T, msgs ...bot.Inbound) {
	t.Helper()
	if _, err := r.db.Enqueue(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	r.runner.Notify()
}

func TestRunnerAnswersInOrder(t *testing.T) {
	rig := newServeRig(t, nil)
	const who = "5511911110000"
	// "hi" opens the conversation; the language words after it each get a
	// reply that names the language chosen, so order is visible.
	words := []string{"hi", "português", "english", "español", "english"}
	for i, w := range words {
		rig.enqueue(t, bot.Inbound{ID: fmt.Sprintf("wamid.order.%d", i), From: who, Text: w, At: time.Now()})
	}
	eventually.True(t, "five answers", func() bool { return len(rig.sender.to(who)) >= 5 })
	got := rig.sender.to(who)
	want := []string{"What would you like to do?", "português", "English it is", "español", "English it is"}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("reply %d = %q, want it to contain %q (replies out of order?)", i, got[i], w)
		}
	}
}

// The per-client limiter refills on the bubble's clock: the three seconds
// the flood takes to drain at ten messages a second pass without being
// waited out, and the other client's answer still comes while it drains.
func TestFloodDoesNotStarveOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rig := newServeRig(t, func(r *delivery.RunnerConfig) {
			r.Rate = rate.Every(100 * time.Millisecond)
			r.Burst = 3
		})
		const flooder, other = "5511922220000", "5511933330000"
		var flood []bot.Inbound
		for i := range 30 {
			flood = append(flood, bot.Inbound{ID: fmt.Sprintf("wamid.flood.%d", i), From: flooder, Text: "help", At: time.Now()})
		}
		rig.enqueue(t, flood...)
		rig.enqueue(t, bot.Inbound{ID: "wamid.other", From: other, Text: "hi", At: time.Now()})

		eventually.True(t, "the other client's answer", func() bool { return len(rig.sender.to(other)) >= 1 })
		if n, _ := rig.db.InboxDepth(context.Background()); n == 0 {
			t.Fatal("the flood was fully processed before the other client was answered: nothing was limited")
		}
		eventually.True(t, "the whole flood processed", func() bool {
			n, err := rig.db.InboxDepth(context.Background())
			return err == nil && n == 0
		})
		eventually.True(t, "all replies sent", func() bool {
			pending, _, _, _, err := rig.db.OutboxStats(context.Background())
			return err == nil && pending == 0
		})
		slow := 0
		for _, r := range rig.sender.to(flooder) {
			if strings.Contains(r, "faster than I can read") {
				slow++
			}
		}
		if slow != 1 {
			t.Errorf("the flooding client got %d slow-down replies, want exactly 1", slow)
		}
		if n := len(rig.sender.to(flooder)); n < 30 {
			t.Errorf("the flooding client got %d replies for 30 messages: some were lost", n)
		}
	})
}

// arrivals calls Arriving every few milliseconds until stop is closed, as
// a stream of webhooks would.
func arrivals(r *delivery.Runner, stop <-chan struct{}) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		r.Arriving(time.Now())
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// The runner's deferral runs on timers: in a synctest bubble its clock is
// the bubble's, so a second of webhooks passes without a second of waiting,
// and nothing answered within it is a fact, not a guess.
func TestRepliesWaitForABurstToPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rig := newServeRig(t, func(r *delivery.RunnerConfig) {
			r.Quiet = 300 * time.Millisecond
			r.MaxDefer = time.Minute
		})
		const who = "5511944440000"
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); arrivals(rig.runner, stop) }()
		rig.enqueue(t, bot.Inbound{ID: "wamid.burst.1", From: who, Text: "hi", At: time.Now()})
		time.Sleep(time.Second)
		if got := rig.sender.to(who); len(got) != 0 {
			t.Errorf("answered %q while webhooks were still arriving", got)
		}
		close(stop)
		<-done
		eventually.True(t, "the answer once the burst paused", func() bool { return len(rig.sender.to(who)) == 1 })
	})
}

// MaxDefer is kept by the runner's timers, here on the bubble's clock, so
// three bursts that never pause cost no wall-clock time.
func TestEndlessBurstStillGetsAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rig := newServeRig(t, func(r *delivery.RunnerConfig) {
			r.Quiet = 100 * time.Millisecond
			r.MaxDefer = 300 * time.Millisecond
		})
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); arrivals(rig.runner, stop) }()
		defer func() { close(stop); <-done }()
		for i := range 3 {
			who := fmt.Sprintf("55119555500%02d", i)
			rig.enqueue(t, bot.Inbound{ID: "wamid.endless." + who, From: who, Text: "hi", At: time.Now()})
			eventually.True(t, "an answer while webhooks never pause", func() bool { return len(rig.sender.to(who)) == 1 })
		}
	})
}
