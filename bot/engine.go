package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"portabot/faq"
	"portabot/fsm"
)

// Config holds what the engine needs to know about the deployment.
type Config struct {
	// DestWABA is the destination WhatsApp Business Account for new cases;
	// empty means an agent sets it per case and the client waits in
	// await_waba.
	DestWABA string
	// Region reads numbers typed without a country code ("BR").
	Region string
	// Lang is spoken until the client's first message shows theirs.
	Lang Lang
	// ResendCooldown is how long a client waits between code requests:
	// codes take minutes to arrive, and every request is an SMS or a call.
	ResendCooldown time.Duration
	// MaxWrongCodes wrong codes in a row hand the client to a person.
	MaxWrongCodes int
	// Now is the clock; tests set it.
	Now func() time.Time
	// Outbox has every turn write its replies as outbox rows in the same
	// transaction as the state, for a Dispatcher to send.
	Outbox bool
	// Notify has turns queue notices for agents.
	Notify bool
	// NoAgents says no person can answer the client (the terminal chat, a
	// server without Slack): a request for one is told so, and the bot
	// keeps answering instead of falling silent for nobody.
	NoAgents bool
	// Template is the name of the approved utility template that re-opens
	// a conversation whose 24-hour window closed; DefaultTemplate when
	// empty. Its body takes the case number as its one parameter.
	Template string
	// OnAnswer, when set, is told once a turn is stored of each answer it
	// gave from the FAQ (the intent) and of each message it did not
	// understand (NotUnderstood): what clients ask, and where the bot
	// falls short. It runs on the turn's goroutine and must be quick.
	OnAnswer func(intent string)
	// Signup, when set, has a case without a destination WABA get it from
	// the client through Embedded Signup instead of from an agent.
	Signup *SignupConfig
}

// NotUnderstood is what Config.OnAnswer is told of a message the bot could
// not read: it offered topics and a person instead.
const NotUnderstood = faq.None

func (c *Config) defaults() {
	if c.Region == "" {
		c.Region = "BR"
	}
	if c.Lang == "" {
		c.Lang = English
	}
	if c.ResendCooldown == 0 {
		c.ResendCooldown = time.Minute
	}
	if c.MaxWrongCodes == 0 {
		c.MaxWrongCodes = 3
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Template == "" {
		c.Template = DefaultTemplate
	}
}

// maxText bounds how much of one message the engine reads: no answer needs
// more, and it keeps a 5,000-character paste from costing the matcher.
const maxText = 1000

// Bot is the engine. It is safe for concurrent use: messages of one client
// are handled one at a time, different clients in parallel.
type Bot struct {
	store Store
	graph Graph
	faq   *faq.Matcher
	cfg   Config
	log   *slog.Logger

	mu    sync.Mutex // protects locks
	locks map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// New returns an engine over store and graph.
func New(store Store, graph Graph, answers *faq.Matcher, cfg Config, log *slog.Logger) *Bot {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bot{store: store, graph: graph, faq: answers, cfg: cfg, log: log, locks: map[string]*keyLock{}}
}

// lock serialises the turns of one client, so two deliveries of their
// messages can never interleave their reads and writes.
func (b *Bot) lock(key string) func() {
	b.mu.Lock()
	l := b.locks[key]
	if l == nil {
		l = &keyLock{}
		b.locks[key] = l
	}
	l.refs++
	b.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		b.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(b.locks, key)
		}
		b.mu.Unlock()
	}
}

