package bot_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/fsm"
)

// agent is the Slack user id of the agent in these tests.
const agent = "U0AGENT"

var (
	saysJoined = phrases{bot.English: "A person from our team has joined this chat",
		bot.Portuguese: "Uma pessoa da nossa equipe entrou nesta conversa",
		bot.Spanish:    "Una persona de nuestro equipo se unió a este chat"}
	saysLeft = phrases{bot.English: "handed the chat back to me",
		bot.Portuguese: "Nossa equipe devolveu a conversa para mim",
		bot.Spanish:    "Nuestro equipo me devolvió el chat"}
)

// newAgentHarness is a harness whose engine writes its replies to the
// outbox and queues notices for agents, as serve runs it with Slack on.
func newAgentHarness(t *testing.T, opts options) *harness {
	t.Helper()
	h := newHarness(t, opts)
	cfg := h.config()
	cfg.Outbox, cfg.Notify = true, true
	h.bot = h.engine(cfg)
	return h
}

// reachNotified is reach with the outbox and notices on.
func reachNotified(t *testing.T, target fsm.State, lang bot.Lang) *harness {
	t.Helper()
	h := newAgentHarness(t, optionsFor(target, lang))
	h.driveTo(target)
	return h
}

// queued is every reply written to the client's outbox so far.
func (h *harness) queued() []bot.Reply {
	h.t.Helper()
	rows, err := h.db.OutboundRows(h.t.Context(), client)
	if err != nil {
		h.t.Fatalf("outbox rows: %v", err)
	}
	replies := make([]bot.Reply, len(rows))
	for i, r := range rows {
		replies[i] = r.Reply
	}
	return replies
}

// queuedSince is what was written to the client's outbox after the first
// mark replies.
func (h *harness) queuedSince(mark int) []bot.Reply {
	h.t.Helper()
	return h.queued()[mark:]
}

// takeNotices claims every pending notice, as a dispatcher would, marks
// each sent, and returns them: for each case in the order they were
// written.
func (h *harness) takeNotices() []bot.Notice {
	h.t.Helper()
	var all []bot.Notice
	for {
		rows, release, err := h.db.ClaimNotices(h.t.Context(), h.clock.Now().Add(time.Hour), 100)
		if err != nil {
			h.t.Fatalf("claim notices: %v", err)
		}
		if len(rows) == 0 {
			release()
			return all
		}
		for _, n := range rows {
			n.State, n.Attempts = bot.OutboundSent, 1
			if err := h.db.MarkNotice(h.t.Context(), n); err != nil {
				h.t.Fatalf("mark notice %s: %v", n.ID, err)
			}
			all = append(all, n)
		}
		release()
	}
}

func kindsOf(ns []bot.Notice) []bot.NoticeKind {
	var ks []bot.NoticeKind
	for _, n := range ns {
		ks = append(ks, n.Kind)
	}
	return ks
}

func noticeList(ns []bot.Notice) string {
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "  [%s] case %s: %s\n", n.Kind, n.CaseID, n.Text)
	}
	return b.String()
}

// wantNotices fails the test unless ns are of kinds want, in that order,
// and none shows the full number being ported or the client's.
func wantNotices(t *testing.T, ns []bot.Notice, want ...bot.NoticeKind) {
	t.Helper()
	if got := kindsOf(ns); !slices.Equal(got, want) {
		t.Errorf("notices = %v, want %v:\n%s", got, want, noticeList(ns))
	}
	for _, n := range ns {
		for _, full := range []string{strings.TrimPrefix(phone, "+"), client, "987654321", "912345678"} {
			if strings.Contains(n.Text, full) {
				t.Errorf("notice %s shows a full number (%s): %q", n.Kind, full, n.Text)
			}
		}
	}
}

