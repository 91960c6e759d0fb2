package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/adapters/metrics"
	slackapp "portabot/adapters/slack"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/faq"
	"portabot/storage"
)

// parallelSends is how many clients the dispatcher sends to at once: each
// send waits on Meta, and waits overlap freely.
const parallelSends = 32

// defaultOutboxRetention keeps a sent reply a day: Meta reports a reply
// delivered within seconds when the phone is on, and read when the client
// opens the chat, which is mostly the same day.
const defaultOutboxRetention = 24 * time.Hour

// pruneBatch caps the replies one pruning transaction deletes.
const pruneBatch = 1000

// sandboxPhoneNumberID is the bot's own number id in sandbox mode.
const sandboxPhoneNumberID = "109876543210"

// serveConfig is serve's configuration, read once from the environment.
type serveConfig struct {
	Addr          string
	DB            string
	GraphURL      string
	GraphVersion  string
	Token         string
	AppSecret     string
	VerifyToken   string
	PhoneNumberID string
	DestWABA      string
	// Template is the approved template that re-opens a conversation
	// after 24 hours (PORTABOT_TEMPLATE_UPDATE).
	Template   string
	DBKey      string
	Region     string
	SandboxOTP string
	Workers    int
	LogLevel   slog.Level
	// Sandbox is set when no Meta token was configured: Meta is simulated.
	Sandbox bool
	Slack   slackapp.Config
	// SlackRetry (PORTABOT_SLACK_RETRY) is the wait before a notice Slack
	// refused is posted again; it doubles per attempt, up to 5 minutes.
	SlackRetry time.Duration
	// SendGrace (PORTABOT_SEND_GRACE) is how long a reply whose send got no
	// answer waits for Meta's status before it is sent again.
	SendGrace time.Duration
	// OutboxRetention (PORTABOT_OUTBOX_RETENTION) is how long a reply Meta
	// accepted stays in the outbox, for the statuses Meta reports on it
	// later; zero keeps every reply for ever.
	OutboxRetention time.Duration
	// PprofAddr (PORTABOT_PPROF_ADDR), when set, is a separate listen
	// address for Go's profiler (/debug/pprof/); empty, the default, serves
	// no profiles at all.
	PprofAddr string
}

// slackOn reports whether agents use Slack: a signing secret (HTTP) or an
// app token (Socket Mode) turns it on.
func (c serveConfig) slackOn() bool { return c.Slack.SigningSecret != "" || c.Slack.AppToken != "" }

