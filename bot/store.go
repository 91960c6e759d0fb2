package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"portabot/fsm"
)

// ErrNotFound is returned by a Store when the conversation or case asked
// for does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate is returned by Store.Commit when the turn's message was
// already committed: a re-delivery, which must change nothing.
var ErrDuplicate = errors.New("message already processed")

// Turn is everything one step of the engine writes. A store commits it in
// one transaction, so a crash leaves either all of it or none.
type Turn struct {
	// MessageID is the inbound message the turn answers; empty for turns
	// that answer none (recovery after a restart). It is marked processed
	// in the same transaction.
	MessageID    string
	Conversation Conversation
	// Case is written when not nil.
	Case  *Case
	Audit []AuditEvent
	// Outbox rows are the replies of the turn, to be sent once it is
	// stored; empty when the caller delivers replies itself (the terminal).
	Outbox []Outbound
	// Notices for agents, sent by a NoticeDispatcher once the turn is
	// stored.
	Notices []Notice
	// Unpark puts the conversation's parked outbox rows back in line, in
	// the order they were written and ahead of the turn's own, due now and
	// with Conversation.LastSeen as their window: the client wrote again,
	// so what waited for the window can go.
	Unpark bool `json:",omitempty"`
	// Forget lists ids that no longer name the client (a number or BSUID
	// they left): the store stops finding the conversation by them.
	Forget []string `json:",omitempty"`
}

// Store keeps conversations, cases and their audit trail.
type Store interface {
	CaseIndex
	// Conversation returns the conversation whose Key is key, or whose
	// client's current Phone or UserID is key, or ErrNotFound. Commit keeps
	// the ids current: a client is found by either id Meta names them by.
	Conversation(ctx context.Context, key string) (Conversation, error)
	// Case returns the case with id, or ErrNotFound.
	Case(ctx context.Context, id string) (Case, error)
	// Cases returns every case, oldest first. It reads the whole history:
	// for the command line and tests; serve's paths use CaseIndex.
	Cases(ctx context.Context) ([]Case, error)
	// Audit returns a case's history, oldest first (empty if none).
	Audit(ctx context.Context, caseID string) ([]AuditEvent, error)
	// NewCaseID returns an id no other case has, short enough for an agent
	// to type.
	NewCaseID(ctx context.Context) (string, error)
	// Commit writes t atomically. It returns ErrDuplicate, writing nothing,
	// when t.MessageID was committed before.
	Commit(ctx context.Context, t Turn) error
	// Processed reports whether a message with this id was committed.
	Processed(ctx context.Context, messageID string) (bool, error)
	// SetWABA sets the destination WABA of a case, with an audit entry
	// naming the actor. It returns ErrNotFound for an unknown case.
	SetWABA(ctx context.Context, caseID, waba, actor string) error
}

// CaseQuery selects one page of cases, newest first. The stores answer it
// from an index of cases by state, so a page costs what it holds, not what
// the store has kept over the years.
type CaseQuery struct {
	// States keeps the cases in one of these states; empty keeps every case.
	States []fsm.State
	// Before, when set, is the Next of the previous page: the page starts
	// with the newest case opened before it.
	Before string
	// Limit is the most cases the page holds (at least 1).
	Limit int
}

// CasePage is one page of cases, newest first.
type CasePage struct {
	Cases []Case
	// Next is the Before of the following page; empty when there is none.
	Next string
}

// CaseIndex is what the bot and the agents read of the cases without
// reading every case: the stores keep indexes by state, by number and by
// closing time, written in the transaction of every case write, and counts
// by state beside them.
type CaseIndex interface {
	// ListCases returns one page of the cases q selects, newest first.
	ListCases(ctx context.Context, q CaseQuery) (CasePage, error)
	// CasesByNumber returns, oldest first, the cases whose ported number
	// (Phone), client's WhatsApp number (ClientPhone) or client key (a
	// number or a business-scoped user id) is id. A number may be given with
	// or without its "+".
	CasesByNumber(ctx context.Context, id string) ([]Case, error)
	// CaseCounts returns how many cases are in each state; states without
	// a case are absent.
	CaseCounts(ctx context.Context) (map[fsm.State]int, error)
	// CasesClosedSince returns the cases whose Closed is at or after since,
	// in the order they closed.
	CasesClosedSince(ctx context.Context, since time.Time) ([]Case, error)
}

// NumberKey is how the stores index a number or a client id: a phone
// number by its digits, with or without "+", and anything else (a BSUID)
// as it is.
func NumberKey(id string) string {
	if d := strings.TrimPrefix(id, "+"); d != "" && strings.Trim(d, "0123456789") == "" {
		return d
	}
	return id
}

// CaseNumbers are the keys under which a store indexes c for CasesByNumber,
// without repeats.
func CaseNumbers(c *Case) []string {
	var keys []string
	for _, id := range []string{c.Phone, c.ClientPhone, c.Client} {
		if k := NumberKey(id); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}
