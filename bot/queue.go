package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	ID string
	// To is the key of the client's conversation: it orders the client's
	// replies and names them to the engine.
	To string
	// Phone is the number the reply goes to, in digits; UserID the BSUID it
	// goes to when the number is not known (see Address).
	Phone  string `json:",omitempty"`
	UserID string `json:",omitempty"`
	// Reply is what the row sends. The store drops it once the row is
	// sent: nothing sends a sent row again, and statuses need only the
	// fields below, so a sent row reads back with an empty Reply.
	Reply Reply `json:",omitzero"`
	// InReplyTo is the inbound message the reply answers: marked read
	// before the reply goes out.
	InReplyTo string `json:",omitempty"`
	// LastInbound is when the client last wrote, when the reply was made:
	// free-form replies are allowed only within 24 hours of it.
	LastInbound time.Time `json:",omitzero"`
	Created     time.Time
	// Attempts counts sends tried; NextAttempt is when the next may start.
	Attempts    int       `json:",omitempty"`
	NextAttempt time.Time `json:",omitzero"`
	// Sending is when the attempt now in doubt began: it is stored before
	// the request goes to Meta and cleared once Meta answered it. A row
	// still pending with Sending set was being sent when the process
	// stopped, or got no answer (a timeout, a connection reset): Meta may
	// have accepted it. A status webhook carrying the row's reference
	// settles it; only after Dispatcher.Grace without one is it sent again.
	Sending time.Time `json:",omitzero"`
	// PartsSent counts the messages of a reply sent as several that Meta
	// accepted, in order: a later attempt starts after them.
	PartsSent int `json:",omitempty"`
	State     OutboundState
	// MetaID is Meta's id of the first message sent for the row; Status the
	// latest status Meta reported for it (sent, delivered, read, failed).
	MetaID string `json:",omitempty"`
	Status string `json:",omitempty"`
	Error  string `json:",omitempty"`
}

// Address is where the row goes: the phone number when known, else the
// BSUID. Rows written before BSUIDs name the number in To alone.
func (o Outbound) Address() (phone, userID string) {
	switch {
	case o.Phone != "":
		return o.Phone, ""
	case o.UserID != "":
		return "", o.UserID
	case IsPhoneID(strings.TrimPrefix(o.To, "+")):
		return o.To, ""
	}
	return "", o.To
}

// InDoubt reports whether the row's last attempt may have reached Meta
// without its outcome being known.
func (o Outbound) InDoubt() bool { return o.State == OutboundPending && !o.Sending.IsZero() }

// ErrAlreadySent is matched by the error an Outbox returns when asked to
// mark a row that is already sent as anything else: a status from Meta
// settled it while the attempt that sent it was still out.
var ErrAlreadySent = errors.New("the reply was sent already")

// Receipt is a status Meta reported, through a webhook, for a message the
// bot sent.
type Receipt struct {
	// MetaID is Meta's id of the message (wamid).
	MetaID string
	// Status is sent, delivered, read, failed (or played).
	Status string
	// Detail explains a failure.
	Detail string
	// Recipient is the client's WhatsApp id, digits; empty when Meta did
	// not say.
	Recipient string
	// Ref is the message's biz_opaque_callback_data as Meta echoed it: the
	// OutboundRef the sender gave it, or "" (a message sent by another
	// system on the same number, or before references existed).
	Ref string
}

// statusRank orders the statuses Meta reports for a message that reached
// the phone. Meta may deliver the webhooks out of order; a late "delivered"
// must not overwrite "read".
var statusRank = map[string]int{"sent": 1, "delivered": 2, "read": 3}

