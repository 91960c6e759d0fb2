// Package metrics exposes portabot's counters to Prometheus on GET /metrics.
//
// Components do not know Prometheus: the webhook, the Graph client, the
// sender, the runner and the dispatchers each offer an optional hook, and
// main wires the methods of a Metrics into them. What the store already
// counts (inbox depth, outbox and notice rows, cases by state, commits) is
// read at scrape time through the Stats interface, so it is right after a
// restart and costs nothing between scrapes.
//
// Every metric lives in a private registry rather than Prometheus's global
// one, so a process (or a test) can hold several without collisions, and
// nothing a library registers globally leaks into portabot's exposition.
// The names, types and labels are documented in the README's "Metrics"
// section; a test keeps the two in step.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"portabot/bot"
	"portabot/fsm"
)

// Stats is what the metrics read from the store at scrape time.
type Stats interface {
	// InboxDepth is how many messages wait to be processed.
	InboxDepth(ctx context.Context) (int, error)
	// OutboxStats counts the replies in each state.
	OutboxStats(ctx context.Context) (pending, sent, parked, failed int, err error)
	// NoticeStats counts the agents' notices in each state.
	NoticeStats(ctx context.Context) (pending, sent, failed int, err error)
	// WriteStats counts the store's commits and the writes they carried
	// since the process started.
	WriteStats() (commits, writes uint64)
	// CaseCounts counts the cases in each state, from the counts the store
	// keeps beside its state index (bot.CaseIndex): no case is read.
	CaseCounts(ctx context.Context) (map[fsm.State]int, error)
}

// Defaults for Options fields left zero.
const (
	// DefaultCasesTTL is how long a count of cases by state is reused.
	// Counting reads every case, and cases change at the pace of people,
	// so a few seconds' staleness costs nothing and keeps frequent
	// scrapes (or several Prometheus servers) off the database.
	DefaultCasesTTL = 5 * time.Second
	// DefaultStatsTimeout bounds the store reads of one scrape, below
	// Prometheus's default scrape timeout of 10 s.
	DefaultStatsTimeout = 5 * time.Second
)

// Options configures a Metrics.
type Options struct {
	// CasesTTL is how long the count of cases by state is reused;
	// DefaultCasesTTL when zero.
	CasesTTL time.Duration
	// StatsTimeout bounds the store reads of one scrape;
	// DefaultStatsTimeout when zero.
	StatsTimeout time.Duration
	// Logger receives store errors met during a scrape; nothing when nil.
	Logger *slog.Logger
	// Intents are the FAQ's intents, each a label value of the answers
	// counter beside bot.NotUnderstood; answers of any other intent are not
	// counted, so the series stay few.
	Intents []string
}

// Label values known in advance. Each combination is created at start, so
// every series is exported from the first scrape at 0: a rate over a
// counter that appears only when it first moves misses that first event,
// and an alert on a missing series cannot tell "none" from "broken".
var (
	// RefusalReasons are the reasons a webhook delivery is refused.
	RefusalReasons = []string{"signature", "too_large", "unreadable", "bad_json", "store_error"}
	// GraphEndpoints are the Graph calls portabot makes: the migration
	// endpoints of the Graph client, and the sender's messages and read
	// receipts.
	GraphEndpoints = []string{"phone_numbers", "list_phone_numbers", "request_code", "verify_code", "register",
		"migrate_message_templates", "phone_number", "messages", "read"}
	// GraphOutcomes are how a Graph call can end.
	GraphOutcomes = []string{"ok", "meta_error", "unavailable"}
	// SlackOutcomes are how an attempt to notify agents can end.
	SlackOutcomes = []string{"sent", "retry", "failed"}
)

