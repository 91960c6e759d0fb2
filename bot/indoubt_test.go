package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/internal/eventually"
)

func TestOutboundRef(t *testing.T) {
	ref := bot.OutboundRef("000000000000002a", 2, 3)
	id, part, parts, ok := bot.ParseOutboundRef(ref)
	if !ok || id != "000000000000002a" || part != 2 || parts != 3 {
		t.Errorf("ParseOutboundRef(%q) = %q, %d, %d, %v; want the row, part 2 of 3", ref, id, part, parts, ok)
	}
	for _, bad := range []string{"", "000000000000002a", "campaign-42", "pb1:", "pb1:x", "pb1:x:1", "pb1::1/1",
		"pb1:x:0/1", "pb1:x:2/1", "pb1:x:a/1", "pb1:x:1/b", "pb1:x:1/100000", "PB1:x:1/1"} {
		if _, _, _, ok := bot.ParseOutboundRef(bad); ok {
			t.Errorf("ParseOutboundRef(%q) accepted it", bad)
		}
	}
}

// What Meta does with one message, for fakeMeta.
type metaMove int

const (
	metaTakes   metaMove = iota // accepts it and answers
	metaHangsUp                 // accepts it, but the answer never arrives
	metaLoses                   // never gets it (the request died on the way)
	metaRefuses                 // answers 503
)

// fakeMeta is the messages endpoint as the dispatcher sees it. A reply's
// text split at "|" is its parts, sent one message each.
type fakeMeta struct {
	mu    sync.Mutex
	moves []metaMove // one per message posted; metaTakes after the list
	calls int
	taken []taken
}

type taken struct {
	id, to, text, ref string
}

func (m *fakeMeta) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := strings.Split(row.Reply.Text, "|")
	res := bot.SendResult{Parts: row.PartsSent}
	for i := row.PartsSent; i < len(parts); i++ {
		move := metaTakes
		if m.calls < len(m.moves) {
			move = m.moves[m.calls]
		}
		m.calls++
		if move == metaRefuses {
			return res, fmt.Errorf("send: %w: %w", bot.ErrUnavailable, &bot.GraphError{HTTPStatus: 503, Code: 2, Transient: true})
		}
		if move == metaLoses {
			return res, fmt.Errorf("send: %w: connection reset by peer", bot.ErrUnavailable)
		}
		id := fmt.Sprintf("wamid.fake.%d", len(m.taken)+1)
		m.taken = append(m.taken, taken{id: id, to: row.To, text: parts[i], ref: bot.OutboundRef(row.ID, i+1, len(parts))})
		if move == metaHangsUp {
			return res, fmt.Errorf("send: %w: context deadline exceeded", bot.ErrUnavailable)
		}
		if i == 0 {
			res.MetaID = id
		}
		res.Parts = i + 1
	}
	return res, nil
}

func (m *fakeMeta) MarkRead(ctx context.Context, id string) error { return nil }

func (m *fakeMeta) messages() []taken {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]taken(nil), m.taken...)
}

// statuses posts Meta's "sent" status for every message taken, as the
// webhook would.
func (m *fakeMeta) statuses(t *testing.T, db bot.Outbox) {
	t.Helper()
	for _, msg := range m.messages() {
		if err := db.OutboundStatus(context.Background(), bot.Receipt{MetaID: msg.id, Status: "sent", Recipient: msg.to, Ref: msg.ref}); err != nil {
			t.Fatalf("status of %s: %v", msg.id, err)
		}
	}
}

// dispatcherRig runs a dispatcher over a harness's store on its clock.
type dispatcherRig struct {
	h      *harness
	meta   *fakeMeta
	d      *delivery.Dispatcher
	claims *claimWatch
	stop   func()
}

// claimWatch is the store as the dispatcher sees it, noting each claim of
// the outbox: a claim made at a time and released is a look at the outbox
// whose sends are all done, which is what a test needs to say that nothing
// else went out.
type claimWatch struct {
	bot.Outbox
	mu     sync.Mutex
	open   int       // claims not yet released
	looked time.Time // the latest time a released claim was made at
}

func (w *claimWatch) ClaimOutbound(ctx context.Context, now time.Time, n int) ([]bot.Outbound, func(), error) {
	w.mu.Lock()
	w.open++
	w.mu.Unlock()
	rows, release, err := w.Outbox.ClaimOutbound(ctx, now, n)
	var once sync.Once
	done := func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.open--
			if now.After(w.looked) {
				w.looked = now
			}
		})
	}
	if err != nil {
		done()
		return rows, release, err
	}
	return rows, func() { release(); done() }, nil
}

// lookedAt reports whether a claim made at at or later is released and no
// claim is in progress.
func (w *claimWatch) lookedAt(at time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.open == 0 && !w.looked.Before(at)
}

// newDispatcherRig's Meta is meta alone, so its harness needs no simulator
// and the rig can run in a synctest bubble.
func newDispatcherRig(t *testing.T, meta *fakeMeta) *dispatcherRig {
	t.Helper()
	h := newAgentHarness(t, options{offline: true})
	return &dispatcherRig{h: h, meta: meta}
}

