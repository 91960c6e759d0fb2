package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"portabot/bot"
)

// caseStore finds the case a notice is about.
type caseStore interface {
	Case(ctx context.Context, id string) (bot.Case, error)
}

// NoticeDispatcher delivers queued notices to agents, retrying with backoff
// while Slack is unreachable: notices wait in the store, the clients'
// conversations never wait for Slack.
type NoticeDispatcher struct {
	notices  bot.Notices
	store    caseStore
	notifier bot.Notifier
	log      *slog.Logger
	now      func() time.Time
	cfg      NoticeConfig

	wake chan struct{}
}

// NoticeConfig configures a NoticeDispatcher; DefaultNoticeConfig holds
// the values serve starts from.
type NoticeConfig struct {
	// MaxAttempts before a notice is given up; Backoff doubles per attempt
	// up to MaxBackoff.
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// OnNotify, when set, is told what became of each attempt to notify
	// agents: "sent", "retry" (Slack refused, it will be tried again) or
	// "failed" (given up). A Slack outage delays agents without touching
	// clients, so only a count outside shows it. It must not block.
	OnNotify func(outcome string)
}

// DefaultNoticeConfig tries a notice 50 times, 2 s apart at first and at
// most 5 minutes.
func DefaultNoticeConfig() NoticeConfig {
	return NoticeConfig{MaxAttempts: 50, Backoff: 2 * time.Second, MaxBackoff: 5 * time.Minute}
}

// NewNoticeDispatcher returns a dispatcher of notices to notifier.
func NewNoticeDispatcher(b *bot.Bot, notices bot.Notices, notifier bot.Notifier, cfg NoticeConfig) *NoticeDispatcher {
	return &NoticeDispatcher{notices: notices, store: b, notifier: notifier, log: b.Logger(), now: b.Now, cfg: cfg,
		wake: make(chan struct{}, 1)}
}

// Notify wakes the dispatcher.
func (d *NoticeDispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; a panic restarts it (see GuardLoop).
func (d *NoticeDispatcher) Run(ctx context.Context) {
	bot.GuardLoop(ctx, "notice dispatcher", d.log, d.run)
}

func (d *NoticeDispatcher) run(ctx context.Context) {
	for ctx.Err() == nil {
		rows, release, err := d.notices.ClaimNotices(ctx, d.now(), 8)
		if err != nil || len(rows) == 0 {
			if err != nil && ctx.Err() == nil {
				d.log.Error("claim notices", "error", err)
			}
			if release != nil {
				release()
			}
			d.idle(ctx)
			continue
		}
		var wg sync.WaitGroup
		for _, n := range rows {
			wg.Go(func() { bot.Recovered("notice sender", d.log, func() { d.deliver(context.WithoutCancel(ctx), n) }) })
		}
		wg.Wait()
		release()
	}
}

func (d *NoticeDispatcher) idle(ctx context.Context) { idle(ctx, d.wake) }

func (d *NoticeDispatcher) deliver(ctx context.Context, n bot.Notice) {
	c, err := d.store.Case(ctx, n.CaseID)
	if err != nil {
		d.log.Error("notice for unknown case", "case", n.CaseID, "error", err)
		n.State = bot.OutboundFailed
		n.Error = err.Error()
		d.mark(ctx, n)
		d.report("failed")
		return
	}
	n.Attempts++
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	thread, err := d.notifier.Notify(sctx, c, n)
	cancel()
	if err != nil {
		n.Error = err.Error()
		if n.Attempts >= d.cfg.MaxAttempts {
			n.State = bot.OutboundFailed
			d.report("failed")
		} else {
			n.NextAttempt = d.now().Add(backoff(d.cfg.Backoff, d.cfg.MaxBackoff, n.Attempts))
			d.report("retry")
		}
		d.log.Warn("notify agents", "case", n.CaseID, "attempt", n.Attempts, "error", err)
		d.mark(ctx, n)
		return
	}
	if c.Thread == "" && thread != "" {
		if err := d.notices.SetThread(ctx, c.ID, thread); err != nil {
			d.log.Error("store case thread", "case", c.ID, "error", err)
		}
	}
	n.State, n.Error = bot.OutboundSent, ""
	d.mark(ctx, n)
	d.report("sent")
}

// report passes a notice's outcome to OnNotify, if set.
func (d *NoticeDispatcher) report(outcome string) {
	if d.cfg.OnNotify != nil {
		d.cfg.OnNotify(outcome)
	}
}

func (d *NoticeDispatcher) mark(ctx context.Context, n bot.Notice) {
	if err := d.notices.MarkNotice(ctx, n); err != nil {
		d.log.Error("mark notice", "case", n.CaseID, "error", err)
	}
}
