package slack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"portabot/bot"
	"portabot/fsm"
	"portabot/storage"
)

// threadSlack is slacktest with a case's thread: conversations.replies
// lists it, chat.update rewrites it. down makes both fail.
type threadSlack struct {
	*slacktest.Server
	mu   sync.Mutex
	msgs []map[string]string // ts, text, bot_id
	down bool
}

func newThreadSlack(t *testing.T, thread string) *threadSlack {
	t.Helper()
	ts := &threadSlack{msgs: []map[string]string{
		{"ts": thread, "text": "Case #1: client +55*******4321 started a port", "bot_id": "B1"},
		{"ts": "1773144001.000200", "text": "Client: my dog is called Biscuit", "bot_id": "B1"},
		{"ts": "1773144002.000300", "text": "I called them, all fine", "bot_id": ""},
	}}
	fail := func(w http.ResponseWriter) bool {
		if ts.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
		return ts.down
	}
	ts.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/conversations.replies", func(w http.ResponseWriter, r *http.Request) {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if fail(w) {
				return
			}
			_ = r.ParseForm()
			if r.Form.Get("ts") != thread || r.Form.Get("channel") != "C123" {
				t.Errorf("conversations.replies for %s in %s, want %s in C123", r.Form.Get("ts"), r.Form.Get("channel"), thread)
			}
			var out []map[string]string
			for _, m := range ts.msgs {
				out = append(out, map[string]string{"type": "message", "ts": m["ts"], "text": m["text"], "bot_id": m["bot_id"]})
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": out, "has_more": false})
		})
		c.Handle("/chat.update", func(w http.ResponseWriter, r *http.Request) {
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if fail(w) {
				return
			}
			_ = r.ParseForm()
			for _, m := range ts.msgs {
				if m["ts"] == r.Form.Get("ts") {
					m["text"] = r.Form.Get("text")
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true,"channel":"C123","ts":"`+r.Form.Get("ts")+`","text":""}`)
		})
	})
	ts.Start()
	t.Cleanup(ts.Stop)
	return ts
}

func (ts *threadSlack) texts() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []string
	for _, m := range ts.msgs {
		out = append(out, m["text"])
	}
	return out
}

// TestForgetFromSlack: /porta forget asks, the button erases through the
// store and says what with counts, and the erased notice rewrites the
// bot's messages in the case's thread; while Slack is down the notice
// waits in the store.
func TestForgetFromSlack(t *testing.T) {
	ctx := context.Background()
	st, err := storage.Open(filepath.Join(t.TempDir(), "portabot.db"), storage.WithSealKey(make([]byte, storage.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const client, thread = "5511987654321", "1773144000.000100"
	id, _ := st.NewCaseID(ctx)
	c := bot.Case{ID: id, Client: client, ClientPhone: client, Phone: fullPhone, State: fsm.Done, Created: testNow, Updated: testNow, Closed: testNow}
	conv := bot.Conversation{Key: client, Phone: client, State: fsm.Done, CaseID: id, Created: testNow, Updated: testNow, LastSeen: testNow}
	if err := st.Commit(ctx, bot.Turn{Conversation: conv, Case: &c, Audit: []bot.AuditEvent{{Actor: "client", Kind: "client_message"}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetThread(ctx, id, thread); err != nil {
		t.Fatal(err)
	}
	slk := newThreadSlack(t, thread)

	f := newFixture(t, func(cfg *Config) { cfg.Agents = []string{agentUser} })
	f.app = New(Config{SigningSecret: testSecret, BotToken: "xoxb-test", Channel: "C123", TeamID: testTeam, Agents: []string{agentUser},
		APIURL: slk.GetAPIURL(), HTTPClient: &http.Client{Timeout: 2 * time.Second}},
		Deps{Cases: st, Handoff: f.bot, Steps: f.bot, Answers: fakeAnswers{}, Eraser: st},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.app.now = func() time.Time { return testNow }
	t.Cleanup(f.app.Wait)

	// Asking erases nothing, names the client masked, and offers a button.
	m, body := f.run(t, agentUser, "forget +55 11 98765-4321")
	has(t, "question", m.Text, "+55*******4321")
	if !strings.Contains(body, actionForget) {
		t.Fatalf("/porta forget offered no %s button: %s", actionForget, body)
	}
	if _, err := st.Conversation(ctx, client); err != nil {
		t.Fatalf("asking erased the conversation: %v", err)
	}
	// A reader may not erase.
	r, _ := f.run(t, "U0READER", "forget #"+id)
	has(t, "refusal", r.Text, "Only portabot's agents")

	var token string
	for _, b := range m.Blocks.BlockSet {
		js, _ := json.Marshal(b)
		var ab struct {
			Elements []struct {
				ActionID string `json:"action_id"`
				Value    string `json:"value"`
			} `json:"elements"`
		}
		_ = json.Unmarshal(js, &ab)
		for _, e := range ab.Elements {
			if e.ActionID == actionForget {
				token = e.Value
			}
		}
	}
	if w := f.click(t, agentUser, actionForget, token); w.Code != http.StatusOK {
		t.Fatalf("click: %d", w.Code)
	}
	res := f.response(t)
	has(t, "result", res.Text, "Erased cases #"+id+"; 1 conversation(s)")
	if _, err := st.Conversation(ctx, client); err == nil {
		t.Error("the conversation is still there after the confirmation")
	}
	// The same button again erases nothing more.
	f.click(t, agentUser, actionForget, token)
	has(t, "second click", f.response(t).Text, "expired or was used")

	// The thread's rewrite waits in the notice queue while Slack is down.
	deliver := func() error {
		rows, release, err := st.ClaimNotices(ctx, testNow.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		if len(rows) != 1 || rows[0].Kind != bot.NoticeErased {
			t.Fatalf("pending notices = %+v; want the erased one", rows)
		}
		c, err := st.Case(ctx, rows[0].CaseID)
		if err != nil {
			t.Fatal(err)
		}
		n := rows[0]
		_, err = f.app.Notify(ctx, c, n)
		if err != nil {
			n.Attempts++
			n.Error = err.Error()
			n.NextAttempt = testNow.Add(time.Minute)
		} else {
			n.State = bot.OutboundSent
		}
		if merr := st.MarkNotice(ctx, n); merr != nil {
			t.Fatal(merr)
		}
		return err
	}
	slk.mu.Lock()
	slk.down = true
	slk.mu.Unlock()
	if err := deliver(); err == nil {
		t.Fatal("the rewrite succeeded with Slack down")
	}
	slk.mu.Lock()
	slk.down = false
	slk.mu.Unlock()
	if err := deliver(); err != nil {
		t.Fatalf("the rewrite once Slack is back: %v", err)
	}
	got := slk.texts()
	for i, want := range []string{erasedText, erasedText, "I called them, all fine"} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("thread message %d = %q, want it to start with %q", i, got[i], want)
		}
	}
	for _, text := range got {
		if strings.Contains(text, "Biscuit") || strings.Contains(text, "4321") {
			t.Errorf("the thread still says %q", text)
		}
	}
}
