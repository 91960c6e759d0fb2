package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
	"portabot/storage"
)

// Values the tests share.
const (
	token  = "test-token"
	otp    = "246810"
	client = "5511912345678"  // the client's own WhatsApp id
	phone  = "+5511987654321" // the number being ported
	typed  = "+55 11 98765-4321"
	pin    = "472913"
)

// options shape one harness; the zero value is a configured destination
// WABA, Brazil as the default region, English, and the fixed code.
type options struct {
	noDestWABA bool
	region     string
	lang       bot.Lang
	cooldown   time.Duration
	// phone is the number the conversation ports, E.164; typed is how the
	// client types it. Both default to the constants above.
	phone string
	typed string
	// graphTimeout bounds each Graph call; 5 s when zero.
	graphTimeout time.Duration
	// onAnswer is the engine's Config.OnAnswer.
	onAnswer func(intent string)
	// simClock runs the simulated Meta on the harness's clock too, so
	// that its 24-hour window and code expiry follow the test's time.
	simClock bool
	// noAgents is the engine's Config.NoAgents: nobody can take a handoff.
	noAgents bool
	// destWABA is the destination WABA of new cases; the sandbox's when
	// empty.
	destWABA string
	// offline leaves out the simulated Meta and the Graph client, for
	// tests whose Meta is a fake Sender: with nothing listening on a
	// socket, a synctest bubble's clock can run (a server's accepting
	// goroutine would hold it still).
	offline bool
}

// harness is one client talking to a real engine over a real bbolt file,
// with a simulated Meta behind a real Graph client.
type harness struct {
	t     *testing.T
	bot   *bot.Bot
	db    *storage.DB
	path  string
	sim   *metasim.Sim
	graph *graph.Client
	opts  options
	// simURL is the simulated Meta's address.
	simURL string
	// who is whom the client's messages come from when a test does not
	// say: the zero value is the client's number alone.
	who bot.Inbound

	clock *clock
	logs  *syncBuffer // the engine's log, debug level
	glogs *syncBuffer // the Graph client's log, debug level

	mu         sync.Mutex
	deliveries []codeDelivery // codes the simulator sent

	n    int         // messages sent, for their ids
	last []bot.Reply // the bot's last replies, for tap
}

type codeDelivery struct{ phone, method, code string }

// clock is a fake time source the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a bytes.Buffer several goroutines may log into.
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

func debugLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newHarness(t *testing.T, opts options) *harness {
	t.Helper()
	if opts.region == "" {
		opts.region = "BR"
	}
	if opts.phone == "" {
		opts.phone, opts.typed = phone, typed
	}
	if opts.typed == "" {
		opts.typed = opts.phone
	}
	h := &harness{
		t:     t,
		opts:  opts,
		path:  filepath.Join(t.TempDir(), "portabot.db"),
		clock: &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
		logs:  &syncBuffer{},
		glogs: &syncBuffer{},
	}
	if !opts.offline {
		h.startMeta()
	}
	h.open()
	return h
}

// startMeta starts the simulated Meta and the Graph client that calls it.
func (h *harness) startMeta() {
	t, opts := h.t, h.opts
	simOpts := metasim.Options{
		Token: token,
		OTP:   otp,
		Deliver: func(phone, method, code string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.deliveries = append(h.deliveries, codeDelivery{phone, method, code})
		},
		Logger: debugLogger(h.glogs),
	}
	if opts.simClock {
		simOpts.Now = h.clock.Now
	}
	sim, err := metasim.New(simOpts)
	if err != nil {
		t.Fatal(err)
	}
	h.sim = sim
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	h.simURL = srv.URL
	timeout := opts.graphTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	h.graph = graph.New(graph.Config{
		BaseURL:      srv.URL,
		Token:        token,
		Timeout:      timeout,
		RetryWait:    time.Millisecond,
		RetryMaxWait: 5 * time.Millisecond,
		Logger:       debugLogger(h.glogs),
	})
}

