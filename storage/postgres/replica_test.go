package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"portabot/bot"
	"portabot/storage/storetest"
)

// Two DBs on one database are two replicas: each has its own pool, its own
// leases and its own idea of whom it claimed last.

// Every message enqueued is committed exactly once although two replicas,
// with several workers each, claim at the same time, and no conversation is
// ever in two workers' hands.
func TestReplicasNeverShareAConversation(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := t.Context()
	const clients, perClient = 12, 5
	var all []bot.Inbound
	arrival := map[string]int{} // message id -> its place in its client's line
	for c := range clients {
		for i := range perClient {
			m := storetest.Inbound(fmt.Sprintf("55119%08d", c), c*perClient+i)
			all = append(all, m)
			arrival[m.ID] = i
		}
	}
	// Each message goes to both replicas, as Meta's redeliveries and a
	// load balancer would have it.
	for _, m := range all {
		storetest.MustEnqueue(t, a, m)
		storetest.MustEnqueue(t, b, m)
	}
	var mu sync.Mutex
	held := map[string]int{}
	committed := map[string]int{}
	var order []string // per client, the messages in the order committed
	var wg sync.WaitGroup
	for w := range 6 {
		db := []*DB{a, b}[w%2]
		wg.Go(func() {
			for {
				key, msgs, release, ok, err := db.Claim(ctx)
				if err != nil {
					t.Errorf("Claim() error = %v", err)
					return
				}
				if !ok {
					if depth, err := db.InboxDepth(ctx); err != nil || depth == 0 {
						return
					}
					// The rest are held by the other workers.
					time.Sleep(5 * time.Millisecond)
					continue
				}
				mu.Lock()
				held[key]++
				if held[key] > 1 {
					t.Errorf("conversation %s claimed by %d workers at once", key, held[key])
				}
				mu.Unlock()
				for _, m := range msgs {
					conv := storetest.SampleConversation(key, "")
					err := db.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: conv})
					mu.Lock()
					switch {
					case err == nil:
						committed[m.ID]++
						order = append(order, key+" "+m.ID)
					case !errors.Is(err, bot.ErrDuplicate):
						t.Errorf("Commit(%s) error = %v", m.ID, err)
					}
					mu.Unlock()
				}
				mu.Lock()
				held[key]--
				mu.Unlock()
				release()
			}
		})
	}
	wg.Wait()
	for _, m := range all {
		if committed[m.ID] != 1 {
			t.Errorf("message %s committed %d times, want once", m.ID, committed[m.ID])
		}
	}
	// A client's messages are committed in the order they arrived.
	last := map[string]string{}
	for _, e := range order {
		key, id, _ := strings.Cut(e, " ")
		if prev, ok := last[key]; ok && arrival[prev] > arrival[id] {
			t.Errorf("client %s: %s committed after %s", key, id, prev)
		}
		last[key] = id
	}
	storetest.WantDepth(t, a, 0)
}

