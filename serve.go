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

	"golang.org/x/net/netutil"

	"portabot/adapters/graph"
	"portabot/adapters/metasim"
	"portabot/adapters/metrics"
	slackapp "portabot/adapters/slack"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/faq"
	"portabot/storage"
	"portabot/storage/postgres"
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
	// Sandbox is set by PORTABOT_SANDBOX=1 or --sandbox: Meta is simulated.
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
	// Retention (PORTABOT_RETENTION) is how long after a case closes its
	// client's numbers and words are kept (see expire.go); zero keeps them
	// for ever.
	Retention time.Duration
	// LeaseTTL (PORTABOT_LEASE_TTL) is, on PostgreSQL, how long a dead
	// replica's work stays held before another replica takes it over.
	LeaseTTL time.Duration
	// PprofAddr (PORTABOT_PPROF_ADDR), when set, is a separate listen
	// address for Go's profiler (/debug/pprof/); empty, the default, serves
	// no profiles at all.
	PprofAddr string
	// MinFree (PORTABOT_MIN_FREE) is the free disk, in bytes, below which
	// /readyz says not ready; 0 turns the check off.
	MinFree uint64
}

// slackOn reports whether agents use Slack: a signing secret (HTTP) or an
// app token (Socket Mode) turns it on.
func (c serveConfig) slackOn() bool { return c.Slack.SigningSecret != "" || c.Slack.AppToken != "" }

// configError lists every problem found in serve's configuration, so an
// operator fixes them in one go instead of one start-up at a time.
type configError struct{ problems []string }

func (e *configError) Error() string {
	if len(e.problems) == 1 {
		return "configuration: " + e.problems[0]
	}
	return "configuration has " + strconv.Itoa(len(e.problems)) + " problems:\n  - " + strings.Join(e.problems, "\n  - ")
}

// productionRequired are the variables serve needs to talk to Meta; sandbox
// mode makes them up.
var productionRequired = []string{
	"PORTABOT_META_ACCESS_TOKEN", "PORTABOT_META_APP_SECRET", "PORTABOT_META_VERIFY_TOKEN",
	"PORTABOT_WA_PHONE_NUMBER_ID", "PORTABOT_DB_KEY",
}

// loadServeConfig reads serve's configuration. Its error, a *configError,
// names every problem at once. Sandbox mode is entered only when
// PORTABOT_SANDBOX=1 asks for it: a production setup missing its token
// must not quietly run against the simulator.
func loadServeConfig(getenv func(string) string) (serveConfig, error) {
	var problems []string
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
		MinFree:       defaultMinFree,
	}
	switch v := getenv("PORTABOT_SANDBOX"); v {
	case "", "0":
	case "1":
		c.Sandbox = true
	default:
		problems = append(problems, fmt.Sprintf("PORTABOT_SANDBOX must be 1 (simulate Meta) or unset, not %q", v))
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
			problems = append(problems, fmt.Sprintf("PORTABOT_WORKERS must be a number from 1 to 256, not %q", w))
		} else {
			c.Workers = n
		}
	}
	if v := getenv("PORTABOT_MIN_FREE"); v != "" {
		n, err := parseBytes(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("PORTABOT_MIN_FREE must be a size such as 256MiB or 2GiB (0 turns the check off), not %q", v))
		} else {
			c.MinFree = n
		}
	}
	c.Slack = slackapp.Config{
		SigningSecret: getenv("PORTABOT_SLACK_SIGNING_SECRET"),
		BotToken:      getenv("PORTABOT_SLACK_BOT_TOKEN"),
		Channel:       getenv("PORTABOT_SLACK_CHANNEL"),
		TeamID:        getenv("PORTABOT_SLACK_TEAM_ID"),
		AppToken:      getenv("PORTABOT_SLACK_APP_TOKEN"),
		APIURL:        getenv("PORTABOT_SLACK_API_URL"),
	}
	durations := []struct {
		dst      *time.Duration
		name     string
		def      time.Duration
		lo, hi   time.Duration
		zeroOK   bool
		accepted string
	}{
		{&c.SlackRetry, "PORTABOT_SLACK_RETRY", 2 * time.Second, time.Millisecond, 5 * time.Minute, false, "a duration from 1ms to 5m, such as 2s"},
		{&c.SendGrace, "PORTABOT_SEND_GRACE", delivery.DefaultGrace, 0, 24 * time.Hour, true, "a duration from 0 to 24h, such as 2m"},
		{&c.OutboxRetention, "PORTABOT_OUTBOX_RETENTION", defaultOutboxRetention, time.Minute, 366 * 24 * time.Hour, true,
			"0 (keep every reply) or a duration from 1m to 8784h, such as 24h"},
		{&c.Retention, "PORTABOT_RETENTION", defaultRetention, 24 * time.Hour, maxRetention, true,
			"0 (keep closed cases for ever) or a duration from 24h to 87840h, such as 4320h (180 days)"},
		{&c.LeaseTTL, "PORTABOT_LEASE_TTL", postgres.DefaultLeaseTTL, time.Second, time.Hour, false, "a duration from 1s to 1h, such as 30s"},
	}
	for _, d := range durations {
		v, err := envDuration(getenv, d.name, d.def, d.lo, d.hi, d.zeroOK, d.accepted)
		if err != nil {
			problems = append(problems, err.Error())
		}
		*d.dst = v
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
			problems = append(problems, fmt.Sprintf("PORTABOT_SLACK_SIGNING_SECRET or PORTABOT_SLACK_APP_TOKEN is set, so Slack also needs %s; set them or unset both to run without Slack", strings.Join(missing, ", ")))
		}
	}
	level, err := logLevel(getenv, slog.LevelInfo)
	if err != nil {
		problems = append(problems, err.Error())
	}
	c.LogLevel = level
	if c.DBKey != "" {
		// The error never repeats the key: it is a secret.
		if _, err := storage.ParseKey(c.DBKey); err != nil {
			problems = append(problems, "PORTABOT_DB_KEY: "+err.Error())
		}
	}
	if !c.Sandbox {
		var missing []string
		for _, name := range productionRequired {
			if getenv(name) == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("serve talks to Meta unless PORTABOT_SANDBOX=1 (or --sandbox) asks for the simulator, and then needs %s; set them, or ask for sandbox mode to try portabot without Meta", strings.Join(missing, ", ")))
		}
	}
	if len(problems) > 0 {
		return c, &configError{problems: problems}
	}
	return c, nil
}

