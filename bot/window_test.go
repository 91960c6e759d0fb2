package bot_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/fsm"
	"portabot/internal/eventually"
)

// windowRig is a client whose replies really go out: a dispatcher sends the
// outbox through the Cloud API sender to the simulated Meta, which runs on
// the test's clock and fails free-form messages outside the client's
// 24-hour window, as Meta does.
type windowRig struct {
	*harness
	d *delivery.Dispatcher
}

func newWindowRig(t *testing.T, opts options) *windowRig {
	t.Helper()
	opts.simClock = true
	h := newAgentHarness(t, opts)
	sender := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: h.simURL, Token: token, PhoneNumberID: "106540352242922",
		Timeout: 5 * time.Second})
	d := delivery.NewDispatcher(h.bot, h.db, sender, delivery.DefaultDispatcherConfig())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return &windowRig{harness: h, d: d}
}

// settle waits until the outbox has nothing due: every reply sent, parked
// or given up.
func (w *windowRig) settle() {
	w.t.Helper()
	w.d.Notify()
	eventually.True(w.t, "the outbox to settle", func() bool {
		pending, _, _, _, err := w.db.OutboxStats(context.Background())
		return err == nil && pending == 0
	})
}

// sentTo is what the simulated Meta took for the client, oldest first.
func (w *windowRig) sentTo(to string) []metasim.Message {
	var out []metasim.Message
	for _, m := range w.sim.Sent() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func TestPortBlockedOn2FAForThirtyHoursEndsDone(t *testing.T) {
	w := newWindowRig(t, options{phone: metasim.TwoStepOffLater, lang: bot.Portuguese})
	ctx := context.Background()
	w.driveTo(fsm.AskPhone)
	w.send(w.opts.typed)
	w.send(metasim.SandboxSourceWABA)
	w.wantState(fsm.Blocked) // Meta refused the number: two-step verification is on
	w.settle()
	before := len(w.sentTo("+" + client))

	// A day and six hours later the old BSP turns two-step verification
	// off, and Meta's security webhook makes the bot try again.
	w.clock.advance(30 * time.Hour)
	if err := w.bot.Recheck(ctx, strings.TrimPrefix(metasim.TwoStepOffLater, "+")); err != nil {
		t.Fatal(err)
	}
	w.wantState(fsm.ChooseMethod)
	w.settle()

	news := w.sentTo("+" + client)[before:]
	if len(news) != 1 || news[0].Template != "portabot_update/pt_BR" {
		t.Fatalf("after 30 hours the client got %+v; want only the update template, in Portuguese", news)
	}
	if news[0].Text != w.kase().ID {
		t.Errorf("the template names case %q; want %q", news[0].Text, w.kase().ID)
	}
	c := w.kase()
	if c.Held.IsZero() {
		t.Error("the case does not show agents that it waits on the client's window")
	}
	var told bool
	for _, n := range w.takeNotices() {
		told = told || n.Kind == bot.NoticeWindow
	}
	if !told {
		t.Error("agents were not told the case waits on the window")
	}

	// The client taps the template's button: what waited follows, once.
	if r := w.deliver(bot.Inbound{Text: "Continuar", Choice: bot.TemplateButton}); len(r) != 0 {
		t.Errorf("the tap on the template got replies of its own: %q", text(r))
	}
	w.settle()
	news = w.sentTo("+" + client)[before+1:]
	if len(news) == 0 || len(news[len(news)-1].Choices) == 0 || choiceOf(news[len(news)-1].Choices[0].ID) != "sms" {
		t.Fatalf("after the client answered the template they got %+v; want the parked replies, ending with the method question", news)
	}
	if !w.kase().Held.IsZero() {
		t.Error("the case still shows it waits on the window after the client answered")
	}

	// The rest of the port.
	w.tap("sms")
	w.send(otp)
	w.send(pin)
	w.send(pin)
	w.wantState(fsm.Done)
	w.settle()

	seen := map[string]bool{}
	for _, m := range w.sim.Sent() {
		if m.Error != "" {
			t.Errorf("Meta failed a message: %s (%q)", m.Error, m.Text)
		}
		if seen[m.CallbackData] {
			t.Errorf("a reply went out twice: %q", m.Text)
		}
		seen[m.CallbackData] = true
	}
	rows, err := w.db.OutboundRows(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.State != bot.OutboundSent {
			t.Errorf("reply %s ended %s, want sent", r.ID, r.State)
		}
	}
	templates := 0
	for _, m := range w.sentTo("+" + client) {
		if m.Template != "" {
			templates++
		}
	}
	if templates != 1 {
		t.Errorf("%d templates sent; want 1", templates)
	}
	for endpoint, want := range map[string]int{metasim.EndpointRequestCode: 1, metasim.EndpointRegister: 1} {
		if got := w.calls(endpoint); got != want {
			t.Errorf("%s called %d times, want %d", endpoint, got, want)
		}
	}
}

func TestNewsForAClientWhoWroteMeanwhileNeedsNoTemplate(t *testing.T) {
	w := newWindowRig(t, options{})
	w.driveTo(fsm.Check2FA)
	w.settle()
	// A reply parked for a closed window, and the client writes before
	// the template goes: what waited can go as it is.
	w.clock.advance(25 * time.Hour)
	w.send("hello?")
	if err := w.bot.Reengage(context.Background(), client); err != nil {
		t.Fatal(err)
	}
	w.settle()
	for _, m := range w.sentTo("+" + client) {
		if m.Template != "" {
			t.Errorf("a template went to a client whose window was open: %+v", m)
		}
		if m.Error != "" {
			t.Errorf("Meta failed a message: %s", m.Error)
		}
	}
}

func TestReplyMetaDroppedForTheWindowIsMadeUpFor(t *testing.T) {
	w := newWindowRig(t, options{})
	w.driveTo(fsm.Check2FA)
	w.settle()
	before := len(w.sentTo("+" + client))
	// Meta took the last reply and failed it with 131047: by its clock the
	// window had closed.
	w.clock.advance(25 * time.Hour)
	if err := w.bot.WindowClosed(context.Background(), client); err != nil {
		t.Fatal(err)
	}
	w.settle()
	news := w.sentTo("+" + client)[before:]
	if len(news) != 1 || news[0].Template == "" {
		t.Fatalf("after Meta dropped a reply the client got %+v; want the update template", news)
	}
	// The reply is gone: the client's answer to the template gets the
	// question they are at again.
	r := w.deliver(bot.Inbound{Text: "Continue", Choice: bot.TemplateButton})
	says(t, r, "Check 2/4")
	w.wantState(fsm.Check2FA)
}

func TestClientBackWithAnOKGetsWhatWaitedOnly(t *testing.T) {
	w := newWindowRig(t, options{phone: metasim.TwoStepOffLater})
	w.driveTo(fsm.AskPhone)
	w.send(w.opts.typed)
	w.send(metasim.SandboxSourceWABA)
	w.wantState(fsm.Blocked)
	w.settle()
	w.clock.advance(26 * time.Hour)
	if err := w.bot.Recheck(context.Background(), strings.TrimPrefix(metasim.TwoStepOffLater, "+")); err != nil {
		t.Fatal(err)
	}
	w.settle()
	before := len(w.sentTo("+" + client))
	// The client answers the template by typing rather than tapping.
	if r := w.deliver(bot.Inbound{Text: "ok"}); len(r) != 0 {
		t.Errorf("the client's ok got replies of its own, besides what waited: %q", text(r))
	}
	w.settle()
	news := w.sentTo("+" + client)[before:]
	if len(news) == 0 || len(news[len(news)-1].Choices) == 0 || choiceOf(news[len(news)-1].Choices[0].ID) != "sms" {
		t.Errorf("after the ok the client got %+v; want the parked replies, ending with the method question", news)
	}
	w.tap("sms")
	w.wantState(fsm.AwaitCode)
}

// refusingSender answers the first send with Meta's 131047, as Meta does
// when its clock says the window closed before ours does.
type refusingSender struct {
	bot.Sender
	mu      sync.Mutex
	refused bool
}

func (s *refusingSender) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	s.mu.Lock()
	first := !s.refused && row.Reply.Template == nil
	s.refused = s.refused || first
	s.mu.Unlock()
	if first {
		return bot.SendResult{}, &bot.GraphError{HTTPStatus: 400, Code: 131047, Message: "Re-engagement message"}
	}
	return s.Sender.Send(ctx, row)
}

