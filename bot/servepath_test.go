package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/fsm"
	"portabot/internal/eventually"
)

// TestSecurityEventRechecksBlockedCase follows a client blocked because Meta
// said two-step verification was still on: a security webhook for the
// number makes the bot try again, and the port goes on without the client
// saying anything.
func TestSecurityEventRechecksBlockedCase(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.TwoStepOffLater, typed: metasim.TwoStepOffLater})
	h.driveTo(fsm.AskPhone)
	h.send(metasim.TwoStepOffLater)
	h.send("skip")
	h.wantState(fsm.Blocked)
	if c := h.kase(); c.Blocked != bot.Check2FA {
		t.Fatalf("case blocked on %q, want 2fa", c.Blocked)
	}
	ctx := context.Background()
	// Meta's display_phone_number has no "+".
	if err := h.bot.Recheck(ctx, strings.TrimPrefix(metasim.TwoStepOffLater, "+")); err != nil {
		t.Fatal(err)
	}
	h.wantState(fsm.ChooseMethod)
	if n := h.calls(metasim.EndpointAddNumber); n != 2 {
		t.Errorf("the number was added %d times, want 2 (the refused try and the recheck)", n)
	}
	rows, err := h.db.OutboundRows(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, r := range rows {
		all = append(all, r.Reply.Text)
	}
	joined := strings.Join(all, "\n")
	if !strings.Contains(joined, "two-step verification. Let me try again") || !strings.Contains(joined, "How should it arrive?") {
		t.Errorf("the client was not told the port goes on; outbox:\n%s", joined)
	}
	// A second event changes nothing: the case is no longer blocked.
	if err := h.bot.Recheck(ctx, strings.TrimPrefix(metasim.TwoStepOffLater, "+")); err != nil {
		t.Fatal(err)
	}
	h.wantState(fsm.ChooseMethod)
	if n := h.calls(metasim.EndpointAddNumber); n != 2 {
		t.Errorf("a recheck of a case that is not blocked called Meta (%d adds)", n)
	}
}

// orderedSender records read receipts and sends in one timeline.
type orderedSender struct {
	mu     sync.Mutex
	events []string
}

func (s *orderedSender) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, "send "+row.To)
	return bot.SendResult{MetaID: fmt.Sprintf("wamid.%d", len(s.events)), Parts: 1}, nil
}

func (s *orderedSender) MarkRead(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, "read "+id)
	return nil
}

func (s *orderedSender) timeline() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

func TestDispatcherReadsFirstAndParksOutsideWindow(t *testing.T) {
	h := newAgentHarness(t, options{})
	now := h.clock.Now()
	ctx := context.Background()
	const fresh, stale = "5511944440001", "5511944440002"
	// Both clients wrote; the stale one a day and a minute ago.
	for _, c := range []struct {
		who string
		at  time.Time
	}{{fresh, now}, {stale, now.Add(-bot.CustomerWindow - time.Minute)}} {
		if _, err := h.bot.Handle(ctx, bot.Inbound{ID: "wamid.in." + c.who, From: c.who, Text: "agent", At: c.at}); err != nil {
			t.Fatal(err)
		}
	}
	s := &orderedSender{}
	var got outcomes
	dc := delivery.DefaultDispatcherConfig()
	dc.OnSend = got.add
	d := delivery.NewDispatcher(h.bot, h.db, s, dc)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(runCtx) })
	eventually.True(t, "the outbox to settle", func() bool {
		pending, _, _, _, err := h.db.OutboxStats(ctx)
		return err == nil && pending == 0
	})
	cancel()
	wg.Wait()

	events := s.timeline()
	if len(events) < 2 || events[0] != "read wamid.in."+fresh || events[1] != "send "+fresh {
		t.Errorf("timeline %v: want the fresh client's message marked read, then the reply sent", events)
	}
	if n := slices.Index(events, "send "+stale); n < 0 || slices.Contains(events[n+1:], "send "+stale) {
		t.Errorf("timeline %v: want exactly one message (the template) to the client whose window had closed", events)
	}
	rows, err := h.db.OutboundRows(ctx, stale)
	if err != nil || len(rows) == 0 {
		t.Fatalf("no outbox rows for the stale client: %v", err)
	}
	var parked, templates int
	for _, r := range rows {
		switch {
		case r.Reply.Template != nil:
			templates++
			if r.State != bot.OutboundSent || r.Reply.Template.Name != bot.DefaultTemplate {
				t.Errorf("template row %s is %s (%+v), want %s sent", r.ID, r.State, r.Reply.Template, bot.DefaultTemplate)
			}
		case r.State == bot.OutboundParked:
			parked++
		case r.State == bot.OutboundSent && r.Reply.Template == nil && r.Reply.Text == "":
			templates++ // a sent row keeps no reply: the template, once out
		default:
			t.Errorf("stale client's row %s is %s, want parked", r.ID, r.State)
		}
	}
	if templates != 1 || parked != len(rows)-1 {
		t.Errorf("stale client's rows: %d parked, %d templates of %d; want all but the template parked", parked, templates, len(rows))
	}
	if n := got.counts()["parked"]; n != parked {
		t.Errorf("parked counter = %d, want %d", n, parked)
	}
	conv, err := h.db.Conversation(ctx, stale)
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.db.Case(ctx, conv.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Held.IsZero() {
		t.Errorf("the stale client's case does not show agents that it waits on the window: %+v", c)
	}
}

func TestNotUnderstoodOffersTopicsThenAPerson(t *testing.T) {
	h := reach(t, fsm.Menu, bot.English)
	first := h.send("purple elephants dancing on the moon")
	says(t, first, "didn't understand")
	b := buttons(first)
	if len(b) < 2 || b[len(b)-1] != "agent" || !strings.HasPrefix(b[0], "faq:") {
		t.Fatalf("first miss offers %v: want topics first and a person last", b)
	}
	second := h.send("zebra crossing quantum soup")
	b = buttons(second)
	if len(b) < 2 || b[0] != "agent" {
		t.Fatalf("second miss in a row offers %v: want a person first", b)
	}
	// A topic button answers that topic, and the menu stays where it was.
	topic := strings.TrimPrefix(buttons(first)[0], "faq:")
	answer := h.tap("faq:" + topic)
	if len(answer) == 0 || strings.Contains(text(answer), "didn't understand") {
		t.Errorf("tapping topic %s gave %q", topic, text(answer))
	}
	h.wantState(fsm.Menu)
}
