package bot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/fsm"
)

// wantBefore checks that first happened, and before then, in the
// simulator's journal of Graph calls.
func wantBefore(t *testing.T, journal []string, first, then string) {
	t.Helper()
	i, j := slices.Index(journal, first), slices.Index(journal, then)
	switch {
	case i < 0:
		t.Errorf("no %q among Meta's calls %v", first, journal)
	case j >= 0 && j < i:
		t.Errorf("%q came before %q: %v", then, first, journal)
	}
}

// Each finding of the pre-flight, with the simulator: which stop the port
// before the first irreversible call (no add reaches Meta), and which let
// it go on.
func TestPreflightFindings(t *testing.T) {
	tests := []struct {
		name     string
		opts     options
		source   string // the source WABA the client gives
		state    fsm.State
		adds     int
		client   []string // phrases of the client's checklist and what follows
		agents   string   // a phrase of the agents' report
		stopped  bool
		stopWord string // a phrase of the case's problem, for a stop of ours
	}{
		{name: "all fine", opts: options{}, state: fsm.ChooseMethod, adds: 1,
			client: []string{"Before changing anything", "✅ " + phone + " is a Brazilian mobile, written with the extra 9",
				"✅ The account that will receive your number passed Meta's review", "I connected it",
				"✅ 6 of your 7 message templates can be copied"},
			agents: "ours is now (POST subscribed_apps)"},
		{name: "WABA not approved", opts: options{destWABA: metasim.WABAPending}, state: fsm.Failed, adds: 0,
			client:  []string{"⚠️ Meta hasn't approved the account", "stopped before anything that can't be undone", "our team has been told"},
			agents:  "review of the destination WABA is PENDING",
			stopped: true, stopWord: "PENDING"},
		{name: "WABA not shared", opts: options{destWABA: metasim.WABANotShared}, state: fsm.Failed, adds: 0,
			client:  []string{"⚠️ We can't open the WhatsApp Business Account prepared for your number", "our team has been told"},
			agents:  "is not shared with us",
			stopped: true, stopWord: "not shared with us"},
		{name: "subscription refused", opts: options{destWABA: metasim.WABASubscribeRefused}, state: fsm.Failed, adds: 0,
			client:  []string{"⚠️ That account isn't connected to our system, and I couldn't connect it", "hasn't been touched"},
			agents:  "subscribing ours failed",
			stopped: true, stopWord: "subscribing ours failed"},
		// Meta may hide a payment method from us: agents are warned, the
		// port goes on, and the add says (here: no payment account).
		{name: "no payment method shown", opts: options{destWABA: metasim.WABANoPayment}, state: fsm.Failed, adds: 1,
			client: []string{"✅ The account that will receive your number passed Meta's review"},
			agents: "⚠️ Meta shows no payment method"},
		{name: "already in our WABA", opts: options{phone: metasim.AlreadyOnWABA}, state: fsm.ChooseMethod, adds: 0,
			client: []string{"✅ Your number is already in our account"},
			agents: "already in our WABA"},
		{name: "landline", opts: options{phone: "+551134567890", typed: "+55 11 3456-7890"}, state: fsm.ChooseMethod, adds: 1,
			client: []string{"⚠️ +551134567890 is a landline or toll-free number in Brazil", "*voice call*"},
			agents: "fixed-line number in BR: no SMS"},
		// A country is said with its article, as the client's language has it.
		{name: "a number in the United States", opts: options{phone: "+14155550100", typed: "+1 415 555 0100"}, state: fsm.ChooseMethod, adds: 1,
			client: []string{"✅ +14155550100 is a valid number in the United States."},
			agents: "valid mobile number in US"},
		{name: "um número nos Estados Unidos", opts: options{lang: bot.Portuguese, phone: "+14155550100", typed: "+1 415 555 0100"}, state: fsm.ChooseMethod, adds: 1,
			client: []string{"✅ +14155550100 é um número válido nos Estados Unidos."},
			agents: "valid mobile number in US"},
		{name: "source templates unreadable", source: metasim.WABANotShared, state: fsm.ChooseMethod, adds: 1,
			client: []string{"⚠️ I couldn't read the message templates of your current account"},
			agents: "templates could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			h := newAgentHarness(t, o)
			h.driveTo(fsm.AskPhone)
			h.send(h.opts.typed)
			source := tt.source
			if source == "" {
				source = metasim.SandboxSourceWABA
			}
			r := h.send(source)
			h.wantState(tt.state)
			says(t, r, tt.client...)
			if got := h.calls(metasim.EndpointAddNumber); got != tt.adds {
				t.Errorf("number added %d times, want %d", got, tt.adds)
			}
			c := h.kase()
			if c.Preflight == nil {
				t.Fatal("the case has no pre-flight report")
			}
			if c.Preflight.Stopped != tt.stopped {
				t.Errorf("pre-flight stopped = %v, want %v", c.Preflight.Stopped, tt.stopped)
			}
			ns := h.takeNotices()
			report := noticeOf(t, ns, bot.NoticePreflight)
			if !strings.Contains(report.Text, tt.agents) {
				t.Errorf("agents' report %q lacks %q", report.Text, tt.agents)
			}
			if strings.Contains(report.Text, h.opts.phone) {
				t.Errorf("agents' report shows the whole number: %q", report.Text)
			}
			if tt.stopped {
				if !strings.Contains(c.Problem, tt.stopWord) || !strings.Contains(c.Problem, "before adding the number") {
					t.Errorf("case problem %q, want the stop (%q) and that nothing was added", c.Problem, tt.stopWord)
				}
				if !strings.Contains(report.Text, "fix: our team") {
					t.Errorf("agents' report %q does not say who fixes it", report.Text)
				}
				noticeOf(t, ns, bot.NoticeFailed)
			}
		})
	}
}