// Outbox rows and notices claimed by two replicas at once: each row is
// handed out once, and a client's (a case's) rows go one at a time.
func TestReplicasNeverShareARow(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := t.Context()
	const clients, perClient = 10, 4
	for c := range clients {
		conv := storetest.SampleConversation(fmt.Sprintf("55119%08d", c), "")
		var rows []bot.Outbound
		for i := range perClient {
			rows = append(rows, storetest.Outbound(conv.Key, fmt.Sprintf("reply %d", i)))
		}
		storetest.MustCommit(t, a, bot.Turn{Conversation: conv, Outbox: rows})
	}
	for i := range clients {
		id := storetest.OpenCase(t, a, i)
		var ns []bot.Notice
		for j := range perClient {
			ns = append(ns, storetest.Notice(id, fmt.Sprintf("notice %d", j)))
		}
		storetest.CommitNotices(t, a, id, ns...)
	}
	var mu sync.Mutex
	claims := map[string]int{}    // row id -> times handed out
	inHand := map[string]string{} // client or case -> row held
	var wg sync.WaitGroup
	for w := range 6 {
		db := []*DB{a, b}[w%2]
		wg.Go(func() {
			for {
				rows, release, err := db.ClaimOutbound(ctx, storetest.At(60), 3)
				if err != nil {
					t.Errorf("ClaimOutbound() error = %v", err)
					return
				}
				notices, releaseNotices, err := db.ClaimNotices(ctx, storetest.At(60), 3)
				if err != nil {
					t.Errorf("ClaimNotices() error = %v", err)
					return
				}
				if len(rows) == 0 && len(notices) == 0 {
					release()
					releaseNotices()
					pending, _, _, _, err := db.OutboxStats(ctx)
					npending, _, _, err2 := db.NoticeStats(ctx)
					if err != nil || err2 != nil || pending+npending == 0 {
						return
					}
					time.Sleep(5 * time.Millisecond)
					continue
				}
				mu.Lock()
				for _, r := range rows {
					claims["outbox "+r.ID]++
					if other, ok := inHand["client "+r.To]; ok {
						t.Errorf("client %s: row %s handed out while %s is held", r.To, r.ID, other)
					}
					inHand["client "+r.To] = r.ID
				}
				for _, n := range notices {
					claims["notice "+n.ID]++
					if other, ok := inHand["case "+n.CaseID]; ok {
						t.Errorf("case %s: notice %s handed out while %s is held", n.CaseID, n.ID, other)
					}
					inHand["case "+n.CaseID] = n.ID
				}
				mu.Unlock()
				for _, r := range rows {
					mu.Lock()
					delete(inHand, "client "+r.To)
					mu.Unlock()
					storetest.MarkSent(t, db, r, "wamid."+r.ID)
				}
				for _, n := range notices {
					mu.Lock()
					delete(inHand, "case "+n.CaseID)
					mu.Unlock()
					storetest.MarkNoticeSent(t, db, n)
				}
				release()
				releaseNotices()
			}
		})
	}
	wg.Wait()
	if len(claims) != 2*clients*perClient {
		t.Errorf("%d rows and notices handed out, want %d", len(claims), 2*clients*perClient)
	}
	for id, n := range claims {
		if n != 1 {
			t.Errorf("%s handed out %d times, want once", id, n)
		}
	}
	storetest.WantStats(t, a, 0, clients*perClient, 0, 0)
	storetest.WantNoticeStats(t, b, 0, clients*perClient, 0)
}

// A replica's claims hold while its lease lives, even after it died; once
// the lease runs out, another replica takes the work.
func TestDeadReplicaLosesItsLeases(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := t.Context()
	const client = "5511987654321"
	storetest.MustEnqueue(t, a, storetest.Inbound(client, 1))
	conv := storetest.SampleConversation(client, "")
	storetest.MustCommit(t, a, bot.Turn{Conversation: conv, Outbox: []bot.Outbound{storetest.Outbound(client, "hello")}})
	id := storetest.OpenCase(t, a, 1)
	storetest.CommitNotices(t, a, id, storetest.Notice(id, "started"))

	if key, _, _, ok, err := a.Claim(ctx); err != nil || !ok || key != client {
		t.Fatalf("a.Claim() = %q, %v, %v; want the conversation", key, ok, err)
	}
	if rows, _ := storetest.MustClaimOutbound(t, a, storetest.At(60), 10); len(rows) != 1 {
		t.Fatalf("a.ClaimOutbound() = %d rows, want 1", len(rows))
	}
	if ns, _ := storetest.MustClaimNotices(t, a, storetest.At(60), 10); len(ns) != 1 {
		t.Fatalf("a.ClaimNotices() = %d notices, want 1", len(ns))
	}
	a.crash()

	wantNothing := func(when string) {
		t.Helper()
		if key, _, _, ok, err := b.Claim(ctx); err != nil || ok {
			t.Errorf("%s: b.Claim() = %q, %v, %v; want nothing", when, key, ok, err)
		}
		if rows, _ := storetest.MustClaimOutbound(t, b, storetest.At(60), 10); len(rows) != 0 {
			t.Errorf("%s: b.ClaimOutbound() = %v, want nothing", when, storetest.Texts(rows))
		}
		if ns, _ := storetest.MustClaimNotices(t, b, storetest.At(60), 10); len(ns) != 0 {
			t.Errorf("%s: b.ClaimNotices() = %v, want nothing", when, storetest.NoticeTexts(ns))
		}
	}
	wantNothing("a's leases live")
	expireLeases(t, url, a)
	key, msgs, release, ok, err := b.Claim(ctx)
	if err != nil || !ok || key != client || len(msgs) != 1 {
		t.Errorf("after a's leases expired: b.Claim() = %q, %d messages, %v, %v; want the conversation", key, len(msgs), ok, err)
	}
	defer release()
	if rows, _ := storetest.MustClaimOutbound(t, b, storetest.At(60), 10); len(rows) != 1 {
		t.Errorf("after a's leases expired: b.ClaimOutbound() = %d rows, want 1", len(rows))
	}
	if ns, _ := storetest.MustClaimNotices(t, b, storetest.At(60), 10); len(ns) != 1 {
		t.Errorf("after a's leases expired: b.ClaimNotices() = %d notices, want 1", len(ns))
	}
}

