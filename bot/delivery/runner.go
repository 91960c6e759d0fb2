package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"portabot/bot"
)

// turnTimeout bounds one message's processing, Graph calls included; a
// shutdown lets the turn in progress finish within it.
const turnTimeout = 2 * time.Minute

// idlePoll is how often idle workers look for work they were not woken for
// (messages left by a previous process, a lease that expired).
const idlePoll = 200 * time.Millisecond

// idle waits for a wake-up, the next poll or the end of ctx.
func idle(ctx context.Context, wake <-chan struct{}) {
	t := time.NewTimer(idlePoll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}

// Runner takes messages from the inbox and runs them through the engine:
// each conversation strictly in order, different conversations in parallel
// on a bounded number of workers.
type Runner struct {
	bot   *bot.Bot
	inbox bot.Inbox
	cfg   RunnerConfig
	log   *slog.Logger
	wake  chan struct{}
	beat  atomic.Int64 // unix nanos of the last loop, for readiness

	arrived atomic.Int64 // unix nanos of the last webhook
	burst   atomic.Int64 // unix nanos of the first webhook of the burst

	limMu    sync.Mutex // protects limiters and sweepAt
	limiters map[string]*clientLimit
	sweepAt  int // the size of limiters that starts the next sweep
}

// RunnerConfig configures a Runner; DefaultRunnerConfig holds the values
// serve starts from.
type RunnerConfig struct {
	// Workers is how many conversations are handled at once (at least 1).
	Workers int
	// OnProcessed is called after a conversation's messages were handled,
	// so the dispatcher can send the new outbox rows at once.
	OnProcessed func()
	// OnTurn, when set, is told how long each message's turn took and
	// whether it failed, so latency and errors can be watched from outside
	// without the bot knowing how they are exported. It must not block.
	OnTurn func(d time.Duration, err error)
	// Rate and Burst limit how fast one client's messages are processed.
	// A flood waits in the inbox, costs nothing but storage, and leaves
	// the workers to other clients. A zero Rate sets no limit.
	Rate  rate.Limit
	Burst int
	// Quiet and MaxDefer give acknowledgements the machine during a burst
	// of webhooks: workers start no turn until no webhook arrived for
	// Quiet, and wait so for at most MaxDefer since the burst began. An
	// acknowledgement Meta waits for is worth more than a reply a moment
	// sooner: a slow webhook endpoint is retried, then disabled, while a
	// reply late by a second goes unnoticed. The bound keeps a burst that
	// never pauses from starving the clients. MaxDefer zero turns it off.
	Quiet    time.Duration
	MaxDefer time.Duration
}

// DefaultRunnerConfig is one worker, two messages a second per client in
// bursts of ten, and DefaultQuiet and DefaultMaxDefer.
func DefaultRunnerConfig() RunnerConfig {
	return RunnerConfig{Workers: 1, Rate: rate.Every(500 * time.Millisecond), Burst: 10, Quiet: DefaultQuiet, MaxDefer: DefaultMaxDefer}
}

type clientLimit struct {
	lim *rate.Limiter
	// warned is set once the client was told to slow down, until its
	// backlog empties; a sweep reads it while a worker may write it.
	warned atomic.Bool
}

// minSweep is the fewest limiters worth a sweep.
const minSweep = 1024

// limiter returns the client's limiter, creating it on first use.
//
// A limiter whose bucket has refilled is the same as a new one, so it is
// forgotten when the map grows: a BSP's clients write now and then, and
// keeping one per client ever seen would grow with every new number. The
// sweep runs when the map has doubled since the last one, so its cost is
// spread over the clients added meanwhile.
func (r *Runner) limiter(key string, now time.Time) *clientLimit {
	r.limMu.Lock()
	defer r.limMu.Unlock()
	if r.limiters == nil {
		r.limiters = map[string]*clientLimit{}
	}
	if len(r.limiters) >= max(r.sweepAt, minSweep) {
		for k, l := range r.limiters {
			if !l.warned.Load() && l.lim.TokensAt(now) >= float64(l.lim.Burst()) {
				delete(r.limiters, k)
			}
		}
		r.sweepAt = 2 * len(r.limiters)
	}
	l := r.limiters[key]
	if l == nil {
		l = &clientLimit{lim: rate.NewLimiter(r.cfg.Rate, r.cfg.Burst)}
		r.limiters[key] = l
	}
	return l
}

// NewRunner returns a runner configured by cfg.
func NewRunner(b *bot.Bot, inbox bot.Inbox, cfg RunnerConfig) *Runner {
	cfg.Workers = max(cfg.Workers, 1)
	return &Runner{bot: b, inbox: inbox, cfg: cfg, log: b.Logger(), wake: make(chan struct{}, cfg.Workers)}
}

// DefaultQuiet and DefaultMaxDefer are RunnerConfig.Quiet and
// RunnerConfig.MaxDefer unless set otherwise. A pause of a few milliseconds between webhooks
// means the burst is over; a second and a half is the most a reply waits
// for one to end.
const (
	DefaultQuiet    = 15 * time.Millisecond
	DefaultMaxDefer = 1500 * time.Millisecond
)

// Arriving tells the runner a webhook is being taken in, before it is
// acknowledged, so that turns wait for the burst to pause (see Quiet).
func (r *Runner) Arriving(now time.Time) {
	n := now.UnixNano()
	if last := r.arrived.Swap(n); n-last > int64(r.cfg.Quiet) {
		r.burst.Store(n)
	}
}

// deferTurns waits while webhooks keep arriving, at most until MaxDefer
// since their burst began, or ctx ends.
func (r *Runner) deferTurns(ctx context.Context) {
	if r.cfg.MaxDefer <= 0 {
		return
	}
	for ctx.Err() == nil {
		last, began := r.arrived.Load(), r.burst.Load()
		now := time.Now().UnixNano()
		until := min(last+int64(r.cfg.Quiet), began+int64(r.cfg.MaxDefer))
		if now >= until {
			return
		}
		t := time.NewTimer(time.Duration(until - now))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// Notify tells idle workers that messages are waiting. It wakes one: a
// worker that finds work wakes the next before it starts (see work), so as
// many wake as there are conversations waiting, and a webhook that brings
// one message does not send every idle worker to look for it.
func (r *Runner) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Alive reports whether the workers looped recently.
func (r *Runner) Alive(now time.Time) bool {
	return now.Sub(time.Unix(0, r.beat.Load())) < 5*idlePoll+turnTimeout
}

// Run works until ctx ends, then lets the turns in progress finish.
func (r *Runner) Run(ctx context.Context) {
	r.beat.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() { bot.GuardLoop(ctx, "runner worker", r.log, r.work) })
	}
	wg.Wait()
}

func (r *Runner) work(ctx context.Context) {
	for ctx.Err() == nil {
		r.beat.Store(time.Now().UnixNano())
		r.deferTurns(ctx)
		key, msgs, release, ok, err := r.inbox.Claim(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("claim inbox", "error", err)
			}
			r.idle(ctx)
			continue
		}
		if !ok {
			r.idle(ctx)
			continue
		}
		r.Notify()
		// Released even if the turn panics: the client's next messages
		// must not wait for ever behind a claim nobody holds.
		throttled := func() bool { defer release(); return r.process(ctx, key, msgs) }()
		if r.cfg.OnProcessed != nil {
			r.cfg.OnProcessed()
		}
		if throttled {
			// Claim would hand the same client back at once if it is the
			// only one waiting; pause this worker instead of spinning.
			r.idle(ctx)
		}
	}
}

