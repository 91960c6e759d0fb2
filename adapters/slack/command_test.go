package slack

import (
	"context"
	"sync"
	"time"

	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	slackapi "github.com/slack-go/slack"

	"portabot/bot"
)

// has checks that s holds each of want.
func has(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func hasNot(t *testing.T, what, s string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(s, b) {
			t.Errorf("%s has %q:\n%s", what, b, s)
		}
	}
}

func TestHelp(t *testing.T) {
	f := newFixture(t, nil)
	for _, text := range []string{"", "help", "  HELP  "} {
		m, _ := f.run(t, agentUser, text)
		has(t, "help", m.Text, "/porta list", "/porta show &lt;case | +number&gt;", "/porta waba &lt;case&gt; &lt;waba_id&gt;",
			"/porta takeover", "/porta release", "/porta say", "/porta retry", "/porta cancel", "/porta faq", "/porta stats")
	}
	f.noResponse(t)
}

func TestUnknownSubcommandGetsHelp(t *testing.T) {
	f := newFixture(t, nil)
	m, _ := f.run(t, agentUser, "deploy <!channel> now")
	has(t, "reply", m.Text, "I don't know `deploy`", "/porta list", "/porta stats")
	f.noResponse(t)
}

func TestMalformedGetsUsage(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct{ text, want string }{
		{"waba 12", "Usage: `/porta waba &lt;case&gt; &lt;waba_id&gt;`"},
		{"waba 12 123 456", "Usage: `/porta waba"},
		{"waba", "Usage: `/porta waba"},
		{"takeover", "Usage: `/porta takeover &lt;case&gt;`"},
		{"takeover 12 now", "Usage: `/porta takeover"},
		{"release twelve!", "Usage: `/porta release"},
		{"say 12", "Usage: `/porta say &lt;case&gt; &lt;text&gt;`"},
		{"say", "Usage: `/porta say"},
		{"retry #", "Usage: `/porta retry"},
		{"cancel 12 13", "Usage: `/porta cancel"},
		{"show", "Usage: `/porta show"},
		{"show 12;drop", "Usage: `/porta show"},
		{"show +12", "I cannot read that phone number"},
		{"faq", "Usage: `/porta faq &lt;question&gt;`"},
		{"list nowhere", "There is no state `nowhere`"},
	}
	for _, tt := range tests {
		m, _ := f.run(t, agentUser, tt.text)
		has(t, "/porta "+tt.text, m.Text, tt.want)
		if !strings.Contains(m.Text, "/porta help") {
			t.Errorf("/porta %s: no pointer to the help: %s", tt.text, m.Text)
		}
	}
	if got := f.bot.got(); len(got) != 0 {
		t.Errorf("malformed commands ran actions: %v", got)
	}
	f.noResponse(t)
}

func TestList(t *testing.T) {
	f := newFixture(t, nil)
	m, _ := f.run(t, "U0READER", "list")
	js := blocksJSON(t, m)
	has(t, "list", m.Text, "Cases in flight (4)")
	// Newest first, open ones only, phones masked.
	has(t, "list", js, "`#14`", "`#13`", "`#12`", "`#11`", "`+55*******4321`", "held by \\u003c@U2CERLKJA\\u003e",
		"two-step verification is on", "updated 10m ago")
	hasNot(t, "list", js, "`#10`", "`#9`", "`#3`")
	if i, j := strings.Index(js, "`#14`"), strings.Index(js, "`#11`"); i > j {
		t.Errorf("list is not newest first:\n%s", js)
	}

	m, _ = f.run(t, "U0READER", "list failed")
	js = blocksJSON(t, m)
	has(t, "list failed", m.Text, "Cases in `failed` (1)")
	has(t, "list failed", js, "`#11`")
	hasNot(t, "list failed", js, "`#12`")

	m, _ = f.run(t, "U0READER", "list all")
	has(t, "list all", m.Text, "All cases (8)")

	m, _ = f.run(t, "U0READER", "list registering")
	has(t, "list registering", m.Text, "Cases in `registering`: none.")
	f.noResponse(t)
}

