package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
	"portabot/internal/eventually"
	"portabot/storage"
)

// testAppSecret signs the webhooks the tests post.
const testAppSecret = "serve-test-app-secret"

// syncBuffer is a bytes.Buffer that serve's goroutines can log into while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is a `portabot serve` running in-process.
type served struct {
	url    string
	secret string
	phone  string // the bot's phone number id
	logs   *syncBuffer
	client *http.Client

	cancel  context.CancelFunc
	done    chan error
	stopped sync.Once
	err     error
}

// startServe runs serve in-process with env (nothing else of the real
// environment) on db and returns once it accepts connections.
func startServe(t *testing.T, env map[string]string, db string) *served {
	t.Helper()
	env = withDefaults(env, map[string]string{"PORTABOT_ADDR": "127.0.0.1:0"})
	s := &served{
		secret: env["PORTABOT_META_APP_SECRET"],
		phone:  orDefault(env["PORTABOT_WA_PHONE_NUMBER_ID"], sandboxPhoneNumberID),
		logs:   &syncBuffer{},
		client: &http.Client{Timeout: 10 * time.Second},
		done:   make(chan error, 1),
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	addr := make(chan string, 1)
	e := environment{
		args:      []string{"serve", "--db", db},
		getenv:    func(k string) string { return env[k] },
		stdin:     strings.NewReader(""),
		stdout:    io.Discard,
		stderr:    s.logs,
		listening: func(a string) { addr <- a },
	}
	go func() { s.done <- run(ctx, e) }()
	t.Cleanup(func() { _ = s.stop() })
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-s.done:
		s.done <- err
		t.Fatalf("serve ended before listening: %v\nlogs:\n%s", err, s.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen within 30 s; logs:\n%s", s.logs)
	}
	return s
}

// stop cancels serve's context (as SIGTERM does) and returns what run
// returned; later calls return the same.
func (s *served) stop() error {
	s.stopped.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(30 * time.Second):
			s.err = errors.New("serve did not return within 30 s of shutdown")
		}
	})
	return s.err
}

// mustStop stops serve and fails the test unless it shut down cleanly.
func (s *served) mustStop(t *testing.T) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v on shutdown; logs:\n%s", err, s.logs)
	}
}