// envDuration reads the duration variable name: def when unset, and
// otherwise a value from lo to hi (or 0 when zeroOK); accepted says what is,
// in the error.
func envDuration(getenv func(string) string, name string, def, lo, hi time.Duration, zeroOK bool, accepted string) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if v == "0" {
		d, err = 0, nil
	}
	if err != nil || (d == 0 && !zeroOK) || (d != 0 && (d < lo || d > hi)) || d < 0 {
		return def, fmt.Errorf("%s must be %s, not %q", name, accepted, v)
	}
	return d, nil
}

// defaultMinFree is PORTABOT_MIN_FREE's default: enough room for the store
// to grow while an operator reacts to /readyz turning red.
const defaultMinFree = 256 << 20

// parseBytes reads a size such as 256MiB, 2GiB, 1GB or 1048576.
func parseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := uint64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (n > 0 && n*mult/mult != n) {
		return 0, fmt.Errorf("not a size: %q", s)
	}
	return n * mult, nil
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
	runner     *delivery.Runner
	dispatcher *delivery.Dispatcher
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

func (s sink) MetaError(ctx context.Context, client, text string) error {
	return s.bot.Flag(ctx, client, text)
}

func (s sink) Notify() { s.runner.Notify() }

func runServe(ctx context.Context, env environment, args []string) error {
	s := &server{env: env}
	if err := s.open(ctx, args); err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx)
}

// server is one run of `portabot serve`. open acquires what it serves with
// (the configuration, the simulated Meta in sandbox mode, the store, Slack,
// the listeners), run serves until its context ends or serving fails, and
// close releases whatever open acquired, newest first: each acquisition
// registers its release as it succeeds, so a step that fails leaks nothing
// acquired before it.
type server struct {
	env        environment
	cfg        serveConfig
	log        *slog.Logger
	start      time.Time
	sandbox    *sandboxLog
	st         serveStore
	b          *bot.Bot
	runner     *delivery.Runner
	dispatcher *delivery.Dispatcher
	notices    *delivery.NoticeDispatcher
	slack      *slackapp.App
	srv        *http.Server
	ln         net.Listener
	mx         *metrics.Metrics
	closers    []func()
}

// onClose registers f to run on close, before what was registered earlier.
func (s *server) onClose(f func()) { s.closers = append(s.closers, f) }

