package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"portabot/fsm"
)

// ErrInFlight is matched by the error Forget returns when a Graph step is
// in flight for one of the cases it would erase: the step's outcome would
// otherwise be written into a case that no longer exists, or bring the
// client's conversation back. It is refused, never queued, so that an agent
// knows to try again once the step is settled.
var ErrInFlight = errors.New("a Graph step is in flight for the case")

// ErrBusy is matched by the error Forget returns when the client's
// conversation is being processed at that moment: the turn would write it
// back after the erasure.
var ErrBusy = errors.New("the client's conversation is being processed")

// NoticeErased asks the agents' channel to replace what the case's thread
// says with a note that its content was erased.
const NoticeErased NoticeKind = "erased"

// ForgetRequest names what to erase: a client, by their WhatsApp number or
// the number they port (Number, digits without "+"), or the client of a case
// (CaseID). Actor and At go in the tombstone.
type ForgetRequest struct {
	Number string
	CaseID string
	Actor  string
	At     time.Time
}

// Erasure counts what Forget erased. Cases are the ids of the cases
// replaced by tombstones.
type Erasure struct {
	Cases         []string
	Conversations int
	ClientIDs     int
	AuditEvents   int
	Outbox        int
	Notices       int
	Inbox         int
	Tokens        int
}

// Empty reports whether nothing matched.
func (e Erasure) Empty() bool { return len(e.Cases) == 0 && e.Conversations == 0 }

// String is the counts in words, for the CLI and Slack.
func (e Erasure) String() string {
	ids := "none"
	if len(e.Cases) > 0 {
		ids = "#" + strings.Join(e.Cases, ", #")
	}
	return fmt.Sprintf("cases %s; %d conversation(s), %d client id(s), %d audit event(s), %d outbox row(s), %d notice(s), %d waiting message(s), %d business token(s)",
		ids, e.Conversations, e.ClientIDs, e.AuditEvents, e.Outbox, e.Notices, e.Inbox, e.Tokens)
}

// Eraser is a store that can forget a client and expire closed cases.
type Eraser interface {
	// Forget erases every trace of the client named by r and their cases:
	// conversations, client ids, outbox rows, notices, waiting messages,
	// business tokens and audit. Each case leaves a tombstone: its record
	// reduced to its id, state, times and thread, and one audit event
	// "erased" naming r.Actor; a NoticeErased is queued for each case that
	// has a Slack thread, so that the thread is rewritten. It refuses with ErrInFlight, erasing
	// nothing, when a Graph step is in flight for any of the cases, and
	// returns an empty Erasure when nothing matches.
	Forget(ctx context.Context, r ForgetRequest) (Erasure, error)
	// Expire applies retention to at most limit cases closed (done,
	// cancelled, failed) before before and not yet expired: the numbers in
	// the case become Pseudonym values, audit details that may hold personal
	// data are dropped, the case's notices and business token go, and so do
	// the client's conversation, client ids and outbox rows when the client
	// has no case still open and wrote nothing since before. Conversations
	// without any case idle since before go too, and so do notices made
	// before before that are no longer pending. It returns how many cases,
	// conversations and notices it expired; fewer than limit means no more
	// are due.
	Expire(ctx context.Context, before time.Time, limit int) (int, error)
	// PruneProcessed deletes at most limit processed-message markers set
	// before before, and returns how many.
	PruneProcessed(ctx context.Context, before time.Time, limit int) (int, error)
}

// Closed reports whether c is over for retention: done, cancelled or
// failed, and when it ended.
func Closed(c Case) (time.Time, bool) {
	switch {
	case c.State == fsm.Failed:
		return c.Updated, true
	case fsm.IsFinal(c.State):
		if c.Closed.IsZero() {
			return c.Updated, true
		}
		return c.Closed, true
	}
	return time.Time{}, false
}

// InFlight reports whether a Graph step may be running for c.
func InFlight(c Case) bool { return c.InFlight != "" || fsm.IsTransient(c.State) }