// noticeOf returns the only notice of kind in ns.
func noticeOf(t *testing.T, ns []bot.Notice, kind bot.NoticeKind) bot.Notice {
	t.Helper()
	var found []bot.Notice
	for _, n := range ns {
		if n.Kind == kind {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d notices of kind %s, want 1:\n%s", len(found), kind, noticeList(ns))
	}
	return found[0]
}

// audited reports whether the case's history has an entry of kind by actor.
func (h *harness) audited(caseID, actor, kind string) bool {
	h.t.Helper()
	events, err := h.db.Audit(h.t.Context(), caseID)
	if err != nil {
		h.t.Fatalf("audit of case %s: %v", caseID, err)
	}
	return slices.ContainsFunc(events, func(e bot.AuditEvent) bool { return e.Actor == actor && e.Kind == kind })
}

// The states an agent takes over from, each with the language the client
// speaks and a phrase of the question that state asks again on release.
var takeovers = []struct {
	state  fsm.State
	lang   bot.Lang
	prompt string
}{
	{fsm.CheckBMAccess, bot.Portuguese, "Você tem acesso de *administrador*"},
	{fsm.Check2FA, bot.Spanish, "¿está desactivada la *verificación en dos pasos*"},
	{fsm.Blocked, bot.English, "When it's sorted, send *done*"},
	{fsm.AskPhone, bot.Spanish, "¿Qué número quieres traer?"},
	{fsm.AwaitWABA, bot.Portuguese, "Um dos nossos atendentes está finalizando a configuração"},
	{fsm.ChooseMethod, bot.English, "How should it arrive?"},
	{fsm.AwaitCode, bot.Portuguese, "Digite o código de 6 dígitos que a Meta enviou"},
	{fsm.AskPin, bot.Spanish, "elige un *nuevo PIN de 6 dígitos*"},
	{fsm.Failed, bot.English, "Our team is looking into your case"},
}

func TestTakeOverAndReleaseKeepThePlace(t *testing.T) {
	for _, tc := range takeovers {
		t.Run(fmt.Sprintf("%s/%s", tc.state, tc.lang), func(t *testing.T) {
			h := reachNotified(t, tc.state, tc.lang)
			id := h.kase().ID
			h.takeNotices()
			mark := len(h.queued())

			if err := h.bot.TakeOver(t.Context(), id, agent); err != nil {
				t.Fatalf("TakeOver: %v", err)
			}
			h.wantState(fsm.Handoff)
			if got := h.conv().Back; got != tc.state {
				t.Errorf("Back after the takeover = %s, want %s", got, tc.state)
			}
			if c := h.kase(); c.Agent != agent || c.State != fsm.Handoff {
				t.Errorf("case after the takeover: agent %q state %s, want %q in handoff", c.Agent, c.State, agent)
			}
			told := h.queuedSince(mark)
			says(t, told, saysJoined[tc.lang])
			lacks(t, told, saysHandoff[tc.lang])
			if len(told) != 1 {
				t.Errorf("the takeover queued %d messages, want 1:\n%s", len(told), text(told))
			}
			// The agent took the case; nobody needs to be called for it.
			wantNotices(t, h.takeNotices())
			if !h.audited(id, agent, "takeover") {
				t.Error("the takeover is not in the case's history")
			}

			mark = len(h.queued())
			if r := h.send("hello? anyone there"); len(r) != 0 {
				t.Errorf("the bot answered a client in handoff:\n%s", text(r))
			}
			if got := h.queuedSince(mark); len(got) != 0 {
				t.Errorf("the bot queued replies to a client in handoff:\n%s", text(got))
			}
			wantNotices(t, h.takeNotices(), bot.NoticeClientMessage)

			mark = len(h.queued())
			if err := h.bot.Release(t.Context(), id, agent); err != nil {
				t.Fatalf("Release: %v", err)
			}
			h.wantState(tc.state)
			c := h.kase()
			if c.Agent != "" || c.State != tc.state {
				t.Errorf("case after the release: agent %q state %s, want none at %s", c.Agent, c.State, tc.state)
			}
			told = h.queuedSince(mark)
			says(t, told, saysLeft[tc.lang], tc.prompt)
			if !h.audited(id, agent, "release") {
				t.Error("the release is not in the case's history")
			}
			wantNotices(t, h.takeNotices())
		})
	}
}

func TestHandoffTranscriptWithAgent(t *testing.T) {
	h := newAgentHarness(t, options{lang: bot.Spanish})
	h.driveTo(fsm.AskPhone)
	id := h.kase().ID
	r := h.send("agente")
	h.wantState(fsm.Handoff)
	says(t, r, saysHandoff[bot.Spanish], saysCaseNo[bot.Spanish]+id)
	ns := h.takeNotices()
	wantNotices(t, ns, bot.NoticeStarted, bot.NoticeAgentAsked)
	if n := noticeOf(t, ns, bot.NoticeAgentAsked); !strings.Contains(n.Text, "Case #"+id) ||
		!strings.Contains(n.Text, "asks for a person (was at ask_phone)") {
		t.Errorf("agent_requested notice %q, want the case and the step the client was at", n.Text)
	}

	// Before anyone took the case a greeting is told a person will answer,
	// and the agents see it.
	says(t, h.send("¿hola?"), "Uno de nuestros agentes te responderá aquí")
	h.wantState(fsm.Handoff)
	wantNotices(t, h.takeNotices(), bot.NoticeClientMessage)

	mark := len(h.queued())
	if err := h.bot.TakeOver(t.Context(), id, agent); err != nil {
		t.Fatalf("TakeOver: %v", err)
	}
	h.wantState(fsm.Handoff)
	if got := h.conv().Back; got != fsm.AskPhone {
		t.Errorf("Back after the takeover = %s, want ask_phone, where the client asked for a person", got)
	}
	says(t, h.queuedSince(mark), saysJoined[bot.Spanish])
	// The client asked already; the takeover calls nobody again.
	wantNotices(t, h.takeNotices())

	mark = len(h.queued())
	if r := h.send("my code is 482913, and my number is " + typed); len(r) != 0 {
		t.Errorf("the bot answered a client an agent holds:\n%s", text(r))
	}
	if r := h.deliver(bot.Inbound{Unsupported: "image"}); len(r) != 0 {
		t.Errorf("the bot answered an image from a client an agent holds:\n%s", text(r))
	}
	if got := h.queuedSince(mark); len(got) != 0 {
		t.Errorf("the bot queued replies to a client an agent holds:\n%s", text(got))
	}
	ns = h.takeNotices()
	wantNotices(t, ns, bot.NoticeClientMessage, bot.NoticeClientMessage)
	if want := "Client: my code is ••••••, and my number is +55 11 •••••-••••"; len(ns) > 0 && ns[0].Text != want {
		t.Errorf("the client's message reached agents as %q, want %q", ns[0].Text, want)
	}
	if len(ns) > 1 && ns[1].Text != "Client: [image]" {
		t.Errorf("the client's image reached agents as %q, want %q", ns[1].Text, "Client: [image]")
	}
	for _, n := range ns {
		if strings.Contains(n.Text, "482913") {
			t.Errorf("a code reached agents: %q", n.Text)
		}
	}

	mark = len(h.queued())
	if err := h.bot.Say(t.Context(), id, agent, "  Hola, soy Ana. ¿En qué te ayudo?  "); err != nil {
		t.Fatalf("Say: %v", err)
	}
	if got := h.queuedSince(mark); len(got) != 1 || got[0].Text != "Hola, soy Ana. ¿En qué te ayudo?" || len(got[0].Buttons) != 0 {
		t.Errorf("Say queued %q, want the agent's text alone", text(got))
	}
	if err := h.bot.Say(t.Context(), id, agent, " \n "); !errors.Is(err, bot.ErrEmptyText) {
		t.Errorf("Say(blank) = %v, want ErrEmptyText", err)
	}
	if !h.audited(id, agent, "say") {
		t.Error("the agent's message is not in the case's history")
	}
	h.wantState(fsm.Handoff)

	mark = len(h.queued())
	if err := h.bot.Release(t.Context(), id, agent); err != nil {
		t.Fatalf("Release: %v", err)
	}
	h.wantState(fsm.AskPhone)
	says(t, h.queuedSince(mark), saysLeft[bot.Spanish], "¿Qué número quieres traer?")
	if err := h.bot.Release(t.Context(), id, agent); !errors.Is(err, bot.ErrNotInHandoff) {
		t.Errorf("a second Release = %v, want ErrNotInHandoff", err)
	}

	// The bot has the conversation again, at the step it left.
	r = h.send(typed)
	h.wantState(fsm.AskPhone)
	says(t, r, "Anotado: "+phone)
	h.send(metasim.SandboxSourceWABA)
	h.wantState(fsm.ChooseMethod)
	// The pre-flight's report is the thread's only news.
	wantNotices(t, h.takeNotices(), bot.NoticePreflight)
}

// failRegistration drives a port whose registration Meta blocks to failed.
func failRegistration(t *testing.T) (*harness, string) {
	t.Helper()
	h := newAgentHarness(t, options{phone: metasim.RegisterBlocked})
	h.driveTo(fsm.AskPin)
	h.send(pin)
	r := h.send(pin)
	h.wantState(fsm.Failed)
	says(t, r, "Meta has blocked registration for this number")
	if got := h.conv().Back; got != fsm.Registering {
		t.Fatalf("a failed registration keeps Back = %s, want registering", got)
	}
	return h, h.kase().ID
}

func TestRetryRegistrationStartsFromAStatusCheck(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.RegisterBlocked})
	h.driveTo(fsm.AskPin)
	id := h.kase().ID
	if err := h.bot.Retry(t.Context(), id, agent); !errors.Is(err, bot.ErrNotFailed) {
		t.Errorf("Retry before anything failed = %v, want ErrNotFailed", err)
	}
	h.wantState(fsm.AskPin)
	h.send(pin)
	h.send(pin)
	h.wantState(fsm.Failed)

	c := h.kase()
	ns := h.takeNotices()
	wantNotices(t, ns, bot.NoticeStarted, bot.NoticePreflight, bot.NoticeFailed)
	n := noticeOf(t, ns, bot.NoticeFailed)
	for _, want := range []string{"Case #" + id, bot.MaskPhone(metasim.RegisterBlocked), "failed at registering",
		"registration blocked by Meta for 72 hours", "(fbtrace_id " + c.TraceID + ")", "/porta retry " + id} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("failed notice %q lacks %q", n.Text, want)
		}
	}
	if c.TraceID == "" {
		t.Error("the failed case has no fbtrace_id")
	}

	checks := h.calls(metasim.EndpointPhoneNumber)
	registers := h.calls(metasim.EndpointRegister)
	mark := len(h.queued())
	if err := h.bot.Retry(t.Context(), id, agent); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	// Registration must not be repeated blindly: Meta is asked where the
	// number stands, and the client, whose PIN is never kept, asked again.
	h.wantState(fsm.AskPin)
	if got := h.calls(metasim.EndpointPhoneNumber); got != checks+1 {
		t.Errorf("the retry read the number %d times, want 1", got-checks)
	}
	if got := h.calls(metasim.EndpointRegister); got != registers {
		t.Errorf("the retry registered %d times before asking for the PIN, want 0", got-registers)
	}
	says(t, h.queuedSince(mark), "I never keep your PIN", "choose a *new 6-digit PIN*")
	if c := h.kase(); c.Problem != "" || c.TraceID != "" || c.State != fsm.AskPin {
		t.Errorf("case after the retry: state %s problem %q trace %q, want ask_pin and the problem cleared", c.State, c.Problem, c.TraceID)
	}
	if !h.audited(id, agent, "retry") {
		t.Error("the retry is not in the case's history")
	}
	if err := h.bot.Retry(t.Context(), id, agent); !errors.Is(err, bot.ErrNotFailed) {
		t.Errorf("a second Retry = %v, want ErrNotFailed", err)
	}
	wantNotices(t, h.takeNotices())

	// Meta still blocks it: the case fails again, and agents hear of it.
	h.send(pin)
	h.send(pin)
	h.wantState(fsm.Failed)
	wantNotices(t, h.takeNotices(), bot.NoticeFailed)
}