// withDefaults returns env with the variables of defaults it does not set.
func withDefaults(env, defaults map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range defaults {
		m[k] = v
	}
	for k, v := range env {
		m[k] = v
	}
	return m
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// sandboxEnv is serve's environment in sandbox mode with a known app secret.
// Its cases go to the simulator's fixed WABA, so that tests of other things
// need no browser; the Embedded Signup tests ask for embedded_signup.
func sandboxEnv(extra map[string]string) map[string]string {
	return withDefaults(extra, map[string]string{
		"PORTABOT_SANDBOX":         "1",
		"PORTABOT_META_APP_SECRET": testAppSecret,
		"PORTABOT_LOG_LEVEL":       "debug",
		"PORTABOT_ONBOARDING":      "fixed_waba",
	})
}

// postWebhook posts body to /webhooks/whatsapp with the signature header
// sig (none when empty) and returns the status.
func postWebhook(t *testing.T, client *http.Client, base string, body []byte, sig string) (int, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/whatsapp", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(whatsapp.SignatureHeader, sig)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// deliver posts a signed webhook as Meta would and expects a 200.
func (s *served) deliver(t *testing.T, body []byte) {
	t.Helper()
	code, err := postWebhook(t, s.client, s.url, body, whatsapp.SignBody(s.secret, body))
	if err != nil {
		t.Fatalf("post webhook: %v", err)
	}
	if code != http.StatusOK {
		t.Fatalf("webhook answered %d, want 200; logs:\n%s", code, s.logs)
	}
}

var msgSeq struct {
	sync.Mutex
	n int
}

// newMessageID returns a wamid no other test message has.
func newMessageID() string {
	msgSeq.Lock()
	defer msgSeq.Unlock()
	msgSeq.n++
	return fmt.Sprintf("wamid.servetest.%d.%s", msgSeq.n, randomHex(4))
}

// text posts the client's typed text.
func (s *served) text(t *testing.T, from, text string) {
	t.Helper()
	s.deliver(t, whatsapp.BuildTextWebhook(s.phone, from, newMessageID(), text, time.Now()))
}

// tap posts the client's tap on the button of m titled title.
func (s *served) tap(t *testing.T, from string, m metasim.Message, title string) {
	t.Helper()
	for _, c := range m.Choices {
		if strings.EqualFold(c.Title, title) {
			s.deliver(t, whatsapp.BuildChoiceWebhook(s.phone, from, newMessageID(), c.ID, c.Title, time.Now()))
			return
		}
	}
	t.Fatalf("the bot's message %q offers no button %q (it offers %+v)", m.Text, title, m.Choices)
}

// feed reads what the simulated Meta delivered: codes and the bot's messages.
func (s *served) feed(t *testing.T) sandboxFeed {
	t.Helper()
	resp, err := s.client.Get(s.url + "/sandbox/messages")
	if err != nil {
		t.Fatalf("GET /sandbox/messages: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sandbox/messages: %s", resp.Status)
	}
	var f sandboxFeed
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatalf("GET /sandbox/messages: %v", err)
	}
	return f
}

// sentTo returns the messages the bot sent to the client from, oldest first.
func (s *served) sentTo(t *testing.T, from string) []metasim.Message {
	t.Helper()
	var out []metasim.Message
	for _, m := range s.feed(t).Messages {
		if m.To == "+"+strings.TrimPrefix(from, "+") {
			out = append(out, m)
		}
	}
	return out
}

// settled waits until serve owes nothing: no message waits in the inbox, no
// reply in the outbox and no notice for agents, as /metrics reads them from
// the store. A message
// and the replies it makes change hands in one transaction, so once both are
// empty no further reply can come of what was delivered so far.
func (s *served) settled(t *testing.T) {
	t.Helper()
	waitSettled(t, s.client, s.url)
}

// waitSettled is served.settled for the serve at base.
func waitSettled(t *testing.T, client *http.Client, base string) {
	t.Helper()
	waitSettledWithin(t, client, base, 30*time.Second)
}

// waitSettledWithin is waitSettled for a store whose last replies may wait
// out a long grace first.
func waitSettledWithin(t *testing.T, client *http.Client, base string, timeout time.Duration) {
	t.Helper()
	eventually.Within(t, timeout, "the inbox, the outbox and the notices to empty", func() bool {
		resp, err := client.Get(base + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return false
		}
		inbox, replies, notices := false, false, false
		for _, line := range strings.Split(string(body), "\n") {
			inbox = inbox || line == "portabot_inbox_depth 0"
			replies = replies || line == `portabot_outbox_rows{state="pending"} 0`
			notices = notices || line == `portabot_notice_rows{state="pending"} 0`
		}
		return inbox && replies && notices
	})
}

// conversationView follows one client's messages at the simulator.
type conversationView struct {
	s    *served
	from string
	seen int // messages to the client already matched
}

// next waits for the first message after those already seen that
// satisfies match, and returns it.
func (c *conversationView) next(t *testing.T, what string, match func(metasim.Message) bool) metasim.Message {
	t.Helper()
	var msgs []metasim.Message
	at := -1
	eventually.Until(t, 20*time.Second, func() bool {
		msgs = c.s.sentTo(t, c.from)
		for i := c.seen; i < len(msgs); i++ {
			if match(msgs[i]) {
				at = i
				return true
			}
		}
		return false
	}, func() string {
		var b strings.Builder
		for i, m := range msgs {
			fmt.Fprintf(&b, "  %d: %q %+v\n", i, m.Text, m.Choices)
		}
		return fmt.Sprintf("no reply %s after message %d; the client received:\n%slogs:\n%s", what, c.seen, &b, c.s.logs)
	})
	c.seen = at + 1
	return msgs[at]
}

func offers(title string) func(metasim.Message) bool {
	return func(m metasim.Message) bool {
		return slices.ContainsFunc(m.Choices, func(c metasim.Choice) bool { return strings.EqualFold(c.Title, title) })
	}
}

func says(s string) func(metasim.Message) bool {
	return func(m metasim.Message) bool { return strings.Contains(m.Text, s) }
}

// openStore opens serve's db (after it stopped) with its seal key.
func openStore(t *testing.T, db string, key []byte) *storage.DB {
	t.Helper()
	st, err := storage.Open(db, storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sandboxKey reads the seal key serve generated beside db in sandbox mode.
func sandboxKey(t *testing.T, db string) []byte {
	t.Helper()
	if _, err := os.Stat(db + ".key"); err != nil {
		t.Fatalf("sandbox serve left no key beside the db: %v", err)
	}
	k, err := storage.LoadOrCreateKey(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestServeSandboxMigrationEndToEnd drives a whole port through serve's
// HTTP interface only: signed webhooks in, the simulated Meta's deliveries
// out. Afterwards the code and the PIN are nowhere in the db or the logs.
func TestServeSandboxMigrationEndToEnd(t *testing.T) {
	const (
		otp    = "482913"
		pin    = "135790"
		client = "5511999990001"
		number = "5511987654321" // the number being ported
	)
	dir := t.TempDir()
	db := filepath.Join(dir, "portabot.db")
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_SANDBOX_OTP": otp}), db)
	c := &conversationView{s: s, from: client}

	s.text(t, client, "hi")
	m := c.next(t, `offering "Start the port"`, offers("Start the port"))
	s.tap(t, client, m, "Start the port")
	for i := 1; i <= 4; i++ {
		m = c.next(t, fmt.Sprintf("asking check %d/4", i), func(m metasim.Message) bool {
			return offers("Yes")(m) && offers("No")(m)
		})
		s.tap(t, client, m, "Yes")
	}
	c.next(t, "asking for the number", says("country code"))
	s.text(t, client, "+55 11 98765-4321")
	c.next(t, "asking for the origin WABA", offers("Skip"))
	s.text(t, client, "500400300200100")
	m = c.next(t, "asking how the code should arrive", offers("SMS"))
	s.tap(t, client, m, "SMS")
	c.next(t, "saying the code was requested", says("6 digits"))

	var code string
	eventually.Within(t, 20*time.Second, "the simulated SMS", func() bool {
		for _, sms := range s.feed(t).Codes {
			if sms.To == "+"+number {
				code = sms.Code
				return true
			}
		}
		return false
	})
	if code != otp {
		t.Fatalf("the simulator sent code %q, want PORTABOT_SANDBOX_OTP %q", code, otp)
	}
	// The db file is also read while serve runs, right after a secret was
	// acknowledged (it is in the inbox then) and after its reply: once the
	// row is deleted its page is soon reused, so after shutdown an unsealed
	// inbox would most likely no longer show.
	var snapshots [][]byte
	snapshot := func() {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		snapshots = append(snapshots, b)
	}
	s.text(t, client, code)
	snapshot()
	c.next(t, "asking for a new PIN", says("PIN"))
	snapshot()
	s.text(t, client, pin)
	snapshot()
	c.next(t, "asking to confirm the PIN", says("PIN again"))
	snapshot()
	s.text(t, client, pin)
	snapshot()
	c.next(t, "with the done summary", says("has moved"))
	snapshot()

	s.mustStop(t)
	logs := s.logs.String()

	cs := casesOf(t, db)
	if len(cs) != 1 || cs[0].State != fsm.Done {
		t.Fatalf("cases after the port = %+v, want one case in done", cs)
	}
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "webhook message") {
		t.Fatalf("no debug lines about webhooks in the logs: the checks below would prove nothing; logs:\n%s", logs)
	}
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"code": otp, "PIN": pin} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the %s %s is in the database file's bytes after shutdown", name, secret)
		}
		for i, b := range snapshots {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("the %s %s is in the database file's bytes while serving (snapshot %d)", name, secret, i+1)
			}
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the %s %s is in the logs:\n%s", name, secret, logs)
		}
	}
	for _, phone := range []string{client, number} {
		if strings.Contains(logs, phone) {
			t.Errorf("the full phone number %s is in the logs:\n%s", phone, logs)
		}
	}
	if fi, err := os.Stat(db + ".key"); err != nil {
		t.Error(err)
	} else if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("the generated db key has mode %v, want 0600", perm)
	}
}

