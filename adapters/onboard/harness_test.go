package onboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/adapters/onboard"
	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
	"portabot/storage"
)

const (
	client    = "5511987654321"
	typed     = "+55 11 98765-4321"
	otp       = "246810"
	appSecret = "app-secret-for-tests"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer collects log lines from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// world is the bot with real parts: bbolt, the simulator over HTTP, the
// Graph client and the signup page, on test servers.
type world struct {
	t      *testing.T
	sim    *metasim.Sim
	db     *storage.DB
	dbPath string
	bot    *bot.Bot
	page   *httptest.Server
	clock  *clock
	logs   *syncBuffer
	last   []bot.Reply
	seq    int
	from   string // the client who writes
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, clock: &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}, logs: &syncBuffer{}, from: client}
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sim, err := metasim.New(metasim.Options{Token: "system-user-token", OTP: otp, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sim.SetAppSecret(appSecret)
	w.sim = sim
	simSrv := httptest.NewServer(sim)
	t.Cleanup(simSrv.Close)
	gc := graph.New(graph.Config{BaseURL: simSrv.URL, Token: "system-user-token", Logger: log,
		RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond})
	key := bytes.Repeat([]byte{7}, storage.KeySize)
	w.dbPath = filepath.Join(t.TempDir(), "portabot.db")
	db, err := storage.Open(w.dbPath, storage.WithSealKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	w.db = db
	mux := http.NewServeMux()
	w.page = httptest.NewServer(mux)
	t.Cleanup(w.page.Close)
	w.bot = bot.New(db, gc, faq.Default(), bot.Config{Outbox: true, Notify: true, Now: w.clock.Now,
		Signup: &bot.SignupConfig{
			Link:  func(token string) string { return w.page.URL + "/onboard/" + token },
			Meta:  graph.Signup{Client: gc, AppID: "1000000000000001", AppSecret: appSecret},
			Vault: db,
		}}, log)
	h, err := onboard.New(onboard.Config{AppID: "1000000000000001", ConfigID: "2000000000000002", GraphVersion: "v25.0",
		SDK: simSrv.URL + "/sdk.js", Origins: []string{simSrv.URL}, Logger: log}, w.bot)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(mux)
	return w
}

// send delivers a client's message and returns the replies.
func (w *world) send(text string) []bot.Reply {
	w.t.Helper()
	return w.deliver(bot.Inbound{Text: text})
}

// tap taps the button whose id starts with choice.
func (w *world) tap(choice string) []bot.Reply {
	w.t.Helper()
	for _, r := range w.last {
		for _, b := range r.Buttons {
			if c, _, _ := strings.Cut(b.ID, "@"); c == choice {
				return w.deliver(bot.Inbound{Text: b.Title, Choice: b.ID})
			}
		}
	}
	w.t.Fatalf("no button %q in %+v", choice, w.last)
	return nil
}

func (w *world) deliver(in bot.Inbound) []bot.Reply {
	w.t.Helper()
	w.seq++
	in.ID = fmt.Sprintf("wamid.onboard.%d", w.seq)
	in.From = w.from
	in.At = w.clock.Now()
	replies, err := w.bot.Handle(context.Background(), in)
	if err != nil {
		w.t.Fatalf("handle %q: %v", in.Text, err)
	}
	w.last = replies
	return replies
}

func (w *world) conv() bot.Conversation {
	w.t.Helper()
	c, err := w.db.Conversation(context.Background(), w.from)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) cas() bot.Case {
	w.t.Helper()
	c, err := w.db.Case(context.Background(), w.conv().CaseID)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) wantState(want fsm.State) {
	w.t.Helper()
	if got := w.conv().State; got != want {
		w.t.Fatalf("state %s, want %s; last replies: %+v", got, want, w.last)
	}
}

// toAwaitWABA walks the client to await_waba and returns the link they got.
func (w *world) toAwaitWABA(greeting string) string {
	w.t.Helper()
	w.send(greeting)
	w.tap("start")
	for range 4 {
		w.tap("yes")
	}
	w.send(typed)
	w.send(metasim.SandboxSourceWABA)
	w.wantState(fsm.AwaitWABA)
	return w.linkIn(w.last)
}

var linkPattern = regexp.MustCompile(`http://[^\s]+/onboard/[^\s]+`)

// linkIn returns the last signup link in replies; the test fails without.
func (w *world) linkIn(replies []bot.Reply) string {
	w.t.Helper()
	var link string
	for _, r := range replies {
		if m := linkPattern.FindAllString(r.Text, -1); len(m) > 0 {
			link = m[len(m)-1]
		}
	}
	if link == "" {
		w.t.Fatalf("no signup link in %+v", replies)
	}
	return link
}

// queued is what was written to the client's outbox so far.
func (w *world) queued() []bot.Reply {
	w.t.Helper()
	rows, err := w.db.OutboundRows(context.Background(), w.from)
	if err != nil {
		w.t.Fatal(err)
	}
	out := make([]bot.Reply, len(rows))
	for i, r := range rows {
		out[i] = r.Reply
	}
	return out
}

// notices claims the pending notices for agents, as a dispatcher would.
func (w *world) notices() []bot.Notice {
	w.t.Helper()
	var all []bot.Notice
	for {
		rows, release, err := w.db.ClaimNotices(context.Background(), w.clock.Now().Add(time.Hour), 100)
		if err != nil {
			w.t.Fatal(err)
		}
		if len(rows) == 0 {
			release()
			return all
		}
		for _, n := range rows {
			n.State = bot.OutboundSent
			if err := w.db.MarkNotice(context.Background(), n); err != nil {
				w.t.Fatal(err)
			}
		}
		release()
		all = append(all, rows...)
	}
}

// get fetches a page.
func (w *world) get(link string) (int, string, http.Header) {
	w.t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// complete posts a completion as the page does.
func (w *world) complete(link string, body map[string]string) (int, map[string]string) {
	w.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(link+"/complete", "application/json", bytes.NewReader(b))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// finish has the simulator finish a signup and posts it, as the page does.
func (w *world) finish(link string) (string, int, map[string]string) {
	w.t.Helper()
	waba, code := w.sim.Signup()
	st, out := w.complete(link, map[string]string{"event": "FINISH", "code": code, "waba_id": waba})
	return waba, st, out
}

var sectionPattern = regexp.MustCompile(`<section id="(\w+)">`)

// shown is the id of the one section of a page not hidden, "" unless
// exactly one is shown.
func shown(body string) string {
	m := sectionPattern.FindAllStringSubmatch(body, -1)
	if len(m) != 1 {
		return ""
	}
	return m[0][1]
}

func texts(replies []bot.Reply) string {
	var b strings.Builder
	for _, r := range replies {
		b.WriteString(r.Text)
		b.WriteString("\n")
	}
	return b.String()
}