// Tombstone is what stays of c once erased: no number, no name, no text.
func Tombstone(c Case, at time.Time, actor string) Case {
	state := c.State
	if _, closed := Closed(c); !closed {
		state = fsm.Cancelled
	}
	return Case{ID: c.ID, Lang: c.Lang, State: state, Created: c.Created, Updated: at, Closed: orNow(c.Closed, at),
		Thread: c.Thread, Erased: at, ErasedBy: actor}
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// PseudonymKey derives the key of Pseudonym from a store's seal key, under
// a label of its own, so that the hashes reveal nothing about the key that
// seals messages.
func PseudonymKey(sealKey []byte) []byte {
	m := hmac.New(sha256.New, sealKey)
	m.Write([]byte("portabot retention pseudonym v1"))
	return m.Sum(nil)
}

// Pseudonym replaces a number or BSUID kept past retention: HMAC-SHA256
// under key, so the BSP holding the key recognises a returning client by
// computing it again, and nobody without the key can reverse it or test a
// guess. Empty stays empty, and a pseudonym is never hashed twice.
func Pseudonym(key []byte, id string) string {
	if id == "" || strings.HasPrefix(id, PseudonymPrefix) {
		return id
	}
	id = strings.TrimPrefix(id, "+")
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return PseudonymPrefix + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// PseudonymPrefix starts every Pseudonym, so it is never mistaken for a
// number.
const PseudonymPrefix = "h:"

// Expired is c after retention: numbers replaced by pseudonyms, nothing a
// person wrote or that names them.
func Expired(c Case, key []byte, at time.Time) Case {
	c.Client = Pseudonym(key, c.Client)
	c.ClientPhone = Pseudonym(key, c.ClientPhone)
	c.Phone = Pseudonym(key, c.Phone)
	c.National = ""
	c.Username = ""
	c.Problem = ""
	c.Signup = nil
	c.Agent = ""
	c.LetterPhone = ""
	if c.Preflight != nil {
		// The findings keep what was checked and how it read; their
		// details and arguments may name the number, even masked.
		p := *c.Preflight
		p.Findings = slices.Clone(p.Findings)
		for i := range p.Findings {
			p.Findings[i].Args, p.Findings[i].Detail = nil, ""
		}
		c.Preflight = &p
	}
	c.Expired = at
	return c
}

// ExpiredEvent is e without detail that may carry personal data: what an
// agent or the client wrote, a number (even masked), a link.
func ExpiredEvent(e AuditEvent) AuditEvent {
	switch {
	case e.Kind == "transition", e.Kind == "faq", e.Detail == "ok":
	default:
		e.Detail = ""
	}
	return e
}

// Matches reports whether case c belongs to the client with number digits:
// the number they write from, or the one they port.
func Matches(c Case, digits string) bool {
	return digits != "" && (c.Client == digits || c.ClientPhone == digits || strings.TrimPrefix(c.Phone, "+") == digits)
}

// ParseForgetTarget reads what an operator or agent names for erasure: a
// number with its country code and a leading "+" (the client's WhatsApp
// number or the number they port), or a case id, "12" or "#12". A string
// of digits long enough to be a number without its "+" is refused rather
// than guessed at.
func ParseForgetTarget(s string) (ForgetRequest, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		p, err := ParsePhone(s, "")
		if err != nil {
			return ForgetRequest{}, fmt.Errorf("cannot read the number %s: %w", MaskPhone(s), err)
		}
		return ForgetRequest{Number: strings.TrimPrefix(p.E164, "+")}, nil
	}
	id := strings.TrimPrefix(s, "#")
	if id == "" || len(id) > 9 || strings.Trim(id, "0123456789") != "" || strings.TrimLeft(id, "0") == "" {
		return ForgetRequest{}, errors.New("name a case (12 or #12) or a number with its country code and a leading + (+5511987654321)")
	}
	return ForgetRequest{CaseID: strings.TrimLeft(id, "0")}, nil
}