// TestServeRedeliveryAnsweredOnce posts the same webhook five times at once,
// as Meta may when it did not see an acknowledgement: one reply.
func TestServeRedeliveryAnsweredOnce(t *testing.T) {
	const client = "5511999990002"
	s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))
	body := whatsapp.BuildTextWebhook(s.phone, client, newMessageID(), "hi", time.Now())
	sig := whatsapp.SignBody(s.secret, body)

	codes := make([]int, 5)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { codes[i], errs[i] = postWebhook(t, s.client, s.url, body, sig) })
	}
	wg.Wait()
	for i := range codes {
		if errs[i] != nil || codes[i] != http.StatusOK {
			t.Errorf("delivery %d: %d, %v; want 200", i+1, codes[i], errs[i])
		}
	}
	eventually.Within(t, 20*time.Second, "the reply", func() bool { return len(s.sentTo(t, client)) > 0 })
	s.settled(t)
	if got := s.sentTo(t, client); len(got) != 1 {
		t.Errorf("the client received %d messages for one message delivered 5 times, want 1: %+v", len(got), got)
	}
}

// distinctFAQQuestions returns four questions the FAQ answers with four
// different intents and answers, with those answers.
func distinctFAQQuestions(t *testing.T) (questions, answers []string) {
	t.Helper()
	candidates := []string{
		"what is a BSP?",
		"how long does the port take?",
		"how much does it cost?",
		"what is two-step verification?",
		"what is a WABA?",
		"will my message templates be copied?",
		"will my chat history move?",
		"what is the display name?",
		"who bills the messages during the port?",
		"how many registration attempts are there?",
	}
	intents := map[string]bool{}
	for _, q := range candidates {
		r := faq.Default().Ask(q, "en")
		if r.Intent == "" || r.Intent == faq.None || intents[r.Intent] || slices.Contains(answers, r.Answer) {
			continue
		}
		intents[r.Intent] = true
		questions = append(questions, q)
		answers = append(answers, r.Answer)
		if len(questions) == 4 {
			return questions, answers
		}
	}
	t.Fatalf("the FAQ answers only %d of the candidate questions with distinct intents; add candidates", len(questions))
	return nil, nil
}