// A WABA not approved when the port starts and approved later: the agent's
// retry runs the pre-flight again, which lets the port go on.
func TestPreflightStopThenRetry(t *testing.T) {
	h := newAgentHarness(t, options{destWABA: metasim.WABAPending})
	h.addNumber()
	h.wantState(fsm.Failed)
	id := h.kase().ID
	if err := h.db.SetWABA(t.Context(), id, metasim.SandboxWABA, agent); err != nil {
		t.Fatal(err)
	}
	if err := h.bot.Retry(t.Context(), id, agent); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	h.wantState(fsm.ChooseMethod)
	if got := h.calls(metasim.EndpointAddNumber); got != 1 {
		t.Errorf("number added %d times, want 1", got)
	}
	h.finish()
}

// Meta allows 10 registrations per number in 72 hours. When our own audit
// shows them spent, the port stops before anything irreversible and says
// until when; after that, the client's retry goes on.
func TestPreflightRegistrationsExhausted(t *testing.T) {
	h := newHarness(t, options{})
	spend := func(n int, at time.Time) {
		t.Helper()
		id, err := h.db.NewCaseID(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		c := bot.Case{ID: id, Client: "5511911112222", Phone: phone, CC: "55", National: phone[3:], State: fsm.Cancelled,
			WABA: metasim.SandboxWABA, RegisterCalls: n, Created: at, Updated: at, Closed: at}
		var audit []bot.AuditEvent
		for i := range n {
			audit = append(audit, bot.AuditEvent{CaseID: id, At: at.Add(time.Duration(i) * time.Minute), Actor: "graph", Kind: "register",
				Detail: "graph: code 136025"})
		}
		err = h.db.Commit(t.Context(), bot.Turn{Conversation: bot.Conversation{Key: "5511911112222", State: fsm.Menu, Created: at, Updated: at},
			Case: &c, Audit: audit})
		if err != nil {
			t.Fatal(err)
		}
	}
	now := h.clock.Now()
	// Four spent long ago do not count; ten in the last 72 hours do.
	spend(4, now.Add(-100*time.Hour))
	spend(10, now.Add(-2*time.Hour))

	r := h.addNumber()
	h.wantState(fsm.AskPhone)
	until := now.Add(-2*time.Hour + 72*time.Hour).UTC().Format("2006-01-02 15:04")
	says(t, r, "⚠️ The 10 registration attempts Meta allows for this number in 72 hours are all used", until,
		"Nobody has to do anything", "*retry*")
	if got := h.calls(metasim.EndpointAddNumber); got != 0 {
		t.Errorf("number added %d times, want 0", got)
	}
	if p := h.kase().Preflight; p == nil || !p.Stopped || !strings.Contains(p.Text(), "fix: nobody, wait") {
		t.Errorf("pre-flight report %+v, want a stop nobody fixes", p)
	}

	// Nine in the window leave one: the port goes on, with a warning.
	h.clock.advance(70*time.Hour + 30*time.Second)
	r = h.send("retry")
	h.wantState(fsm.ChooseMethod)
	says(t, r, "⚠️ 9 of the 10 registration attempts")
	if got := h.calls(metasim.EndpointAddNumber); got != 1 {
		t.Errorf("number added %d times, want 1", got)
	}
}

// Messages for the current provider name the number and what is asked,
// in the client's language with an English copy, and never carry the
// code or the PIN.
func TestLetterInEachLanguage(t *testing.T) {
	tests := []struct {
		lang  bot.Lang
		check bot.Check
		want  []string
	}{
		{bot.English, bot.Check2FA, []string{"turn off two-step verification for the number +5511987654321", "Why:", "migrating-phone-numbers-among-solution-partners"}},
		{bot.Portuguese, bot.Check2FA, []string{"desativem a verificação em duas etapas do número +5511987654321", "Por quê:", "— English —", "turn off two-step verification"}},
		{bot.Spanish, bot.Check2FA, []string{"desactiven la verificación en dos pasos del número +5511987654321", "Por qué:", "— English —"}},
		{bot.English, bot.CheckDisplayName, []string{"complete the approval of the display name of the number +5511987654321"}},
		{bot.Portuguese, bot.CheckDisplayName, []string{"concluam a aprovação do nome de exibição do número +5511987654321", "complete the approval of the display name"}},
		{bot.Spanish, bot.CheckDisplayName, []string{"completen la aprobación del nombre para mostrar del número +5511987654321"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.lang)+"/"+string(tt.check), func(t *testing.T) {
			l, err := bot.WriteLetter(tt.check, phone, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(l.Text, w) {
					t.Errorf("letter lacks %q:\n%s", w, l.Text)
				}
			}
			if tt.lang == bot.English && strings.Contains(l.Text, "— English —") {
				t.Error("an English letter carries an English copy of itself")
			}
		})
	}
	if _, err := bot.WriteLetter(bot.CheckBM, phone, bot.English); err == nil {
		t.Error("a letter about Business Manager access, which the provider cannot give")
	}
	if _, err := bot.WriteLetter(bot.Check2FA, "", bot.English); err == nil {
		t.Error("a letter without the number")
	}
}

// In the chat: a "no" at the 2FA check offers the message; one tap asks
// for the number (not known yet), then sends the message alone, ready to
// forward, without the code or the PIN the port used.
func TestLetterOfferedAtABlock(t *testing.T) {
	for _, lang := range []bot.Lang{bot.English, bot.Portuguese, bot.Spanish} {
		t.Run(string(lang), func(t *testing.T) {
			h := newHarness(t, options{lang: lang})
			h.driveTo(fsm.Blocked)
			if ids := buttons(h.last); !slices.Equal(ids, []string{"fixed", "letter", "agent"}) {
				t.Fatalf("buttons at the block = %v, want fixed, letter, agent", ids)
			}
			r := h.tap("letter")
			h.wantState(fsm.Blocked)
			says(t, r, "+55 11 98765-4321")
			r = h.send(typed)
			h.wantState(fsm.Blocked)
			if len(r) < 3 {
				t.Fatalf("replies %q, want an introduction, the message alone, and the question", text(r))
			}
			letter := r[1]
			if len(letter.Buttons) != 0 || !strings.Contains(letter.Text, phone) || !strings.HasPrefix(letter.Text, map[bot.Lang]string{
				bot.English: "To our current", bot.Portuguese: "Para o nosso provedor atual", bot.Spanish: "Para nuestro proveedor actual"}[lang]) {
				t.Errorf("the message is not a reply of its own naming the number:\n%q", letter.Text)
			}
			if !strings.Contains(letter.Text, "two-step verification") {
				t.Errorf("the message lacks the request (or its English copy):\n%s", letter.Text)
			}
			if c := h.kase(); c.LetterPhone != phone {
				t.Errorf("case letter number %q, want %s", c.LetterPhone, phone)
			}
			// Fixed: the port goes on from the check.
			h.send("done")
			h.wantState(fsm.Check2FA)
		})
	}
}

// Meta refusing the add because two-step verification is on offers the
// message too, naming the number the client gave; it carries neither the
// code nor the PIN of a port that got as far as both.
func TestLetterAfterMetaRefusesTheAdd(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.TwoStepOn})
	h.addNumber()
	h.wantState(fsm.Blocked)
	r := h.tap("letter")
	var letter string
	for _, rep := range r {
		if strings.HasPrefix(rep.Text, "To our current") {
			letter = rep.Text
		}
	}
	if !strings.Contains(letter, metasim.TwoStepOn) || !strings.Contains(letter, "turn off two-step verification") {
		t.Fatalf("no message naming %s and the request in %q", metasim.TwoStepOn, text(r))
	}
	for _, secret := range []string{otp, pin} {
		if strings.Contains(letter, secret) {
			t.Errorf("the message carries %q", secret)
		}
	}
	// Agents get the same message.
	l, err := h.bot.Letter(t.Context(), h.kase().ID)
	if err != nil || l.Text != letter {
		t.Errorf("Letter = %q, %v; want the client's message", l.Text, err)
	}
}

// A case not waiting for its current provider has no message.
func TestNoLetterWithoutABlockOnTheProvider(t *testing.T) {
	h := newHarness(t, options{})
	h.driveTo(fsm.ChooseMethod)
	if _, err := h.bot.Letter(t.Context(), h.kase().ID); err == nil {
		t.Error("a message for a case that is not blocked")
	}
	h2 := newHarness(t, options{})
	h2.driveTo(fsm.CheckBMAccess)
	h2.tap("no")
	h2.wantState(fsm.Blocked)
	if ids := buttons(h2.last); slices.Contains(ids, "letter") {
		t.Errorf("buttons at a Business Manager block = %v: the provider cannot give access to it", ids)
	}
}