// WithReceipt is row after Meta's status r for the part-th of its parts
// messages (parts 0 when r names the row by Meta's id alone), and whether
// that changes anything. Every store applies statuses through it, so the
// rules are the same whichever store serve runs on: any status proves Meta
// accepted its part; the last part settles the row as sent; the status is
// kept for the row's first message only, and never goes back down.
func (row Outbound) WithReceipt(r Receipt, part, parts int) (Outbound, bool) {
	next := row
	if parts > 0 && row.State != OutboundSent {
		next.PartsSent = max(next.PartsSent, part)
		if part == 1 && next.MetaID == "" {
			next.MetaID = r.MetaID
		}
		if part == parts {
			next.State, next.Sending, next.Error = OutboundSent, time.Time{}, ""
		}
	}
	if r.MetaID != "" && r.MetaID == next.MetaID &&
		!(statusRank[r.Status] > 0 && statusRank[r.Status] < statusRank[next.Status]) {
		next.Status = r.Status
		if r.Status == "failed" {
			next.Error = r.Detail
		}
	}
	changed := next.State != row.State || next.PartsSent != row.PartsSent || next.MetaID != row.MetaID ||
		next.Status != row.Status || next.Error != row.Error
	return next, changed
}

// refPrefix starts every outbox reference, so that callback data another
// system set on the same number is never taken for one.
const refPrefix = "pb1:"

// OutboundRef is the reference carried by the part-th of the parts
// messages (counted from 1) that send outbox row id: Meta echoes it in the
// message's status webhooks (biz_opaque_callback_data), which is how a
// status names the row even when its send never returned Meta's id.
func OutboundRef(id string, part, parts int) string {
	return fmt.Sprintf("%s%s:%d/%d", refPrefix, id, part, parts)
}

// ParseOutboundRef reads a reference made by OutboundRef; ok is false for
// anything else.
func ParseOutboundRef(ref string) (id string, part, parts int, ok bool) {
	rest, found := strings.CutPrefix(ref, refPrefix)
	if !found {
		return "", 0, 0, false
	}
	id, nums, found := strings.Cut(rest, ":")
	if !found || id == "" {
		return "", 0, 0, false
	}
	a, b, found := strings.Cut(nums, "/")
	if !found {
		return "", 0, 0, false
	}
	part, err1 := strconv.Atoi(a)
	parts, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || part < 1 || part > parts || parts > 1000 {
		return "", 0, 0, false
	}
	return id, part, parts, true
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
	// MarkSending stores a claimed pending row with its Attempts and
	// Sending set, durably, before the attempt's request goes to Meta. The
	// claim's hold on the row stays.
	MarkSending(ctx context.Context, row Outbound) error
	// MarkOutbound stores a row's new state after a send attempt. Marking
	// a row that is sent already as anything else fails with an error
	// matching ErrAlreadySent. A row marked sent is stored without its
	// Reply.
	MarkOutbound(ctx context.Context, row Outbound) error
	// OutboundStatus records a status Meta reported. The row is the one
	// r.Ref names, else the one that sent r.MetaID; it returns ErrNotFound
	// when there is none. A status for any message of a row not yet marked
	// sent proves Meta accepted that message: the last of the row's
	// messages settles the row as sent, an earlier one counts in PartsSent.
	OutboundStatus(ctx context.Context, r Receipt) error
}

// Sender delivers replies to WhatsApp.
type Sender interface {
	// Send delivers row.Reply to row.To, starting after the row.PartsSent
	// messages Meta accepted before, and tags every message with its
	// OutboundRef. Errors are *GraphError when Meta answered, and wrap
	// ErrUnavailable when it could not take the message now (429, 5xx) or
	// gave no answer; a *GraphError with RetryAfter says when to come back.
	// The result counts the parts accepted, also on error.
	Send(ctx context.Context, row Outbound) (SendResult, error)
	// MarkRead marks an inbound message read.
	MarkRead(ctx context.Context, messageID string) error
}

// SendResult is what a Send achieved.
type SendResult struct {
	// MetaID is Meta's id of the reply's first message, when this Send
	// sent it.
	MetaID string
	// Parts is how many of the reply's messages Meta has accepted, those
	// of earlier attempts included.
	Parts int
}