// close releases what open acquired, newest first.
func (s *server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// open reads the configuration and acquires everything serve runs with;
// when it fails, what it had acquired is released.
func (s *server) open(ctx context.Context, args []string) (err error) {
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	env := s.env
	fs := newFlags("serve", env.stderr)
	addr := fs.String("addr", "", "listen address (PORTABOT_ADDR)")
	db := fs.String("db", "", "bbolt file (PORTABOT_DB)")
	sandboxFlag := fs.Bool("sandbox", false, "simulate Meta in-process, with generated secrets (PORTABOT_SANDBOX=1)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadServeConfig(withSandboxFlag(env.getenv, *sandboxFlag))
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
	s.log, s.start = log, start

	var sandbox *sandboxLog
	if cfg.sandbox() {
		if sandbox, err = startSandbox(&cfg, log); err != nil {
			return err
		}
		s.sandbox = sandbox
		s.onClose(sandbox.stop)
	}
	ob, err := loadOnboarding(env.getenv, &cfg, sandbox)
	if err != nil {
		return err
	}
	key, err := storeKey(cfg)
	if err != nil {
		return err
	}
	st, err := openServeStore(ctx, cfg.DB, key, cfg.LeaseTTL)
	if err != nil {
		return err
	}
	s.st = st
	s.onClose(func() { st.Close() })
	if st.Created() {
		log.Warn("first start: created the store files", "db", cfg.DB, "inbox", storage.InboxPath(cfg.DB))
	}

	// The admin socket (backup, export) lives as long as serve, and stops
	// before the store closes.
	s.onClose(startAdmin(cfg.DB, st, log))
	mx := metrics.New(st, metrics.Options{Logger: log, Intents: faq.Intents()})
	// One pool of connections to Meta, wide enough for every parallel send:
	// Go's default keeps two idle connections per host, and a busy sender
	// would otherwise open a new one for almost every message.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = 4 * parallelSends
	transport.MaxIdleConnsPerHost = 2 * parallelSends
	meta := &http.Client{Transport: transport}
	// With our app id the pre-flight tells our subscription to a WABA from
	// another app's: only ours brings its webhooks to us.
	gc := graph.New(graph.Config{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion, Token: cfg.Token, Logger: log,
		Observe: mx.GraphCall, HTTPClient: meta, AppID: ob.AppID})
	sender := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: cfg.GraphURL, Version: cfg.GraphVersion,
		Token: cfg.Token, PhoneNumberID: cfg.PhoneNumberID, Timeout: 20 * time.Second, Logger: log,
		Observe: mx.GraphCall, HTTPClient: meta})
	answers := faq.Default()
	b := bot.New(st, gc, answers, bot.Config{DestWABA: cfg.DestWABA, Region: cfg.Region, Outbox: true,
		Notify: cfg.slackOn(), NoAgents: !cfg.slackOn(), OnAnswer: mx.Answer, Template: cfg.Template,
		Signup: ob.signup(gc, st)}, log)
	dcfg := delivery.DefaultDispatcherConfig()
	dcfg.Parallel = parallelSends
	dcfg.Grace = cfg.SendGrace
	dcfg.OnSend = mx.Send
	dispatcher := delivery.NewDispatcher(b, st, sender, dcfg)
	var slack *slackapp.App
	var notices *delivery.NoticeDispatcher
	if cfg.slackOn() {
		eraser, _ := st.(bot.Eraser)
		slack = slackapp.New(cfg.Slack, slackapp.Deps{Cases: st, Handoff: b, Steps: b, Answers: answers, Triggers: st, Eraser: eraser,
			AuditRefusal: func(ctx context.Context, caseID, user, action string) {
				if err := st.AuditRefusal(ctx, caseID, user, action); err != nil && !errors.Is(err, bot.ErrNotFound) {
					log.Error("audit a refused slack action", "case", caseID, "error", err)
				}
			}}, log)
		ncfg := delivery.DefaultNoticeConfig()
		ncfg.Backoff = cfg.SlackRetry
		ncfg.OnNotify = mx.Notify
		notices = delivery.NewNoticeDispatcher(b, st, slack, ncfg)
		// After the HTTP server stops taking actions, the ones acknowledged
		// finish and report to Slack, before the store closes under them.
		s.onClose(slack.Wait)
	}
	processed := func() {
		dispatcher.Notify()
		if notices != nil {
			notices.Notify()
		}
	}
	rcfg := delivery.DefaultRunnerConfig()
	rcfg.Workers = cfg.Workers
	rcfg.OnTurn = mx.Turn
	rcfg.OnProcessed = processed
	runner := delivery.NewRunner(b, st, rcfg)

	mux := http.NewServeMux()
	hook := whatsapp.NewWebhook(whatsapp.WebhookConfig{AppSecret: cfg.AppSecret, VerifyToken: cfg.VerifyToken,
		PhoneNumberID: cfg.PhoneNumberID, MaxBody: maxRequestBody, Observe: mx.Webhook},
		sink{sim: sandbox.simulator(), store: st, bot: b, runner: runner, dispatcher: dispatcher}, log)
	budget := &bodyBudget{max: inFlightBodyBudget}
	mux.Handle("GET /webhooks/whatsapp", hook)
	mux.Handle("POST /webhooks/whatsapp", limitBodies(budget, maxRequestBody, hook))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		if _, err := st.InboxDepth(r.Context()); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := st.Health(r.Context()); err != nil {
			log.Error("not ready", "error", err)
			http.Error(w, "store cannot take writes", http.StatusServiceUnavailable)
			return
		}
		if free, err := freeDisk(cfg.DB); err == nil && free < cfg.MinFree {
			log.Error("not ready: free disk under PORTABOT_MIN_FREE; free some space or grow the volume",
				"free_bytes", free, "min_free_bytes", cfg.MinFree)
			http.Error(w, "disk nearly full", http.StatusServiceUnavailable)
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
	if err := ob.register(mux, b, processed, log); err != nil {
		return err
	}
	if slack != nil && cfg.Slack.SigningSecret != "" {
		mux.Handle("POST /slack/commands", limitBodies(budget, maxRequestBody, slack.Commands()))
		mux.Handle("POST /slack/interactions", limitBodies(budget, maxRequestBody, slack.Interactions()))
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// Each connection costs a goroutine and buffers; beyond the limit new
	// ones wait in the kernel's backlog instead of in serve's memory.
	ln = netutil.LimitListener(ln, maxConnections)
	s.onClose(func() { ln.Close() })
	ob.listening(ln.Addr().String())
	if cfg.PprofAddr != "" {
		stopProfiler, err := startProfiler(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		s.onClose(stopProfiler)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	s.cfg, s.b, s.runner, s.dispatcher, s.notices, s.slack, s.srv, s.ln = cfg, b, runner, dispatcher, notices, slack, srv, ln
	s.mx = mx
	return nil
}

// run serves until ctx ends, then lets the work in progress finish; it
// returns early, with the error, when serving fails.
func (s *server) run(ctx context.Context) error {
	env, cfg, log, start, st, b := s.env, s.cfg, s.log, s.start, s.st, s.b
	runner, dispatcher, notices, slack, srv, ln := s.runner, s.dispatcher, s.notices, s.slack, s.srv, s.ln
	mx := s.mx
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() {
		stopWork()
		wg.Wait()
	}()
	wg.Go(func() { runner.Run(work) })
	wg.Go(func() { dispatcher.Run(work) })
	wg.Go(func() { listenForWork(work, st, runner, dispatcher, notices) })
	if cfg.OutboxRetention > 0 {
		wg.Go(func() { pruneOutbox(work, st, cfg.OutboxRetention, log) })
	}
	if er, ok := st.(bot.Eraser); ok {
		wg.Go(func() { pruneRetention(work, er, cfg.Retention, mx.Retention, log) })
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
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("shutting down: no new webhooks, finishing work in progress")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("http shutdown", "error", err)
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

// withSandboxFlag is getenv with PORTABOT_SANDBOX=1 when --sandbox was
// given, so that the flag and the variable are one setting.
func withSandboxFlag(getenv func(string) string, on bool) func(string) string {
	if !on {
		return getenv
	}
	return func(k string) string {
		if k == "PORTABOT_SANDBOX" {
			return "1"
		}
		return getenv(k)
	}
}

// startSandbox starts the simulator on a loopback port and points cfg at
// it, generating the secrets a real deployment would configure.
func startSandbox(cfg *serveConfig, log *slog.Logger) (*sandboxLog, error) {
	cfg.Token = randomHex(16)
	// Only the values made up here are logged, so that a person can sign
	// webhooks by hand; one the operator configured is a secret like any
	// other, sandbox or not.
	var generated []any
	if cfg.AppSecret == "" {
		cfg.AppSecret = randomHex(16)
		generated = append(generated, "sandbox_app_secret", cfg.AppSecret)
	}
	if cfg.VerifyToken == "" {
		cfg.VerifyToken = randomHex(8)
		generated = append(generated, "sandbox_verify_token", cfg.VerifyToken)
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
	log.Warn("sandbox mode (PORTABOT_SANDBOX=1): Meta is simulated; never point real clients here",
		append(generated, "phone_number_id", cfg.PhoneNumberID, "dest_waba", cfg.DestWABA)...)
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
			n, err := pruneOnce(ctx, st, time.Now().Add(-retention), log)
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