func TestRetryAddingTheNumberRunsTheStepAgain(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.OtherPortfolio})
	r := h.addNumber()
	h.wantState(fsm.Failed)
	says(t, r, "different business portfolio")
	id := h.kase().ID
	first := h.kase().TraceID
	ns := h.takeNotices()
	wantNotices(t, ns, bot.NoticeStarted, bot.NoticePreflight, bot.NoticeFailed)
	if n := noticeOf(t, ns, bot.NoticeFailed); !strings.Contains(n.Text, "failed at adding_number") ||
		!strings.Contains(n.Text, "different business portfolios") || !strings.Contains(n.Text, "(fbtrace_id "+first+")") {
		t.Errorf("failed notice %q, want the step, the reason and the fbtrace_id %s", n.Text, first)
	}

	mark := len(h.queued())
	if err := h.bot.Retry(t.Context(), id, agent); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	// The number was not in the destination's list, so it is added again;
	// Meta refuses again, with a new trace id.
	if got := h.calls(metasim.EndpointAddNumber); got != 2 {
		t.Errorf("number added %d times, want 2", got)
	}
	h.wantState(fsm.Failed)
	says(t, h.queuedSince(mark), "different business portfolio")
	c := h.kase()
	if c.TraceID == "" || c.TraceID == first {
		t.Errorf("trace id after the retry %q, want Meta's new one (the first was %q)", c.TraceID, first)
	}
	ns = h.takeNotices()
	// The retry runs the pre-flight again before the add.
	wantNotices(t, ns, bot.NoticePreflight, bot.NoticeFailed)
	if n := noticeOf(t, ns, bot.NoticeFailed); !strings.Contains(n.Text, c.TraceID) {
		t.Errorf("failed notice %q lacks the new fbtrace_id %s", n.Text, c.TraceID)
	}
}

