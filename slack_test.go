package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/internal/eventually"
)

// The Slack cockpit end to end: `portabot serve` in sandbox mode, a fake
// Slack Web API, clients posting signed WhatsApp webhooks and agents posting
// signed /porta commands.

const (
	cockpitSigningSecret = "e2e-signing-secret-0123456789abcdef"
	cockpitBotToken      = "xoxb-e2e-token"
	cockpitTeam          = "T0PORTA"
	cockpitChannel       = "C0AGENTS"
	cockpitAgent         = "U0ANA"
	cockpitAppSecret     = "e2e-app-secret"
	cockpitOTP           = "246810"
	cockpitPIN           = "135790"
	// cockpitClient is the client's WhatsApp id; cockpitPhone the number
	// they port.
	cockpitClient = "5511912345678"
	cockpitPhone  = "+5511987654321"
	// cockpitWait bounds every wait for something asynchronous.
	cockpitWait = 20 * time.Second
)

// cockpitPost is one chat.postMessage the fake Slack accepted.
type cockpitPost struct {
	Channel, Text, ThreadTS, TS string
	Broadcast                   bool
}

// cockpitSlack is slacktest with chat.postMessage recorded, which plain
// slacktest only forwards to websocket clients. While down it answers 500.
type cockpitSlack struct {
	srv *slacktest.Server

	mu      sync.Mutex
	posts   []cockpitPost
	down    bool
	refused int // posts answered 500
}

func newCockpitSlack(t *testing.T) *cockpitSlack {
	t.Helper()
	f := &cockpitSlack{}
	f.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", f.postMessage)
	})
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *cockpitSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		f.refused++
		http.Error(w, "slack is having trouble", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+cockpitBotToken && r.PostForm.Get("token") != cockpitBotToken {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	p := cockpitPost{
		Channel:   r.PostForm.Get("channel"),
		Text:      r.PostForm.Get("text"),
		ThreadTS:  r.PostForm.Get("thread_ts"),
		TS:        fmt.Sprintf("1760000000.%06d", len(f.posts)+1),
		Broadcast: r.PostForm.Get("reply_broadcast") == "true",
	}
	f.posts = append(f.posts, p)
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": p.Channel, "ts": p.TS})
}

func (f *cockpitSlack) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *cockpitSlack) seen() (posts []cockpitPost, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cockpitPost(nil), f.posts...), f.refused
}

// waitPosts waits until at least n messages were posted and returns them.
func (f *cockpitSlack) waitPosts(t *testing.T, n int) []cockpitPost {
	t.Helper()
	var posts []cockpitPost
	eventually.Until(t, cockpitWait, func() bool {
		posts, _ = f.seen()
		return len(posts) >= n
	}, func() string {
		return fmt.Sprintf("Slack got %d messages, want %d:\n%s", len(posts), n, cockpitPosts(posts))
	})
	return posts
}

func cockpitPosts(posts []cockpitPost) string {
	var b strings.Builder
	for i, p := range posts {
		fmt.Fprintf(&b, "  %d. channel=%s ts=%s thread_ts=%q broadcast=%v: %s\n", i+1, p.Channel, p.TS, p.ThreadTS, p.Broadcast, p.Text)
	}
	return b.String()
}

// cockpitLog is serve's log, written from many goroutines.
type cockpitLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *cockpitLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *cockpitLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// cockpitServe is one `portabot serve` run in-process, and the client and
// agent talking to it.
type cockpitServe struct {
	t      *testing.T
	base   string
	client *http.Client
	slack  *cockpitSlack
	logs   *cockpitLog

	// responses gets what the app posts to each command's response_url,
	// by the URL's path.
	respURL   string
	respMu    sync.Mutex
	responses map[string]chan slackapi.WebhookMessage
	commands  int

	msgs int // the client's messages already read
	n    int // webhooks sent, for message ids
}

func startCockpit(t *testing.T, slack *cockpitSlack) *cockpitServe {
	t.Helper()
	return startCockpitEnv(t, slack, nil)
}