// A replica that stops renewing loses its leases by itself once the TTL has
// passed: nobody has to clean up after it.
func TestLeasesExpireWithoutRenewal(t *testing.T) {
	url := freshDatabase(t)
	a := mustOpen(t, url, WithLeaseTTL(300*time.Millisecond))
	b := mustOpen(t, url)
	ctx := t.Context()
	const client = "5511987654321"
	storetest.MustEnqueue(t, a, storetest.Inbound(client, 1))
	if _, _, _, ok, err := a.Claim(ctx); err != nil || !ok {
		t.Fatalf("a.Claim() = %v, %v; want the conversation", ok, err)
	}
	a.crash()
	for {
		key, _, release, ok, err := b.Claim(ctx)
		if err != nil {
			t.Fatalf("b.Claim() error = %v", err)
		}
		if ok {
			release()
			if key != client {
				t.Errorf("b.Claim() = %q, want %q", key, client)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("b never took over the dead replica's conversation")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A living replica keeps its claims past the TTL: it renews them.
func TestLiveReplicaKeepsItsLeases(t *testing.T) {
	url := freshDatabase(t)
	const ttl = 3 * time.Second
	a := mustOpen(t, url, WithLeaseTTL(ttl))
	b := mustOpen(t, url)
	ctx := t.Context()
	storetest.MustEnqueue(t, a, storetest.Inbound("5511987654321", 1))
	_, _, release, ok, err := a.Claim(ctx)
	if err != nil || !ok {
		t.Fatalf("a.Claim() = %v, %v; want the conversation", ok, err)
	}
	defer release()
	// The renewal is watched for, not timed: once the lease's expiry has
	// moved, it was renewed, and it has about a TTL to run.
	first := leaseExpiry(t, a)
	for !leaseExpiry(t, a).After(first) {
		select {
		case <-ctx.Done():
			t.Fatal("the lease was never renewed")
		case <-time.After(ttl / 6):
		}
	}
	if key, _, _, ok, err := b.Claim(ctx); err != nil || ok {
		t.Errorf("b.Claim() = %q, %v, %v while a lives; want nothing", key, ok, err)
	}
}

func leaseExpiry(tb testing.TB, db *DB) time.Time {
	tb.Helper()
	var t time.Time
	if err := db.pool.QueryRow(context.Background(), `SELECT max(expires) FROM leases WHERE holder = $1`, db.holder).Scan(&t); err != nil {
		tb.Fatal(err)
	}
	return t
}

// A replica hears work another replica enqueued, without polling.
func TestListenHearsOtherReplicas(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx, cancel := context.WithCancel(t.Context())
	heard := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Listen(ctx, func(ch string) {
			select {
			case heard <- ch:
			default:
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	// Listen says every channel once it listens.
	for seen := map[string]bool{}; len(seen) < 3; {
		seen[<-heard] = true
	}
	storetest.MustEnqueue(t, b, storetest.Inbound("5511987654321", 1))
	if ch := <-heard; ch != ChannelInbox {
		t.Errorf("heard %q after b enqueued, want %q", ch, ChannelInbox)
	}
	conv := storetest.SampleConversation("5511987654321", "")
	storetest.MustCommit(t, b, bot.Turn{Conversation: conv, Outbox: []bot.Outbound{storetest.Outbound(conv.Key, "hi")}})
	if ch := <-heard; ch != ChannelOutbox {
		t.Errorf("heard %q after b committed a reply, want %q", ch, ChannelOutbox)
	}
}

// Replicas that start together on an empty database migrate it once, and
// all start.
func TestReplicasStartTogether(t *testing.T) {
	url := emptyDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(t.Context(), url, WithSealKey(testKey))
			if err == nil {
				err = db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Open() error = %v", i, err)
		}
	}
	ms, err := Migrations(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !m.Applied {
			t.Errorf("migration %d (%s) not applied", m.Version, m.Name)
		}
	}
	if again, err := Migrate(t.Context(), url); err != nil || len(again) != 0 {
		t.Errorf("Migrate() on an up-to-date database = %v, %v; want nothing applied", again, err)
	}
}

// Client text is sealed in the database: a dump of every table shows no
// message a client wrote.
func TestClientTextSealedAtRest(t *testing.T) {
	url := freshDatabase(t)
	db := mustOpen(t, url)
	m := storetest.Inbound("5511987654321", 1)
	m.Text = "my code is 482913"
	storetest.MustEnqueue(t, db, m)
	var dump string
	err := db.pool.QueryRow(t.Context(), `SELECT string_agg(encode(sealed, 'escape'), ' ') FROM inbox`).Scan(&dump)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "482913") {
		t.Error("the inbox holds the client's text in the clear")
	}
	other, err := Open(t.Context(), url, WithSealKey(make([]byte, KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, _, _, _, err := other.Claim(t.Context()); err == nil || strings.Contains(err.Error(), "482913") {
		t.Errorf("Claim() with another key error = %v, want a refusal that does not show the text", err)
	}
}

// A reply in doubt on a replica that died (its request may have reached
// Meta) is settled by Meta's status webhook on whichever replica receives
// it: it is never sent again, and the client's next reply goes at once,
// without waiting for the dead replica's lease to expire.
func TestStatusOnAnotherReplicaSettlesAReplyInDoubt(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := t.Context()
	const client = "5511987654321"
	conv := storetest.SampleConversation(client, "")
	storetest.MustCommit(t, a, bot.Turn{Conversation: conv,
		Outbox: []bot.Outbound{storetest.Outbound(client, "first"), storetest.Outbound(client, "second")}})
	rows, _ := storetest.MustClaimOutbound(t, a, storetest.At(60), 10)
	if len(rows) != 1 {
		t.Fatalf("a.ClaimOutbound() = %v, want the first reply", storetest.Texts(rows))
	}
	row := rows[0]
	row.Attempts, row.Sending = 1, storetest.At(60)
	if err := a.MarkSending(ctx, row); err != nil {
		t.Fatal(err)
	}
	a.crash()

	err := b.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: "sent", Recipient: client,
		Ref: bot.OutboundRef(row.ID, 1, 1)})
	if err != nil {
		t.Fatalf("b.OutboundStatus() error = %v", err)
	}
	got, err := b.Outbound(ctx, row.ID)
	if err != nil || got.State != bot.OutboundSent || got.MetaID != "wamid.out.1" {
		t.Errorf("row after the status on b = %s, Meta id %q, %v; want sent as wamid.out.1", got.State, got.MetaID, err)
	}
	rows, release := storetest.MustClaimOutbound(t, b, storetest.At(60), 10)
	defer release()
	if texts := storetest.Texts(rows); len(rows) != 1 || rows[0].ID == row.ID || texts[0] != "second" {
		t.Errorf("b.ClaimOutbound() after the status = %q, want only the second reply", texts)
	}
}

// A replica's claims lease one at a time; a worker waiting its turn while
// serve shuts down (its context ends) returns at once with the context's
// error, not after the claim ahead of it.
func TestClaimWaitingItsTurnEndsWithItsContext(t *testing.T) {
	db := mustOpen(t, freshDatabase(t))
	storetest.MustEnqueue(t, db, storetest.Inbound("5511900000001", 1))
	db.claiming <- struct{}{} // another worker of this replica is leasing
	parent, cancel := context.WithCancel(t.Context())
	ctx := &doneWatch{Context: parent, asked: make(chan struct{})}
	ended := make(chan error, 1)
	go func() {
		_, _, _, ok, err := db.Claim(ctx)
		if ok {
			err = errors.New("claimed")
		}
		ended <- err
	}()
	<-ctx.asked // the claim waits for its turn, listening to its context
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("Claim() while another claim leases = %v; want context.Canceled", err)
	}
	<-db.claiming
	key, msgs, release, ok, err := db.Claim(t.Context())
	if err != nil || !ok || key != "5511900000001" || len(msgs) != 1 {
		t.Fatalf("Claim() after the other claim = %q, %d messages, ok %v, %v; want the waiting conversation", key, len(msgs), ok, err)
	}
	release()
}

// doneWatch tells, by closing asked, when someone first waits on its Done.
type doneWatch struct {
	context.Context
	asked chan struct{}
	once  sync.Once
}

func (d *doneWatch) Done() <-chan struct{} {
	d.once.Do(func() { close(d.asked) })
	return d.Context.Done()
}