// A failed case an agent or the client took to a person is still retried at
// the step that failed once the bot has it back.
func TestRetryAfterHandoff(t *testing.T) {
	for name, handoff := range map[string]func(h *harness, id string){
		"agent took over": func(h *harness, id string) {
			if err := h.bot.TakeOver(h.t.Context(), id, agent); err != nil {
				h.t.Fatalf("TakeOver: %v", err)
			}
		},
		"client asked": func(h *harness, id string) {
			h.send("agent")
			h.wantState(fsm.Handoff)
			if err := h.bot.TakeOver(h.t.Context(), id, agent); err != nil {
				h.t.Fatalf("TakeOver: %v", err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			h, id := failRegistration(t)
			handoff(h, id)
			if err := h.bot.Retry(t.Context(), id, agent); !errors.Is(err, bot.ErrNotFailed) {
				t.Errorf("Retry while an agent holds the case = %v, want ErrNotFailed", err)
			}
			if err := h.bot.Release(t.Context(), id, agent); err != nil {
				t.Fatalf("Release: %v", err)
			}
			h.wantState(fsm.Failed)
			registers := h.calls(metasim.EndpointRegister)
			if err := h.bot.Retry(t.Context(), id, agent); err != nil {
				t.Fatalf("Retry: %v", err)
			}
			h.wantState(fsm.AskPin)
			if got := h.calls(metasim.EndpointRegister); got != registers {
				t.Errorf("the retry registered %d times, want 0", got-registers)
			}
		})
	}
}

func TestCancelCase(t *testing.T) {
	tests := map[string]struct {
		phone string
		setup func(h *harness)
	}{
		"choose_method": {phone, func(h *harness) { h.driveTo(fsm.ChooseMethod) }},
		"held by an agent": {phone, func(h *harness) {
			h.driveTo(fsm.AwaitCode)
			if err := h.bot.TakeOver(h.t.Context(), h.kase().ID, agent); err != nil {
				h.t.Fatalf("TakeOver: %v", err)
			}
		}},
		"client at the menu mid-port": {phone, func(h *harness) {
			h.driveTo(fsm.AskPhone)
			h.send("menu")
			h.wantState(fsm.Menu)
		}},
		"failed": {metasim.OtherPortfolio, func(h *harness) {
			h.addNumber()
			h.wantState(fsm.Failed)
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := newAgentHarness(t, options{lang: bot.Portuguese, phone: tc.phone})
			tc.setup(h)
			id := h.kase().ID
			h.takeNotices()
			mark := len(h.queued())
			if err := h.bot.CancelCase(t.Context(), id, agent); err != nil {
				t.Fatalf("CancelCase: %v", err)
			}
			h.wantState(fsm.Cancelled)
			c := h.kase()
			if c.State != fsm.Cancelled || c.Closed.IsZero() {
				t.Errorf("case after the cancel: state %s closed %v, want cancelled and closed", c.State, c.Closed)
			}
			says(t, h.queuedSince(mark), saysCancelled[bot.Portuguese])
			ns := h.takeNotices()
			wantNotices(t, ns, bot.NoticeCancelled)
			want := "Case #" + id + " (" + bot.MaskPhone(tc.phone) + ") was cancelled."
			if c.Phone == "" {
				want = "Case #" + id + " was cancelled."
			}
			if len(ns) == 1 && ns[0].Text != want {
				t.Errorf("cancelled notice %q", ns[0].Text)
			}
			if !h.audited(id, agent, "cancel") {
				t.Error("the cancel is not in the case's history")
			}

			mark = len(h.queued())
			for action, err := range map[string]error{
				"CancelCase": h.bot.CancelCase(t.Context(), id, agent),
				"TakeOver":   h.bot.TakeOver(t.Context(), id, agent),
				"SetWABA":    h.bot.SetWABA(t.Context(), id, metasim.SandboxWABA, agent),
			} {
				if !errors.Is(err, bot.ErrClosed) {
					t.Errorf("%s on a cancelled case = %v, want ErrClosed", action, err)
				}
			}
			if err := h.bot.Release(t.Context(), id, agent); !errors.Is(err, bot.ErrNotInHandoff) {
				t.Errorf("Release on a cancelled case = %v, want ErrNotInHandoff", err)
			}
			if err := h.bot.Retry(t.Context(), id, agent); !errors.Is(err, bot.ErrNotFailed) {
				t.Errorf("Retry on a cancelled case = %v, want ErrNotFailed", err)
			}
			h.wantState(fsm.Cancelled)
			if got := h.queuedSince(mark); len(got) != 0 {
				t.Errorf("refused actions told the client:\n%s", text(got))
			}
			wantNotices(t, h.takeNotices())
		})
	}
}

func TestSetWABAResumesAPortWaitingForIt(t *testing.T) {
	h := reachNotified(t, fsm.AwaitWABA, bot.Portuguese)
	id := h.kase().ID
	ns := h.takeNotices()
	wantNotices(t, ns, bot.NoticeStarted, bot.NoticeAwaitWABA)
	if n := noticeOf(t, ns, bot.NoticeAwaitWABA); !strings.Contains(n.Text, "/porta waba "+id+" <waba_id>") {
		t.Errorf("await_waba notice %q does not say how to set the WABA", n.Text)
	}

	for _, bad := range []string{"", "12ab", "104996 122399160", strings.Repeat("1", 33)} {
		if err := h.bot.SetWABA(t.Context(), id, bad, agent); err == nil {
			t.Errorf("SetWABA(%q) took a WABA id that is not one", bad)
		}
	}
	h.wantState(fsm.AwaitWABA)
	if c := h.kase(); c.WABA != "" {
		t.Fatalf("case WABA = %q after refused ids", c.WABA)
	}

	mark := len(h.queued())
	if err := h.bot.SetWABA(t.Context(), id, metasim.SandboxWABA, agent); err != nil {
		t.Fatalf("SetWABA: %v", err)
	}
	h.wantState(fsm.ChooseMethod)
	if c := h.kase(); c.WABA != metasim.SandboxWABA || c.PhoneNumberID == "" {
		t.Errorf("case after SetWABA: WABA %q phone number id %q, want %s and the id Meta gave", c.WABA, c.PhoneNumberID, metasim.SandboxWABA)
	}
	if got := h.calls(metasim.EndpointAddNumber); got != 1 {
		t.Errorf("number added %d times, want 1", got)
	}
	told := h.queuedSince(mark)
	says(t, told, "O número já está na nossa conta", "Como ele deve chegar?")
	if ids := buttons(told); !slices.Equal(ids, []string{"sms", "voice"}) {
		t.Errorf("buttons after SetWABA = %v, want [sms voice]", ids)
	}
	if !h.audited(id, agent, "waba_set") {
		t.Error("the WABA is not in the case's history")
	}
	wantNotices(t, h.takeNotices(), bot.NoticePreflight)

	h.finish()
	ns = h.takeNotices()
	wantNotices(t, ns, bot.NoticeDone)
	if len(ns) == 1 && ns[0].Text != "Case #"+id+" ("+bot.MaskPhone(phone)+") is done: the number is ours." {
		t.Errorf("done notice %q", ns[0].Text)
	}
}

func TestSetWABABeforeTheClientWaitsForIt(t *testing.T) {
	h := newAgentHarness(t, options{noDestWABA: true})
	h.driveTo(fsm.CheckBMAccess)
	mark := len(h.queued())
	if err := h.bot.SetWABA(t.Context(), h.kase().ID, metasim.SandboxWABA, agent); err != nil {
		t.Fatalf("SetWABA: %v", err)
	}
	h.wantState(fsm.CheckBMAccess)
	if got := h.queuedSince(mark); len(got) != 0 {
		t.Errorf("setting the WABA early told the client:\n%s", text(got))
	}
	for range 4 {
		h.tap("yes")
	}
	h.send(typed)
	h.send(metasim.SandboxSourceWABA)
	h.wantState(fsm.ChooseMethod)
	wantNotices(t, h.takeNotices(), bot.NoticeStarted, bot.NoticePreflight)
}

func TestAgentActionErrors(t *testing.T) {
	h := reachNotified(t, fsm.AskPhone, bot.English)
	id := h.kase().ID
	h.takeNotices()
	mark := len(h.queued())
	ctx := t.Context()
	for action, err := range map[string]error{
		"TakeOver":   h.bot.TakeOver(ctx, "999", agent),
		"Release":    h.bot.Release(ctx, "999", agent),
		"Say":        h.bot.Say(ctx, "999", agent, "hello"),
		"Retry":      h.bot.Retry(ctx, "999", agent),
		"CancelCase": h.bot.CancelCase(ctx, "999", agent),
		"SetWABA":    h.bot.SetWABA(ctx, "999", metasim.SandboxWABA, agent),
	} {
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s on an unknown case = %v, want ErrNotFound", action, err)
		}
	}
	if err := h.bot.Release(ctx, id, agent); !errors.Is(err, bot.ErrNotInHandoff) {
		t.Errorf("Release of a case nobody holds = %v, want ErrNotInHandoff", err)
	}
	if err := h.bot.Retry(ctx, id, agent); !errors.Is(err, bot.ErrNotFailed) {
		t.Errorf("Retry of a case that did not fail = %v, want ErrNotFailed", err)
	}
	if err := h.bot.Say(ctx, id, agent, ""); !errors.Is(err, bot.ErrEmptyText) {
		t.Errorf("Say(\"\") = %v, want ErrEmptyText", err)
	}
	h.wantState(fsm.AskPhone)
	if got := h.queuedSince(mark); len(got) != 0 {
		t.Errorf("refused actions told the client:\n%s", text(got))
	}
	wantNotices(t, h.takeNotices())
}