// batchWebhook joins the messages of several single-message webhook bodies
// into one delivery, as Meta does when messages pile up.
func batchWebhook(t *testing.T, bodies ...[]byte) []byte {
	t.Helper()
	type change struct {
		Field string         `json:"field"`
		Value map[string]any `json:"value"`
	}
	type delivery struct {
		Object string `json:"object"`
		Entry  []struct {
			ID      string   `json:"id"`
			Changes []change `json:"changes"`
		} `json:"entry"`
	}
	var out delivery
	for i, b := range bodies {
		var d delivery
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			out = d
			continue
		}
		v := out.Entry[0].Changes[0].Value
		v["messages"] = append(v["messages"].([]any), d.Entry[0].Changes[0].Value["messages"].([]any)...)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServeAnswersInOrder sends five messages from one client without
// waiting for replies: they are answered in the order sent, whether they
// come as five deliveries back to back or as one delivery that puts them
// in the inbox together.
func TestServeAnswersInOrder(t *testing.T) {
	questions, answers := distinctFAQQuestions(t)
	for _, batched := range []bool{false, true} {
		name := "five deliveries"
		if batched {
			name = "one delivery"
		}
		t.Run(name, func(t *testing.T) {
			const client = "5511999990003"
			s := startServe(t, sandboxEnv(nil), filepath.Join(t.TempDir(), "portabot.db"))
			bodies := [][]byte{whatsapp.BuildTextWebhook(s.phone, client, newMessageID(), "hi", time.Now())}
			for _, q := range questions {
				bodies = append(bodies, whatsapp.BuildTextWebhook(s.phone, client, newMessageID(), q, time.Now()))
			}
			if batched {
				s.deliver(t, batchWebhook(t, bodies...))
			} else {
				for _, b := range bodies {
					s.deliver(t, b)
				}
			}
			eventually.Within(t, 30*time.Second, "five replies", func() bool { return len(s.sentTo(t, client)) >= 5 })
			s.settled(t)
			got := s.sentTo(t, client)
			describe := func() string {
				var b strings.Builder
				for i, m := range got {
					fmt.Fprintf(&b, "  %d: %.70q\n", i, m.Text)
				}
				return b.String()
			}
			if len(got) != 5 {
				t.Fatalf("the client received %d messages for 5, want 5:\n%s", len(got), describe())
			}
			if !offers("Start the port")(got[0]) {
				t.Errorf("the first reply is not the welcome with the menu:\n%s", describe())
			}
			for i, want := range answers {
				if got[i+1].Text != want {
					t.Errorf("reply %d should answer %q (%.50q…); the replies in order:\n%s", i+2, questions[i], want, describe())
				}
			}
		})
	}
}

// TestServeWebhookEdges covers the handshake, refused deliveries and the
// health endpoints.
func TestServeWebhookEdges(t *testing.T) {
	const (
		token    = "verify-me-please"
		intruder = "5511999990004"
		client   = "5511999990005"
	)
	db := filepath.Join(t.TempDir(), "portabot.db")
	s := startServe(t, sandboxEnv(map[string]string{"PORTABOT_META_VERIFY_TOKEN": token}), db)

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := s.client.Get(s.url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz: %d, want 200", code)
	}
	eventually.Within(t, 10*time.Second, "GET /readyz to answer 200", func() bool {
		code, _ := get("/readyz")
		return code == http.StatusOK
	})

	handshake := func(mode, tok string) string {
		return "/webhooks/whatsapp?" + url.Values{"hub.mode": {mode}, "hub.verify_token": {tok},
			"hub.challenge": {"1158201444"}}.Encode()
	}
	if code, body := get(handshake("subscribe", token)); code != http.StatusOK || body != "1158201444" {
		t.Errorf("handshake with the verify token: %d %q, want 200 and the challenge", code, body)
	}
	if code, body := get(handshake("subscribe", "not-the-token")); code != http.StatusForbidden || strings.Contains(body, "1158201444") {
		t.Errorf("handshake with a wrong token: %d %q, want 403 without the challenge", code, body)
	}
	if code, _ := get(handshake("unsubscribe", token)); code != http.StatusForbidden {
		t.Errorf("handshake with mode unsubscribe: %d, want 403", code)
	}

	badID := newMessageID()
	bad := whatsapp.BuildTextWebhook(s.phone, intruder, badID, "hi", time.Now())
	for name, sig := range map[string]string{
		"a signature with another secret": whatsapp.SignBody("not-the-secret", bad),
		"no signature":                    "",
		"a sha1 signature":                "sha1=" + strings.TrimPrefix(whatsapp.SignBody(s.secret, bad), "sha256=")[:40],
	} {
		code, err := postWebhook(t, s.client, s.url, bad, sig)
		if err != nil || code != http.StatusUnauthorized {
			t.Errorf("POST with %s: %d, %v; want 401", name, code, err)
		}
	}

	huge := whatsapp.BuildTextWebhook(s.phone, intruder, newMessageID(), strings.Repeat("a", whatsapp.DefaultMaxBody), time.Now())
	if code, err := postWebhook(t, s.client, s.url, huge, whatsapp.SignBody(s.secret, huge)); err != nil || code != http.StatusRequestEntityTooLarge {
		t.Errorf("POST of %d bytes: %d, %v; want 413", len(huge), code, err)
	}

	// A good delivery after the refused ones is answered; by the time its
	// reply is out and serve owes nothing more, a refused one that had
	// slipped into the inbox would have been answered too.
	s.text(t, client, "hi")
	eventually.Within(t, 20*time.Second, "the reply to a valid webhook", func() bool { return len(s.sentTo(t, client)) > 0 })
	s.settled(t)
	if got := s.sentTo(t, client); len(got) != 1 {
		t.Errorf("the valid client received %d messages, want 1", len(got))
	}
	if got := s.sentTo(t, intruder); len(got) != 0 {
		t.Errorf("refused webhooks were answered: %+v", got)
	}
	s.mustStop(t)

	st := openStore(t, db, sandboxKey(t, db))
	ctx := context.Background()
	if n, err := st.InboxDepth(ctx); err != nil || n != 0 {
		t.Errorf("inbox depth after shutdown: %d, %v; want 0", n, err)
	}
	if seen, err := st.Processed(ctx, badID); err != nil || seen {
		t.Errorf("the refused message is recorded as processed (%v, %v)", seen, err)
	}
	if _, err := st.Conversation(ctx, intruder); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a refused webhook left a conversation behind: %v", err)
	}
	if _, err := st.Conversation(ctx, client); err != nil {
		t.Errorf("the valid client's conversation: %v (the check above proves nothing without it)", err)
	}
}