func loadServeConfig(getenv func(string) string) (serveConfig, error) {
	c := serveConfig{
		Addr:          getenv("PORTABOT_ADDR"),
		DB:            dbPath(getenv),
		GraphURL:      getenv("PORTABOT_GRAPH_URL"),
		GraphVersion:  getenv("PORTABOT_GRAPH_VERSION"),
		Token:         getenv("PORTABOT_META_ACCESS_TOKEN"),
		AppSecret:     getenv("PORTABOT_META_APP_SECRET"),
		VerifyToken:   getenv("PORTABOT_META_VERIFY_TOKEN"),
		PhoneNumberID: getenv("PORTABOT_WA_PHONE_NUMBER_ID"),
		DestWABA:      getenv("PORTABOT_DEST_WABA_ID"),
		Template:      getenv("PORTABOT_TEMPLATE_UPDATE"),
		DBKey:         getenv("PORTABOT_DB_KEY"),
		Region:        getenv("PORTABOT_DEFAULT_REGION"),
		SandboxOTP:    getenv("PORTABOT_SANDBOX_OTP"),
		PprofAddr:     getenv("PORTABOT_PPROF_ADDR"),
		Workers:       32,
	}
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.GraphVersion == "" {
		c.GraphVersion = graph.DefaultVersion
	}
	if w := getenv("PORTABOT_WORKERS"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 || n > 256 {
			return c, fmt.Errorf("PORTABOT_WORKERS must be a number from 1 to 256, not %q", w)
		}
		c.Workers = n
	}
	c.Slack = slackapp.Config{
		SigningSecret: getenv("PORTABOT_SLACK_SIGNING_SECRET"),
		BotToken:      getenv("PORTABOT_SLACK_BOT_TOKEN"),
		Channel:       getenv("PORTABOT_SLACK_CHANNEL"),
		TeamID:        getenv("PORTABOT_SLACK_TEAM_ID"),
		AppToken:      getenv("PORTABOT_SLACK_APP_TOKEN"),
		APIURL:        getenv("PORTABOT_SLACK_API_URL"),
	}
	c.SlackRetry = 2 * time.Second
	if v := getenv("PORTABOT_SLACK_RETRY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond || d > 5*time.Minute {
			return c, fmt.Errorf("PORTABOT_SLACK_RETRY must be a duration from 1ms to 5m, such as 2s, not %q", v)
		}
		c.SlackRetry = d
	}
	c.SendGrace = bot.DefaultGrace
	if v := getenv("PORTABOT_SEND_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 24*time.Hour {
			return c, fmt.Errorf("PORTABOT_SEND_GRACE must be a duration from 0 to 24h, such as 2m, not %q", v)
		}
		c.SendGrace = d
	}
	c.OutboxRetention = defaultOutboxRetention
	if v := getenv("PORTABOT_OUTBOX_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || (d > 0 && d < time.Minute) || d > 366*24*time.Hour {
			return c, fmt.Errorf("PORTABOT_OUTBOX_RETENTION must be 0 (keep every reply) or a duration from 1m to 8784h, such as 24h, not %q", v)
		}
		c.OutboxRetention = d
	}
	for _, a := range strings.Split(getenv("PORTABOT_SLACK_AGENTS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Slack.Agents = append(c.Slack.Agents, a)
		}
	}
	if c.slackOn() {
		var missing []string
		if c.Slack.TeamID == "" {
			missing = append(missing, "PORTABOT_SLACK_TEAM_ID")
		}
		if c.Slack.BotToken == "" {
			missing = append(missing, "PORTABOT_SLACK_BOT_TOKEN")
		}
		if c.Slack.Channel == "" {
			missing = append(missing, "PORTABOT_SLACK_CHANNEL")
		}
		if len(missing) > 0 {
			return c, fmt.Errorf("PORTABOT_SLACK_SIGNING_SECRET or PORTABOT_SLACK_APP_TOKEN is set, so Slack also needs %v", missing)
		}
	}
	level, err := logLevel(getenv, slog.LevelInfo)
	if err != nil {
		return c, err
	}
	c.LogLevel = level
	c.Sandbox = c.Token == ""
	if c.sandbox() {
		return c, nil
	}
	var missing []string
	for name, v := range map[string]string{
		"PORTABOT_META_APP_SECRET":    c.AppSecret,
		"PORTABOT_META_VERIFY_TOKEN":  c.VerifyToken,
		"PORTABOT_WA_PHONE_NUMBER_ID": c.PhoneNumberID,
		"PORTABOT_DB_KEY":             c.DBKey,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("PORTABOT_META_ACCESS_TOKEN is set, so serve talks to Meta and also needs %v", missing)
	}
	return c, nil
}

// sandbox reports whether serve runs against the in-process simulator.
func (c serveConfig) sandbox() bool { return c.Sandbox }

// sandboxLog keeps what the simulated Meta delivered (codes) and sent
// (the bot's replies), for `portabot chat --server`.
type sandboxLog struct {
	mu     sync.Mutex
	codes  []sandboxCode
	sim    *metasim.Sim
	simURL string
	stopFn func()
}

type sandboxCode struct {
	To     string `json:"to"`
	Method string `json:"method"`
	Code   string `json:"code"`
}