// Actions name a case; when the client has moved on to a newer one, acting
// on the old case must not touch the new case's conversation.
func TestActionsOnAnOlderCase(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.OtherPortfolio})
	h.driveTo(fsm.CheckBMAccess)
	old := h.kase().ID
	h.send("cancel")
	h.wantState(fsm.Cancelled)
	h.tap("start")
	h.wantState(fsm.CheckBMAccess)
	cur := h.kase().ID
	if cur == old {
		t.Fatal("starting again did not open a new case")
	}
	h.send("agent")
	h.wantState(fsm.Handoff)
	if err := h.bot.Release(t.Context(), old, agent); !errors.Is(err, bot.ErrNotInHandoff) {
		t.Errorf("Release of the old case while the new one is in handoff = %v, want ErrNotInHandoff", err)
	}
	h.wantState(fsm.Handoff)
	if err := h.bot.Release(t.Context(), cur, agent); err != nil {
		t.Fatalf("Release: %v", err)
	}
	h.wantState(fsm.CheckBMAccess)
	for range 4 {
		h.tap("yes")
	}
	h.send(h.opts.typed)
	h.send(metasim.SandboxSourceWABA)
	h.wantState(fsm.Failed)
	if err := h.bot.Retry(t.Context(), old, agent); !errors.Is(err, bot.ErrNotFailed) {
		t.Errorf("Retry of the old case while the new one failed = %v, want ErrNotFailed", err)
	}
	h.wantState(fsm.Failed)
	if got := h.calls(metasim.EndpointAddNumber); got != 1 {
		t.Errorf("number added %d times, want 1", got)
	}
	c, err := h.db.Case(t.Context(), old)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != fsm.Cancelled {
		t.Errorf("the old case is %s, want it still cancelled", c.State)
	}
}