// graphFake is the messages endpoint of Meta's Graph API: it records what
// each recipient received and when each send was attempted.
type graphFake struct {
	srv     *httptest.Server
	phoneID string
	token   string

	mu sync.Mutex
	// answer, when set, decides the answer to send attempt n (from 0);
	// a zero status means 200.
	answer     func(n int) (status int, header http.Header, body string)
	attempts   []time.Time
	received   map[string][]string // recipient (digits) -> message types
	unexpected []string
	ids        int
}

func newGraphFake(t *testing.T, phoneID, token string) *graphFake {
	t.Helper()
	f := &graphFake{phoneID: phoneID, token: token, received: map[string][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *graphFake) setAnswer(a func(n int) (int, http.Header, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = a
}

func metaError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":"OAuthException","code":%d,"fbtrace_id":"AbCdEfGhIjK"}}`, message, code)
}

func (f *graphFake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v25.0/"+f.phoneID+"/messages" {
		f.unexpected = append(f.unexpected, r.Method+" "+r.URL.Path)
		metaError(w, http.StatusBadRequest, 100, "Unsupported request")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.unexpected = append(f.unexpected, "a call without the token")
		metaError(w, http.StatusUnauthorized, 190, "Invalid OAuth access token")
		return
	}
	var msg struct {
		Status string `json:"status"`
		To     string `json:"to"`
		Type   string `json:"type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		f.unexpected = append(f.unexpected, "an unreadable body: "+err.Error())
		metaError(w, http.StatusBadRequest, 100, "Invalid parameter")
		return
	}
	if msg.Status == "read" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":true}`)
		return
	}
	n := len(f.attempts)
	f.attempts = append(f.attempts, time.Now())
	if f.answer != nil {
		if status, h, body := f.answer(n); status != 0 && status != http.StatusOK {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
	}
	to := strings.TrimPrefix(msg.To, "+")
	f.received[to] = append(f.received[to], msg.Type)
	f.ids++
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.%d"}]}`,
		msg.To, to, f.ids)
}

