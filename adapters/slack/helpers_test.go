package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
)

const (
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testTeam   = "T1DC2JH3J"
	agentUser  = "U2CERLKJA"
	// fullPhone must never show up in anything sent to Slack.
	fullPhone = "+5511987654321"
)

// The bot, its store and the FAQ are what main wires in.
var (
	_ Cases   = bot.Store(nil)
	_ Handoff = (*bot.Bot)(nil)
	_ Steps   = (*bot.Bot)(nil)
	_ Answers = (*faq.Matcher)(nil)
)

// testNow is the fake clock of every test: a Tuesday noon, UTC.
var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// fakeCases is an in-memory Cases.
type fakeCases struct {
	cases []bot.Case
	audit map[string][]bot.AuditEvent
	err   error
}

func (f *fakeCases) Case(_ context.Context, id string) (bot.Case, error) {
	if f.err != nil {
		return bot.Case{}, f.err
	}
	for _, c := range f.cases {
		if c.ID == id {
			return c, nil
		}
	}
	return bot.Case{}, fmt.Errorf("case %s: %w", id, bot.ErrNotFound)
}

// The fake answers the index's queries by looking at every case, oldest
// first as sampleCases lists them.

func (f *fakeCases) ListCases(_ context.Context, q bot.CaseQuery) (bot.CasePage, error) {
	var page bot.CasePage
	before, _ := strconv.Atoi(q.Before)
	for _, c := range slices.Backward(f.cases) {
		n, _ := strconv.Atoi(c.ID)
		if (q.Before != "" && n >= before) || (len(q.States) > 0 && !slices.Contains(q.States, c.State)) {
			continue
		}
		if len(page.Cases) == max(q.Limit, 1) {
			page.Next = page.Cases[len(page.Cases)-1].ID
			break
		}
		page.Cases = append(page.Cases, c)
	}
	return page, f.err
}

func (f *fakeCases) CasesByNumber(_ context.Context, id string) ([]bot.Case, error) {
	var out []bot.Case
	for _, c := range f.cases {
		if slices.Contains(bot.CaseNumbers(&c), bot.NumberKey(id)) {
			out = append(out, c)
		}
	}
	return out, f.err
}

func (f *fakeCases) CaseCounts(context.Context) (map[fsm.State]int, error) {
	counts := map[fsm.State]int{}
	for _, c := range f.cases {
		counts[c.State]++
	}
	return counts, f.err
}

func (f *fakeCases) CasesClosedSince(_ context.Context, since time.Time) ([]bot.Case, error) {
	var out []bot.Case
	for _, c := range f.cases {
		if !c.Closed.IsZero() && !c.Closed.Before(since) {
			out = append(out, c)
		}
	}
	return out, f.err
}

func (f *fakeCases) Audit(_ context.Context, id string) ([]bot.AuditEvent, error) {
	return f.audit[id], f.err
}

// call is one agent action the fake bot received.
type call struct{ name, caseID, agent, arg string }

// fakeBot records agent actions; errs makes an action fail.
type fakeBot struct {
	mu    sync.Mutex
	calls []call
	errs  map[string]error
	// block, when set, holds actions until it is closed.
	block chan struct{}
}

func (f *fakeBot) record(ctx context.Context, name, caseID, agent, arg string) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{name, caseID, agent, arg})
	return f.errs[name]
}

func (f *fakeBot) got() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeBot) TakeOver(ctx context.Context, id, agent string) error {
	return f.record(ctx, "takeover", id, agent, "")
}
func (f *fakeBot) Release(ctx context.Context, id, agent string) error {
	return f.record(ctx, "release", id, agent, "")
}
func (f *fakeBot) Say(ctx context.Context, id, agent, text string) error {
	return f.record(ctx, "say", id, agent, text)
}
func (f *fakeBot) SetWABA(ctx context.Context, id, waba, agent string) error {
	return f.record(ctx, "waba", id, agent, waba)
}
func (f *fakeBot) Retry(ctx context.Context, id, agent string) error {
	return f.record(ctx, "retry", id, agent, "")
}
func (f *fakeBot) CancelCase(ctx context.Context, id, agent string) error {
	return f.record(ctx, "cancel", id, agent, "")
}

// fakeAnswers knows one question.
type fakeAnswers struct{}