// startCockpitEnv is startCockpit with the variables of extra set too.
func startCockpitEnv(t *testing.T, slack *cockpitSlack, extra map[string]string) *cockpitServe {
	t.Helper()
	s := &cockpitServe{t: t, client: &http.Client{Timeout: 10 * time.Second}, slack: slack, logs: &cockpitLog{},
		responses: map[string]chan slackapi.WebhookMessage{}}
	resp := httptest.NewServer(http.HandlerFunc(s.respond))
	t.Cleanup(resp.Close)
	s.respURL = resp.URL

	env := map[string]string{
		"PORTABOT_ADDR":                 "127.0.0.1:0",
		"PORTABOT_SANDBOX":              "1",
		"PORTABOT_ONBOARDING":           "fixed_waba",
		"PORTABOT_SLACK_AGENTS":         "*",
		"PORTABOT_META_APP_SECRET":      cockpitAppSecret,
		"PORTABOT_SANDBOX_OTP":          cockpitOTP,
		"PORTABOT_SLACK_API_URL":        slack.srv.GetAPIURL(),
		"PORTABOT_SLACK_SIGNING_SECRET": cockpitSigningSecret,
		"PORTABOT_SLACK_BOT_TOKEN":      cockpitBotToken,
		"PORTABOT_SLACK_CHANNEL":        cockpitChannel,
		"PORTABOT_SLACK_TEAM_ID":        cockpitTeam,
		"PORTABOT_SLACK_RETRY":          "100ms",
		"PORTABOT_LOG_LEVEL":            "debug",
	}
	for k, v := range extra {
		env[k] = v
	}
	// A test that brings its own store names it as PORTABOT_DB.
	db := env["PORTABOT_DB"]
	if db == "" {
		db = filepath.Join(t.TempDir(), "portabot.db")
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, environment{
			args:      []string{"serve", "--db", db},
			getenv:    func(k string) string { return env[k] },
			stdin:     strings.NewReader(""),
			stdout:    io.Discard,
			stderr:    s.logs,
			listening: func(a string) { addr <- a },
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s")
		}
		if t.Failed() {
			t.Logf("serve's log, last part:\n%s", s.logs.tail(12000))
		}
	})
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-done:
		t.Fatalf("serve stopped before listening: %v\n%s", err, s.logs.tail(4000))
	case <-time.After(cockpitWait):
		t.Fatalf("serve did not listen within %s\n%s", cockpitWait, s.logs.tail(4000))
	}
	return s
}

// webhook posts body as Meta would, signed with the app secret.
func (s *cockpitServe) webhook(body []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", whatsapp.SignBody(cockpitAppSecret, body))
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("webhook: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("webhook answered %s", resp.Status)
	}
}

func (s *cockpitServe) nextID() string {
	s.n++
	return fmt.Sprintf("wamid.cockpit.%s.%d", s.t.Name(), s.n)
}

// send is the client typing text on WhatsApp.
func (s *cockpitServe) send(text string) {
	s.t.Helper()
	s.webhook(whatsapp.BuildTextWebhook(sandboxPhoneNumberID, cockpitClient, s.nextID(), text, time.Now()))
}

// tap is the client tapping the button id titled title.
func (s *cockpitServe) tap(id, title string) {
	s.t.Helper()
	s.webhook(whatsapp.BuildChoiceWebhook(sandboxPhoneNumberID, cockpitClient, s.nextID(), id, title, time.Now()))
}

// sent is every message the bot sent the client on WhatsApp so far.
func (s *cockpitServe) sent() []metasim.Message {
	s.t.Helper()
	resp, err := s.client.Get(s.base + "/sandbox/messages")
	if err != nil {
		s.t.Fatalf("sandbox messages: %v", err)
	}
	defer resp.Body.Close()
	var feed sandboxFeed
	if err := json.NewDecoder(resp.Body).Decode(&feed); err != nil {
		s.t.Fatalf("sandbox messages: %v", err)
	}
	var mine []metasim.Message
	for _, m := range feed.Messages {
		if m.To == "+"+cockpitClient {
			mine = append(mine, m)
		}
	}
	return mine
}