// Handle processes one inbound message and returns the replies for the
// client. A message whose ID was processed before returns no replies and
// changes nothing. Errors are the store's: the message was not processed and
// may be delivered again.
func (b *Bot) Handle(ctx context.Context, in Inbound) ([]Reply, error) {
	if in.Sender() == "" {
		return nil, errors.New("bot: message without sender")
	}
	if in.Security != "" {
		return nil, b.security(ctx, in)
	}
	key, err := b.resolve(ctx, in)
	if err != nil {
		return nil, err
	}
	unlock := b.lock(key)
	defer unlock()
	if in.ID != "" {
		done, err := b.store.Processed(ctx, in.ID)
		if err != nil {
			return nil, fmt.Errorf("bot: %w", err)
		}
		if done {
			return nil, nil
		}
	}
	tr, err := b.load(ctx, key)
	if err != nil {
		return nil, err
	}
	tr.in = in
	tr.msgID = in.ID
	wasAway := !tr.conv.LastSeen.IsZero() && tr.now.Sub(tr.conv.LastSeen) > CustomerWindow
	tr.conv.LastSeen = in.At
	if in.At.IsZero() {
		tr.conv.LastSeen = tr.now
	}
	tr.identify(in)
	tr.windowOpen(wasAway)
	from := tr.conv.State
	switch {
	case in.Moved != nil:
		// Meta's word, not the client's: nothing to answer.
		tr.move(*in.Moved)
	case in.Unsupported == "reaction":
		// A reaction acknowledges; answering it would only add noise.
		tr.record("reaction", "")
	case fsm.IsTransient(tr.conv.State):
		tr.recover()
		// The client's message was written before they saw what the
		// recovery says; only a code still makes sense to act on.
		if _, letters := sixDigits(in.Text); tr.conv.State == fsm.AwaitCode && !letters && in.Text != "" {
			tr.dispatch()
		}
	default:
		tr.dispatch()
	}
	tr.commit()
	if tr.err != nil {
		if errors.Is(tr.err, ErrDuplicate) {
			return nil, nil
		}
		return nil, tr.err
	}
	if b.cfg.OnAnswer != nil {
		for _, intent := range tr.answered {
			b.cfg.OnAnswer(intent)
		}
	}
	b.log.Info("turn", "client", MaskPhone(key), "case", tr.conv.CaseID,
		"from_state", from, "to_state", tr.conv.State, "replies", len(tr.replies))
	return tr.replies, nil
}

// Outgoing is a set of replies for one client that no inbound message asked
// for: what the engine says after resuming an interrupted step.
type Outgoing struct {
	To      string
	Replies []Reply
}

// Recover resumes every case left in a transient state by a stopped
// process. It asks Meta where each number stands instead of repeating a step
// that must not run twice, and returns what to tell each client.
//
// It reads only the cases in a transient state, through the store's state
// index: start-up costs what was in flight, not the years of closed cases.
func (b *Bot) Recover(ctx context.Context) ([]Outgoing, error) {
	var cases []Case
	q := CaseQuery{States: fsm.TransientStates(), Limit: 500}
	for {
		page, err := b.store.ListCases(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("bot: recover: %w", err)
		}
		cases = append(cases, page.Cases...)
		if page.Next == "" {
			break
		}
		q.Before = page.Next
	}
	// Oldest first: the order the cases were opened in.
	slices.Reverse(cases)
	var out []Outgoing
	for _, c := range cases {
		if !fsm.IsTransient(c.State) {
			continue
		}
		replies, err := b.recoverOne(ctx, c.Client)
		if err != nil {
			return out, err
		}
		if len(replies) > 0 {
			out = append(out, Outgoing{To: c.Client, Replies: replies})
		}
	}
	return out, nil
}

func (b *Bot) recoverOne(ctx context.Context, key string) ([]Reply, error) {
	unlock := b.lock(key)
	defer unlock()
	tr, err := b.load(ctx, key)
	if err != nil {
		return nil, err
	}
	if !fsm.IsTransient(tr.conv.State) {
		return nil, nil
	}
	tr.recover()
	tr.commit()
	return tr.replies, tr.err
}

// resolve returns the key of the conversation in belongs to: the one its
// BSUID or its number names, or, for a client never seen, the id the message
// is queued by. The BSUID is asked first: Meta sends it on every message, and
// it is the id that stays when the number is hidden.
func (b *Bot) resolve(ctx context.Context, in Inbound) (string, error) {
	for _, id := range []string{in.UserID, in.From} {
		if id == "" {
			continue
		}
		c, err := b.store.Conversation(ctx, id)
		switch {
		case err == nil:
			return c.Key, nil
		case !errors.Is(err, ErrNotFound):
			return "", fmt.Errorf("bot: find conversation: %w", err)
		}
	}
	return in.Sender(), nil
}

