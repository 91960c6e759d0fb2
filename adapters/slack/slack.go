// Package slack is the agents' cockpit in Slack: the /porta slash command,
// the buttons of a case card, and the case notifications posted to the
// agents' channel. It adapts github.com/slack-go/slack to the bot's agent
// actions and reads cases from the store; it decides nothing about a port.
//
// Requests arrive over HTTP (POST /slack/commands, POST /slack/interactions,
// each verified with the app's signing secret) or, when an app-level token is
// configured, over Socket Mode. Both paths share one dispatcher, so a command
// behaves the same whichever way it came.
package slack

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"

	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
)

// Config is what the adapter needs to know about the Slack app.
type Config struct {
	// SigningSecret verifies HTTP requests from Slack.
	SigningSecret string
	// BotToken (xoxb-) posts notifications.
	BotToken string
	// Channel is where case notifications go.
	Channel string
	// TeamID is the only workspace served; requests from any other are
	// refused.
	TeamID string
	// Agents lists the Slack user ids allowed to change cases; "*" lets
	// everyone in the workspace. Empty means nobody may act: a forgotten
	// list must not hand every workspace member the clients' ports. Others
	// can still read.
	Agents []string
	// APIURL replaces Slack's Web API base (tests point it at a fake).
	// Empty means Slack's.
	APIURL string
	// AppToken (xapp-) turns on Socket Mode.
	AppToken string
	// HTTPClient is used for the Web API and response_url posts. Nil means
	// a client with a 10-second timeout: slack-go's default has none.
	HTTPClient *http.Client
}

// Cases reads cases for agents. *storage.DB satisfies it.
type Cases interface {
	// Case returns the case with id, or an error wrapping bot.ErrNotFound.
	Case(ctx context.Context, id string) (bot.Case, error)
	// ListCases, CasesByNumber, CaseCounts and CasesClosedSince read the
	// store's case indexes (bot.CaseIndex), so no command reads every case.
	ListCases(ctx context.Context, q bot.CaseQuery) (bot.CasePage, error)
	CasesByNumber(ctx context.Context, id string) ([]bot.Case, error)
	CaseCounts(ctx context.Context) (map[fsm.State]int, error)
	CasesClosedSince(ctx context.Context, since time.Time) ([]bot.Case, error)
	// Audit returns a case's history, oldest first.
	Audit(ctx context.Context, caseID string) ([]bot.AuditEvent, error)
}

// Handoff lets an agent hold a client's conversation. *bot.Bot satisfies
// it. Errors are sentences meant for the agent; an unknown case wraps
// bot.ErrNotFound.
type Handoff interface {
	// TakeOver quiets the bot and tells the client a person is with them.
	TakeOver(ctx context.Context, caseID, agent string) error
	// Release gives the conversation back to the bot where it left off.
	Release(ctx context.Context, caseID, agent string) error
	// Say sends the agent's text to the client.
	Say(ctx context.Context, caseID, agent, text string) error
}

// Steps moves a case along on an agent's word. *bot.Bot satisfies it.
// Errors are sentences meant for the agent; an unknown case wraps
// bot.ErrNotFound.
type Steps interface {
	// SetWABA sets the destination WABA; a case waiting for it goes on.
	SetWABA(ctx context.Context, caseID, waba, agent string) error
	// Retry re-runs the Graph step a failed case stopped at.
	Retry(ctx context.Context, caseID, agent string) error
	// CancelCase cancels the port.
	CancelCase(ctx context.Context, caseID, agent string) error
}

// Answers is the FAQ, for /porta faq. *faq.Matcher satisfies it.
type Answers interface {
	Ask(question, lang string) faq.Result
}

// Deps are the parts of portabot the cockpit reads and drives.
type Deps struct {
	Cases   Cases
	Handoff Handoff
	Steps   Steps
	Answers Answers
	// AuditRefusal, when set, records that user was refused action on a
	// case. It runs before Slack gets its answer, so it must be quick.
	// Refusals are always logged.
	AuditRefusal func(ctx context.Context, caseID, user, action string)
	// Eraser, when set, lets agents erase a client with /porta forget.
	Eraser bot.Eraser
	// Triggers, when set, keeps the trigger ids of the actions taken
	// durably, so that a signed request captured before a restart is
	// still refused after it; without it they are kept in memory only.
	Triggers Triggers
}

// Triggers remembers the trigger ids of agents' actions. *storage.DB
// satisfies it.
type Triggers interface {
	// RememberTrigger records trigger until expires and reports whether
	// it was already recorded and unexpired.
	RememberTrigger(ctx context.Context, trigger string, expires time.Time) (seen bool, err error)
}