func (fakeAnswers) Ask(q, lang string) faq.Result {
	if strings.Contains(strings.ToLower(q), "two-step") {
		return faq.Result{Intent: "disable_2fa", Score: 0.91, Lang: "en",
			Answer: "Turn off two-step verification in WhatsApp Manager before the port."}
	}
	return faq.Result{Intent: faq.None, Score: 0.1, Lang: lang,
		Closest: []faq.Topic{{Intent: "origin_bsp", Title: "Role of the old BSP"}}}
}

// sampleCases are the cases most tests read.
func sampleCases() *fakeCases {
	day := 24 * time.Hour
	return &fakeCases{
		cases: []bot.Case{
			{ID: "3", Client: "5521999990000", Phone: "+5521999990000", State: fsm.Done, WABA: "111",
				Created: testNow.Add(-10*day - time.Hour), Closed: testNow.Add(-10 * day), Updated: testNow.Add(-10 * day)},
			{ID: "7", Client: "5531988887777", Phone: "+5531988887777", State: fsm.Done, WABA: "111",
				Created: testNow.Add(-3*day - 4*time.Hour), Closed: testNow.Add(-3 * day), Updated: testNow.Add(-3 * day)},
			{ID: "9", Client: "5541977776666", Phone: "+5541977776666", State: fsm.Done, WABA: "111",
				Created: testNow.Add(-4 * time.Hour), Closed: testNow.Add(-2 * time.Hour), Updated: testNow.Add(-2 * time.Hour)},
			{ID: "10", Client: "5511987654321", Phone: fullPhone, State: fsm.Cancelled,
				Created: testNow.Add(-2 * day), Closed: testNow.Add(-2 * day), Updated: testNow.Add(-2 * day)},
			{ID: "11", Client: "5551966665555", Phone: "+5551966665555", State: fsm.Failed, WABA: "111",
				Problem: "Meta refused the number +55 51 96666-5555: it is still registered", TraceID: "AbC123xyz",
				Created: testNow.Add(-5 * time.Hour), Updated: testNow.Add(-time.Hour)},
			{ID: "12", Client: "5511987654321", Phone: fullPhone, State: fsm.AwaitWABA, Lang: bot.Portuguese,
				Created: testNow.Add(-time.Hour), Updated: testNow.Add(-10 * time.Minute)},
			{ID: "13", Client: "5561955554444", State: fsm.Blocked, Blocked: bot.Check2FA,
				Created: testNow.Add(-30 * time.Minute), Updated: testNow.Add(-20 * time.Minute)},
			{ID: "14", Client: "5571944443333", Phone: "+5571944443333", State: fsm.Handoff, Agent: agentUser,
				Created: testNow.Add(-20 * time.Minute), Updated: testNow.Add(-5 * time.Minute)},
		},
		audit: map[string][]bot.AuditEvent{
			"12": {
				{CaseID: "12", At: testNow.Add(-time.Hour), Actor: "client", Kind: "case_opened"},
				{CaseID: "12", At: testNow.Add(-50 * time.Minute), Actor: "bot", Kind: "transition",
					From: fsm.Menu, To: fsm.CheckBMAccess, Detail: "start"},
				{CaseID: "12", At: testNow.Add(-20 * time.Minute), Actor: "client", Kind: "phone_set",
					Detail: bot.MaskPhone(fullPhone)},
				{CaseID: "12", At: testNow.Add(-10 * time.Minute), Actor: "bot", Kind: "transition",
					From: fsm.AskPhone, To: fsm.AwaitWABA, Detail: "need_waba <!channel>"},
			},
		},
	}
}

// fixture is an App over fakes, with a server standing in for Slack's
// response_url.
type fixture struct {
	app       *App
	cases     *fakeCases
	bot       *fakeBot
	refusals  atomic.Int32
	responses chan slackapi.WebhookMessage
	respURL   string
}

func newFixture(t testing.TB, edit func(*Config)) *fixture {
	t.Helper()
	f := &fixture{cases: sampleCases(), bot: &fakeBot{}, responses: make(chan slackapi.WebhookMessage, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m slackapi.WebhookMessage
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("response_url content type = %q", ct)
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("response_url body: %v", err)
		}
		f.responses <- m
	}))
	t.Cleanup(srv.Close)
	f.respURL = srv.URL + "/commands/T1/1/xyz"
	cfg := Config{SigningSecret: testSecret, BotToken: "xoxb-test", Channel: "C123", TeamID: testTeam, Agents: []string{"*"}}
	if edit != nil {
		edit(&cfg)
	}
	deps := Deps{Cases: f.cases, Handoff: f.bot, Steps: f.bot, Answers: fakeAnswers{},
		AuditRefusal: func(context.Context, string, string, string) { f.refusals.Add(1) }}
	f.app = New(cfg, deps, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.app.now = func() time.Time { return testNow }
	t.Cleanup(f.app.Wait)
	return f
}

