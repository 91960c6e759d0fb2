package bot

import (
	"context"
	"errors"
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
	// Conversation returns the conversation whose Key is key, or whose
	// client's current Phone or UserID is key, or ErrNotFound. Commit keeps
	// the ids current: a client is found by either id Meta names them by.
	Conversation(ctx context.Context, key string) (Conversation, error)
	// Case returns the case with id, or ErrNotFound.
	Case(ctx context.Context, id string) (Case, error)
	// Cases returns every case, oldest first.
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