func (r *Runner) idle(ctx context.Context) { idle(ctx, r.wake) }

// process handles one conversation's waiting messages in order. A message
// that fails stays in the inbox, and so do the ones after it, so order
// holds when it is tried again. It reports whether the worker should pause:
// the client's rate limit stopped it, or a turn failed (the store refused
// it, a full disk say), and claiming the same messages again at once would
// spin. Only a turn that happened is charged to the client's rate: turns
// the store refused are not the client's doing, and charging them would
// answer a patient client with a slow-down notice once the disk has room.
func (r *Runner) process(ctx context.Context, key string, msgs []bot.Inbound) bool {
	l := r.limiter(key, time.Now())
	for _, m := range msgs {
		if ctx.Err() != nil {
			return false
		}
		if r.cfg.Rate > 0 && l.lim.Tokens() < 1 {
			if !l.warned.Swap(true) {
				if err := r.bot.SlowDown(ctx, key); err != nil {
					r.log.Error("slow down reply", "client", bot.MaskPhone(key), "error", err)
				}
			}
			return true
		}
		// The turn runs to its end even if shutdown starts meanwhile: a
		// Graph call half-made is worse than a shutdown a moment later.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), turnTimeout)
		began := time.Now()
		_, err := r.bot.Handle(tctx, m)
		cancel()
		if r.cfg.OnTurn != nil {
			r.cfg.OnTurn(time.Since(began), err)
		}
		if err != nil {
			r.log.Error("process message", "client", bot.MaskPhone(key), "wa_message_id", m.ID, "error", err)
			return true
		}
		if r.cfg.Rate > 0 {
			l.lim.Allow()
		}
	}
	l.warned.Store(false)
	return false
}