func TestShow(t *testing.T) {
	f := newFixture(t, nil)
	for _, text := range []string{"show 12", "show #12", "show #012", "SHOW 12"} {
		m, _ := f.run(t, "U0READER", text)
		js := blocksJSON(t, m)
		has(t, text, js,
			`"type":"header"`, "Case #12 · await_waba",
			"`+55*******4321`", "*WABA*\\nnot set", "*State*\\n`await_waba`",
			"*Next step*", "/porta waba 12 \\u0026lt;waba_id\\u0026gt;",
			"language `pt`",
			"*Timeline* (UTC)", "03-10 11:00 client: case_opened", "ask_phone → await_waba (need_waba \\u0026lt;!channel\\u0026gt;)",
			`"action_id":"porta_takeover","value":"12"`, `"action_id":"porta_cancel","value":"12"`, `"confirm"`)
		hasNot(t, text, js, "porta_release", "porta_retry", "<!channel>")
	}

	m, _ := f.run(t, "U0READER", "show 11")
	js := blocksJSON(t, m)
	has(t, "show 11", js, "*Problem*", "Meta refused the number `+55*******5555`: it is still registered", "*fbtrace_id*\\n`AbC123xyz`",
		"porta_retry", "/porta retry 11")
	hasNot(t, "show 11", js, "96666")

	m, _ = f.run(t, "U0READER", "show 13")
	has(t, "show 13", blocksJSON(t, m), "*Blocked*\\ntwo-step verification is on", "client `+55*******4444`")

	m, _ = f.run(t, "U0READER", "show 14")
	js = blocksJSON(t, m)
	has(t, "show 14", js, "porta_release", "\\u003c@U2CERLKJA\\u003e holds the conversation")
	hasNot(t, "show 14", js, "porta_takeover")

	m, _ = f.run(t, "U0READER", "show 9")
	hasNot(t, "show 9 (done)", blocksJSON(t, m), `"type":"actions"`)

	m, _ = f.run(t, "U0READER", "show 99")
	has(t, "show 99", m.Text, "There is no case #99.")
	f.noResponse(t)
}

func TestShowByPhone(t *testing.T) {
	f := newFixture(t, nil)
	for _, text := range []string{"show " + fullPhone, "show +55 11 98765-4321"} {
		m, _ := f.run(t, "U0READER", text)
		js := blocksJSON(t, m)
		// Case 10 (cancelled) and 12 (open) are for this number: the open
		// one is shown, the other named.
		has(t, text, js, "Case #12 · await_waba", "Other cases for this number: #10")
	}
	// A client who has not given the number to port yet is found by the
	// WhatsApp number they write from.
	m, _ := f.run(t, "U0READER", "show +5561955554444")
	has(t, "show by WhatsApp number", blocksJSON(t, m), "Case #13 · blocked")

	m, _ = f.run(t, "U0READER", "show +5511912345678")
	has(t, "unknown number", m.Text, "No case for +55*******5678.")
	f.noResponse(t)
}

func TestActions(t *testing.T) {
	tests := []struct {
		text string
		want call
		done string
	}{
		{"waba 12 104996622500000", call{"waba", "12", agentUser, "104996622500000"}, "Destination WABA of case #12 set to `104996622500000`"},
		{"takeover #14", call{"takeover", "14", agentUser, ""}, "You hold case #14"},
		{"release 14", call{"release", "14", agentUser, ""}, "The bot has case #14 again"},
		{"say 14 Olá! Your number moves at 3pm &amp; you keep   your  templates &lt;3", call{"say", "14", agentUser,
			"Olá! Your number moves at 3pm & you keep   your  templates <3"}, "Your message to the client of case #14 is on its way."},
		{"retry 11", call{"retry", "11", agentUser, ""}, "Retrying case #11"},
		{"cancel 12", call{"cancel", "12", agentUser, ""}, "Cancelled case #12."},
	}
	for _, tt := range tests {
		t.Run(tt.want.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Agents = []string{agentUser} })
			m, _ := f.run(t, agentUser, tt.text)
			if m.Text != "Working on it…" {
				t.Errorf("ack = %q, want Working on it…", m.Text)
			}
			r := f.response(t)
			has(t, "result", r.Text, tt.done)
			if r.ResponseType != slackapi.ResponseTypeEphemeral || r.ReplaceOriginal {
				t.Errorf("result is %q, replace_original %v; want ephemeral beside the command", r.ResponseType, r.ReplaceOriginal)
			}
			if diff := cmp.Diff([]call{tt.want}, f.bot.got(), cmp.AllowUnexported(call{})); diff != "" {
				t.Errorf("actions mismatch (-want +got):\n%s", diff)
			}
			f.noResponse(t)
		})
	}
}