// Metrics holds portabot's metrics and the registry that exports them. Its
// methods are the hooks components report through; all are safe for
// concurrent use and never block on I/O.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	webhooksReceived   prometheus.Counter
	webhooksRefused    *prometheus.CounterVec
	webhookMessages    prometheus.Counter
	webhookDuplicates  prometheus.Counter
	webhookMetaErrors  prometheus.Counter
	webhookIgnored     prometheus.Counter
	processing         prometheus.Histogram
	turns              *prometheus.CounterVec
	outboxSent         prometheus.Counter
	outboxRetries      prometheus.Counter
	outboxParked       prometheus.Counter
	outboxFailed       prometheus.Counter
	outboxUnflagged    prometheus.Counter
	graphCalls         *prometheus.CounterVec
	graphSeconds       *prometheus.HistogramVec
	slackNotifications *prometheus.CounterVec
	faqAnswers         *prometheus.CounterVec
	retention          *prometheus.CounterVec
	intents            map[string]bool
	store              *storeCollector // nil without Stats
}

// New returns the metrics of one portabot process, reading stats at scrape
// time. stats may be nil, and then only the counters are exported.
func New(stats Stats, opts Options) *Metrics {
	if opts.CasesTTL <= 0 {
		opts.CasesTTL = DefaultCasesTTL
	}
	if opts.StatsTimeout <= 0 {
		opts.StatsTimeout = DefaultStatsTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: opts.Logger}
	m.webhooksReceived = counter("portabot_webhooks_received_total",
		"Webhook deliveries from Meta accepted (answered 200).")
	m.webhooksRefused = counterVec("portabot_webhooks_refused_total",
		"Webhook deliveries refused, by reason.", "reason")
	m.webhookMessages = counter("portabot_webhook_messages_total",
		"Messages carried by accepted webhook deliveries, duplicates included.")
	m.webhookIgnored = counter("portabot_webhook_items_ignored_total",
		"Messages and statuses of accepted deliveries left out: no id or sender, an id too long to be Meta's, unreadable, or another business number's.")
	m.webhookMetaErrors = counter("portabot_webhook_meta_errors_total",
		"Errors Meta reported in webhook deliveries (value.errors, and a message's errors).")
	m.webhookDuplicates = counter("portabot_webhook_messages_duplicate_total",
		"Messages delivered again by Meta and already in the store.")
	m.processing = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "portabot_processing_seconds",
		Help: "Time the runner spent on one message's turn, Graph calls included.",
		// From a FAQ answer (about a millisecond) to a turn waiting on a
		// slow template copy (Meta cuts those off at about 30 s).
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	m.turns = counterVec("portabot_turns_total", "Turns the runner finished, by outcome.", "outcome")
	m.outboxSent = counter("portabot_outbox_sent_total", "Replies Meta accepted.")
	m.outboxRetries = counter("portabot_outbox_retries_total",
		"Reply deliveries that failed and will be tried again.")
	m.outboxParked = counter("portabot_outbox_parked_total",
		"Replies parked because the client's 24-hour window had closed.")
	m.outboxFailed = counter("portabot_outbox_failed_total", "Replies given up after their last attempt.")
	m.outboxUnflagged = counter("portabot_outbox_unflagged_total",
		"Replies given up whose case could not be flagged for agents, since the store refused the write.")
	m.graphCalls = counterVec("portabot_graph_calls_total", "Calls to Meta's Graph API, by endpoint and outcome.",
		"endpoint", "outcome")
	m.graphSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "portabot_graph_call_seconds",
		Help: "Duration of Graph API calls, retries included, by endpoint.",
		// Meta answers most calls in tens of milliseconds; the client's
		// timeout is 40 s.
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 40},
	}, []string{"endpoint"})
	m.slackNotifications = counterVec("portabot_slack_notifications_total",
		"Attempts to notify agents in Slack, by outcome.", "outcome")

	for _, r := range RefusalReasons {
		m.webhooksRefused.WithLabelValues(r)
	}
	for _, o := range []string{"ok", "error"} {
		m.turns.WithLabelValues(o)
	}
	for _, e := range GraphEndpoints {
		m.graphSeconds.WithLabelValues(e)
		for _, o := range GraphOutcomes {
			m.graphCalls.WithLabelValues(e, o)
		}
	}
	for _, o := range SlackOutcomes {
		m.slackNotifications.WithLabelValues(o)
	}
	m.retention = retentionCounter()
	m.faqAnswers = counterVec("portabot_faq_answers_total",
		"Answers given from the FAQ, by intent; intent none counts messages the bot did not understand.", "intent")
	m.intents = map[string]bool{bot.NotUnderstood: true}
	for _, in := range opts.Intents {
		m.intents[in] = true
	}
	for in := range m.intents {
		m.faqAnswers.WithLabelValues(in)
	}

	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		m.webhooksReceived, m.webhooksRefused, m.webhookMessages, m.webhookDuplicates, m.webhookMetaErrors, m.webhookIgnored,
		m.processing, m.turns,
		m.outboxSent, m.outboxRetries, m.outboxParked, m.outboxFailed, m.outboxUnflagged,
		m.graphCalls, m.graphSeconds, m.slackNotifications, m.faqAnswers, m.retention,
		newPanicCollector(),
	)
	if stats != nil {
		m.store = newStoreCollector(stats, opts, m.log)
		m.reg.MustRegister(m.store)
	}
	return m
}

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// Registry is the registry every metric is in, for tests and for adding
// collectors of one's own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's exposition formats. A store
// read that fails during a scrape is logged and its metrics left out; the
// rest are still served, because one slow bucket should not blind every
// dashboard.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// errorLog passes promhttp's complaints to slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) {
	l.log.Warn("metrics scrape", "error", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}