func (l *sandboxLog) deliver(phone, method, code string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.codes = append(l.codes, sandboxCode{To: phone, Method: method, Code: code})
}

// ServeHTTP answers GET /sandbox/messages: everything the simulator has
// delivered, so a terminal client can show it.
func (l *sandboxLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	codes := append([]sandboxCode(nil), l.codes...)
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Codes    []sandboxCode     `json:"codes"`
		Messages []metasim.Message `json:"messages"`
	}{codes, l.sim.Sent()})
}

// sink feeds what the webhook receives to the store and the engine.
type sink struct {
	sim        *metasim.Sim // sandbox only: the simulated Meta hears what clients write
	store      serveStore
	bot        *bot.Bot
	runner     *bot.Runner
	dispatcher *bot.Dispatcher
}

func (s sink) Enqueue(ctx context.Context, msgs []bot.Inbound) (int, error) {
	s.runner.Arriving(time.Now())
	n, err := s.store.Enqueue(ctx, msgs)
	if err == nil && s.sim != nil {
		// The simulated Meta saw the client write: their window opens.
		for _, m := range msgs {
			s.sim.ClientWrote(m.At, m.From, m.UserID)
		}
	}
	return n, err
}

func (s sink) OutboundStatus(ctx context.Context, r bot.Receipt) error {
	if err := s.store.OutboundStatus(ctx, r); err != nil {
		return err
	}
	if r.Status == "failed" && strings.HasPrefix(r.Detail, "131047") && r.Recipient != "" {
		// Meta took the reply and dropped it: the client's window had
		// closed by its clock (Meta: support/error-codes).
		if err := s.bot.WindowClosed(ctx, r.Recipient); err != nil && !errors.Is(err, bot.ErrNotFound) {
			return err
		}
	}
	if r.Ref != "" {
		// The status may have settled a reply in doubt, and the client's
		// next reply, which waited behind it, is due now.
		s.dispatcher.Notify()
	}
	return nil
}

func (s sink) Security(ctx context.Context, phone, event string) error {
	return s.bot.Recheck(ctx, phone)
}

func (s sink) MetaError(ctx context.Context, client, text string) error {
	return s.bot.Flag(ctx, client, text)
}

func (s sink) Notify() { s.runner.Notify() }