// open opens the store and builds an engine over it, as a process start does.
func (h *harness) open() {
	h.t.Helper()
	db, err := storage.Open(h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.db = db
	h.t.Cleanup(func() { db.Close() })
	h.bot = h.engine(h.config())
}

// config is the engine's configuration for the harness's options.
func (h *harness) config() bot.Config {
	dest := metasim.SandboxWABA
	if h.opts.destWABA != "" {
		dest = h.opts.destWABA
	}
	if h.opts.noDestWABA {
		dest = ""
	}
	return bot.Config{
		DestWABA:       dest,
		Region:         h.opts.region,
		Lang:           h.opts.lang,
		ResendCooldown: h.opts.cooldown,
		Now:            h.clock.Now,
		OnAnswer:       h.opts.onAnswer,
		NoAgents:       h.opts.noAgents,
	}
}

// engine is an engine over the harness's store and Meta with cfg.
func (h *harness) engine(cfg bot.Config) *bot.Bot {
	var g bot.Graph // nil offline, not a nil *graph.Client
	if h.graph != nil {
		g = h.graph
	}
	return bot.New(h.db, g, faq.Default(), cfg, debugLogger(h.logs))
}

// restart closes the store and opens it again with a new engine: what a
// process restart leaves behind.
func (h *harness) restart() {
	h.t.Helper()
	if err := h.db.Close(); err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

func (h *harness) nextID() string {
	h.n++
	return fmt.Sprintf("wamid.%s.%d", h.t.Name(), h.n)
}

// deliver hands in to the engine and fails the test on a store error.
func (h *harness) deliver(in bot.Inbound) []bot.Reply {
	h.t.Helper()
	if in.From == "" && in.UserID == "" {
		in.From, in.UserID, in.Username = h.who.From, h.who.UserID, h.who.Username
		if in.From == "" && in.UserID == "" {
			in.From = client
		}
	}
	if in.ID == "" {
		in.ID = h.nextID()
	}
	in.At = h.clock.Now()
	// Meta hears the client write: their 24-hour window opens.
	h.sim.ClientWrote(in.At, in.From, in.UserID)
	replies, err := h.bot.Handle(context.Background(), in)
	if err != nil {
		h.t.Fatalf("Handle(%q): %v", in.Text, err)
	}
	h.last = replies
	return replies
}

// send types text to the bot and returns its replies.
func (h *harness) send(text string) []bot.Reply {
	h.t.Helper()
	return h.deliver(bot.Inbound{Text: text})
}

// tap taps the button id of the last replies (or a stale one: its id is
// then also its title, as a client's old message would show).
func (h *harness) tap(id string) []bot.Reply {
	h.t.Helper()
	title, full := id, id
	for _, r := range h.last {
		for _, b := range r.Buttons {
			if choiceOf(b.ID) == id {
				title, full = b.Title, b.ID
			}
		}
	}
	return h.deliver(bot.Inbound{Text: title, Choice: full})
}

// conv reads the stored conversation.
func (h *harness) conv() bot.Conversation {
	h.t.Helper()
	c, err := h.db.Conversation(context.Background(), h.clientID())
	if err != nil {
		h.t.Fatalf("conversation: %v", err)
	}
	return c
}

// clientID is an id the client's conversation is found by.
func (h *harness) clientID() string {
	switch {
	case h.who.UserID != "":
		return h.who.UserID
	case h.who.From != "":
		return h.who.From
	}
	return client
}

// state is where the stored conversation stands.
func (h *harness) state() fsm.State {
	h.t.Helper()
	return h.conv().State
}

// kase reads the client's stored case.
func (h *harness) kase() bot.Case {
	h.t.Helper()
	id := h.conv().CaseID
	if id == "" {
		h.t.Fatal("the conversation has no case")
	}
	c, err := h.db.Case(context.Background(), id)
	if err != nil {
		h.t.Fatalf("case %s: %v", id, err)
	}
	return c
}

// calls is how many requests Meta got at endpoint for the ported number
// (for the destination WABA, for templates).
func (h *harness) calls(endpoint string) int {
	key := h.opts.phone
	if endpoint == metasim.EndpointTemplates {
		key = metasim.SandboxWABA
	}
	return h.sim.Calls(endpoint, key)
}

func (h *harness) sent() []codeDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]codeDelivery(nil), h.deliveries...)
}

// wantState fails the test unless the conversation stands at want.
func (h *harness) wantState(want fsm.State) {
	h.t.Helper()
	if got := h.state(); got != want {
		h.t.Fatalf("state = %s, want %s\nlast replies:\n%s", got, want, text(h.last))
	}
}