// Webhook counts a webhook event; it is the hook for
// whatsapp.WebhookConfig.Observe. Events: "received", "messages",
// "duplicates", and "refused_<reason>".
func (m *Metrics) Webhook(event string, n int) {
	if n <= 0 {
		return // a counter cannot go down, and 0 changes nothing
	}
	switch event {
	case "received":
		m.webhooksReceived.Add(float64(n))
	case "messages":
		m.webhookMessages.Add(float64(n))
	case "duplicates":
		m.webhookDuplicates.Add(float64(n))
	case "meta_errors":
		m.webhookMetaErrors.Add(float64(n))
	case "ignored":
		m.webhookIgnored.Add(float64(n))
	default:
		if reason, ok := strings.CutPrefix(event, "refused_"); ok {
			m.webhooksRefused.WithLabelValues(reason).Add(float64(n))
		}
	}
}

// GraphCall counts a call to Meta and records its duration; it is the hook
// for graph.Config.Observe and whatsapp.SenderConfig.Observe.
func (m *Metrics) GraphCall(endpoint, outcome string, d time.Duration) {
	m.graphCalls.WithLabelValues(endpoint, outcome).Inc()
	m.graphSeconds.WithLabelValues(endpoint).Observe(d.Seconds())
}

// Turn records one message's turn in the runner; it is the hook for
// delivery.RunnerConfig.OnTurn.
func (m *Metrics) Turn(d time.Duration, err error) {
	m.processing.Observe(d.Seconds())
	if err != nil {
		m.turns.WithLabelValues("error").Inc()
		return
	}
	m.turns.WithLabelValues("ok").Inc()
}

// Send counts what became of a reply's delivery attempt; it is the hook
// for delivery.DispatcherConfig.OnSend.
func (m *Metrics) Send(outcome string) {
	switch outcome {
	case "sent":
		m.outboxSent.Inc()
	case "retry":
		m.outboxRetries.Inc()
	case "parked":
		m.outboxParked.Inc()
	case "failed":
		m.outboxFailed.Inc()
	case "unflagged":
		m.outboxUnflagged.Inc()
	}
}

// Answer counts an answer from the FAQ, or a message not understood; it is
// the hook for bot.Config.OnAnswer.
func (m *Metrics) Answer(intent string) {
	if m.intents[intent] {
		m.faqAnswers.WithLabelValues(intent).Inc()
	}
}

// Notify counts what became of an attempt to notify agents; it is the hook
// for delivery.NoticeConfig.OnNotify.
func (m *Metrics) Notify(outcome string) {
	m.slackNotifications.WithLabelValues(outcome).Inc()
}