func (b *Bot) load(ctx context.Context, key string) (*turn, error) {
	now := b.cfg.Now()
	tr := &turn{b: b, ctx: ctx, now: now}
	conv, err := b.store.Conversation(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		conv = Conversation{Key: key, Lang: b.cfg.Lang, State: fsm.New, Created: now}
	case err != nil:
		return nil, fmt.Errorf("bot: load conversation: %w", err)
	}
	if !fsm.Known(conv.State) {
		// A record from a newer or damaged build: start the client over
		// rather than refuse to talk to them.
		b.log.Warn("unknown stored state, conversation reset", "state", conv.State)
		conv.State, conv.Back, conv.Step = fsm.Menu, "", ""
	}
	tr.conv = conv
	if conv.CaseID != "" {
		c, err := b.store.Case(ctx, conv.CaseID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("bot: load case: %w", err)
		}
		if err == nil {
			tr.cas = &c
			tr.businessContext()
		}
	}
	return tr, nil
}

// turn is the work of one message: what was loaded, what changes, what is
// said. Secrets live only here, in memory, for the length of the turn.
type turn struct {
	b   *Bot
	ctx context.Context
	now time.Time

	in    Inbound
	msgID string
	conv  Conversation
	cas   *Case

	replies []Reply
	// queued counts the replies already written to the outbox.
	queued int
	// sealed counts the replies no later text may join: a message meant
	// to be forwarded as it is.
	sealed  int
	audit   []AuditEvent
	notices []Notice
	err     error

	// unpark puts the replies that waited for the window back in line
	// when the turn is stored (Turn.Unpark).
	unpark bool
	// forget lists ids that no longer name the client (Turn.Forget).
	forget []string
	// reask: a reply Meta dropped for the closed window is to be made up
	// for by asking the current question again (Conversation.Dropped).
	reask bool
	// held: replies waited for the client's window (Conversation.Held) and
	// go out with this turn; they answer a bare "ok" or "hi".
	held bool

	code string // the one-time code being verified
	pin  string // the new PIN being registered
	// first marks the client's very first message, which gets the welcome.
	first bool
	// lastTopics are the FAQ's closest topics for a question it could not
	// answer, offered as choices.
	lastTopics []faq.Topic
	// answered lists the FAQ intents the turn answered, and NotUnderstood
	// for a message it could not read, for Config.OnAnswer.
	answered []string
}

func (t *turn) lang() Lang { return t.conv.Lang }

// say adds text to the replies, joining it to a previous plain text so the
// client gets fewer, fuller messages.
func (t *turn) say(m msg, args ...any) {
	t.sayText(render(t.lang(), m, args...))
}

// mergeable reports whether the last reply can still take more text: not
// once it has buttons, nor once it was written to the outbox.
func (t *turn) mergeable() bool {
	n := len(t.replies)
	return n > t.queued && n > t.sealed && len(t.replies[n-1].Buttons) == 0
}

func (t *turn) sayText(s string) {
	if n := len(t.replies); t.mergeable() {
		t.replies[n-1].Text += "\n\n" + s
		return
	}
	t.replies = append(t.replies, Reply{Text: s})
}

// ask adds text with choices; a preceding plain text joins the same message
// when WhatsApp's 1,024-character body limit allows.
func (t *turn) ask(m msg, buttons []Button, args ...any) {
	s := render(t.lang(), m, args...)
	if n := len(t.replies); t.mergeable() &&
		utf8.RuneCountInString(t.replies[n-1].Text)+2+utf8.RuneCountInString(s) <= 1024 {
		t.replies[n-1].Text += "\n\n" + s
		t.replies[n-1].Buttons = buttons
		return
	}
	t.replies = append(t.replies, Reply{Text: s, Buttons: buttons})
}

func (t *turn) button(id string, m msg) Button {
	return Button{ID: id, Title: render(t.lang(), m)}
}

func (t *turn) record(kind, detail string) {
	id := ""
	if t.cas != nil {
		id = t.cas.ID
	}
	if id == "" {
		return
	}
	actor := "bot"
	if kind == "client_message" {
		actor = "client"
	}
	t.audit = append(t.audit, AuditEvent{CaseID: id, At: t.now, Actor: actor, Kind: kind, Detail: detail})
}