// await waits for the next message to the client that contains phrase,
// and returns it with the ones sent before it since the last await.
func (s *cockpitServe) await(phrase string) (m metasim.Message, before []metasim.Message) {
	s.t.Helper()
	var all []metasim.Message
	at := -1
	eventually.Until(s.t, cockpitWait, func() bool {
		all = s.sent()
		for i := s.msgs; i < len(all); i++ {
			if strings.Contains(all[i].Text, phrase) {
				at = i
				return true
			}
		}
		return false
	}, func() string {
		var b strings.Builder
		for _, m := range all[min(s.msgs, len(all)):] {
			fmt.Fprintf(&b, "  %q\n", m.Text)
		}
		return fmt.Sprintf("the client never got %q; since the last reply they got:\n%s", phrase, b.String())
	})
	before = all[s.msgs:at]
	s.msgs = at + 1
	return all[at], before
}

// respond records a post to a response_url.
func (s *cockpitServe) respond(w http.ResponseWriter, r *http.Request) {
	var m slackapi.WebhookMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.respMu.Lock()
	ch := s.responses[r.URL.Path]
	s.respMu.Unlock()
	if ch == nil {
		http.Error(w, "unknown response_url", http.StatusNotFound)
		return
	}
	select {
	case ch <- m:
	default:
		http.Error(w, "too many posts", http.StatusTooManyRequests)
	}
}

