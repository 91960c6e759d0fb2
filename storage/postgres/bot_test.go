package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/faq"
)

// quietGraph answers every Graph call with success: the conversations here
// ask questions, they do not port numbers.
type quietGraph struct{}

func (quietGraph) AddPhoneNumber(context.Context, string, string, string) (string, error) {
	return "1234567890", nil
}
func (quietGraph) RequestCode(context.Context, string, string, bot.Lang) error { return nil }
func (quietGraph) VerifyCode(context.Context, string, string) error            { return nil }
func (quietGraph) Register(context.Context, string, string) error              { return nil }
func (quietGraph) MigrateTemplates(context.Context, string, string) (bot.TemplateResult, error) {
	return bot.TemplateResult{}, nil
}
func (quietGraph) PhoneNumber(_ context.Context, id string) (bot.PhoneNumber, error) {
	return bot.PhoneNumber{ID: id, Status: "CONNECTED"}, nil
}
func (quietGraph) PhoneNumbers(context.Context, string) ([]bot.PhoneNumber, error) { return nil, nil }

// countingSender is Meta's messages API shared by the replicas: it counts
// what reaches each client.
type countingSender struct {
	mu    sync.Mutex
	sends map[string]int // outbox row id -> times sent
	to    map[string]int // InReplyTo message id -> replies sent
}

func (s *countingSender) Send(_ context.Context, row bot.Outbound) (bot.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sends[row.ID]++
	s.to[row.InReplyTo]++
	return bot.SendResult{MetaID: "wamid.out." + row.ID, Parts: 1}, nil
}

func (s *countingSender) MarkRead(context.Context, string) error { return nil }

// Two replicas, each with its runner and its sender, on one database, and
// every webhook delivered to both at once: every message is answered, and
// no reply reaches the client twice.
func TestTwoReplicasAnswerEachMessageOnce(t *testing.T) {
	url := freshDatabase(t)
	replicas := []*DB{mustOpen(t, url), mustOpen(t, url)}
	sender := &countingSender{sends: map[string]int{}, to: map[string]int{}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	answers := faq.Default()
	for _, db := range replicas {
		b := bot.New(db, quietGraph{}, answers, bot.Config{DestWABA: "100200300400500", Outbox: true}, nil)
		rcfg := delivery.DefaultRunnerConfig()
		rcfg.Workers = 2
		runner := delivery.NewRunner(b, db, rcfg)
		dispatcher := delivery.NewDispatcher(b, db, sender, delivery.DefaultDispatcherConfig())
		wg.Go(func() { runner.Run(ctx) })
		wg.Go(func() { dispatcher.Run(ctx) })
		wg.Go(func() {
			db.Listen(ctx, func(ch string) {
				switch ch {
				case ChannelInbox:
					runner.Notify()
				case ChannelOutbox:
					dispatcher.Notify()
				}
			})
		})
	}

	const clients, perClient = 6, 4
	questions := []string{"hi", "how long does it take?", "what is a BSP?", "do I lose my chats?"}
	var msgs []bot.Inbound
	for c := range clients {
		for i := range perClient {
			from := fmt.Sprintf("55119%08d", c)
			// Written now, so the client's window is open and every reply
			// goes out rather than waiting for a template.
			m := bot.Inbound{ID: fmt.Sprintf("wamid.%s.%d", from, i), From: from, Text: questions[i], At: time.Now()}
			msgs = append(msgs, m)
		}
	}
	var deliver sync.WaitGroup
	for _, m := range msgs {
		for _, db := range replicas {
			deliver.Go(func() {
				if _, err := db.Enqueue(ctx, []bot.Inbound{m}); err != nil {
					t.Errorf("Enqueue(%s) error = %v", m.ID, err)
				}
			})
		}
		deliver.Wait()
	}

	// Settled: every message processed, no reply owed.
	for {
		depth, err := replicas[0].InboxDepth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pending, _, _, _, err := replicas[0].OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 && pending == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not settled: %d messages waiting, %d replies owed", depth, pending)
		case <-time.After(50 * time.Millisecond):
		}
	}
	sender.mu.Lock()
	defer sender.mu.Unlock()
	for id, n := range sender.sends {
		if n != 1 {
			t.Errorf("reply %s sent %d times, want once", id, n)
		}
	}
	for _, m := range msgs {
		if sender.to[m.ID] == 0 {
			t.Errorf("message %s (%q) got no reply", m.ID, m.Text)
		}
		if ok, err := replicas[1].Processed(ctx, m.ID); err != nil || !ok {
			t.Errorf("Processed(%s) = %v, %v; want true", m.ID, ok, err)
		}
	}
	// One turn per message: the replies to a message are those one
	// replica's turn wrote, not two turns' worth.
	rows := 0
	for c := range clients {
		rs, err := replicas[0].OutboundRows(ctx, fmt.Sprintf("55119%08d", c))
		if err != nil {
			t.Fatal(err)
		}
		rows += len(rs)
	}
	if len(sender.sends) != rows {
		t.Errorf("%d replies sent, %d written: want every written reply sent once", len(sender.sends), rows)
	}
}