// fire applies ev. An event the table refuses is a bug in the engine, not
// the client's fault: it is logged and the conversation stays put.
func (t *turn) fire(ev fsm.Event) bool {
	from := t.conv.State
	to, err := fsm.Next(t.ctx, from, t.conv.Back, ev)
	if errors.Is(err, fsm.ErrUnknownState) {
		t.b.log.Error("restore flow", "error", err)
		return false
	}
	if err != nil {
		t.b.log.Error("transition refused", "event", ev, "from_state", from, "error", err)
		return false
	}
	t.conv.State = to
	if t.cas != nil && to != fsm.Menu {
		t.cas.State = to
		t.cas.Updated = t.now
		if fsm.IsFinal(to) {
			t.cas.Closed = t.now
		}
		t.audit = append(t.audit, AuditEvent{CaseID: t.cas.ID, At: t.now, Actor: "bot", Kind: "transition",
			From: from, To: to, Detail: string(ev)})
		if ev != fsm.Release && ev != fsm.Resume {
			// Going back to where the case stood (an agent's release, the
			// client continuing from the menu) is no news for agents.
			t.noticeFor(from, to)
		}
	}
	return true
}

// goTo fires ev and then does what the new state asks.
func (t *turn) goTo(ev fsm.Event) {
	if t.fire(ev) {
		t.enter()
	}
}

// commit writes the turn so far. The first commit also marks the inbound
// message processed, so a re-delivery after this point changes nothing.
func (t *turn) commit() bool {
	if t.err != nil {
		return false
	}
	t.conv.Updated = t.now
	var c *Case
	if t.cas != nil {
		cp := *t.cas
		c = &cp
	}
	t.tagButtons(t.replies[t.queued:])
	var out []Outbound
	if t.b.cfg.Outbox {
		phone, user := t.conv.Address()
		if phone == t.conv.Key {
			phone = "" // To says it already
		}
		for _, r := range t.replies[t.queued:] {
			out = append(out, Outbound{To: t.conv.Key, Phone: phone, UserID: user, Reply: r, InReplyTo: t.in.ID,
				LastInbound: t.conv.LastSeen, Created: t.now, NextAttempt: t.now, State: OutboundPending})
		}
	}
	err := t.b.store.Commit(t.ctx, Turn{MessageID: t.msgID, Conversation: t.conv, Case: c, Audit: t.audit,
		Outbox: out, Notices: t.notices, Unpark: t.unpark, Forget: t.forget})
	if err != nil {
		if errors.Is(err, ErrDuplicate) {
			t.err = err
		} else {
			t.err = fmt.Errorf("bot: save: %w", err)
		}
		return false
	}
	t.msgID = ""
	t.audit = nil
	t.notices = nil
	t.unpark = false
	t.forget = nil
	t.queued = len(t.replies)
	return true
}

// newCase opens a case for the client.
func (t *turn) newCase() bool {
	id, err := t.b.store.NewCaseID(t.ctx)
	if err != nil {
		t.err = fmt.Errorf("bot: new case: %w", err)
		return false
	}
	t.cas = &Case{ID: id, Client: t.conv.Key, Lang: t.lang(), State: t.conv.State,
		WABA: t.b.cfg.DestWABA, Created: t.now, Updated: t.now}
	t.syncClient()
	t.conv.CaseID = id
	t.conv.Back = ""
	t.conv.Step = ""
	t.conv.PinHash = ""
	t.audit = append(t.audit, AuditEvent{CaseID: id, At: t.now, Actor: "client", Kind: "case_opened"})
	t.notice(NoticeStarted, "New case from client "+t.cas.Who()+".")
	return true
}

// openCase reports whether the client has a port under way.
func (t *turn) openCase() bool {
	return t.cas != nil && !fsm.IsFinal(t.cas.State)
}