// Dispatcher sends outbox rows through a Sender: retries what Meta could
// not take now, parks what the 24-hour window no longer allows, never sends
// a row again once Meta accepted it.
//
// Exactly once, as far as Meta lets anyone know: before each attempt the
// row is stored with Sending set, and every message carries the row's
// reference (OutboundRef), which Meta echoes in its status webhooks. When
// the attempt ends without Meta's answer (the process stopped, the request
// timed out, the connection broke) the row stays in doubt: Meta may have
// the message. A status naming the row settles it as sent (see
// Outbox.OutboundStatus) and it is never sent again. Only if no status came
// within Grace of the attempt, and of the last moment statuses could not be
// stored (the dispatcher's start, its last write the store refused), is the
// row sent again: at least once is the last resort, since a reply lost for
// good is worse than one received twice.
//
// What Meta accepted is known before it is stored: when the store cannot
// record it (a full disk), the Meta id and the parts sent stay in memory,
// the write is tried again with backoff, and until it succeeds the row is
// never sent again by this process, however often it is claimed. If the
// process stops first, the stored row is in doubt and Meta's status settles
// it, as above.
type Dispatcher struct {
	bot    *bot.Bot
	outbox bot.Outbox
	sender bot.Sender
	cfg    DispatcherConfig
	log    *slog.Logger

	wake chan struct{}
	beat atomic.Int64

	mu   sync.Mutex // protects read and accepted
	read map[string]bool
	// accepted is what Meta accepted of rows the store could not record
	// yet, by row ID.
	accepted map[string]acceptedRow
	// settleFrom (Unix ns) is when statuses could last begin to be
	// stored: the dispatcher's start, or its last write the store refused
	// for a row Meta had taken nothing of (a row it took part of keeps
	// its own clock: what is left of it is due after the grace).
	// A row in doubt waits Grace from then, not only from its attempt:
	// Meta's statuses for it may have been refused meanwhile (serve down,
	// the disk full), and Meta posts them again only after a while.
	settleFrom atomic.Int64
}

// DispatcherConfig configures a Dispatcher; DefaultDispatcherConfig holds
// the values serve starts from.
type DispatcherConfig struct {
	// Parallel is how many clients are sent to at once.
	Parallel int
	// MaxAttempts before a row is given up as failed.
	MaxAttempts int
	// Backoff is the first retry's wait; it doubles per attempt up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Grace is how long a row in doubt waits for a status from Meta before
	// it is sent again. Meta posts the "sent" status within seconds of
	// taking a message, and keeps posting it until the webhook answers, so
	// the grace only has to outlast a restart and a short outage.
	Grace time.Duration
	// RecordAttempts bounds the writes tried, RecordBackoff apart and
	// doubling, to store what Meta accepted before the row is let go; a
	// later claim of the row tries again. They are bounded because the
	// slot and the client's queue wait meanwhile, and the row is safe in
	// memory anyway.
	RecordAttempts int
	RecordBackoff  time.Duration
	// OnSend, when set, is told what became of each delivery attempt:
	// "sent", "retry" (it will be tried again), "parked" (outside the
	// customer window), "failed" (given up) or "unflagged" (given up, and
	// the store refused the flag that tells agents so). Retries and parked rows are
	// invisible to the client until they add up, so they are counted
	// outside. It must not block.
	OnSend func(outcome string)
}

// DefaultDispatcherConfig has sensible limits.
func DefaultDispatcherConfig() DispatcherConfig {
	return DispatcherConfig{Parallel: 8, MaxAttempts: 8, Backoff: time.Second, MaxBackoff: 5 * time.Minute,
		Grace: DefaultGrace, RecordAttempts: 5, RecordBackoff: 100 * time.Millisecond}
}

// DefaultGrace is DispatcherConfig.Grace unless set otherwise.
const DefaultGrace = 2 * time.Minute

// sendTimeout bounds one attempt, every part of a reply included.
const sendTimeout = 30 * time.Second

