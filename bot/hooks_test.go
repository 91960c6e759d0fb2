package bot_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"portabot/adapters/metrics"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/internal/eventually"
)

// outcomes records what a hook was told, safely across goroutines.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) add(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[outcome]++
}

// also returns a hook that tells o and then next, as serve hands the
// dispatchers' outcomes to its metrics.
func (o *outcomes) also(next func(string)) func(string) {
	return func(outcome string) {
		o.add(outcome)
		next(outcome)
	}
}

func (o *outcomes) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := map[string]int{}
	for k, v := range o.n {
		c[k] = v
	}
	return c
}

func TestRunnerReportsTurns(t *testing.T) {
	var mu sync.Mutex
	var turns []error
	var slowest time.Duration
	rig := newServeRig(t, func(r *delivery.RunnerConfig) {
		r.OnTurn = func(d time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			turns = append(turns, err)
			slowest = max(slowest, d)
		}
	})
	const who = "5511955550001"
	for i, w := range []string{"hi", "english", "help"} {
		rig.enqueue(t, bot.Inbound{ID: fmt.Sprintf("wamid.turns.%d", i), From: who, Text: w, At: time.Now()})
	}
	eventually.True(t, "three turns", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(turns) >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	for i, err := range turns {
		if err != nil {
			t.Errorf("turn %d reported %v, want no error", i+1, err)
		}
	}
	if slowest <= 0 {
		t.Error("no turn reported a duration")
	}
}

// flakySender refuses every send to doomed and the first send to flaky,
// as Meta does when it is down for good or for a moment.
type flakySender struct {
	doomed, flaky string
	mu            sync.Mutex
	failed        bool
	n             int
}

func (s *flakySender) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if to := row.To; to == s.doomed || to == s.flaky && !s.failed {
		s.failed = s.failed || to == s.flaky
		return bot.SendResult{}, fmt.Errorf("send: %w", bot.ErrUnavailable)
	}
	s.n++
	return bot.SendResult{MetaID: fmt.Sprintf("wamid.flaky.%d", s.n), Parts: 1}, nil
}

func (s *flakySender) MarkRead(ctx context.Context, id string) error { return nil }

func TestDispatcherReportsEachOutcome(t *testing.T) {
	h := newAgentHarness(t, options{})
	ctx := context.Background()
	now := h.clock.Now()
	const fresh, stale, doomed = "5511955550011", "5511955550012", "5511955550013"
	for _, c := range []struct {
		who string
		at  time.Time
	}{{fresh, now}, {stale, now.Add(-bot.CustomerWindow - time.Minute)}, {doomed, now}} {
		if _, err := h.bot.Handle(ctx, bot.Inbound{ID: "wamid.hook." + c.who, From: c.who, Text: "hi", At: c.at}); err != nil {
			t.Fatal(err)
		}
	}
	var got outcomes
	mx := metrics.New(nil, metrics.Options{})
	dc := delivery.DefaultDispatcherConfig()
	dc.MaxAttempts = 2
	dc.OnSend = got.also(mx.Send)
	d := delivery.NewDispatcher(h.bot, h.db, &flakySender{doomed: doomed, flaky: fresh}, dc)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(runCtx) })
	eventually.True(t, "the outbox to settle", func() bool {
		// Retries are due a backoff later on the harness's clock.
		h.clock.advance(time.Minute)
		d.Notify()
		pending, _, _, _, err := h.db.OutboxStats(ctx)
		return err == nil && pending == 0
	})
	cancel()
	wg.Wait()

	want := map[string]int{}
	for _, who := range []string{fresh, stale, doomed} {
		rows, err := h.db.OutboundRows(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			want[string(r.State)]++
		}
	}
	// Each doomed row was tried twice: one retry, then given up; and the
	// fresh client's first send failed once.
	want["retry"] = want["failed"] + 1
	if want["sent"] == 0 || want["parked"] == 0 || want["failed"] == 0 {
		t.Fatalf("the outbox holds %v: the test needs rows sent, parked and failed", want)
	}
	if c := got.counts(); fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("OnSend was told %v, want %v (from the outbox)", c, want)
	}
	// What /metrics says agrees with the outbox.
	for outcome, n := range want {
		name := "portabot_outbox_" + outcome + "_total"
		if outcome == "retry" {
			name = "portabot_outbox_retries_total"
		}
		if v := counterValue(t, mx, name, nil); v != float64(n) {
			t.Errorf("%s = %v, want %d", name, v, n)
		}
	}
}

// counterValue reads the counter name{labels} from m's registry; 0 when m
// exports no such series.
func counterValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range s.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if maps.Equal(got, labels) {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// flakyNotifier refuses its first notice, as Slack does when it is down.
type flakyNotifier struct {
	mu    sync.Mutex
	calls int
}

func (f *flakyNotifier) Notify(ctx context.Context, c bot.Case, n bot.Notice) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls == 1 {
		return "", errors.New("slack: service unavailable")
	}
	return "1700000000.000100", nil
}

func TestNoticeDispatcherReportsEachOutcome(t *testing.T) {
	h := newAgentHarness(t, options{})
	ctx := context.Background()
	h.send("hi")
	h.send("agent")
	var got outcomes
	mx := metrics.New(nil, metrics.Options{})
	nc := delivery.DefaultNoticeConfig()
	nc.OnNotify = got.also(mx.Notify)
	nd := delivery.NewNoticeDispatcher(h.bot, h.db, &flakyNotifier{}, nc)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { nd.Run(runCtx) })
	eventually.True(t, "the notices to be delivered", func() bool {
		h.clock.advance(time.Minute)
		nd.Notify()
		pending, _, _, err := h.db.NoticeStats(ctx)
		return err == nil && pending == 0
	})
	cancel()
	wg.Wait()

	_, sent, failed, err := h.db.NoticeStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sent == 0 {
		t.Fatal("no notice was queued for agents: the test needs one")
	}
	want := map[string]int{"retry": 1, "sent": sent}
	if failed > 0 {
		want["failed"] = failed
	}
	if c := got.counts(); fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("OnNotify was told %v, want %v (from the store)", c, want)
	}
	for outcome, n := range want {
		if v := counterValue(t, mx, "portabot_slack_notifications_total", map[string]string{"outcome": outcome}); v != float64(n) {
			t.Errorf("portabot_slack_notifications_total{outcome=%q} = %v, want %d", outcome, v, n)
		}
	}
}

// The engine reports what clients asked once a turn is stored: the intent
// of each FAQ answer, and the messages it did not understand; a message
// Meta delivers again is not reported again.
func TestAnswersAreReported(t *testing.T) {
	var got outcomes
	h := newHarness(t, options{onAnswer: got.add})
	h.send("hi")
	h.send("how long does the whole port take?")
	h.send("zxqv blorp")
	h.tap("faq:pin")
	again := bot.Inbound{ID: "wamid.again", Text: "will my number stop working during the migration?"}
	h.deliver(again)
	h.deliver(again)
	want := map[string]int{"duration": 1, bot.NotUnderstood: 1, "pin": 1, "downtime": 1}
	if c := got.counts(); !maps.Equal(c, want) {
		t.Errorf("reported %v, want %v", c, want)
	}
}