// response waits for the next post to the response_url.
func (f *fixture) response(t testing.TB) slackapi.WebhookMessage {
	t.Helper()
	select {
	case m := <-f.responses:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("nothing was posted to the response_url")
	}
	return slackapi.WebhookMessage{}
}

// noResponse checks that nothing more reaches the response_url.
func (f *fixture) noResponse(t testing.TB) {
	t.Helper()
	f.app.Wait()
	select {
	case m := <-f.responses:
		t.Errorf("unexpected response_url post: %q", m.Text)
	default:
	}
}

// sign computes Slack's v0 signature with a HMAC of the test's own.
func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// post sends body to h the way Slack does, signed with secret at ts.
func post(h http.Handler, path, secret string, ts time.Time, body string) *httptest.ResponseRecorder {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", stamp)
	r.Header.Set("X-Slack-Signature", sign(secret, stamp, []byte(body)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var triggerSeq atomic.Int64

// commandForm is a /porta request as Slack sends it.
func (f *fixture) commandForm(user, text string) url.Values {
	return url.Values{
		"token":        {"legacy-not-used"},
		"team_id":      {testTeam},
		"team_domain":  {"testteamnow"},
		"channel_id":   {"G8PSS9T3V"},
		"user_id":      {user},
		"user_name":    {"someone"},
		"command":      {"/porta"},
		"text":         {text},
		"response_url": {f.respURL},
		"trigger_id":   {fmt.Sprintf("trigger-%d", triggerSeq.Add(1))},
	}
}

// run sends a signed /porta command now and decodes the immediate reply.
func (f *fixture) run(t testing.TB, user, text string) (slackapi.WebhookMessage, string) {
	t.Helper()
	return f.runForm(t, f.commandForm(user, text))
}

func (f *fixture) runForm(t testing.TB, form url.Values) (slackapi.WebhookMessage, string) {
	t.Helper()
	w := post(f.app.Commands(), "/slack/commands", testSecret, time.Now(), form.Encode())
	if w.Code != http.StatusOK {
		t.Fatalf("/porta %s: status %d, body %q", form.Get("text"), w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("/porta %s: content type %q", form.Get("text"), ct)
	}
	body := w.Body.String()
	var m slackapi.WebhookMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/porta %s: reply %q: %v", form.Get("text"), body, err)
	}
	if m.ResponseType != slackapi.ResponseTypeEphemeral {
		t.Errorf("/porta %s: response_type %q, want ephemeral", form.Get("text"), m.ResponseType)
	}
	if strings.Contains(body, strings.TrimPrefix(fullPhone, "+")) {
		t.Errorf("/porta %s: reply shows a full phone number: %s", form.Get("text"), body)
	}
	return m, body
}

// click sends a signed block_actions payload for a case card's button.
func (f *fixture) click(t testing.TB, user, actionID, value string) *httptest.ResponseRecorder {
	t.Helper()
	payload := map[string]any{
		"type":         "block_actions",
		"team":         map[string]any{"id": testTeam, "domain": "testteamnow"},
		"user":         map[string]any{"id": user, "name": "someone"},
		"api_app_id":   "A1",
		"trigger_id":   fmt.Sprintf("trigger-%d", triggerSeq.Add(1)),
		"response_url": f.respURL,
		"container":    map[string]any{"type": "message", "message_ts": "1.2", "is_ephemeral": true},
		"actions": []map[string]any{{
			"type": "button", "action_id": actionID, "block_id": "porta_case_" + value, "value": value,
			"text": map[string]any{"type": "plain_text", "text": "Take over"}, "action_ts": "1.3",
		}},
	}
	js, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return post(f.app.Interactions(), "/slack/interactions", testSecret, time.Now(),
		url.Values{"payload": {string(js)}}.Encode())
}

// blocksJSON renders a message's blocks for assertions on their content.
func blocksJSON(t testing.TB, m slackapi.WebhookMessage) string {
	t.Helper()
	if m.Blocks == nil {
		return ""
	}
	js, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}
