package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/bot"
	"portabot/faq"
	"portabot/fsm"
)

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"+55 11 98765-4321", "5511987654321", "(11) 98765-4321", "415 555 0100",
		"+1 415 555 0100", "00351 912 345 678", "", "+", "abc", "+55 (11) 9 8765 4321", "１２３"} {
		f.Add(s, "BR")
	}
	f.Fuzz(func(t *testing.T, text, region string) {
		p, err := bot.ParsePhone(text, region)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p.E164, "+"+p.CC) || p.E164 != "+"+p.CC+p.National {
			t.Fatalf("ParsePhone(%q) = %+v: E.164 is not + country code + national number", text, p)
		}
		again, err := bot.ParsePhone(p.E164, "")
		if err != nil || again.E164 != p.E164 {
			t.Fatalf("ParsePhone(%q) = %s, which does not parse back to itself (%v, %v)", text, p.E164, again, err)
		}
	})
}

// memStore is a bot.Store in memory: the fuzzer runs thousands of
// conversations, and a disk sync per turn would leave it no time to search.
// It keeps the same contract as the real stores (TestMemStoreContract), so
// what the fuzzer finds is what serve would do.
type memStore struct {
	mu        sync.Mutex
	convs     map[string]bot.Conversation
	ids       map[string]string // a client's current number or BSUID -> conversation key
	cases     map[string]bot.Case
	audit     map[string][]bot.AuditEvent
	processed map[string]bool
	marked    map[string]time.Time // when each processed marker was set
	next      int
	now       func() time.Time
}

func newMemStore() *memStore {
	return &memStore{convs: map[string]bot.Conversation{}, ids: map[string]string{}, cases: map[string]bot.Case{},
		audit: map[string][]bot.AuditEvent{}, processed: map[string]bool{}, now: time.Now}
}