// NewDispatcher returns a dispatcher configured by cfg.
func NewDispatcher(b *bot.Bot, outbox bot.Outbox, sender bot.Sender, cfg DispatcherConfig) *Dispatcher {
	return &Dispatcher{bot: b, outbox: outbox, sender: sender, cfg: cfg, log: b.Logger(),
		wake: make(chan struct{}, 1), read: map[string]bool{}, accepted: map[string]acceptedRow{}}
}

// acceptedRow is what Meta accepted of a row: its first message's id, how
// many of its messages, and whether all of them.
type acceptedRow struct {
	metaID string
	parts  int
	sent   bool
}

// Notify tells the dispatcher that rows are waiting.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Alive reports whether the dispatcher looped recently.
func (d *Dispatcher) Alive(now time.Time) bool {
	return now.Sub(time.Unix(0, d.beat.Load())) < 5*idlePoll+turnTimeout
}

// Run sends until ctx ends; sends in progress finish. A panic restarts it
// (see GuardLoop).
func (d *Dispatcher) Run(ctx context.Context) { bot.GuardLoop(ctx, "reply dispatcher", d.log, d.run) }

// run sends until ctx ends; sends in progress finish.
//
// Up to Parallel sends are out at once, and a free slot is filled as soon as
// it frees: a batch claimed together is not waited for as a whole, so one
// slow answer from Meta holds up only its own slot, and the commits that
// record attempts and their outcomes overlap with the sends of other rows.
func (d *Dispatcher) run(ctx context.Context) {
	parallel := max(d.cfg.Parallel, 1)
	slots := make(chan struct{}, parallel)
	freed := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	var stalled atomic.Bool
	d.settleFrom.Store(d.bot.Now().UnixNano())
	for ctx.Err() == nil {
		d.beat.Store(time.Now().UnixNano())
		if stalled.Swap(false) {
			// The store refused to record an attempt: the rows are due
			// still, and claiming them again at once would spin.
			d.idle(ctx)
			continue
		}
		free := parallel - len(slots)
		if free == 0 {
			select {
			case <-ctx.Done():
			case <-freed:
			}
			continue
		}
		rows, release, err := d.outbox.ClaimOutbound(ctx, d.bot.Now(), free)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("claim outbox", "error", err)
			}
			d.idle(ctx)
			continue
		}
		if len(rows) == 0 {
			release()
			// A send that ends may make its client's next reply due, or
			// free the hold that kept a row from this claim.
			t := time.NewTimer(idlePoll)
			select {
			case <-ctx.Done():
			case <-freed:
			case <-d.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		var batch sync.WaitGroup
		for _, row := range rows {
			slots <- struct{}{}
			batch.Go(func() {
				defer func() {
					<-slots
					select {
					case freed <- struct{}{}:
					default:
					}
				}()
				ok := false
				if bot.Recovered("reply sender", d.log, func() { ok = d.deliver(context.WithoutCancel(ctx), row) }) || !ok {
					stalled.Store(true)
				}
			})
		}
		wg.Go(func() {
			batch.Wait()
			release()
		})
	}
}

func (d *Dispatcher) idle(ctx context.Context) { idle(ctx, d.wake) }

