package slack

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"portabot/bot"
	"portabot/fsm"
)

// posted is a chat.postMessage call as the fake Slack received it.
type posted struct {
	token, channel, text, blocks, threadTS, broadcast string
}

// fakeSlack is slacktest with chat.postMessage recorded, which plain
// slacktest only forwards to websocket clients. down makes it fail.
type fakeSlack struct {
	*slacktest.Server
	mu    sync.Mutex
	posts []posted
	down  bool
}

const firstTS = "1773144000.000100"

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	fs := &fakeSlack{}
	fs.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			fs.mu.Lock()
			defer fs.mu.Unlock()
			if fs.down {
				http.Error(w, "down", http.StatusInternalServerError)
				return
			}
			if err := r.ParseForm(); err != nil {
				t.Errorf("chat.postMessage form: %v", err)
			}
			p := posted{
				token: r.PostForm.Get("token"), channel: r.PostForm.Get("channel"), text: r.PostForm.Get("text"),
				blocks: r.PostForm.Get("blocks"), threadTS: r.PostForm.Get("thread_ts"),
				broadcast: r.PostForm.Get("reply_broadcast"),
			}
			fs.posts = append(fs.posts, p)
			ts := firstTS
			if p.threadTS != "" {
				ts = "1773144001.000200"
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"ok":true,"channel":"`+p.channel+`","ts":"`+ts+`"}`)
		})
	})
	fs.Start()
	t.Cleanup(fs.Stop)
	return fs
}

func (fs *fakeSlack) got() []posted {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]posted(nil), fs.posts...)
}

func notifier(t testing.TB, fs *fakeSlack) *App {
	t.Helper()
	return New(Config{BotToken: "xoxb-test", Channel: "C123", TeamID: testTeam, APIURL: fs.GetAPIURL(),
		HTTPClient: &http.Client{Timeout: 2 * time.Second}},
		Deps{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestNotifyThreads(t *testing.T) {
	fs := newFakeSlack(t)
	app := notifier(t, fs)
	ctx := context.Background()
	c := bot.Case{ID: "12", Client: "5511987654321", Phone: fullPhone, State: fsm.New}

	thread, err := app.Notify(ctx, c, bot.Notice{CaseID: "12", Kind: bot.NoticeStarted,
		Text: "New case from client " + bot.MaskPhone(c.Client) + "."})
	if err != nil {
		t.Fatalf("first notice: %v", err)
	}
	if thread != firstTS {
		t.Errorf("first notice returned thread %q, want its ts %q", thread, firstTS)
	}

	// The dispatcher stores the thread; later notices carry it.
	c.Thread, c.State = thread, fsm.Handoff
	got, err := app.Notify(ctx, c, bot.Notice{CaseID: "12", Kind: bot.NoticeAgentAsked,
		Text: "Case #12 (" + bot.MaskPhone(fullPhone) + ") asks for a person (was at ask_phone)."})
	if err != nil || got != firstTS {
		t.Fatalf("second notice: thread %q, %v; want %q", got, err, firstTS)
	}
	_, err = app.Notify(ctx, c, bot.Notice{CaseID: "12", Kind: bot.NoticeClientMessage,
		Text: "Client: <!channel> my number is +55 11 98765-4321 & code ••••••"})
	if err != nil {
		t.Fatalf("client message: %v", err)
	}

	posts := fs.got()
	if len(posts) != 3 {
		t.Fatalf("%d posts, want 3: %+v", len(posts), posts)
	}
	first, second, third := posts[0], posts[1], posts[2]
	for i, p := range posts {
		if p.channel != "C123" || p.token != "xoxb-test" {
			t.Errorf("post %d went to %q with token %q", i, p.channel, p.token)
		}
		hasNot(t, "post", p.text+p.blocks, "5511987654321", "98765")
	}
	if first.threadTS != "" {
		t.Errorf("first notice is a reply to %q; want a top-level message", first.threadTS)
	}
	has(t, "first notice text", first.text, "Case #12", "New case from client `+55*******4321`")
	has(t, "first notice blocks", first.blocks, ":new: *Case #12* · `+55*******4321`", "/porta show 12", `"type":"context"`)

	if second.threadTS != firstTS || third.threadTS != firstTS {
		t.Errorf("replies went to threads %q and %q, want %q", second.threadTS, third.threadTS, firstTS)
	}
	has(t, "agent asked", second.text, ":raising_hand:", "asks for a person")
	if second.broadcast != "true" {
		t.Errorf("a request for a person is not shown in the channel (reply_broadcast %q)", second.broadcast)
	}
	if second.blocks != "" {
		t.Errorf("thread reply has blocks: %s", second.blocks)
	}
	// A client's words cannot ping the channel, and their number is masked.
	has(t, "client message", third.text, "&lt;!channel&gt;", "`+55*******4321`", "&amp; code")
	hasNot(t, "client message", third.text, "<!channel>")
	if third.broadcast != "" {
		t.Errorf("a client message is broadcast")
	}
}

func TestNotifySlackDown(t *testing.T) {
	fs := newFakeSlack(t)
	fs.down = true
	app := notifier(t, fs)
	_, err := app.Notify(context.Background(), bot.Case{ID: "12"}, bot.Notice{CaseID: "12", Kind: bot.NoticeDone, Text: "done"})
	if err == nil {
		t.Fatal("Notify with Slack answering 500 returned no error")
	}
	var sce slackapi.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != http.StatusInternalServerError {
		t.Errorf("error %v is not a 500 StatusCodeError", err)
	}
}

// An unreachable Slack returns an error within the HTTP client's timeout,
// never blocking the dispatcher.
func TestNotifySlackHangs(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	// No trailing slash: New adds the one slack-go needs.
	app := New(Config{BotToken: "xoxb-test", Channel: "C123", APIURL: srv.URL,
		HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}}, Deps{}, nil)
	start := time.Now()
	_, err := app.Notify(context.Background(), bot.Case{ID: "12"}, bot.Notice{Kind: bot.NoticeDone, Text: "done"})
	close(hang)
	if err == nil {
		t.Fatal("no error from a Slack that never answers")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Notify took %v", d)
	}
	if strings.Contains(err.Error(), "xoxb") {
		t.Errorf("error names the token: %v", err)
	}
}

func TestNotifyNeedsChannel(t *testing.T) {
	app := New(Config{BotToken: "xoxb-test"}, Deps{}, nil)
	if _, err := app.Notify(context.Background(), bot.Case{ID: "1"}, bot.Notice{}); err == nil {
		t.Error("Notify without a channel returned no error")
	}
}