// kinds returns the types of the messages recipient received, in order.
func (f *graphFake) kinds(recipient string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.received[recipient])
}

// got returns how many messages each recipient received.
func (f *graphFake) got() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]int{}
	for k, v := range f.received {
		m[k] = len(v)
	}
	return m
}

func (f *graphFake) attemptTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attempts)
}

func (f *graphFake) unexpectedCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.unexpected)
}

const fakePhoneID = "109876543210"

// liveEnv is serve's environment against a Graph fake (not sandbox mode).
func liveEnv(f *graphFake) map[string]string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return map[string]string{
		"PORTABOT_META_ACCESS_TOKEN":  f.token,
		"PORTABOT_GRAPH_URL":          f.srv.URL,
		"PORTABOT_META_APP_SECRET":    testAppSecret,
		"PORTABOT_META_VERIFY_TOKEN":  "verify-token",
		"PORTABOT_WA_PHONE_NUMBER_ID": f.phoneID,
		"PORTABOT_DB_KEY":             base64.StdEncoding.EncodeToString(key),
		"PORTABOT_DEST_WABA_ID":       "102290129340398",
		"PORTABOT_LOG_LEVEL":          "debug",
	}
}

// TestServeRateLimitedReplyWaitsRetryAfter has Meta answer the first send
// with 429 and Retry-After: the reply goes out once, no sooner than asked.
// A Retry-After of 2 s is longer than the first backoff the sender would
// pick by itself, so it shows the header is what sets the wait.
func TestServeRateLimitedReplyWaitsRetryAfter(t *testing.T) {
	t.Parallel()
	for _, wait := range []int{1, 2} {
		t.Run(fmt.Sprintf("Retry-After %d", wait), func(t *testing.T) {
			const client = "5511999990006"
			f := newGraphFake(t, fakePhoneID, "tok")
			f.setAnswer(func(n int) (int, http.Header, string) {
				if n > 0 {
					return 0, nil, ""
				}
				return http.StatusTooManyRequests, http.Header{"Retry-After": {strconv.Itoa(wait)}},
					`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,` +
						`"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},` +
						`"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`
			})
			s := startServe(t, liveEnv(f), filepath.Join(t.TempDir(), "portabot.db"))
			s.text(t, client, "hi")
			eventually.Within(t, 20*time.Second, "the reply after the rate limit", func() bool { return f.got()[client] > 0 })
			s.settled(t)
			if n := f.got()[client]; n != 1 {
				t.Errorf("the client received %d messages, want 1", n)
			}
			at := f.attemptTimes()
			if len(at) != 2 {
				t.Fatalf("%d send attempts, want 2 (one refused, one accepted); logs:\n%s", len(at), s.logs)
			}
			least := time.Duration(wait)*time.Second - 100*time.Millisecond
			if gap := at[1].Sub(at[0]); gap < least {
				t.Errorf("the retry came %v after the 429, want at least %v (Retry-After: %d)", gap, least, wait)
			}
			if u := f.unexpectedCalls(); len(u) > 0 {
				t.Errorf("unexpected calls at the Graph fake: %v", u)
			}
			s.mustStop(t)
		})
	}
}