// deliver makes one attempt at row. It returns false when the store refused
// a write: the one that records the attempt (which was then not made), or
// the one that records its outcome (what Meta accepted is then in memory).
// Either way the rows are due still, and claiming them again at once would
// spin.
func (d *Dispatcher) deliver(ctx context.Context, row bot.Outbound) bool {
	now := d.bot.Now()
	if a, ok := d.acceptedOf(row.ID); ok {
		// The store missed what Meta accepted: the claimed row is older
		// than the truth, and sending it as it reads would repeat what
		// the client has.
		if row.MetaID == "" {
			row.MetaID = a.metaID
		}
		row.PartsSent = max(row.PartsSent, a.parts)
		if a.sent {
			row.State, row.Error, row.Sending = bot.OutboundSent, "", time.Time{}
			return d.mark(ctx, row)
		}
	}
	if row.InDoubt() {
		from := row.Sending
		if s := time.Unix(0, d.settleFrom.Load()); s.After(from) {
			from = s
		}
		if due := from.Add(d.cfg.Grace); now.Before(due) {
			// Meta may have the message, and its status will say so;
			// sending now could reach the client twice.
			d.log.Info("reply in doubt: its send was cut off; waiting for Meta's status",
				"client", bot.MaskPhone(row.To), "row", row.ID, "until", due)
			row.NextAttempt = due
			return d.mark(ctx, row)
		}
		d.log.Warn("sending a reply again: Meta reported no status for the attempt in doubt",
			"client", bot.MaskPhone(row.To), "row", row.ID, "attempt_began", row.Sending)
	}
	if row.Reply.Template == nil && !row.LastInbound.IsZero() && now.Sub(row.LastInbound) > bot.CustomerWindow {
		// Meta would refuse it (131047): only a template reaches the
		// client now, and the reply waits for their answer to it.
		d.park(ctx, row, "outside the 24-hour customer service window", false)
		return true
	}
	if row.InReplyTo != "" && d.firstRead(row.InReplyTo) {
		if err := d.sender.MarkRead(ctx, row.InReplyTo); err != nil {
			d.log.Debug("mark read", "wa_message_id", row.InReplyTo, "error", err)
		}
	}
	row.Attempts++
	row.Sending = now
	// The attempt is on disk before Meta hears of it: whatever happens to
	// this process from here, a restart knows the reply may be out.
	if err := d.outbox.MarkSending(ctx, row); err != nil {
		if errors.Is(err, bot.ErrAlreadySent) {
			// A status settled the row since it was claimed: Meta has it.
			d.log.Debug("outbox row settled by Meta's status meanwhile", "client", bot.MaskPhone(row.To), "row", row.ID)
			return true
		}
		d.log.Error("record send attempt", "client", bot.MaskPhone(row.To), "row", row.ID, "error", err)
		d.settleFrom.Store(now.UnixNano())
		return false
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	res, err := d.sender.Send(sctx, row)
	cancel()
	if row.MetaID == "" {
		row.MetaID = res.MetaID
	}
	row.PartsSent = max(row.PartsSent, res.Parts)
	if err == nil {
		row.State, row.Error, row.Sending = bot.OutboundSent, "", time.Time{}
		d.report("sent")
		return d.mark(ctx, row)
	}
	if bot.KindOf(err) == bot.KindWindowClosed && row.Reply.Template == nil {
		// Meta's clock said the window closed before ours did: the same
		// as parking it ourselves.
		row.Sending = time.Time{}
		return d.park(ctx, row, err.Error(), true)
	}
	row.Error = err.Error()
	wait, retry := d.retryAfter(err, row.Attempts)
	if _, answered := errors.AsType[*bot.GraphError](err); answered {
		// Meta answered, and did not take the message: nothing is in doubt.
		row.Sending = time.Time{}
	} else {
		// No answer: Meta may have taken the message. Its status gets the
		// grace to say so before the row goes out again.
		wait = max(wait, row.Sending.Add(d.cfg.Grace).Sub(now))
	}
	if retry && row.Attempts < d.cfg.MaxAttempts {
		row.NextAttempt = now.Add(wait)
		d.report("retry")
		return d.mark(ctx, row)
	}
	row.State = bot.OutboundFailed
	recorded := d.mark(ctx, row)
	d.report("failed")
	d.log.Warn("reply failed for good", "client", bot.MaskPhone(row.To), "error", err)
	// Agents learn of the failure only through the flag: when it cannot
	// be stored, the log and the count are what is left to tell them.
	if ferr := d.bot.Flag(ctx, row.To, "a reply could not be delivered: "+err.Error()); ferr != nil {
		if errors.Is(ferr, bot.ErrNotFound) {
			d.log.Info("failed reply not flagged: the client has no case", "client", bot.MaskPhone(row.To), "row", row.ID)
		} else {
			d.log.Error("flag a failed reply for agents", "client", bot.MaskPhone(row.To), "row", row.ID, "error", ferr)
			d.report("unflagged")
		}
	}
	return recorded
}

// park sets row aside until the client re-opens their window, and has the
// engine send them the template that asks them to; metaSaid is Meta's
// 131047, which outweighs the client's last message by our clock.
//
// The template is queued before the row is marked parked, so the client's
// queue never looks empty in between; a client who wrote since the reply
// was made gets it as it is. It reports whether the row's new state is
// stored.
func (d *Dispatcher) park(ctx context.Context, row bot.Outbound, why string, metaSaid bool) bool {
	open, lastSeen, err := d.bot.ParkReply(ctx, row.To, metaSaid)
	if err != nil {
		d.log.Error("re-engage client after their window closed", "client", bot.MaskPhone(row.To), "error", err)
	}
	if err == nil && open {
		row.LastInbound, row.NextAttempt, row.Error = lastSeen, d.bot.Now(), ""
		d.report("retry")
		return d.mark(ctx, row)
	}
	row.State = bot.OutboundParked
	row.Error = why
	recorded := d.mark(ctx, row)
	d.report("parked")
	return recorded
}

// mark stores row after an attempt, and reports whether it is stored (or
// settled by Meta's status meanwhile). When Meta accepted any of the row,
// what it accepted is kept in memory until a write succeeds, and the write
// is tried again, RecordBackoff apart and doubling, up to RecordAttempts
// times: the row must not be sent again for want of a write.
func (d *Dispatcher) mark(ctx context.Context, row bot.Outbound) bool {
	held := row.State == bot.OutboundSent || row.PartsSent > 0
	if held {
		d.accept(row)
	}
	for attempt := 1; ; attempt++ {
		err := d.outbox.MarkOutbound(ctx, row)
		switch {
		case err == nil:
			d.forget(row.ID)
			return true
		case errors.Is(err, bot.ErrAlreadySent):
			// Meta's status for the message came first and settled the
			// row: what this attempt thought of it no longer matters.
			d.log.Debug("outbox row settled by Meta's status meanwhile", "client", bot.MaskPhone(row.To), "row", row.ID)
			d.forget(row.ID)
			return true
		case errors.Is(err, bot.ErrNotFound):
			d.log.Error("mark outbox row", "client", bot.MaskPhone(row.To), "row", row.ID, "error", err)
			d.forget(row.ID)
			return true
		case !held:
			d.log.Error("mark outbox row", "client", bot.MaskPhone(row.To), "row", row.ID, "error", err)
			d.settleFrom.Store(d.bot.Now().UnixNano())
			return false
		case attempt >= max(d.cfg.RecordAttempts, 1):
			d.log.Error("mark outbox row: Meta accepted the reply; it is kept in memory, never sent again, and the write is tried on the next claim",
				"client", bot.MaskPhone(row.To), "row", row.ID, "meta_id", row.MetaID, "parts_sent", row.PartsSent,
				"state", row.State, "attempts", attempt, "error", err)
			return false
		}
		d.log.Warn("mark outbox row: trying again", "client", bot.MaskPhone(row.To), "row", row.ID, "attempt", attempt, "error", err)
		t := time.NewTimer(backoff(d.cfg.RecordBackoff, max(d.cfg.MaxBackoff, d.cfg.RecordBackoff), attempt))
		<-t.C
	}
}

// accept keeps in memory what Meta accepted of row.
func (d *Dispatcher) accept(row bot.Outbound) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.accepted[row.ID]
	if a.metaID == "" {
		a.metaID = row.MetaID
	}
	a.parts = max(a.parts, row.PartsSent)
	a.sent = a.sent || row.State == bot.OutboundSent
	d.accepted[row.ID] = a
}