// storeCollector reads the store's own counts at scrape time.
type storeCollector struct {
	stats   Stats
	timeout time.Duration
	ttl     time.Duration
	log     *slog.Logger
	now     func() time.Time

	inboxDepth *prometheus.Desc
	outboxRows *prometheus.Desc
	noticeRows *prometheus.Desc
	cases      *prometheus.Desc
	commits    *prometheus.Desc
	writes     *prometheus.Desc

	mu      sync.Mutex // guards the cached count of cases; held while counting
	counted time.Time
	byState map[string]int
}

func newStoreCollector(stats Stats, opts Options, log *slog.Logger) *storeCollector {
	return &storeCollector{
		stats:   stats,
		timeout: opts.StatsTimeout,
		ttl:     opts.CasesTTL,
		log:     log,
		now:     time.Now,
		inboxDepth: prometheus.NewDesc("portabot_inbox_depth",
			"Messages stored and waiting to be processed.", nil, nil),
		outboxRows: prometheus.NewDesc("portabot_outbox_rows",
			"Replies in the outbox, by state.", []string{"state"}, nil),
		noticeRows: prometheus.NewDesc("portabot_notice_rows",
			"Notices for agents in the store, by state.", []string{"state"}, nil),
		cases: prometheus.NewDesc("portabot_cases",
			"Cases by conversation state.", []string{"state"}, nil),
		commits: prometheus.NewDesc("portabot_store_commits_total",
			"Store transactions committed since start.", nil, nil),
		writes: prometheus.NewDesc("portabot_store_writes_total",
			"Writes carried by those commits; several share one commit under load.", nil, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inboxDepth, c.outboxRows, c.noticeRows, c.cases, c.commits, c.writes} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()

	commits, writes := c.stats.WriteStats()
	ch <- prometheus.MustNewConstMetric(c.commits, prometheus.CounterValue, float64(commits))
	ch <- prometheus.MustNewConstMetric(c.writes, prometheus.CounterValue, float64(writes))

	if depth, err := c.stats.InboxDepth(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(c.inboxDepth, fmt.Errorf("inbox depth: %w", err))
	} else {
		ch <- prometheus.MustNewConstMetric(c.inboxDepth, prometheus.GaugeValue, float64(depth))
	}

	if pending, sent, parked, failed, err := c.stats.OutboxStats(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(c.outboxRows, fmt.Errorf("outbox stats: %w", err))
	} else {
		for state, n := range map[bot.OutboundState]int{bot.OutboundPending: pending, bot.OutboundSent: sent,
			bot.OutboundParked: parked, bot.OutboundFailed: failed} {
			ch <- prometheus.MustNewConstMetric(c.outboxRows, prometheus.GaugeValue, float64(n), string(state))
		}
	}

	if pending, sent, failed, err := c.stats.NoticeStats(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(c.noticeRows, fmt.Errorf("notice stats: %w", err))
	} else {
		for state, n := range map[bot.OutboundState]int{bot.OutboundPending: pending, bot.OutboundSent: sent,
			bot.OutboundFailed: failed} {
			ch <- prometheus.MustNewConstMetric(c.noticeRows, prometheus.GaugeValue, float64(n), string(state))
		}
	}

	byState, err := c.caseCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.cases, fmt.Errorf("cases: %w", err))
		return
	}
	for state, n := range byState {
		ch <- prometheus.MustNewConstMetric(c.cases, prometheus.GaugeValue, float64(n), state)
	}
}

// caseCounts counts cases by state, reusing a count younger than the TTL.
// Every state the conversation knows is present, at 0 when no case is in
// it, so a state emptying shows as 0 rather than as a vanished series.
func (c *storeCollector) caseCounts(ctx context.Context) (map[string]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.byState != nil && now.Sub(c.counted) < c.ttl {
		return c.byState, nil
	}
	counts, err := c.stats.CaseCounts(ctx)
	if err != nil {
		return nil, err
	}
	byState := make(map[string]int, len(fsm.All()))
	for _, s := range fsm.All() {
		byState[string(s)] = 0
	}
	for s, n := range counts {
		byState[string(s)] += n
	}
	c.byState, c.counted = byState, now
	return byState, nil
}
