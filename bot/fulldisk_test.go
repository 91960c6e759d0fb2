package bot_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portabot/adapters/metasim"
	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/internal/eventually"
	"portabot/storage"
)

// fullDisk is the bbolt store with a disk that fills on demand: while full,
// every MarkOutbound fails as a write on a full disk does, and is counted
// per row. The writes that record an attempt (MarkSending) still succeed,
// so that replies go out: what is tested is the write after Meta took them.
type fullDisk struct {
	*storage.DB
	mu      sync.Mutex
	full    bool
	refused map[string]int
}

func (f *fullDisk) MarkOutbound(ctx context.Context, row bot.Outbound) error {
	f.mu.Lock()
	if f.full {
		f.refused[row.ID]++
		f.mu.Unlock()
		return fmt.Errorf("storage: mark outbox row %s: write portabot.db: %w", row.ID, syscall.ENOSPC)
	}
	f.mu.Unlock()
	return f.DB.MarkOutbound(ctx, row)
}

func (f *fullDisk) setFull(full bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.full = full
}

// refusals is how many marks of each row the full disk refused.
func (f *fullDisk) refusals() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.refused))
	for id, n := range f.refused {
		out[id] = n
	}
	return out
}

// The bug this guards against: Meta took the reply, the write that records
// it failed, the row stayed in doubt and went out again once the grace
// passed with no status (none can be stored on a full disk either).
func TestDispatcherSendsOnceWhileTheDiskIsFull(t *testing.T) {
	const clients = 12
	h := newAgentHarness(t, options{simClock: true})
	disk := &fullDisk{DB: h.db, refused: map[string]int{}, full: true}
	ctx := context.Background()

	var who []string
	for i := range clients {
		to := fmt.Sprintf("+55119777%05d", i)
		who = append(who, to)
		err := h.db.Commit(ctx, bot.Turn{
			Conversation: bot.Conversation{Key: to, State: "menu", Lang: bot.English},
			Outbox: []bot.Outbound{{To: to, Reply: bot.Reply{Text: "welcome " + to}, LastInbound: h.clock.Now(),
				Created: h.clock.Now(), State: bot.OutboundPending}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	sender := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: h.simURL, Token: token, PhoneNumberID: "106540352242922",
		Timeout: 5 * time.Second})
	dc := delivery.DefaultDispatcherConfig()
	dc.Grace = time.Minute
	dc.RecordAttempts, dc.RecordBackoff = 3, time.Millisecond
	// The rows held in memory are due first, claim after claim: with fewer
	// slots than clients, those never sent would wait for the disk.
	dc.Parallel = clients
	d := delivery.NewDispatcher(h.bot, disk, sender, dc)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(runCtx) })
	t.Cleanup(func() { cancel(); wg.Wait() })

	rowOf := func(to string) bot.Outbound {
		t.Helper()
		rows, err := h.db.OutboundRows(ctx, to)
		if err != nil || len(rows) != 1 {
			t.Fatalf("outbox rows of %s: %+v, %v; want one", to, rows, err)
		}
		return rows[0]
	}
	// gaveUp is whether every row saw more than n refusals: more than one
	// claim's worth of writes, so a claim began after the count was n.
	gaveUp := func(n map[string]int) bool {
		got := disk.refusals()
		for _, to := range who {
			if got[rowOf(to).ID] <= n[rowOf(to).ID]+dc.RecordAttempts {
				return false
			}
		}
		return true
	}
	wantOnce := func(phase string) {
		t.Helper()
		count := map[string]int{}
		for _, m := range h.sim.Sent() {
			count[m.To]++
		}
		for _, to := range who {
			if count[to] != 1 {
				t.Errorf("%s: %s got the reply %d times, want once", phase, to, count[to])
			}
		}
	}

	// The disk is full from the start: every reply goes out, and every
	// write that would record it fails, claim after claim.
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(h.logs.String())
		}
	})
	eventually.True(t, "each row's record refused over more than one claim", func() bool { return gaveUp(nil) })
	wantOnce("disk full")
	for _, to := range who {
		if r := rowOf(to); !r.InDoubt() || r.MetaID != "" {
			t.Fatalf("stored row of %s = %+v; want it left in doubt, without a Meta id, by the full disk", to, r)
		}
	}

	// Past the grace, a row in doubt with no status would go out again;
	// these have their Meta id in memory, and must not.
	h.clock.advance(10 * time.Minute)
	before := disk.refusals()
	eventually.True(t, "each row claimed again after the grace", func() bool { return gaveUp(before) })
	wantOnce("disk full past the grace")

	// The disk has room again: the rows end sent, as the Meta message the
	// client got.
	disk.setFull(false)
	d.Notify()
	eventually.True(t, "the outbox to settle", func() bool {
		pending, _, _, _, err := h.db.OutboxStats(ctx)
		return err == nil && pending == 0
	})
	wantOnce("disk recovered")
	ids := map[string]string{}
	for _, m := range h.sim.Sent() {
		ids[m.To] = m.ID
	}
	for _, to := range who {
		r := rowOf(to)
		if r.State != bot.OutboundSent || r.MetaID == "" || r.MetaID != ids[to] || r.InDoubt() {
			t.Errorf("row of %s = %+v; want sent as %s", to, r, ids[to])
		}
	}
}