// Flag puts a problem on the client's case for agents to see, with an audit
// entry. A client without a case has nothing to flag.
// id may be the conversation's key or any id its client is known by. It
// returns an error matching ErrNotFound when there is no such case.
func (b *Bot) Flag(ctx context.Context, id, problem string) error {
	tr, unlock, err := b.loadClient(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if tr.cas == nil {
		return fmt.Errorf("bot: flag: the client has no case: %w", ErrNotFound)
	}
	tr.cas.Problem = problem
	tr.cas.Updated = tr.now
	tr.record("flagged", problem)
	tr.notice(NoticeFlagged, problem)
	tr.commit()
	if tr.err != nil {
		b.log.Error("flag case", "case", tr.cas.ID, "error", tr.err)
	}
	return tr.err
}

// loadClient locks and loads the conversation of the client id names (its
// key, number or BSUID), with the lock every turn of that conversation
// takes. It returns an error matching ErrNotFound for a client never seen.
func (b *Bot) loadClient(ctx context.Context, id string) (*turn, func(), error) {
	c, err := b.store.Conversation(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, fmt.Errorf("bot: no conversation with the client: %w", ErrNotFound)
		}
		return nil, nil, fmt.Errorf("bot: load conversation: %w", err)
	}
	unlock := b.lock(c.Key)
	tr, err := b.load(ctx, c.Key)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return tr, unlock, nil
}

// Recheck retries the port of a case blocked on two-step verification when
// Meta reports a change to the number's PIN settings (the security
// webhook). Adding the number again is the test: Meta refuses it while
// two-step verification is on. phone is the number as Meta shows it.
func (b *Bot) Recheck(ctx context.Context, phone string) error {
	p, err := ParsePhone("+"+Digits(phone), "")
	if err != nil {
		return nil
	}
	// The number index: a security event costs the cases of its number,
	// not a read of every case.
	cases, err := b.store.CasesByNumber(ctx, p.E164)
	if err != nil {
		return fmt.Errorf("bot: recheck: %w", err)
	}
	for _, c := range cases {
		if c.Phone != p.E164 || c.State != fsm.Blocked || c.Blocked != Check2FA {
			continue
		}
		if err := b.recheckOne(ctx, c.Client); err != nil {
			return err
		}
	}
	return nil
}

// security handles Meta's security webhook event in: the cases of its
// number blocked on two-step verification are tried again (Recheck), then
// the event is marked processed, on a record of its own keyed by the
// number, so a redelivery changes nothing. A stop in between tries again
// on redelivery, which finds the cases already moved on.
func (b *Bot) security(ctx context.Context, in Inbound) error {
	unlock := b.lock(in.Sender())
	defer unlock()
	if done, err := b.store.Processed(ctx, in.ID); err != nil || done {
		return err
	}
	if err := b.Recheck(ctx, in.From); err != nil {
		return err
	}
	now := b.cfg.Now()
	err := b.store.Commit(ctx, Turn{MessageID: in.ID,
		Conversation: Conversation{Key: in.Sender(), State: fsm.New, Created: now, Updated: now, LastSeen: in.At}})
	if err != nil && !errors.Is(err, ErrDuplicate) {
		return fmt.Errorf("bot: record security event: %w", err)
	}
	return nil
}

func (b *Bot) recheckOne(ctx context.Context, key string) error {
	unlock := b.lock(key)
	defer unlock()
	tr, err := b.load(ctx, key)
	if err != nil {
		return err
	}
	c := tr.cas
	if c == nil || tr.conv.State != fsm.Blocked || c.Blocked != Check2FA {
		return nil
	}
	tr.record("recheck", "security webhook")
	c.Blocked = ""
	c.Confirmed = appendCheck(c.Confirmed, Check2FA)
	tr.say(msgTwoFAOff)
	// Back to the 2FA check, which is now confirmed: the flow runs on
	// through the confirmed checks to adding the number again.
	tr.goTo(fsm.Fixed)
	tr.commit()
	return tr.err
}

// SlowDown asks a client who writes faster than the bot will read to wait;
// their messages stay queued and are answered in turn.
func (b *Bot) SlowDown(ctx context.Context, key string) error {
	unlock := b.lock(key)
	defer unlock()
	tr, err := b.load(ctx, key)
	if err != nil {
		return err
	}
	if tr.conv.State == fsm.Handoff {
		return nil
	}
	tr.say(msgSlowDown)
	tr.record("throttled", "")
	tr.commit()
	return tr.err
}