func TestActionErrorsAreSentences(t *testing.T) {
	f := newFixture(t, nil)
	f.bot.errs = map[string]error{
		"retry":    bot.ErrNotFailed,
		"takeover": fmt.Errorf("load case: %w", bot.ErrNotFound),
		"waba":     errors.New(`a WABA id is digits only, not "abc"`),
	}
	f.run(t, agentUser, "retry 12")
	has(t, "retry", f.response(t).Text, "Could not retry case #12: the case has not failed; nothing to retry.")
	f.run(t, agentUser, "takeover 99")
	has(t, "takeover", f.response(t).Text, "There is no case #99.")
	f.run(t, agentUser, "waba 12 abc")
	has(t, "waba", f.response(t).Text, `Could not set the destination WABA of case #12: a WABA id is digits only, not "abc".`)
	f.noResponse(t)
}

// An action must not be tied to the request that asked for it: the
// handler returns (and its context ends) long before a Graph call does.
func TestActionOutlivesRequest(t *testing.T) {
	f := newFixture(t, nil)
	f.bot.block = make(chan struct{})
	m, _ := f.run(t, agentUser, "retry 11")
	if m.Text != "Working on it…" {
		t.Fatalf("ack = %q", m.Text)
	}
	close(f.bot.block)
	has(t, "result", f.response(t).Text, "Retrying case #11")
}

func TestAgentsAllowList(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Agents = []string{" " + agentUser + " ", "U0OTHER"} })
	// Anyone may read.
	m, _ := f.run(t, "U0READER", "list")
	has(t, "list", m.Text, "Cases in flight")
	m, _ = f.run(t, "U0READER", "show 12")
	has(t, "show", blocksJSON(t, m), "Case #12")
	m, _ = f.run(t, "U0READER", "stats")
	has(t, "stats", m.Text, "8 cases")
	// Only agents act.
	for _, text := range []string{"takeover 12", "say 12 hi", "waba 12 123", "cancel 12"} {
		m, _ = f.run(t, "U0READER", text)
		has(t, text, m.Text, "Only portabot's agents may")
	}
	if got := f.bot.got(); len(got) != 0 {
		t.Errorf("a non-agent's actions ran: %v", got)
	}
	if n := f.refusals.Load(); n != 4 {
		t.Errorf("%d refusals audited, want 4", n)
	}
	f.noResponse(t)
	f.run(t, agentUser, "takeover 12")
	has(t, "agent's takeover", f.response(t).Text, "You hold case #12")
}

func TestReplayedActionRunsOnce(t *testing.T) {
	f := newFixture(t, nil)
	form := f.commandForm(agentUser, "say 14 hello")
	f.runForm(t, form)
	m, _ := f.runForm(t, form)
	if m.Text != "Already on it." {
		t.Errorf("replay answered %q", m.Text)
	}
	f.response(t)
	f.noResponse(t)
	if got := f.bot.got(); len(got) != 1 {
		t.Errorf("replayed say ran %d times: %v", len(got), got)
	}
}