// afterFirst is a transport that, once Meta accepted the first message,
// makes the simulated Meta refuse the next one: a reply of two parts
// stops half way.
type afterFirst struct {
	sim  *metasim.Sim
	once sync.Once
}

func (a *afterFirst) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusOK && strings.HasSuffix(req.URL.Path, "/messages") {
		a.once.Do(func() {
			a.sim.Inject(metasim.Fault{Kind: metasim.FaultServerError, Endpoint: metasim.EndpointMessages, Times: 1})
		})
	}
	return resp, err
}

// A reply of two parts whose first Meta took, whose second it refused, and
// whose record of the first the full disk lost: the next attempt must
// start at the second.
func TestDispatcherKeepsPartsSentWhileTheDiskIsFull(t *testing.T) {
	const to = "+5511977790000"
	h := newAgentHarness(t, options{simClock: true})
	disk := &fullDisk{DB: h.db, refused: map[string]int{}, full: true}
	ctx := context.Background()
	first, second := strings.Repeat("a", 4000)+" ", strings.Repeat("b", 200)
	err := h.db.Commit(ctx, bot.Turn{
		Conversation: bot.Conversation{Key: to, State: "menu", Lang: bot.English},
		Outbox: []bot.Outbound{{To: to, Reply: bot.Reply{Text: first + strings.Repeat("c", 100) + " " + second},
			LastInbound: h.clock.Now(), Created: h.clock.Now(), State: bot.OutboundPending}},
	})
	if err != nil {
		t.Fatal(err)
	}
	sender := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: h.simURL, Token: token, PhoneNumberID: "106540352242922",
		Timeout: 5 * time.Second, HTTPClient: &http.Client{Transport: &afterFirst{sim: h.sim}}})
	dc := delivery.DefaultDispatcherConfig()
	dc.Grace = time.Minute
	dc.Backoff, dc.MaxBackoff = time.Millisecond, time.Millisecond
	dc.RecordAttempts, dc.RecordBackoff = 3, time.Millisecond
	d := delivery.NewDispatcher(h.bot, disk, sender, dc)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(runCtx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(h.logs.String())
		}
	})
	rows, err := h.db.OutboundRows(ctx, to)
	if err != nil || len(rows) != 1 {
		t.Fatalf("outbox rows: %+v, %v; want one", rows, err)
	}
	id := rows[0].ID
	refused := func(n int) func() bool {
		return func() bool { return disk.refusals()[id] > n }
	}

	// Two claims' worth of refused writes: the attempt that sent the first
	// part, then the claim that found the row in doubt.
	eventually.True(t, "the partial send's record refused over more than one claim", refused(dc.RecordAttempts))
	// Past the grace the row goes again, from its second part.
	h.clock.advance(10 * time.Minute)
	eventually.True(t, "the rest of the reply sent", func() bool { return len(h.sim.Sent()) >= 2 })
	n := disk.refusals()[id]
	eventually.True(t, "the row claimed again after the rest was sent", refused(n+dc.RecordAttempts))

	disk.setFull(false)
	d.Notify()
	eventually.True(t, "the row to settle", func() bool {
		rows, err := h.db.OutboundRows(ctx, to)
		return err == nil && len(rows) == 1 && rows[0].State == bot.OutboundSent
	})
	sent := h.sim.Sent()
	if len(sent) != 2 || !strings.HasPrefix(sent[0].Text, "aaa") || !strings.HasSuffix(sent[1].Text, "bbb") {
		var got []string
		for _, m := range sent {
			got = append(got, m.Text[:10]+"…"+m.Text[len(m.Text)-10:])
		}
		t.Fatalf("Meta took %d messages %q; want the two parts, once each", len(sent), got)
	}
	rows, _ = h.db.OutboundRows(ctx, to)
	if r := rows[0]; r.MetaID != sent[0].ID || r.PartsSent != 2 {
		t.Errorf("row = %+v; want sent as %s, both parts", r, sent[0].ID)
	}
}