func (m *memStore) Conversation(ctx context.Context, key string) (bot.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return bot.Conversation{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.convs[key]
	if !ok {
		c, ok = m.convs[m.ids[key]]
	}
	if !ok || key == "" {
		return bot.Conversation{}, bot.ErrNotFound
	}
	return c, nil
}

func (m *memStore) Case(ctx context.Context, id string) (bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return bot.Case{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[id]
	if !ok {
		return c, bot.ErrNotFound
	}
	return c, nil
}

func (m *memStore) Cases(ctx context.Context) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bot.Case
	for i := 1; i <= m.next; i++ {
		if c, ok := m.cases[fmt.Sprint(i)]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) Audit(ctx context.Context, id string) ([]bot.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.audit[id]), nil
}

func (m *memStore) NewCaseID(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	return fmt.Sprint(m.next), nil
}

func (m *memStore) Commit(ctx context.Context, t bot.Turn) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.Conversation.Key == "" {
		return errors.New("memstore: conversation has no key")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.MessageID != "" && m.processed[t.MessageID] {
		return bot.ErrDuplicate
	}
	// Checked before anything is written, so a refused turn writes nothing.
	turnCase := t.Conversation.CaseID
	if t.Case != nil {
		turnCase = t.Case.ID
	}
	events := slices.Clone(t.Audit)
	for i := range events {
		if events[i].CaseID == "" {
			events[i].CaseID = turnCase
		}
		id := events[i].CaseID
		if _, ok := m.cases[id]; !ok && (t.Case == nil || t.Case.ID != id) {
			return fmt.Errorf("memstore: audit event for case %q: %w", id, bot.ErrNotFound)
		}
	}
	if t.MessageID != "" {
		m.processed[t.MessageID] = true
		if m.marked == nil {
			m.marked = map[string]time.Time{}
		}
		m.marked[t.MessageID] = m.now()
	}
	m.convs[t.Conversation.Key] = t.Conversation
	for _, id := range t.Forget {
		if m.ids[id] == t.Conversation.Key {
			delete(m.ids, id)
		}
	}
	for _, id := range []string{t.Conversation.Phone, t.Conversation.UserID} {
		if id != "" && id != t.Conversation.Key {
			m.ids[id] = t.Conversation.Key
		}
	}
	if t.Case != nil {
		c := *t.Case
		c.Thread = m.cases[c.ID].Thread // only the agents' channel sets it
		m.cases[c.ID] = c
		if n, err := strconv.Atoi(c.ID); err == nil && n > m.next {
			m.next = n
		}
	}
	for _, e := range events {
		m.audit[e.CaseID] = append(m.audit[e.CaseID], e)
	}
	return nil
}

func (m *memStore) Processed(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.processed[id], nil
}

func (m *memStore) SetWABA(ctx context.Context, caseID, waba, actor string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cases[caseID]
	if !ok {
		return bot.ErrNotFound
	}
	now := m.now().UTC().Truncate(time.Microsecond)
	c.WABA, c.Updated = waba, now
	m.cases[caseID] = c
	m.audit[caseID] = append(m.audit[caseID], bot.AuditEvent{CaseID: caseID, At: now, Actor: actor, Kind: "waba_set", Detail: waba})
	return nil
}

// fuzzGraph answers Graph calls from a script of outcomes the fuzzer picks.
type fuzzGraph struct {
	mu       sync.Mutex
	outcomes []byte
}

var fuzzErrors = []error{
	nil, nil, nil, nil,
	&bot.GraphError{Code: 100, Message: "Two-step authentication must be disabled for this phone number"},
	&bot.GraphError{Code: 100, Subcode: 2388103, UserTitle: "Registered name should be present and approved"},
	&bot.GraphError{Code: 100, Subcode: 2388012, Message: "already added"},
	&bot.GraphError{Code: 100, Subcode: 2388103, Details: "There was an error migrating this phone number. Please try again later."},
	&bot.GraphError{Code: 100, Subcode: 2388103, Details: `The "Messaging For" request must be approved.`},
	&bot.GraphError{Code: 136024, Message: "already verified"},
	&bot.GraphError{Code: 136025, Message: "wrong code"},
	&bot.GraphError{Code: 133016, Message: "register limit"},
	&bot.GraphError{Code: 133005, Message: "pin"},
	&bot.GraphError{HTTPStatus: 429, Code: 80007, RetryAfter: time.Second},
	fmt.Errorf("graph: %w", bot.ErrUnavailable),
	errors.New("something else"),
}

func (g *fuzzGraph) next() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.outcomes) == 0 {
		return nil
	}
	b := g.outcomes[0]
	g.outcomes = g.outcomes[1:]
	return fuzzErrors[int(b)%len(fuzzErrors)]
}

func (g *fuzzGraph) AddPhoneNumber(ctx context.Context, waba, cc, national string) (string, error) {
	return "1234567890", g.next()
}
func (g *fuzzGraph) RequestCode(ctx context.Context, id, method string, l bot.Lang) error {
	return g.next()
}
func (g *fuzzGraph) VerifyCode(ctx context.Context, id, code string) error { return g.next() }
func (g *fuzzGraph) Register(ctx context.Context, id, pin string) error    { return g.next() }
func (g *fuzzGraph) MigrateTemplates(ctx context.Context, d, s string) (bot.TemplateResult, error) {
	return bot.TemplateResult{Migrated: []string{"1"}}, g.next()
}
func (g *fuzzGraph) PhoneNumber(ctx context.Context, id string) (bot.PhoneNumber, error) {
	return bot.PhoneNumber{ID: id, Status: "CONNECTED"}, g.next()
}
func (g *fuzzGraph) PhoneNumbers(ctx context.Context, waba string) ([]bot.PhoneNumber, error) {
	return nil, g.next()
}

// fuzzWords are inputs that move the conversation, so the fuzzer reaches
// deep states instead of circling the menu.
var fuzzWords = []string{"hi", "1", "yes", "no", "done", "+55 11 98765-4321", "skip", "sms", "voice", "resend",
	"246810", "123456", "135790", "menu", "cancel", "agent", "language", "help", "retry", "português",
	"how long does it take?", "👍", "", "start", "I want to port my number", "bye", "thanks",
	"yes, I'm the admin", "no, my old BSP has it", "by sms please", "call me instead"}

var fuzzChoices = []string{"start", "continue", "question", "yes", "no", "fixed", "sms", "voice", "resend", "skip",
	"agent", "lang:pt", "lang:es", "faq:pin", "faq:nonsense", "bogus"}

