package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"portabot/adapters/metrics"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/faq"
	"portabot/internal/eventually"
	"portabot/storage"
)

// refusingCommits is the bbolt store with a disk that refuses the engine's
// writes (Commit) while refuse is set; the outbox's own writes still
// succeed.
type refusingCommits struct {
	*storage.DB
	refuse atomic.Bool
}

func (r *refusingCommits) Commit(ctx context.Context, t bot.Turn) error {
	if r.refuse.Load() {
		return errors.New("storage: commit: write portabot.db: no space left on device")
	}
	return r.DB.Commit(ctx, t)
}

// A reply given up for good is told to agents by flagging its case; when
// the store refuses the flag, nobody would know but for the dispatcher's
// log and count.
func TestDispatcherCountsAFlagTheStoreRefused(t *testing.T) {
	h := newAgentHarness(t, options{})
	st := &refusingCommits{DB: h.db}
	b := bot.New(st, h.graph, faq.Default(), bot.Config{Now: h.clock.Now, Outbox: true, Notify: true}, debugLogger(h.logs))
	ctx := context.Background()
	const doomed = "+5511955550013"
	caseID, err := h.db.NewCaseID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = h.db.Commit(ctx, bot.Turn{
		Conversation: bot.Conversation{Key: doomed, State: "menu", Lang: bot.English, CaseID: caseID},
		Case:         &bot.Case{ID: caseID, Client: doomed, Lang: bot.English, Phone: doomed},
		Outbox: []bot.Outbound{{To: doomed, Reply: bot.Reply{Text: "hello"}, LastInbound: h.clock.Now(),
			Created: h.clock.Now(), State: bot.OutboundPending}},
	})
	if err != nil {
		t.Fatal(err)
	}
	st.refuse.Store(true)

	var got outcomes
	mx := metrics.New(nil, metrics.Options{})
	dc := delivery.DefaultDispatcherConfig()
	dc.MaxAttempts = 1
	dc.OnSend = got.also(mx.Send)
	d := delivery.NewDispatcher(b, h.db, &flakySender{doomed: doomed}, dc)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(runCtx) })
	eventually.True(t, "the reply to be given up", func() bool {
		return got.counts()["failed"] == 1 && got.counts()["unflagged"] == 1
	})
	cancel()
	wg.Wait()

	if c := got.counts(); fmt.Sprint(c) != fmt.Sprint(map[string]int{"failed": 1, "unflagged": 1}) {
		t.Errorf("OnSend was told %v, want one failed and one unflagged", c)
	}
	if v := counterValue(t, mx, "portabot_outbox_unflagged_total", nil); v != 1 {
		t.Errorf("portabot_outbox_unflagged_total = %v, want 1", v)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "flag a failed reply for agents") || !strings.Contains(logs, "no space left") {
		t.Errorf("the log does not say the flag was refused, and why:\n%s", logs)
	}
	c, err := h.db.Case(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Problem != "" {
		t.Errorf("the case reads problem %q, though the store refused the flag", c.Problem)
	}
}