// TestServeGracefulShutdown stops serve right after it acknowledged a
// webhook: run returns nil, the listener is closed, and the acknowledged
// message is either answered or still waiting in the inbox.
func TestServeGracefulShutdown(t *testing.T) {
	const client = "5511999990007"
	db := filepath.Join(t.TempDir(), "portabot.db")
	s := startServe(t, sandboxEnv(nil), db)
	id := newMessageID()
	s.deliver(t, whatsapp.BuildTextWebhook(s.phone, client, id, "hi", time.Now()))

	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("run returned %v after shutdown, want nil; logs:\n%s", err, s.logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("run did not return within 15 s of shutdown; logs:\n%s", s.logs)
	}
	s.mustStop(t)

	// Meta opens a new connection to a server that went away; a kept-alive
	// one would only show that it was closed.
	s.client.CloseIdleConnections()
	body := whatsapp.BuildTextWebhook(s.phone, client, newMessageID(), "hello again", time.Now())
	code, err := postWebhook(t, s.client, s.url, body, whatsapp.SignBody(s.secret, body))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("a webhook after shutdown got %d, %v; want the connection refused", code, err)
	}

	st := openStore(t, db, sandboxKey(t, db))
	ctx := context.Background()
	done, err := st.Processed(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	depth, err := st.InboxDepth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !done && depth != 1 {
		t.Errorf("the acknowledged message was neither processed nor kept in the inbox (depth %d)", depth)
	}
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// serveProcess is `portabot serve` running as a subprocess.
type serveProcess struct {
	cmd  *exec.Cmd
	log  string
	done chan error
}

func startServeProcess(t *testing.T, bin string, env []string, db, logName string) *serveProcess {
	t.Helper()
	return startServeArgs(t, bin, env, filepath.Join(filepath.Dir(db), logName), "--db", db)
}

// startServeArgs starts `portabot serve args…` with env, its output going
// to logPath; the test's end kills it.
func startServeArgs(t *testing.T, bin string, env []string, logPath string, args ...string) *serveProcess {
	t.Helper()
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Env = env
	cmd.Stdout = lf
	cmd.Stderr = lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		lf.Close()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		p.done <- nil
	})
	return p
}