// cockpitSign is Slack's v0 signature of body at ts.
func cockpitSign(ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(cockpitSigningSecret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// porta runs `/porta text` as the agent. It returns the immediate answer
// and, for actions (answered "Working on it…"), what was later posted to
// the response_url.
func (s *cockpitServe) porta(text string) (reply, later string) {
	s.t.Helper()
	s.respMu.Lock()
	s.commands++
	path := fmt.Sprintf("/commands/%s/%d/secret", cockpitTeam, s.commands)
	ch := make(chan slackapi.WebhookMessage, 5)
	s.responses[path] = ch
	s.respMu.Unlock()

	body := []byte(url.Values{
		"token":        {"legacy-unused"},
		"team_id":      {cockpitTeam},
		"team_domain":  {"porta"},
		"channel_id":   {cockpitChannel},
		"channel_name": {"ports"},
		"user_id":      {cockpitAgent},
		"user_name":    {"ana"},
		"command":      {"/porta"},
		"text":         {text},
		"api_app_id":   {"A0PORTA"},
		"response_url": {s.respURL + path},
		"trigger_id":   {fmt.Sprintf("%d.%d.e2e", time.Now().UnixNano(), s.commands)},
	}.Encode())
	req, err := http.NewRequest(http.MethodPost, s.base+"/slack/commands", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", cockpitSign(ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("/porta %s: %v", text, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("/porta %s: %s %q %v", text, resp.Status, raw, err)
	}
	var m slackapi.WebhookMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		s.t.Fatalf("/porta %s answered %q: %v", text, raw, err)
	}
	if !strings.HasPrefix(m.Text, "Working on it") {
		return string(raw), ""
	}
	select {
	case l := <-ch:
		return m.Text, l.Text
	case <-time.After(cockpitWait):
		s.t.Fatalf("/porta %s: nothing came to the response_url", text)
	}
	return "", ""
}

var cockpitCaseNo = regexp.MustCompile(`Your case number is #(\d+)\.`)

// TestCockpitHandoffTranscript is the handoff of the Slack cockpit: the
// client asks for a person, agents hear of it in the channel, one of them
// takes over, talks to the client from Slack and hands back to the bot.
func TestCockpitHandoffTranscript(t *testing.T) {
	slack := newCockpitSlack(t)
	s := startCockpit(t, slack)

	// Asking to port in their own words takes the client straight to the
	// checks.
	s.send("Hi, I want to port my number")
	s.await("Do you have *admin* access")
	s.tap("yes", "Yes")
	s.await("Check 2/4")
	s.tap("yes", "Yes")
	s.await("Check 3/4")
	s.tap("yes", "Yes")
	s.await("Check 4/4")
	s.tap("yes", "Yes")
	s.await("Which number do you want to move?")

	// The client asks for a person.
	s.send("agent")
	m, _ := s.await("Your case number is #")
	id := cockpitCaseNo.FindStringSubmatch(m.Text)
	if id == nil {
		t.Fatalf("no case number in %q", m.Text)
	}
	caseID := id[1]

	// Agents are told in the channel: the case's first message, then the
	// request for a person in its thread, shown in the channel too.
	posts := slack.waitPosts(t, 2)
	top := posts[0]
	if top.Channel != cockpitChannel || top.ThreadTS != "" || !strings.Contains(top.Text, "Case #"+caseID) ||
		!strings.Contains(top.Text, "New case from client") {
		t.Errorf("first message = %+v, want case #%s's top-level message in %s", top, caseID, cockpitChannel)
	}
	if p := posts[1]; p.Channel != cockpitChannel || p.ThreadTS != top.TS || !p.Broadcast ||
		!strings.Contains(p.Text, "asks for a person (was at ask_phone)") {
		t.Errorf("second message = %+v, want the request for a person in thread %s, broadcast", p, top.TS)
	}

	reply, done := s.porta("takeover " + caseID)
	if !strings.Contains(done, "You hold case #"+caseID) {
		t.Fatalf("/porta takeover: %q then %q", reply, done)
	}
	s.await("A person from our team has joined this chat")
	if reply, _ := s.porta("show " + caseID); !strings.Contains(reply, "Case #"+caseID+" · handoff") ||
		!strings.Contains(reply, cockpitAgent) {
		t.Errorf("/porta show during the takeover: %s", reply)
	}

	// What the client writes goes to the case's thread, codes hidden; the
	// bot says nothing.
	s.send("my code is 482913")
	posts = slack.waitPosts(t, 3)
	if p := posts[2]; p.ThreadTS != top.TS || !strings.Contains(p.Text, "Client: my code is ••••••") ||
		strings.Contains(p.Text, "482913") {
		t.Errorf("the client's message reached Slack as %+v, want it in thread %s with the code hidden", p, top.TS)
	}

	if _, done := s.porta("say " + caseID + " Hello from Ana"); !strings.Contains(done, "on its way") {
		t.Fatalf("/porta say: %q", done)
	}
	m, before := s.await("Hello from Ana")
	if m.Text != "Hello from Ana" {
		t.Errorf("the agent's message reached the client as %q", m.Text)
	}
	// Replies to one client go out in the order they were written: had the
	// bot answered the client's message, it would have come first.
	for _, b := range before {
		t.Errorf("the bot wrote to the client while an agent held the case: %q", b.Text)
	}

	if _, done := s.porta("release " + caseID); !strings.Contains(done, "The bot has case #"+caseID+" again") {
		t.Fatalf("/porta release: %q", done)
	}
	m, _ = s.await("handed the chat back to me")
	if !strings.Contains(m.Text, "Which number do you want to move?") {
		t.Errorf("after the release the client got %q, want the phone question again", m.Text)
	}
	s.send("+55 11 98765-4321")
	s.await("Got it: " + cockpitPhone)
	if reply, _ := s.porta("show " + caseID); !strings.Contains(reply, "Case #"+caseID+" · ask_phone") {
		t.Errorf("/porta show after the release: %s", reply)
	}

	// No more notices: the takeover and release were the agents' own doing.
	posts, _ = slack.seen()
	for _, p := range posts {
		if strings.Contains(p.Text, strings.TrimPrefix(cockpitPhone, "+")) || strings.Contains(p.Text, cockpitClient) {
			t.Errorf("a full number reached Slack: %+v", p)
		}
	}
	if len(posts) != 3 {
		t.Errorf("Slack got %d messages, want 3:\n%s", len(posts), cockpitPosts(posts))
	}
}

// TestCockpitSlackOutage runs a whole migration while Slack answers 500:
// the client never waits for Slack, and the case's notifications arrive,
// in order and threaded, once Slack is back.
func TestCockpitSlackOutage(t *testing.T) {
	slack := newCockpitSlack(t)
	slack.setDown(true)
	s := startCockpit(t, slack)

	// Asking to port in their own words takes the client straight to the
	// checks.
	s.send("Hi, I want to port my number")
	s.await("Do you have *admin* access")
	s.tap("yes", "Yes")
	s.await("Check 2/4")
	s.tap("no", "No")
	s.await("Two-step verification must be off")
	s.tap("fixed", "It's done")
	s.await("Check 2/4")
	s.tap("yes", "Yes")
	s.await("Check 3/4")
	s.tap("yes", "Yes")
	s.await("Check 4/4")
	s.tap("yes", "Yes")
	s.await("Which number do you want to move?")
	s.send("+55 11 98765-4321")
	s.await("Got it: " + cockpitPhone)
	s.send(metasim.SandboxSourceWABA)
	s.await("How should it arrive?")
	s.tap("sms", "SMS")
	s.await("Code requested!")
	s.send(cockpitOTP)
	s.await("Code confirmed")
	s.send(cockpitPIN)
	s.await("Type the same PIN again")
	s.send(cockpitPIN)
	s.await("Your number " + cockpitPhone + " has moved")

	posts, refused := slack.seen()
	if len(posts) != 0 || refused == 0 {
		t.Fatalf("while Slack was down: %d posts accepted, %d refused; want none accepted and some tried", len(posts), refused)
	}

	slack.setDown(false)
	eventually.Until(t, cockpitWait, func() bool {
		posts, _ = slack.seen()
		return len(posts) > 0 && strings.Contains(posts[len(posts)-1].Text, "is done")
	}, func() string { return "the notifications did not arrive once Slack was back:\n" + cockpitPosts(posts) })
	// Once no notice is pending, nothing more can be posted, twice or not.
	waitSettled(t, s.client, s.base)
	posts, _ = slack.seen()
	want := []string{"New case from client", "is blocked: two-step verification is on.", "Pre-flight:", "is done: the number is ours."}
	if len(posts) != len(want) {
		t.Fatalf("Slack got %d messages, want %d:\n%s", len(posts), len(want), cockpitPosts(posts))
	}
	top := posts[0]
	for i, p := range posts {
		if p.Channel != cockpitChannel || !strings.Contains(p.Text, want[i]) {
			t.Errorf("message %d = %+v, want %q in %s", i+1, p, want[i], cockpitChannel)
		}
		switch {
		case i == 0 && p.ThreadTS != "":
			t.Errorf("the case's first message is in thread %s, want it top-level", p.ThreadTS)
		case i > 0 && p.ThreadTS != top.TS:
			t.Errorf("message %d is in thread %q, want the case's thread %s", i+1, p.ThreadTS, top.TS)
		}
	}
}

func TestCockpitSlackRetrySetting(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 2 * time.Second, "250ms": 250 * time.Millisecond, "1m": time.Minute} {
		cfg, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_SLACK_RETRY": v}))
		if err != nil || cfg.SlackRetry != want {
			t.Errorf("PORTABOT_SLACK_RETRY=%q: %v, %v; want %v", v, cfg.SlackRetry, err, want)
		}
	}
	for _, v := range []string{"soon", "0", "-1s", "10m"} {
		_, err := loadServeConfig(sandboxGetenv(map[string]string{"PORTABOT_SLACK_RETRY": v}))
		if err == nil || !strings.Contains(err.Error(), "PORTABOT_SLACK_RETRY") {
			t.Errorf("PORTABOT_SLACK_RETRY=%q: error %v, want it refused by name", v, err)
		}
	}
}