func (r *dispatcherRig) start(t *testing.T) {
	t.Helper()
	dc := delivery.DefaultDispatcherConfig()
	dc.Grace = time.Minute
	r.claims = &claimWatch{Outbox: r.h.db}
	r.d = delivery.NewDispatcher(r.h.bot, r.claims, r.meta, dc)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.d.Run(ctx) })
	r.stop = func() { cancel(); wg.Wait() }
	t.Cleanup(r.stop)
}

// row returns the client's only outbox row.
func (r *dispatcherRig) row(t *testing.T, who string) bot.Outbound {
	t.Helper()
	rows, err := r.h.db.OutboundRows(context.Background(), who)
	if err != nil || len(rows) != 1 {
		t.Fatalf("outbox rows of %s: %+v, %v; want one", who, rows, err)
	}
	return rows[0]
}

// reply puts one reply to who in the outbox, with text as its parts.
func (r *dispatcherRig) reply(t *testing.T, who, text string) {
	t.Helper()
	err := r.h.db.Commit(context.Background(), bot.Turn{
		Conversation: bot.Conversation{Key: who, State: "menu", Lang: bot.English},
		Outbox: []bot.Outbound{{To: who, Reply: bot.Reply{Text: text}, LastInbound: r.h.clock.Now(),
			Created: r.h.clock.Now(), State: bot.OutboundPending}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// quiet returns once the dispatcher has looked at the outbox as of the
// clock's now and finished every send that look started.
func (r *dispatcherRig) quiet(t *testing.T) {
	t.Helper()
	now := r.h.clock.Now()
	eventually.True(t, "the dispatcher to look at the outbox", func() bool {
		r.d.Notify()
		return r.claims.lookedAt(now)
	})
}

func TestDispatcherSettlesHungUpSendByStatus(t *testing.T) {
	const who = "5511977770001"
	rig := newDispatcherRig(t, &fakeMeta{moves: []metaMove{metaHangsUp}})
	rig.reply(t, who, "welcome")
	rig.start(t)
	eventually.True(t, "the attempt that got no answer to be recorded", func() bool {
		r := rig.row(t, who)
		return r.Attempts == 1 && r.InDoubt() && !r.NextAttempt.Before(r.Sending.Add(time.Minute))
	})
	if n := len(rig.meta.messages()); n != 1 {
		t.Fatalf("Meta has %d messages, want 1", n)
	}
	// Meta's status names the row: it was accepted.
	rig.meta.statuses(t, rig.h.db)
	r := rig.row(t, who)
	if r.State != bot.OutboundSent || r.MetaID != "wamid.fake.1" || r.InDoubt() {
		t.Fatalf("row after the status = %+v, want sent as wamid.fake.1", r)
	}
	// Long after the grace, it is still never sent again.
	rig.h.clock.advance(10 * time.Minute)
	rig.quiet(t)
	if n := len(rig.meta.messages()); n != 1 {
		t.Errorf("Meta has %d messages after the grace, want 1: the settled reply was sent again", n)
	}
}

func TestDispatcherResendsLostSendAfterGrace(t *testing.T) {
	const who = "5511977770002"
	rig := newDispatcherRig(t, &fakeMeta{moves: []metaMove{metaLoses}})
	rig.reply(t, who, "welcome")
	rig.start(t)
	eventually.True(t, "the lost attempt to be recorded", func() bool { return rig.row(t, who).InDoubt() })
	// Within the grace nothing goes out, however often the dispatcher looks.
	rig.h.clock.advance(50 * time.Second)
	rig.quiet(t)
	if n := len(rig.meta.messages()); n != 0 {
		t.Fatalf("Meta has %d messages within the grace, want 0", n)
	}
	// No status came: the reply is sent again, once.
	rig.h.clock.advance(11 * time.Second)
	eventually.True(t, "the reply sent after the grace", func() bool { return rig.row(t, who).State == bot.OutboundSent })
	r := rig.row(t, who)
	if r.Attempts != 2 || r.InDoubt() || len(rig.meta.messages()) != 1 {
		t.Errorf("row %+v, %d messages at Meta; want sent on the second attempt, one message", r, len(rig.meta.messages()))
	}
}

// The retry is found by the dispatcher's idle poll, which runs on the
// bubble's clock.
func TestDispatcherClearsDoubtWhenMetaAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const who = "5511977770003"
		rig := newDispatcherRig(t, &fakeMeta{moves: []metaMove{metaRefuses}})
		rig.reply(t, who, "welcome")
		rig.start(t)
		// The attempt is stored once before Meta hears of it, and again with
		// Meta's refusal: the test is about the second write.
		eventually.True(t, "the refused attempt to be recorded", func() bool {
			r := rig.row(t, who)
			return r.Attempts == 1 && r.Error != ""
		})
		r := rig.row(t, who)
		if r.InDoubt() || r.NextAttempt.Sub(rig.h.clock.Now()) > 2*time.Second {
			t.Fatalf("row after a 503 = %+v: Meta answered, so nothing is in doubt and the backoff applies, not the grace", r)
		}
		rig.h.clock.advance(2 * time.Second)
		eventually.True(t, "the retry", func() bool { return rig.row(t, who).State == bot.OutboundSent })
	})
}

// A process stopped while Meta had the request; the next one finds the row
// in doubt.
func TestDispatcherAfterRestartWaitsForStatus(t *testing.T) {
	for _, statusComes := range []bool{true, false} {
		t.Run(fmt.Sprintf("status comes %v", statusComes), func(t *testing.T) {
			const who = "5511977770004"
			meta := &fakeMeta{}
			rig := newDispatcherRig(t, meta)
			rig.reply(t, who, "welcome")
			// The stopped process: attempt recorded, request made, then
			// nothing.
			ctx := context.Background()
			rows, release, err := rig.h.db.ClaimOutbound(ctx, rig.h.clock.Now(), 1)
			if err != nil || len(rows) != 1 {
				t.Fatalf("claim: %v, %v", rows, err)
			}
			r := rows[0]
			r.Attempts, r.Sending = 1, rig.h.clock.Now()
			if err := rig.h.db.MarkSending(ctx, r); err != nil {
				t.Fatal(err)
			}
			if _, err := meta.Send(ctx, r); err != nil {
				t.Fatal(err)
			}
			release()

			rig.h.clock.advance(5 * time.Second)
			rig.start(t)
			rig.quiet(t)
			if n := len(meta.messages()); n != 1 {
				t.Fatalf("Meta has %d messages right after the restart, want 1: the row in doubt was sent again at once", n)
			}
			if statusComes {
				meta.statuses(t, rig.h.db)
			}
			rig.h.clock.advance(2 * time.Minute)
			eventually.True(t, "the row settled", func() bool { return rig.row(t, who).State == bot.OutboundSent })
			want := 1
			if !statusComes {
				// The last resort: at least once.
				want = 2
			}
			rig.quiet(t)
			if n := len(meta.messages()); n != want {
				t.Errorf("Meta has %d messages, want %d", n, want)
			}
		})
	}
}

// The rest of the reply is found by the dispatcher's idle poll, which runs
// on the bubble's clock.
func TestDispatcherResumesPartsAfterStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const who = "5511977770005"
		// Part 1 goes, part 2 reaches Meta but its answer is lost.
		meta := &fakeMeta{moves: []metaMove{metaTakes, metaHangsUp}}
		rig := newDispatcherRig(t, meta)
		rig.reply(t, who, "one|two|three")
		rig.start(t)
		eventually.True(t, "the attempt in doubt", func() bool { r := rig.row(t, who); return r.InDoubt() && r.PartsSent == 1 })
		meta.statuses(t, rig.h.db)
		if r := rig.row(t, who); r.PartsSent != 2 || r.State != bot.OutboundPending || r.MetaID != "wamid.fake.1" {
			t.Fatalf("row after the statuses = %+v, want pending with 2 parts out, the first as wamid.fake.1", r)
		}
		rig.h.clock.advance(2 * time.Minute)
		eventually.True(t, "the rest sent", func() bool { return rig.row(t, who).State == bot.OutboundSent })
		var texts []string
		for _, m := range meta.messages() {
			texts = append(texts, m.text)
		}
		if strings.Join(texts, "|") != "one|two|three" {
			t.Errorf("the client received %q, want each part once, in order", texts)
		}
	})
}