func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 2, 2, 2, 5, 6, 7, 10, 12, 12}, []byte{0, 0, 0, 0, 0})
	f.Add([]byte{0, 1, 2, 3, 4, 2, 2, 2, 5, 6, 7, 9, 10, 13, 16}, []byte{4, 0, 8, 8, 8})
	f.Add([]byte("hello there\nmenu\n\xff\xfe"), []byte{11, 12, 13})
	answers := faq.Default()
	f.Fuzz(func(t *testing.T, script, outcomes []byte) {
		// Long scripts add little: the flow is about twenty steps deep, and
		// each PIN costs a deliberately slow hash.
		if len(script) > 64 {
			script = script[:64]
		}
		store := newMemStore()
		g := &fuzzGraph{outcomes: outcomes}
		now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
		b := bot.New(store, g, answers, bot.Config{DestWABA: "100200300400500", Now: func() time.Time { return now }}, nil)
		ctx := context.Background()
		for i, c := range script {
			in := bot.Inbound{ID: fmt.Sprint("m", i), From: "5511912345678"}
			switch {
			case c < 128:
				in.Text = fuzzWords[int(c)%len(fuzzWords)]
			case c < 192:
				id := fuzzChoices[int(c)%len(fuzzChoices)]
				in.Choice, in.Text = id, id
			case c < 200:
				in.Unsupported = "image"
			default:
				in.Text = string(script[i:min(i+8, len(script))])
			}
			now = now.Add(time.Duration(c) * time.Second)
			if _, err := b.Handle(ctx, in); err != nil {
				t.Fatalf("message %d (%+v): %v", i, in, err)
			}
			conv, err := store.Conversation(ctx, in.From)
			if err != nil {
				t.Fatalf("no conversation after message %d: %v", i, err)
			}
			if !fsm.Known(conv.State) || (conv.Back != "" && !fsm.Known(conv.Back)) {
				t.Fatalf("message %d left the conversation in unknown state %q (back %q)", i, conv.State, conv.Back)
			}
			if fsm.IsTransient(conv.State) {
				t.Fatalf("message %d left the conversation in transient state %q", i, conv.State)
			}
			if conv.CaseID != "" {
				c, err := store.Case(ctx, conv.CaseID)
				if err != nil || !fsm.Known(c.State) {
					t.Fatalf("message %d: case %q in state %q (%v)", i, conv.CaseID, c.State, err)
				}
			}
		}
	})
}

func FuzzSplitSignupToken(f *testing.F) {
	f.Add("12.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("0.x")
	f.Add(".")
	f.Fuzz(func(t *testing.T, token string) {
		caseID, secret, ok := bot.SplitSignupToken(token)
		if !ok {
			return
		}
		if caseID+"."+secret != token || caseID == "" || strings.ContainsAny(secret, "./=+") {
			t.Fatalf("SplitSignupToken(%q) = %q, %q", token, caseID, secret)
		}
	})
}

// FuzzParseForgetTarget: whatever an agent types, the target is a case id
// in canonical form or a number's digits, never both, never a guess.
func FuzzParseForgetTarget(f *testing.F) {
	for _, s := range []string{"12", "#12", "+55 11 98765-4321", "5511987654321", "#", "", "+", "#007", "abc", "+1 415 555 0100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := bot.ParseForgetTarget(s)
		if err != nil {
			return
		}
		if (r.Number == "") == (r.CaseID == "") {
			t.Fatalf("ParseForgetTarget(%q) = %+v: want exactly one of a number and a case", s, r)
		}
		if r.CaseID != "" && (strings.HasPrefix(r.CaseID, "0") || strings.Trim(r.CaseID, "0123456789") != "") {
			t.Fatalf("ParseForgetTarget(%q) case id %q is not canonical", s, r.CaseID)
		}
		if r.Number != "" && (!strings.HasPrefix(strings.TrimSpace(s), "+") || strings.Trim(r.Number, "0123456789") != "") {
			t.Fatalf("ParseForgetTarget(%q) number %q came from no +number, or is not digits", s, r.Number)
		}
	})
}