func TestReplyMetaRefusesForTheWindowIsParked(t *testing.T) {
	h := newAgentHarness(t, options{simClock: true})
	inner := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: h.simURL, Token: token, PhoneNumberID: "106540352242922",
		Timeout: 5 * time.Second})
	w := &windowRig{harness: h, d: delivery.NewDispatcher(h.bot, h.db, &refusingSender{Sender: inner}, delivery.DefaultDispatcherConfig())}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { w.d.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	w.send("Hi there")
	// The row is parked first, then the template written: wait for the
	// template to go out, not only for the outbox to settle once.
	eventually.True(t, "the template", func() bool {
		for _, m := range w.sentTo("+" + client) {
			if m.Template != "" {
				return true
			}
		}
		return false
	})
	w.settle()
	rows, err := w.db.OutboundRows(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].State != bot.OutboundParked {
		t.Errorf("the reply Meta refused with 131047 is %s, want parked", rows[0].State)
	}
	var templates int
	for _, m := range w.sentTo("+" + client) {
		if m.Template != "" {
			templates++
		}
	}
	if templates != 1 {
		t.Errorf("%d templates went out after Meta's 131047; want 1", templates)
	}
}

// Meta's security webhook reaches the engine as a queued event: the case
// blocked on two-step verification goes on, once, however often Meta
// delivers the webhook.
func TestSecurityEventRechecksTheBlockedCaseOnce(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.TwoStepOffLater})
	h.driveTo(fsm.AskPhone)
	h.send(h.opts.typed)
	h.send(metasim.SandboxSourceWABA)
	h.wantState(fsm.Blocked)
	adds := h.calls(metasim.EndpointAddNumber)
	ev := bot.Inbound{ID: "security.5511990000002.PIN_CHANGED.1714510600", From: "5511990000002",
		Security: "PIN_CHANGED", At: h.clock.Now()}
	for range 2 {
		if r, err := h.bot.Handle(context.Background(), ev); err != nil || len(r) != 0 {
			t.Fatalf("Handle(security event) = %v, %v; want no replies of its own", r, err)
		}
	}
	h.wantState(fsm.ChooseMethod)
	if got := h.calls(metasim.EndpointAddNumber); got != adds+1 {
		t.Errorf("the number was added %d more times, want once", got-adds)
	}
	if done, err := h.db.Processed(context.Background(), ev.ID); err != nil || !done {
		t.Errorf("the event is not marked processed: %v, %v", done, err)
	}
}