// gatedMeta holds every send to one client until its gate opens, as Meta
// sometimes takes its time over one request.
type gatedMeta struct {
	*fakeMeta
	slow string
	gate chan struct{}
}

func (m *gatedMeta) Send(ctx context.Context, row bot.Outbound) (bot.SendResult, error) {
	if row.To == m.slow {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return bot.SendResult{Parts: row.PartsSent}, fmt.Errorf("send: %w: %w", bot.ErrUnavailable, ctx.Err())
		}
	}
	return m.fakeMeta.Send(ctx, row)
}

func TestSlowSendHoldsUpNoOtherClient(t *testing.T) {
	meta := &gatedMeta{fakeMeta: &fakeMeta{}, slow: "5511900000100", gate: make(chan struct{})}
	h := newAgentHarness(t, options{})
	r := &dispatcherRig{h: h}
	r.reply(t, meta.slow, "the slow one")
	var others []string
	for i := range 12 {
		who := fmt.Sprintf("55119000002%02d", i)
		others = append(others, who)
		r.reply(t, who, "reply to "+who)
	}
	dc := delivery.DefaultDispatcherConfig()
	dc.Parallel = 4
	d := delivery.NewDispatcher(h.bot, h.db, meta, dc)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	sentTo := func() map[string]int {
		n := map[string]int{}
		for _, m := range meta.messages() {
			n[m.to]++
		}
		return n
	}
	eventually.True(t, "every other client's reply while one send hangs", func() bool {
		got := sentTo()
		for _, who := range others {
			if got[who] != 1 {
				return false
			}
		}
		return true
	})
	if got := sentTo()[meta.slow]; got != 0 {
		t.Fatalf("the slow client got %d messages before its send was let through", got)
	}
	close(meta.gate)
	eventually.True(t, "the slow client's reply once Meta answers", func() bool { return sentTo()[meta.slow] == 1 })
}
