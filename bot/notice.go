package bot

import (
	"context"
	"time"
)

// Notice is a case event worth a human's eye, queued for the agents'
// channel with the turn that caused it, so a Slack outage never blocks or
// loses it.
type Notice struct {
	// ID is assigned by the store, in the order notices were written.
	ID     string
	CaseID string
	Kind   NoticeKind
	// Text is for agents: plain words, the phone masked, no client secrets.
	Text        string
	Created     time.Time
	Attempts    int
	NextAttempt time.Time
	State       OutboundState // pending, sent or failed
	Error       string
}

// NoticeKind says what happened to a case.
type NoticeKind string

// The events agents are told about.
const (
	NoticeStarted       NoticeKind = "started"
	NoticeBlocked       NoticeKind = "blocked"
	NoticeAwaitWABA     NoticeKind = "await_waba"
	NoticeWrongCodes    NoticeKind = "wrong_codes"
	NoticeAgentAsked    NoticeKind = "agent_requested"
	NoticeFailed        NoticeKind = "failed"
	NoticeDone          NoticeKind = "done"
	NoticeCancelled     NoticeKind = "cancelled"
	NoticeClientMessage NoticeKind = "client_message"
	NoticeAgent         NoticeKind = "agent_action"
	NoticeFlagged       NoticeKind = "flagged"
	// NoticeWindow: replies wait for the client to re-open their 24-hour
	// window, or the client is back and they went out.
	NoticeWindow NoticeKind = "window"
	// NoticeMoved: the client changed their number or user id.
	NoticeMoved NoticeKind = "moved"
	// NoticeSignup: the client finished, stopped or failed Embedded Signup.
	NoticeSignup NoticeKind = "signup"
	// NoticePreflight: the report of the reads made before adding the
	// number, and whether the port stopped there.
	NoticePreflight NoticeKind = "preflight"
)

// Notices is the durable queue of notices.
type Notices interface {
	// ClaimNotices returns up to n pending notices due at now, for each case
	// only its oldest, so a case's thread reads in order. They are held
	// until MarkNotice settles them or release is called.
	ClaimNotices(ctx context.Context, now time.Time, n int) (rows []Notice, release func(), err error)
	// MarkNotice stores a notice's new state after a delivery attempt.
	MarkNotice(ctx context.Context, n Notice) error
	// SetThread records the agents' thread of a case (Slack's message ts).
	SetThread(ctx context.Context, caseID, thread string) error
}

// Notifier tells agents about a case.
type Notifier interface {
	// Notify posts n for c: in the case's thread when c.Thread is set, else
	// as the case's first message, whose thread id it returns.
	Notify(ctx context.Context, c Case, n Notice) (thread string, err error)
}
