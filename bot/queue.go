package bot

import (
	"context"
	"time"
)

// The serve path is durable end to end: a webhook is acknowledged only once
// its messages are in the inbox, and a reply is sent only once the state
// that produced it is stored (the outbox row is written in the same
// transaction as the state).

// Outbound is a reply waiting in, or sent from, the outbox.
type Outbound struct {
	// ID is assigned by the store; IDs of one client sort in the order the
	// replies were written.
	ID    string
	To    string
	Reply Reply
	// InReplyTo is the inbound message the reply answers: marked read
	// before the reply goes out.
	InReplyTo string
	// LastInbound is when the client last wrote, when the reply was made:
	// free-form replies are allowed only within 24 hours of it.
	LastInbound time.Time
	Created     time.Time
	// Attempts counts sends tried; NextAttempt is when the next may start.
	Attempts    int
	NextAttempt time.Time
	State       OutboundState
	// MetaID is Meta's id of the first message sent for the row; Status the
	// latest status Meta reported for it (sent, delivered, read, failed).
	MetaID string
	Status string
	Error  string
}

// OutboundState is where an outbox row stands.
type OutboundState string

// Outbox row states.
const (
	OutboundPending OutboundState = "pending"
	OutboundSent    OutboundState = "sent"
	// OutboundParked rows were not sent because the client's 24-hour window
	// had closed: only a template could reach them now.
	OutboundParked OutboundState = "parked"
	// OutboundFailed rows were refused by Meta for good.
	OutboundFailed OutboundState = "failed"
)

// CustomerWindow is how long after a client's last message free-form
// replies may be sent.
const CustomerWindow = 24 * time.Hour

// Inbox is the durable queue of inbound messages.
type Inbox interface {
	// Enqueue stores msgs in one transaction, skipping any whose ID is
	// already in the inbox or was processed, and returns how many were new.
	Enqueue(ctx context.Context, msgs []Inbound) (int, error)
	// Claim returns the waiting messages of one conversation that no other
	// worker holds, oldest first, and holds that conversation until release
	// is called. ok is false when no conversation is waiting.
	Claim(ctx context.Context) (key string, msgs []Inbound, release func(), ok bool, err error)
}

// Outbox is the durable queue of replies.
type Outbox interface {
	// ClaimOutbound returns up to n rows due at now: for each client only
	// its oldest pending row, so a client's replies go out in order. The
	// rows are held until MarkOutbound settles them or release is called.
	ClaimOutbound(ctx context.Context, now time.Time, n int) (rows []Outbound, release func(), err error)
	// MarkOutbound stores a row's new state after a send attempt.
	MarkOutbound(ctx context.Context, row Outbound) error
	// OutboundStatus records a status Meta reported for the message with
	// metaID. It returns ErrNotFound when no row sent that message.
	OutboundStatus(ctx context.Context, metaID, status, detail string) error
}

// Sender delivers replies to WhatsApp.
type Sender interface {
	// Send delivers reply to the client and returns Meta's message id. A
	// *GraphError with RetryAfter, or ErrUnavailable, means try again later.
	Send(ctx context.Context, to string, reply Reply) (string, error)
	// MarkRead marks an inbound message read.
	MarkRead(ctx context.Context, messageID string) error
}