func TestFAQ(t *testing.T) {
	f := newFixture(t, nil)
	m, _ := f.run(t, "U0READER", "faq How do I turn off two-step verification?")
	has(t, "faq", blocksJSON(t, m), "*Q:* How do I turn off two-step verification?",
		"Turn off two-step verification in WhatsApp Manager", "intent `disable_2fa` · score 0.91")
	m, _ = f.run(t, "U0READER", "faq what is the weather")
	has(t, "faq none", blocksJSON(t, m), "No answer is sure enough", "Role of the old BSP (`origin_bsp`)")
	f.noResponse(t)
}

func TestStats(t *testing.T) {
	f := newFixture(t, nil)
	m, _ := f.run(t, "U0READER", "stats")
	has(t, "stats", m.Text, "8 cases, 4 open; 1 done today, 2 in 7 days.")
	// Done cases took 1h (ten days ago), 4h and 2h: the median of the last
	// 7 days is 3h, over 2 ports.
	has(t, "stats", blocksJSON(t, m), "`done` 3", "`cancelled` 1", "`await_waba` 1", "`handoff` 1",
		"*Done today (UTC)*\\n1", "*Done in the last 7 days*\\n2", "*Median time to done, last 7 days*\\n3h 00m (over 2 ports)")
	f.noResponse(t)
}

func TestReadFailure(t *testing.T) {
	f := newFixture(t, nil)
	f.cases.err = errors.New("bolt: database not open")
	m, _ := f.run(t, "U0READER", "list")
	has(t, "list", m.Text, "Could not read the cases just now")
	hasNot(t, "list", m.Text, "bolt")
}

func TestParseCaseID(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"12", "12", true}, {"#12", "12", true}, {"#0012", "12", true}, {"c-7_x", "c-7_x", true},
		{"", "", false}, {"#", "", false}, {"1 2", "", false}, {"12;", "", false}, {"é", "", false},
		{strings.Repeat("9", 33), "", false},
	}
	for _, tt := range tests {
		got, ok := parseCaseID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseCaseID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestScrub(t *testing.T) {
	got := scrub("call +55 11 98765-4321 or +1 (415) 555-0100, code 123456, +12")
	want := "call +55*******4321 or +14*****0100, code 123456, +12"
	if got != want {
		t.Errorf("scrub = %q, want %q", got, want)
	}
}

// An empty PORTABOT_SLACK_AGENTS used to let every workspace member act.
func TestEmptyAgentListLetsNobodyAct(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Agents = nil })
	m, _ := f.run(t, agentUser, "takeover 12")
	has(t, "takeover with no agents configured", m.Text, "Only portabot's agents may")
	if got := f.bot.got(); len(got) != 0 {
		t.Errorf("an action ran with no agents configured: %v", got)
	}
	if n := f.refusals.Load(); n != 1 {
		t.Errorf("%d refusals audited, want 1", n)
	}
	m, _ = f.run(t, agentUser, "list")
	has(t, "list with no agents configured", m.Text, "Cases in flight")
}

// mapTriggers stands in for the store: it outlives the App, as the bbolt
// file outlives a process.
type mapTriggers struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

func (m *mapTriggers) RememberTrigger(_ context.Context, id string, expires time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.ids[id]; ok && e.After(testNow) {
		return true, nil
	}
	m.ids[id] = expires
	return false, nil
}

// The replay guard lived in memory: after a restart, a captured signed
// `say` was sent to the client again.
func TestReplayRefusedAfterRestart(t *testing.T) {
	triggers := &mapTriggers{ids: map[string]time.Time{}}
	first := newFixture(t, nil)
	first.app.deps.Triggers = triggers
	form := first.commandForm(agentUser, "say 14 hello")
	first.runForm(t, form)
	first.response(t)

	restarted := newFixture(t, nil)
	restarted.app.deps.Triggers = triggers
	m, _ := restarted.runForm(t, form)
	if m.Text != "Already on it." {
		t.Errorf("replay after a restart answered %q", m.Text)
	}
	restarted.noResponse(t)
	if got := restarted.bot.got(); len(got) != 0 {
		t.Errorf("a replayed say ran after a restart: %v", got)
	}
}