// acceptedOf returns what Meta accepted of row id that the store may miss.
func (d *Dispatcher) acceptedOf(id string) (acceptedRow, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.accepted[id]
	return a, ok
}

// forget drops what memory held of row id, now that the store has it.
func (d *Dispatcher) forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.accepted, id)
}

// report passes a delivery's outcome to OnSend, if set.
func (d *Dispatcher) report(outcome string) {
	if d.cfg.OnSend != nil {
		d.cfg.OnSend(outcome)
	}
}

// firstRead reports whether messageID has not been marked read yet by this
// process; one receipt per inbound message is enough.
func (d *Dispatcher) firstRead(messageID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.read[messageID] {
		return false
	}
	if len(d.read) > 10_000 {
		d.read = map[string]bool{}
	}
	d.read[messageID] = true
	return true
}

// retryAfter decides whether a failed send is worth another try, and when.
func (d *Dispatcher) retryAfter(err error, attempts int) (time.Duration, bool) {
	wait := backoff(d.cfg.Backoff, d.cfg.MaxBackoff, attempts)
	// Meta's own word on when to come back beats our backoff, and comes
	// wrapped in ErrUnavailable for 429s, so it is read first.
	var ge *bot.GraphError
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		return ge.RetryAfter, true
	}
	// What is worth another try is metaErrors' call, as it is for the
	// engine and the HTTP layer.
	if bot.KindOf(err).Later() {
		return wait, true
	}
	return 0, false
}

// backoff is the wait after the attempts-th failed attempt: first, doubling
// per attempt, at most most (and most when first is not positive).
func backoff(first, most time.Duration, attempts int) time.Duration {
	wait := first << min(max(attempts-1, 0), 16)
	if wait > most || wait <= 0 {
		wait = most
	}
	return wait
}