// text is all the replies' text and button titles, for matching.
func text(replies []bot.Reply) string {
	var b strings.Builder
	for _, r := range replies {
		b.WriteString(r.Text)
		for _, bt := range r.Buttons {
			fmt.Fprintf(&b, "\n[%s|%s]", bt.ID, bt.Title)
		}
		b.WriteString("\n---\n")
	}
	return b.String()
}

// says fails the test unless the replies contain every phrase
// (case-insensitive).
func says(t *testing.T, replies []bot.Reply, phrases ...string) {
	t.Helper()
	all := strings.ToLower(text(replies))
	for _, p := range phrases {
		if !strings.Contains(all, strings.ToLower(p)) {
			t.Errorf("replies lack %q:\n%s", p, text(replies))
		}
	}
}

// silent fails the test unless the replies contain none of the phrases.
func lacks(t *testing.T, replies []bot.Reply, phrases ...string) {
	t.Helper()
	all := strings.ToLower(text(replies))
	for _, p := range phrases {
		if strings.Contains(all, strings.ToLower(p)) {
			t.Errorf("replies contain %q:\n%s", p, text(replies))
		}
	}
}

// buttons returns the ids of the buttons of the replies.
func buttons(replies []bot.Reply) []string {
	var ids []string
	for _, r := range replies {
		for _, b := range r.Buttons {
			ids = append(ids, choiceOf(b.ID))
		}
	}
	return ids
}

// choiceOf is a button id without the tag of the question it was asked with.
func choiceOf(id string) string {
	choice, _, _ := strings.Cut(id, "@")
	return choice
}

// greetings open a conversation in each language.
var greetings = map[bot.Lang]string{
	bot.English:    "Hi there, good morning",
	bot.Portuguese: "Olá, bom dia",
	bot.Spanish:    "Hola, buenos días",
}

// optionsFor returns the options a conversation needs to reach target:
// await_waba needs no destination WABA configured, failed a number Meta
// refuses.
func optionsFor(target fsm.State, lang bot.Lang) options {
	o := options{lang: lang}
	switch target {
	case fsm.AwaitWABA:
		o.noDestWABA = true
	case fsm.Failed:
		o.phone = metasim.OtherPortfolio
	}
	return o
}

// driveTo plays the conversation from its first message until it stands at
// target, checking every state on the way. Blocked is reached by a "no" at
// the 2FA check, handoff and cancelled from the first check, failed with a
// number from a different business portfolio than the destination WABA.
func (h *harness) driveTo(target fsm.State) {
	h.t.Helper()
	at := func(want fsm.State) bool {
		h.t.Helper()
		h.wantState(want)
		return want == target
	}
	lang := h.opts.lang
	if lang == "" {
		lang = bot.English
	}
	h.send(greetings[lang])
	if at(fsm.Menu) {
		return
	}
	h.tap("start")
	switch target {
	case fsm.Handoff, fsm.Cancelled:
		h.send(map[fsm.State]string{fsm.Handoff: "agent", fsm.Cancelled: "cancel"}[target])
		h.wantState(target)
		return
	}
	if at(fsm.CheckBMAccess) {
		return
	}
	h.tap("yes")
	if target == fsm.Blocked {
		h.tap("no")
		h.wantState(fsm.Blocked)
		return
	}
	if at(fsm.Check2FA) {
		return
	}
	h.tap("yes")
	if at(fsm.CheckReception) {
		return
	}
	h.tap("yes")
	if at(fsm.CheckDisplayName) {
		return
	}
	h.tap("yes")
	if at(fsm.AskPhone) {
		return
	}
	h.send(h.opts.typed)
	h.wantState(fsm.AskPhone)
	h.send(metasim.SandboxSourceWABA)
	switch target {
	case fsm.AwaitWABA, fsm.Failed:
		h.wantState(target)
		return
	}
	if at(fsm.ChooseMethod) {
		return
	}
	h.tap("sms")
	if at(fsm.AwaitCode) {
		return
	}
	h.send(otp)
	if at(fsm.AskPin) {
		return
	}
	h.send(pin)
	h.send(pin)
	if at(fsm.Done) {
		return
	}
	h.t.Fatalf("driveTo(%s): not a state a conversation rests in", target)
}

// reach returns a conversation standing at target, in lang.
func reach(t *testing.T, target fsm.State, lang bot.Lang) *harness {
	t.Helper()
	h := newHarness(t, optionsFor(target, lang))
	h.driveTo(target)
	return h
}