// A refused action used to leave no trace in the case's audit: with
// PORTABOT_SLACK_AGENTS naming someone else, a takeover is refused and the
// case's timeline shows who tried what.
func TestCockpitRefusalAudited(t *testing.T) {
	slack := newCockpitSlack(t)
	s := startCockpitEnv(t, slack, map[string]string{"PORTABOT_SLACK_AGENTS": "U0SOMEONEELSE"})
	s.send("Hi, I want to port my number")
	s.await("Do you have *admin* access")
	s.tap("yes", "Yes")
	s.await("Check 2/4")
	s.tap("yes", "Yes")
	s.await("Check 3/4")
	s.tap("yes", "Yes")
	s.await("Check 4/4")
	s.tap("yes", "Yes")
	s.await("Which number do you want to move?")
	s.send("agent")
	m, _ := s.await("Your case number is #")
	id := cockpitCaseNo.FindStringSubmatch(m.Text)
	if id == nil {
		t.Fatalf("no case number in %q", m.Text)
	}
	reply, _ := s.porta("takeover " + id[1])
	if !strings.Contains(reply, "Only portabot") {
		t.Fatalf("/porta takeover by a non-agent: %s", reply)
	}
	if show, _ := s.porta("show " + id[1]); !strings.Contains(show, cockpitAgent) || !strings.Contains(show, "refused (takeover)") {
		t.Errorf("/porta show after a refused takeover does not show the refusal: %s", show)
	}
}