func (p *serveProcess) logs() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// waitHealthy waits until the process answers GET /healthz.
func (p *serveProcess) waitHealthy(t *testing.T, base string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	eventually.Until(t, 30*time.Second, func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("serve exited (%v) before it was healthy; logs:\n%s", err, p.logs())
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, func() string { return fmt.Sprintf("serve was not healthy within 30 s; logs:\n%s", p.logs()) })
}

// TestServeSurvivesKill acknowledges webhooks while Meta is down, is killed
// with SIGKILL right after the acknowledgements, and is started again on the
// same db: every client then gets its reply exactly once.
func TestServeSurvivesKill(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const clients = 20
	dir := t.TempDir()
	bin := portabotBinary(t)
	db := filepath.Join(dir, "portabot.db")
	f := newGraphFake(t, fakePhoneID, "tok")
	f.setAnswer(func(int) (int, http.Header, string) {
		return http.StatusServiceUnavailable, nil,
			`{"error":{"message":"Service temporarily unavailable","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"AbC"}}`
	})
	addr := freePort(t)
	base := "http://" + addr
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PORTABOT_") })
	// This Graph fake sends no status webhooks, so a reply whose send was cut
	// by the kill can only be settled by sending it again after the grace;
	// the fake refused every send before the kill, so that sends it once.
	for k, v := range withDefaults(map[string]string{"PORTABOT_ADDR": addr, "PORTABOT_SEND_GRACE": "1s"}, liveEnv(f)) {
		env = append(env, k+"="+v)
	}

	first := startServeProcess(t, bin, env, db, "first.log")
	first.waitHealthy(t, base)
	client := &http.Client{Timeout: 10 * time.Second}
	from := func(i int) string { return fmt.Sprintf("55119888800%02d", i) }
	var wg sync.WaitGroup
	codes := make([]int, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() {
			body := whatsapp.BuildTextWebhook(fakePhoneID, from(i), newMessageID(), "hi", time.Now())
			codes[i], errs[i] = postWebhook(t, client, base, body, whatsapp.SignBody(testAppSecret, body))
		})
	}
	wg.Wait()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	first.done <- nil
	for i := range clients {
		if errs[i] != nil || codes[i] != http.StatusOK {
			t.Fatalf("webhook from client %d: %d, %v; want 200; logs:\n%s", i, codes[i], errs[i], first.logs())
		}
	}
	if got := f.got(); len(got) != 0 {
		t.Fatalf("messages were delivered while Meta answered 503: %v", got)
	}

	f.setAnswer(nil)
	second := startServeProcess(t, bin, env, db, "second.log")
	second.waitHealthy(t, base)
	eventually.Within(t, 40*time.Second, "every client's reply after the restart", func() bool {
		got := f.got()
		for i := range clients {
			if got[from(i)] == 0 {
				return false
			}
		}
		return true
	})
	waitSettled(t, &http.Client{Timeout: 10 * time.Second}, base)
	got := f.got()
	for i := range clients {
		if kinds := f.kinds(from(i)); !slices.Equal(kinds, []string{"interactive"}) {
			t.Errorf("client %d received %v, want one message: the welcome with the menu's buttons", i, kinds)
		}
	}
	if len(got) != clients {
		t.Errorf("messages went to %d recipients, want %d: %v", len(got), clients, got)
	}
	if u := f.unexpectedCalls(); len(u) > 0 {
		t.Errorf("unexpected calls at the Graph fake: %v", u)
	}

	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second.done:
		second.done <- err
		if err != nil {
			t.Errorf("serve exited with %v on SIGTERM, want a clean exit; logs:\n%s", err, second.logs())
		}
	case <-time.After(25 * time.Second):
		t.Errorf("serve did not exit within 25 s of SIGTERM; logs:\n%s", second.logs())
	}
	if t.Failed() {
		t.Logf("first run's logs:\n%s\nsecond run's logs:\n%s", first.logs(), second.logs())
	}
}