// App serves the cockpit: slash commands, interactions, notifications and
// Socket Mode.
type App struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	api    *slackapi.Client
	client *http.Client
	// agents are the users who may act; everyone when anyone is set.
	agents map[string]bool
	anyone bool

	now func() time.Time
	// readTimeout keeps a read inside Slack's 3-second window; actionTimeout
	// bounds an action finished after the acknowledgement, Graph calls
	// included.
	readTimeout   time.Duration
	actionTimeout time.Duration
	replyTimeout  time.Duration

	// work tracks actions finishing in the background, so that a shutdown
	// can let them report.
	work sync.WaitGroup

	mu sync.Mutex
	// triggers holds the trigger ids of actions seen in the last few
	// minutes: a signed request stays valid for five, and replaying a `say`
	// would message the client twice. Guarded by mu.
	triggers map[string]time.Time
	// forgets holds the erasures waiting for their confirmation button,
	// by the button's token. Guarded by mu.
	forgets map[string]pendingForget
}

// New returns the cockpit. deps.Cases, deps.Handoff, deps.Steps and
// deps.Answers must be set.
func New(cfg Config, deps Deps, log *slog.Logger) *App {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	opts := []slackapi.Option{
		slackapi.OptionHTTPClient(client),
		// slack-go writes its own log lines through this; never at a level
		// that would print request bodies, which carry the token.
		slackapi.OptionLog(slog.NewLogLogger(log.Handler(), slog.LevelDebug)),
	}
	if cfg.APIURL != "" {
		u := cfg.APIURL
		// slack-go joins URLs by concatenation.
		if !strings.HasSuffix(u, "/") {
			u += "/"
		}
		opts = append(opts, slackapi.OptionAPIURL(u))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	a := &App{
		cfg:           cfg,
		deps:          deps,
		log:           log.With("adapter", "slack"),
		api:           slackapi.New(cfg.BotToken, opts...),
		client:        client,
		now:           time.Now,
		readTimeout:   2500 * time.Millisecond,
		actionTimeout: 2 * time.Minute,
		replyTimeout:  10 * time.Second,
		triggers:      map[string]time.Time{},
	}
	a.agents = map[string]bool{}
	for _, id := range cfg.Agents {
		switch id = strings.TrimSpace(id); id {
		case "":
		case "*":
			a.anyone = true
		default:
			a.agents[id] = true
		}
	}
	if !a.anyone && len(a.agents) == 0 {
		a.log.Warn("no Slack agents configured: nobody may act on cases until PORTABOT_SLACK_AGENTS names user ids or says *")
	}
	return a
}

// Wait blocks until the actions acknowledged so far have finished and
// reported to Slack. Call it on shutdown, after the HTTP server stopped
// taking requests.
func (a *App) Wait() { a.work.Wait() }

// mayAct reports whether user may change cases.
func (a *App) mayAct(user string) bool {
	return a.anyone || a.agents[user]
}

// refuse logs, and audits when it can, an agent's refused action, and
// returns what the user is told.
func (a *App) refuse(ctx context.Context, user, action, caseID string) *slackapi.WebhookMessage {
	a.log.Warn("slack action refused: not an agent", "user", user, "action", action, "case", caseID)
	if a.deps.AuditRefusal != nil {
		a.deps.AuditRefusal(context.WithoutCancel(ctx), caseID, user, action)
	}
	return ephemeral("Only portabot's agents may " + esc(action) + " a case. You can still use " +
		"`list`, `show`, `faq` and `stats`; ask an admin to add you to PORTABOT_SLACK_AGENTS.")
}

// triggerLife is how long a trigger id is remembered: Slack refuses
// signatures older than 5 minutes; the rest is a margin for clock skew in
// both directions.
const triggerLife = 11 * time.Minute

// replayed reports whether an action with this trigger id was already taken,
// and remembers it otherwise. When the durable record cannot be written the
// action is treated as a replay: refusing one real click is better than
// sending a captured `say` twice.
func (a *App) replayed(ctx context.Context, trigger string) bool {
	if trigger == "" {
		return false
	}
	now := a.now()
	if a.deps.Triggers != nil {
		seen, err := a.deps.Triggers.RememberTrigger(context.WithoutCancel(ctx), trigger, now.Add(triggerLife))
		if err != nil {
			a.log.Error("slack action refused: its trigger could not be recorded; check the store (portabot check)", "error", err)
			return true
		}
		return seen
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, t := range a.triggers {
		// Slack refuses signatures older than 5 minutes; keep a margin
		// for clock skew in both directions.
		if now.Sub(t) > triggerLife {
			delete(a.triggers, id)
		}
	}
	if _, ok := a.triggers[trigger]; ok {
		return true
	}
	a.triggers[trigger] = now
	return false
}