func TestNoticesForAgents(t *testing.T) {
	tests := []struct {
		target fsm.State
		want   []bot.NoticeKind
		phrase string
	}{
		{fsm.Blocked, []bot.NoticeKind{bot.NoticeStarted, bot.NoticeBlocked}, "is blocked: two-step verification is on."},
		{fsm.AwaitWABA, []bot.NoticeKind{bot.NoticeStarted, bot.NoticeAwaitWABA}, "needs its destination WABA"},
		{fsm.Handoff, []bot.NoticeKind{bot.NoticeStarted, bot.NoticeAgentAsked}, "asks for a person (was at check_bm_access)."},
		{fsm.Failed, []bot.NoticeKind{bot.NoticeStarted, bot.NoticePreflight, bot.NoticeFailed}, "failed at adding_number: source and destination WABAs are in different business portfolios"},
		{fsm.Done, []bot.NoticeKind{bot.NoticeStarted, bot.NoticePreflight, bot.NoticeDone}, "is done: the number is ours."},
		{fsm.Cancelled, []bot.NoticeKind{bot.NoticeStarted, bot.NoticeCancelled}, "was cancelled."},
	}
	for _, tc := range tests {
		t.Run(string(tc.target), func(t *testing.T) {
			h := reachNotified(t, tc.target, bot.English)
			c := h.kase()
			ns := h.takeNotices()
			wantNotices(t, ns, tc.want...)
			for _, n := range ns {
				if n.CaseID != c.ID || n.Created.IsZero() || n.ID == "" {
					t.Errorf("notice %+v, want it about case %s, dated, with an id", n, c.ID)
				}
			}
			if len(ns) != 2 {
				return
			}
			if want := "New case from client " + bot.MaskPhone(client) + "."; ns[0].Text != want {
				t.Errorf("started notice %q, want %q", ns[0].Text, want)
			}
			if !strings.Contains(ns[1].Text, "Case #"+c.ID) || !strings.Contains(ns[1].Text, tc.phrase) {
				t.Errorf("%s notice %q, want the case and %q", ns[1].Kind, ns[1].Text, tc.phrase)
			}
			if c.Phone != "" && !strings.Contains(ns[1].Text, bot.MaskPhone(c.Phone)) {
				t.Errorf("%s notice %q lacks the masked number %s", ns[1].Kind, ns[1].Text, bot.MaskPhone(c.Phone))
			}
			if tc.target == fsm.Failed && strings.Count(ns[1].Text, "fbtrace_id "+c.TraceID) != 1 {
				t.Errorf("failed notice %q, want the fbtrace_id %s once", ns[1].Text, c.TraceID)
			}
		})
	}

	t.Run("wrong_codes", func(t *testing.T) {
		h := reachNotified(t, fsm.AwaitCode, bot.English)
		h.takeNotices()
		for range 3 {
			h.send("111111")
		}
		h.wantState(fsm.Handoff)
		ns := h.takeNotices()
		wantNotices(t, ns, bot.NoticeWrongCodes)
		if len(ns) == 1 && !strings.Contains(ns[0].Text, "the code was refused 3 times; the client waits for a person.") {
			t.Errorf("wrong_codes notice %q", ns[0].Text)
		}
		// Released, the client is asked for the code again with a fresh
		// count.
		if err := h.bot.Release(t.Context(), h.kase().ID, agent); err != nil {
			t.Fatalf("Release: %v", err)
		}
		h.wantState(fsm.AwaitCode)
		if c := h.kase(); c.WrongCodes != 0 {
			t.Errorf("wrong codes after the release = %d, want 0", c.WrongCodes)
		}
		h.send(otp)
		h.wantState(fsm.AskPin)
	})

	t.Run("no news on return", func(t *testing.T) {
		// A client back from the menu is where agents were told the case
		// stands already.
		for _, target := range []fsm.State{fsm.Blocked, fsm.AwaitWABA, fsm.Failed} {
			h := reachNotified(t, target, bot.English)
			h.takeNotices()
			h.send("menu")
			h.wantState(fsm.Menu)
			h.tap("continue")
			h.wantState(target)
			wantNotices(t, h.takeNotices())
		}
	})

	t.Run("off", func(t *testing.T) {
		// Without Slack the engine queues nothing for agents.
		h := newHarness(t, options{})
		h.driveTo(fsm.Done)
		if ns := h.takeNotices(); len(ns) != 0 {
			t.Errorf("notices without Notify:\n%s", noticeList(ns))
		}
	})
}