func runServe(ctx context.Context, env environment, args []string) error {
	fs := newFlags("serve", env.stderr)
	addr := fs.String("addr", "", "listen address (PORTABOT_ADDR)")
	db := fs.String("db", "", "bbolt file (PORTABOT_DB)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadServeConfig(env.getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if *db != "" {
		cfg.DB = *db
	}
	log := slog.New(slog.NewJSONHandler(env.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	start := time.Now()

	var sandbox *sandboxLog
	if cfg.sandbox() {
		if sandbox, err = startSandbox(&cfg, log); err != nil {
			return err
		}
	}
	key, err := storeKey(cfg)
	if err != nil {
		return err
	}
	st, err := openServeStore(ctx, cfg.DB, key)
	if err != nil {
		return err
	}
	defer st.Close()

	mx := metrics.New(st, metrics.Options{Logger: log, Intents: faq.Intents()})
	// One pool of connections to Meta, wide enough for every parallel send:
	// Go's default keeps two idle connections per host, and a busy sender
	// would otherwise open a new one for almost every message.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 4 * parallelSends
	transport.MaxIdleConnsPerHost = 2 * parallelSends
	meta := &http.Client{Transport: transport}
	gc := graph.New(graph.Config{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, Token: cfg.Token, Logger: log,
		Observe: mx.GraphCall, HTTPClient: meta})
	sender := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion,
		Token: cfg.Token, PhoneNumberID: cfg.PhoneNumberID, Timeout: 20 * time.Second, Logger: log,
		Observe: mx.GraphCall, HTTPClient: meta})
	answers := faq.Default()
	b := bot.New(st, gc, answers, bot.Config{DestWABA: cfg.DestWABA, Region: cfg.Region, Outbox: true,
		Notify: cfg.slackOn(), OnAnswer: mx.Answer, Template: cfg.Template}, log)
	runner := bot.NewRunner(b, st, cfg.Workers)
	runner.OnTurn = mx.Turn
	dispatcher := bot.NewDispatcher(b, st, sender)
	dispatcher.Parallel = parallelSends
	dispatcher.Grace = cfg.SendGrace
	dispatcher.OnSend = mx.Send
	var slack *slackapp.App
	var notices *bot.NoticeDispatcher
	if cfg.slackOn() {
		slack = slackapp.New(cfg.Slack, slackapp.Deps{Cases: st, Handoff: b, Steps: b, Answers: answers}, log)
		notices = bot.NewNoticeDispatcher(b, st, slack)
		notices.Backoff = cfg.SlackRetry
		notices.OnNotify = mx.Notify
	}
	runner.OnProcessed = func() {
		dispatcher.Notify()
		if notices != nil {
			notices.Notify()
		}
	}

	mux := http.NewServeMux()
	hook := whatsapp.NewWebhook(whatsapp.WebhookConfig{AppSecret: cfg.AppSecret, VerifyToken: cfg.VerifyToken,
		PhoneNumberID: cfg.PhoneNumberID, Observe: mx.Webhook},
		sink{sim: sandbox.simulator(), store: st, bot: b, runner: runner, dispatcher: dispatcher}, log)
	mux.Handle("GET /webhooks/whatsapp", hook)
	mux.Handle("POST /webhooks/whatsapp", hook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		if _, err := st.InboxDepth(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		if !runner.Alive(now) || !dispatcher.Alive(now) {
			http.Error(w, "runner or sender stalled", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", mx.Handler())
	if sandbox != nil {
		mux.Handle("GET /sandbox/messages", sandbox)
	}
	if slack != nil && cfg.Slack.SigningSecret != "" {
		mux.Handle("POST /slack/commands", slack.Commands())
		mux.Handle("POST /slack/interactions", slack.Interactions())
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.PprofAddr != "" {
		stopProfiler, err := startProfiler(cfg.PprofAddr, log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopProfiler()
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}

	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	wg.Go(func() { runner.Run(work) })
	wg.Go(func() { dispatcher.Run(work) })
	wg.Go(func() { listenForWork(work, st, runner, dispatcher, notices) })
	if cfg.OutboxRetention > 0 {
		wg.Go(func() { pruneOutbox(work, st, cfg.OutboxRetention, log) })
	}
	if notices != nil {
		wg.Go(func() { notices.Run(work) })
	}
	if slack != nil && cfg.Slack.AppToken != "" {
		wg.Go(func() {
			if err := slack.RunSocketMode(work); err != nil {
				log.Error("slack socket mode stopped", "error", err)
			}
		})
	}
	// Steps a stopped process left in flight are settled before new work;
	// their replies go out through the outbox like any other.
	if _, err := b.Recover(ctx); err != nil {
		log.Error("recover interrupted steps", "error", err)
	}
	dispatcher.Notify()
	runner.Notify()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("portabot serving", "addr", ln.Addr().String(), "sandbox", cfg.sandbox(), "version", buildVersion(),
		"startup", time.Since(start).String())
	if env.listening != nil {
		env.listening(ln.Addr().String())
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		stopWork()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down: no new webhooks, finishing work in progress")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("http shutdown", "error", err)
	}
	stopWork()
	wg.Wait()
	if slack != nil {
		slack.Wait()
	}
	if sandbox != nil {
		sandbox.stop()
	}
	return nil
}

// approvedTemplates is what the sandbox's Meta has approved: the update
// template in every language, as `portabot templates` defines it.
func approvedTemplates(name string) map[string]metasim.Template {
	out := map[string]metasim.Template{}
	for _, d := range bot.UpdateTemplates(name) {
		t := out[d.Name]
		t.Langs = append(t.Langs, d.Language)
		t.Params = strings.Count(d.Components[0].Text, "{{")
		out[d.Name] = t
	}
	return out
}

// simulator is the sandbox's simulated Meta; nil outside sandbox mode.
func (l *sandboxLog) simulator() *metasim.Sim {
	if l == nil {
		return nil
	}
	return l.sim
}

// startSandbox starts the simulator on a loopback port and points cfg at
// it, generating the secrets a real deployment would configure.
func startSandbox(cfg *serveConfig, log *slog.Logger) (*sandboxLog, error) {
	cfg.Token = randomHex(16)
	if cfg.AppSecret == "" {
		cfg.AppSecret = randomHex(16)
	}
	if cfg.VerifyToken == "" {
		cfg.VerifyToken = randomHex(8)
	}
	if cfg.PhoneNumberID == "" {
		cfg.PhoneNumberID = sandboxPhoneNumberID
	}
	if cfg.DestWABA == "" {
		cfg.DestWABA = metasim.SandboxWABA
	}
	l := &sandboxLog{}
	sim, err := metasim.New(metasim.Options{Token: cfg.Token, OTP: cfg.SandboxOTP, Deliver: l.deliver,
		StatePath: simStatePath(cfg.DB), Logger: log, Templates: approvedTemplates(cfg.Template)})
	if err != nil {
		return nil, err
	}
	l.sim = sim
	base, stop, err := listenLocal(sim)
	if err != nil {
		return nil, err
	}
	l.simURL = base
	l.stopFn = stop
	cfg.GraphURL = base
	// These are sandbox values, made up for this run: logging them is what
	// lets a person sign webhooks by hand.
	log.Warn("sandbox mode: no PORTABOT_META_ACCESS_TOKEN, Meta is simulated",
		"app_secret", cfg.AppSecret, "verify_token", cfg.VerifyToken, "phone_number_id", cfg.PhoneNumberID,
		"dest_waba", cfg.DestWABA)
	return l, nil
}

func (l *sandboxLog) stop() {
	if l.stopFn != nil {
		l.stopFn()
	}
}

// dbKey returns the key that seals stored client text: PORTABOT_DB_KEY, or
// in sandbox mode one generated and kept beside the database.
func dbKey(cfg serveConfig) ([]byte, error) {
	if cfg.DBKey != "" {
		k, err := storage.ParseKey(cfg.DBKey)
		if err != nil {
			return nil, fmt.Errorf("PORTABOT_DB_KEY: %w", err)
		}
		return k, nil
	}
	if !cfg.sandbox() {
		return nil, errors.New("PORTABOT_DB_KEY is required outside sandbox mode")
	}
	return storage.LoadOrCreateKey(cfg.DB + ".key")
}

// startProfiler serves Go's profiles (/debug/pprof/) on addr, apart from the
// webhook listener: the profiles show code paths and memory, so they are
// never on the public port, and never on unless PORTABOT_PPROF_ADDR asks.
func startProfiler(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PORTABOT_PPROF_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Warn("profiler listening: do not expose it", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// pruneOutbox deletes the replies Meta accepted longer ago than retention,
// at start and then every retention/8 (between a minute and an hour), in
// transactions of at most pruneBatch rows, until ctx ends.
func pruneOutbox(ctx context.Context, st outboxPruner, retention time.Duration, log *slog.Logger) {
	every := min(max(retention/8, time.Minute), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		total := 0
		for ctx.Err() == nil {
			n, err := st.PruneOutbox(ctx, time.Now().Add(-retention), pruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("prune outbox", "error", err)
				}
				break
			}
			total += n
			if n < pruneBatch {
				break
			}
		}
		if total > 0 {
			log.Info("outbox pruned", "replies", total, "sent_before", time.Now().Add(-retention).UTC().Format(time.RFC3339))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
