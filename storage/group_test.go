package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/fsm"
	"portabot/internal/eventually"
)

// holdWriter keeps w, one of the store's writers, busy with a write that
// waits until release is called, so that the writes submitted to it
// meanwhile queue up and are taken together by the next commit. release
// waits for the held write to end.
func holdWriter(tb testing.TB, w *writer) (release func()) {
	tb.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	var once sync.Once
	go func() {
		errc <- w.write(context.Background(), "hold", func(*bolt.Tx) (func() error, error) {
			once.Do(func() { close(started) })
			<-gate
			return nil, nil
		})
	}()
	<-started
	return sync.OnceFunc(func() {
		close(gate)
		if err := <-errc; err != nil {
			tb.Errorf("held write: %v", err)
		}
	})
}

// holdWriters holds both writers of db (see holdWriter) and returns their
// releases.
func holdWriters(tb testing.TB, db *DB) (releaseMain, releaseInbox func()) {
	tb.Helper()
	return holdWriter(tb, db.w), holdWriter(tb, db.iw)
}

// queued is how many writes wait for the writers of db.
func queued(db *DB) int {
	n := 0
	for _, w := range []*writer{db.w, db.iw} {
		w.mu.Lock()
		n += len(w.queue)
		w.mu.Unlock()
	}
	return n
}

// mainCommits is how many transactions db committed to the main file.
func mainCommits(db *DB) uint64 { return db.w.commits.Load() }

// submitter starts writes in goroutines, one at a time, each only once the
// one before is queued: writes submitted while their writer is held reach
// its queue, and so the transaction, in the order they were started.
type submitter struct {
	tb testing.TB
	db *DB
	wg sync.WaitGroup
}

func (s *submitter) start(write func()) {
	s.tb.Helper()
	n := queued(s.db)
	s.wg.Go(write)
	eventually.True(s.tb, "the write to queue", func() bool { return queued(s.db) == n+1 })
}

func (s *submitter) wait() { s.wg.Wait() }

// TestGroupConcurrentMatchesSerial runs the same mix of Enqueues and Commits,
// redeliveries and duplicate turns included, once from many goroutines and
// once one after the other: the stores must end up alike.
func TestGroupConcurrentMatchesSerial(t *testing.T) {
	const clients, perClient, turns = 16, 10, 5
	type op struct {
		enqueue *bot.Inbound
		turn    *bot.Turn
	}
	var ops []op
	var allIDs []string
	clientKeys := make([]string, clients)
	for c := range clients {
		from := fmt.Sprintf("55119%08d", c)
		clientKeys[c] = from
		for i := range perClient {
			m := inbound(from, i)
			allIDs = append(allIDs, m.ID)
			// Meta delivers every webhook twice.
			ops = append(ops, op{enqueue: &m}, op{enqueue: &m})
		}
		for i := range turns {
			m := inbound(from, i)
			turn := bot.Turn{
				MessageID:    m.ID,
				Conversation: sampleConversation(from+"-"+m.ID, ""),
				Outbox:       []bot.Outbound{outbound(from, m.ID)},
			}
			// Two workers commit the same turn; one wins.
			ops = append(ops, op{turn: &turn}, op{turn: &turn})
		}
	}
	run := func(db *DB, o op) (added int, committed bool, err error) {
		ctx := context.Background()
		if o.enqueue != nil {
			added, err = db.Enqueue(ctx, []bot.Inbound{*o.enqueue})
			return added, false, err
		}
		err = db.Commit(ctx, *o.turn)
		if errors.Is(err, bot.ErrDuplicate) {
			return 0, false, nil
		}
		return 0, err == nil, err
	}
	type outcome struct {
		added, committed int
	}

	serial := mustOpen(t, WithSealKey(testKey))
	var want outcome
	for _, o := range ops {
		added, committed, err := run(serial, o)
		if err != nil {
			t.Fatal(err)
		}
		want.added += added
		if committed {
			want.committed++
		}
	}

	concurrent := mustOpen(t, WithSealKey(testKey))
	before := concurrent.WriteStats()
	var added, committed atomic.Int64
	// 32 workers, each making its share of the writes (shuffled) one after
	// the other, so that groups form and follow each other.
	shuffled := slices.Clone(ops)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	const workers = 32
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-startGate
			for i := w; i < len(shuffled); i += workers {
				a, c, err := run(concurrent, shuffled[i])
				if err != nil {
					t.Error(err)
				}
				added.Add(int64(a))
				if c {
					committed.Add(1)
				}
			}
		})
	}
	close(startGate)
	wg.Wait()
	// How many Enqueues found their message new depends on the order
	// (one that comes after its turn's Commit is skipped), the final state
	// does not.
	if got := int(committed.Load()); got != want.committed {
		t.Errorf("concurrent run committed %d turns, serial %d", got, want.committed)
	}
	if got := int(added.Load()); got > want.added {
		t.Errorf("concurrent run added %d messages, more than the %d distinct ones", got, want.added)
	}
	if want.committed != clients*turns {
		t.Errorf("serial run committed %d turns, want %d", want.committed, clients*turns)
	}
	// Every op is one write, to the main file (a turn) or the inbox (an
	// Enqueue); a turn committed adds a second write, to the inbox, which
	// takes its message out. That one is lazy and may still wait for its
	// group when the last worker returns: count once the inbox took it.
	var enqueues, turnOps uint64
	for _, o := range ops {
		if o.enqueue != nil {
			enqueues++
		} else {
			turnOps++
		}
	}
	eventually.True(t, "the inbox's lazy writes to be committed", func() bool {
		return concurrent.WriteStats().InboxWrites-before.InboxWrites >= enqueues+uint64(want.committed)
	})
	stats := concurrent.WriteStats()
	t.Logf("%d writes in %d commits, %d of them in %d inbox commits", stats.Writes-before.Writes, stats.Commits-before.Commits,
		stats.InboxWrites-before.InboxWrites, stats.InboxCommits-before.InboxCommits)
	if n := (stats.Writes - stats.InboxWrites) - (before.Writes - before.InboxWrites); n != turnOps {
		t.Errorf("WriteStats counted %d writes to the main file, want %d", n, turnOps)
	}
	if n, want := stats.InboxWrites-before.InboxWrites, enqueues+uint64(want.committed); n != want {
		t.Errorf("WriteStats counted %d writes to the inbox, want %d", n, want)
	}

	type view struct {
		Depth     int
		Processed []string
		Convs     []bot.Conversation
		Outbox    map[string][]string
		Stats     [4]int
		Inbox     map[string][]string
	}
	look := func(db *DB) view {
		ctx := context.Background()
		var v view
		var err error
		if v.Depth, err = db.InboxDepth(ctx); err != nil {
			t.Fatal(err)
		}
		v.Outbox = map[string][]string{}
		for _, id := range allIDs {
			if ok, err := db.Processed(ctx, id); err != nil {
				t.Fatal(err)
			} else if ok {
				v.Processed = append(v.Processed, id)
			}
		}
		for _, o := range ops {
			if o.turn != nil {
				c, err := db.Conversation(ctx, o.turn.Conversation.Key)
				if err != nil {
					t.Fatal(err)
				}
				v.Convs = append(v.Convs, c)
			}
		}
		for _, c := range clientKeys {
			rows, err := db.OutboundRows(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			// Turns of one client were committed concurrently: their
			// order is the race's, their set is not.
			v.Outbox[c] = texts(rows)
			slices.Sort(v.Outbox[c])
		}
		p, s, pa, f, err := db.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v.Stats = [4]int{p, s, pa, f}
		checkIndexes(t, db)
		v.Inbox = map[string][]string{}
		for conv, msgs := range claimAll(t, db) {
			for _, m := range msgs {
				v.Inbox[conv] = append(v.Inbox[conv], m.ID)
			}
			slices.Sort(v.Inbox[conv])
		}
		return v
	}
	if diff := cmp.Diff(look(serial), look(concurrent), cmpEmpty); diff != "" {
		t.Errorf("concurrent store differs from the serial one (-serial +concurrent):\n%s", diff)
	}
}

// TestGroupRefusalDoesNotSpread commits 50 turns in one group, 10 of them for
// a message already committed by a turn before them in the group: exactly 40
// succeed, the 10 get ErrDuplicate and write nothing.
func TestGroupRefusalDoesNotSpread(t *testing.T) {
	db := mustOpen(t)
	ctx := t.Context()
	id := mustNewCaseID(t, db)
	c := sampleCase(id, "5511987654321")

	release := holdWriter(t, db.w)
	before := mainCommits(db)
	var ok, dup atomic.Int64
	s := submitter{tb: t, db: db}
	for i := range 50 {
		msg := i
		if i >= 40 {
			msg = i - 40 // a second turn for messages 0..9
		}
		conv := sampleConversation(fmt.Sprintf("55119%08d", i), id)
		turn := bot.Turn{MessageID: fmt.Sprintf("wamid.%d", msg), Conversation: conv, Case: &c, Audit: []bot.AuditEvent{{At: at(i), Actor: "client", Kind: "transition", Detail: conv.Key}}}
		s.start(func() {
			switch err := db.Commit(ctx, turn); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, bot.ErrDuplicate):
				dup.Add(1)
			default:
				t.Errorf("Commit(%s) error = %v", turn.MessageID, err)
			}
		})
	}
	release()
	s.wait()
	if ok.Load() != 40 || dup.Load() != 10 {
		t.Errorf("%d commits succeeded and %d were duplicates, want 40 and 10", ok.Load(), dup.Load())
	}
	if n := mainCommits(db) - before; n != 2 {
		t.Errorf("the group took %d commits (the held one included), want 2", n)
	}
	// The refused turns wrote nothing: not their conversations, not their
	// audit events.
	for i := range 50 {
		key := fmt.Sprintf("55119%08d", i)
		_, err := db.Conversation(ctx, key)
		if i < 40 && err != nil {
			t.Errorf("Conversation(%d) error = %v", i, err)
		}
		if i >= 40 && !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Conversation(%d) of a refused turn: error = %v, want not found", i, err)
		}
	}
	trail, err := db.Audit(ctx, id)
	if err != nil || len(trail) != 40 {
		t.Fatalf("Audit() = %d events, %v; want 40", len(trail), err)
	}
	for i, e := range trail {
		if want := fmt.Sprintf("55119%08d", i); e.Detail != want {
			t.Errorf("audit event %d is for %s, want %s (submission order)", i, e.Detail, want)
		}
	}
}

// TestGroupRefusalsOfEveryWrite puts a refused and an accepted write of each
// kind in one group, in a fixed order: each caller gets its own answer, and
// later writes see earlier ones.
func TestGroupRefusalsOfEveryWrite(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	ctx := t.Context()
	const client = "5511987654321"
	id := openCase(t, db, 1)
	commitNotices(t, db, id, notice(id, "case opened"))
	mustCommit(t, db, bot.Turn{MessageID: "wamid.seed", Conversation: sampleConversation(client, id), Outbox: []bot.Outbound{outbound(client, "hello")}})
	rows, err := db.OutboundRows(ctx, client)
	if err != nil || len(rows) != 1 {
		t.Fatalf("OutboundRows() = %v, %v", rows, err)
	}
	row := rows[0]
	notices, release := mustClaimNotices(t, db, at(10), 10)
	release()
	if len(notices) != 1 {
		t.Fatalf("ClaimNotices() = %v", notices)
	}
	n := notices[0]

	holdMain, holdInbox := holdWriters(t, db)
	s := submitter{tb: t, db: db}
	results := map[string]error{}
	var mu sync.Mutex
	submit := func(name string, write func() error) {
		s.start(func() {
			err := write()
			mu.Lock()
			results[name] = err
			mu.Unlock()
		})
	}
	sent := row
	sent.State, sent.MetaID = bot.OutboundSent, "wamid.out.1"
	unknownRow := row
	unknownRow.ID = "00000000000000ff"
	noticeSent := n
	noticeSent.State = bot.OutboundSent
	otherCase := n
	otherCase.CaseID, otherCase.State = "999", bot.OutboundSent

	submit("status before send", func() error { return db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: "delivered"}) })
	submit("mark unknown row", func() error { return db.MarkOutbound(ctx, unknownRow) })
	submit("mark sent", func() error { return db.MarkOutbound(ctx, sent) })
	submit("status after send", func() error { return db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: "read"}) })
	submit("mark notice of another case", func() error { return db.MarkNotice(ctx, otherCase) })
	submit("mark notice sent", func() error { return db.MarkNotice(ctx, noticeSent) })
	submit("thread of unknown case", func() error { return db.SetThread(ctx, "999", "1.0001") })
	submit("thread", func() error { return db.SetThread(ctx, id, "1.0002") })
	submit("second thread", func() error { return db.SetThread(ctx, id, "1.0003") })
	submit("waba of unknown case", func() error { return db.SetWABA(ctx, "999", "1", "agent") })
	submit("waba", func() error { return db.SetWABA(ctx, id, "2", "agent") })
	submit("turn for unknown case", func() error {
		return db.Commit(ctx, bot.Turn{MessageID: "wamid.x", Conversation: sampleConversation("5521900000000", ""), Audit: []bot.AuditEvent{{CaseID: "999", Kind: "x"}}})
	})
	submit("enqueue", func() error {
		_, err := db.Enqueue(ctx, []bot.Inbound{inbound(client, 7)})
		return err
	})
	holdMain()
	holdInbox()
	s.wait()

	notFound := func(err error) bool { return errors.Is(err, bot.ErrNotFound) }
	refused := func(err error) bool { return err != nil && !errors.Is(err, bot.ErrNotFound) }
	accepted := func(err error) bool { return err == nil }
	want := map[string]func(error) bool{
		"status before send":          notFound,
		"mark unknown row":            notFound,
		"mark sent":                   accepted,
		"status after send":           accepted,
		"mark notice of another case": refused,
		"mark notice sent":            accepted,
		"thread of unknown case":      notFound,
		"thread":                      accepted,
		"second thread":               accepted,
		"waba of unknown case":        notFound,
		"waba":                        accepted,
		"turn for unknown case":       notFound,
		"enqueue":                     accepted,
	}
	for name, ok := range want {
		if err, done := results[name]; !done || !ok(err) {
			t.Errorf("%s: error = %v", name, err)
		}
	}

	got, err := db.Outbound(ctx, row.ID)
	if err != nil || got.State != bot.OutboundSent || got.Status != "read" {
		t.Errorf("Outbound() = state %s, status %q, %v; want sent, read", got.State, got.Status, err)
	}
	wantNoticeStats(t, db, 0, 1, 0)
	wantThreads(t, db, map[string]string{id: "1.0002"})
	if c, err := db.Case(ctx, id); err != nil || c.WABA != "2" {
		t.Errorf("Case() WABA = %q, %v; want 2", c.WABA, err)
	}
	if _, err := db.Conversation(ctx, "5521900000000"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the refused turn's conversation: error = %v, want not found", err)
	}
	wantDepth(t, db, 1)
	checkIndexes(t, db)
	checkNoticeIndexes(t, db)
}

// TestGroupDedupes sends the same message twice in one inbox group, the
// same turn twice in one group of the main file, and a message to the inbox
// after its turn was committed while the inbox's writer was busy: the
// dedupe holds within each file's group and across the two files.
func TestGroupDedupes(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	ctx := t.Context()
	const client = "5511987654321"
	m1, m2, m3 := inbound(client, 1), inbound(client, 2), inbound(client, 3)
	turn := func(m bot.Inbound) bot.Turn {
		return bot.Turn{MessageID: m.ID, Conversation: sampleConversation(client, "")}
	}

	before := db.WriteStats()
	releaseMain, releaseInbox := holdWriters(t, db)
	s := submitter{tb: t, db: db}
	added := make([]int, 4)
	enqueue := func(i int, m bot.Inbound) {
		s.start(func() {
			var err error
			if added[i], err = db.Enqueue(ctx, []bot.Inbound{m}); err != nil {
				t.Errorf("Enqueue(%s) error = %v", m.ID, err)
			}
		})
	}
	commitErrs := make([]error, 3)
	enqueue(0, m1)
	enqueue(1, m1) // the redelivery finds the first
	commits := submitter{tb: t, db: db}
	for i := range 2 {
		commits.start(func() { commitErrs[i] = db.Commit(ctx, turn(m2)) })
	}
	// The second worker's turn is a duplicate, in the same group; the
	// first then queues m2's removal from the inbox.
	n := queued(db)
	releaseMain()
	eventually.True(t, "the removal to queue", func() bool { return queued(db) == n-2+1 })
	enqueue(2, m2) // processed while the inbox's writer was busy: not queued
	enqueue(3, m3)
	releaseInbox()
	s.wait()
	commits.wait()
	commitErrs[2] = db.Commit(ctx, turn(m3)) // and one processed leaves the inbox

	if want := []int{1, 0, 0, 1}; !slices.Equal(added, want) {
		t.Errorf("Enqueue added %v, want %v", added, want)
	}
	if commitErrs[0] != nil || !errors.Is(commitErrs[1], bot.ErrDuplicate) || commitErrs[2] != nil {
		t.Errorf("Commit errors = %v, want nil, ErrDuplicate, nil", commitErrs)
	}
	// Main file: the held commit and the group; then m3's turn. Inbox: the
	// held commit and the group (m2's removal in it, before m2's Enqueue);
	// then m3 taken out, which InboxDepth does not wait lazyDelay for.
	wantDepth(t, db, 1)
	after := db.WriteStats()
	if n := after.InboxCommits - before.InboxCommits; n != 3 {
		t.Errorf("%d inbox commits, want 3", n)
	}
	if n := (after.Commits - after.InboxCommits) - (before.Commits - before.InboxCommits); n != 3 {
		t.Errorf("%d main commits, want 3", n)
	}
	wantDepth(t, db, 1)
	checkIndexes(t, db)
	got := claimAll(t, db)
	if ids := got[client]; len(ids) != 1 || ids[0].ID != m1.ID {
		t.Errorf("inbox holds %v, want only %s", ids, m1.ID)
	}
}

// TestGroupCancelledWaiter: a caller that gives up while its write waits
// takes it back, and nothing is written; the rest of the group is not
// affected.
func TestGroupCancelledWaiter(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	const client = "5511987654321"
	release := holdWriter(t, db.iw)
	defer release()
	s := submitter{tb: t, db: db}

	ctx, cancel := context.WithCancel(t.Context())
	var cancelledErr error
	s.start(func() { _, cancelledErr = db.Enqueue(ctx, []bot.Inbound{inbound(client, 1)}) })
	var kept int
	var keptErr error
	s.start(func() { kept, keptErr = db.Enqueue(t.Context(), []bot.Inbound{inbound(client, 2)}) })
	cancel()
	eventually.True(t, "the cancelled write to be dropped", func() bool {
		db.iw.mu.Lock()
		defer db.iw.mu.Unlock()
		return db.iw.queue[0].dropped
	})
	release()
	s.wait()

	if !errors.Is(cancelledErr, context.Canceled) {
		t.Errorf("cancelled Enqueue error = %v, want context.Canceled", cancelledErr)
	}
	if kept != 1 || keptErr != nil {
		t.Errorf("the other Enqueue = %d, %v; want 1, nil", kept, keptErr)
	}
	wantDepth(t, db, 1)
	got := claimAll(t, db)
	if msgs := got[client]; len(msgs) != 1 || msgs[0].ID != inbound(client, 2).ID {
		t.Errorf("inbox holds %v, want only message 2", msgs)
	}
}

// TestGroupTakenWaiterGetsResult: once the writer has taken a write, its
// caller waits for the true result even if its context ends.
func TestGroupTakenWaiterGetsResult(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	const client = "5511987654321"
	release := holdWriter(t, db.iw)
	defer release()
	s := submitter{tb: t, db: db}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The write before it in the group cancels the context: by then the
	// writer holds both.
	s.start(func() {
		err := db.iw.write(t.Context(), "cancel", func(*bolt.Tx) (func() error, error) {
			cancel()
			return nil, nil
		})
		if err != nil {
			t.Error(err)
		}
	})
	var n int
	var err error
	s.start(func() { n, err = db.Enqueue(ctx, []bot.Inbound{inbound(client, 1)}) })
	release()
	s.wait()
	if ctx.Err() == nil {
		t.Fatal("the context was not cancelled")
	}
	if n != 1 || err != nil {
		t.Errorf("Enqueue() = %d, %v; want 1, nil (it was written)", n, err)
	}
	wantDepth(t, db, 1)
}

// TestCloseDrainsPendingWrites: Close makes the writes submitted before it,
// and refuses those after it.
func TestCloseDrainsPendingWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	db := mustOpenPath(t, path, WithSealKey(testKey))
	const client = "5511987654321"
	release := holdWriter(t, db.iw)
	defer release()
	s := submitter{tb: t, db: db}
	errs := make([]error, 10)
	for i := range errs {
		s.start(func() { _, errs[i] = db.Enqueue(context.Background(), []bot.Inbound{inbound(client, i)}) })
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	eventually.True(t, "Close to start", func() bool {
		db.iw.mu.Lock()
		defer db.iw.mu.Unlock()
		return db.iw.closing
	})
	_, err := db.Enqueue(context.Background(), []bot.Inbound{inbound(client, 99)})
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Enqueue() during Close error = %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close() returned (%v) before the pending writes were made", err)
	default:
	}
	release()
	s.wait()
	if err := <-closed; err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("pending Enqueue %d error = %v", i, err)
		}
	}
	ctx := context.Background()
	if err := db.Commit(ctx, bot.Turn{MessageID: "m", Conversation: sampleConversation(client, "")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit() after Close error = %v, want ErrClosed", err)
	}
	if err := db.SetThread(ctx, "1", "1.0"); !errors.Is(err, ErrClosed) {
		t.Errorf("SetThread() after Close error = %v, want ErrClosed", err)
	}
	if _, err := db.NewCaseID(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("NewCaseID() after Close error = %v, want ErrClosed", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close() error = %v", err)
	}

	reopened := mustOpenPath(t, path, WithSealKey(testKey))
	wantDepth(t, reopened, 10)
}

// TestGroupCommitShares proves the grouping: 64 callers writing at once
// share far fewer than 64 commits.
func TestGroupCommitShares(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	before := db.WriteStats()
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range 64 {
		wg.Go(func() {
			<-gate
			if n, err := db.Enqueue(context.Background(), []bot.Inbound{inbound(fmt.Sprintf("55119%08d", i%8), i)}); n != 1 || err != nil {
				t.Errorf("Enqueue() = %d, %v", n, err)
			}
		})
	}
	close(gate)
	wg.Wait()
	stats := db.WriteStats()
	commits, writes := stats.Commits-before.Commits, stats.Writes-before.Writes
	t.Logf("64 Enqueues in %d commits", commits)
	if writes != 64 || commits >= 64 {
		t.Errorf("%d writes in %d commits, want 64 writes in fewer than 64 commits", writes, commits)
	}
	wantDepth(t, db, 64)

	// Queued behind a busy writer, they all go in one commit.
	release := holdWriter(t, db.iw)
	before = db.WriteStats()
	s := submitter{tb: t, db: db}
	for i := range 64 {
		s.start(func() {
			if n, err := db.Enqueue(context.Background(), []bot.Inbound{inbound("5521912345678", i)}); n != 1 || err != nil {
				t.Errorf("Enqueue() = %d, %v", n, err)
			}
		})
	}
	release()
	s.wait()
	if stats := db.WriteStats(); stats.Commits-before.Commits != 2 || stats.Writes-before.Writes != 65 {
		t.Errorf("64 queued Enqueues: %d writes in %d commits, want 65 in 2 (the held one included)",
			stats.Writes-before.Writes, stats.Commits-before.Commits)
	}
	wantDepth(t, db, 128)
	checkIndexes(t, db)
}

// TestGroupSizeIsCapped: more writes than maxGroup waiting go in two commits,
// the second at once.
func TestGroupSizeIsCapped(t *testing.T) {
	db := mustOpen(t)
	release := holdWriter(t, db.w)
	before := db.WriteStats()
	var wg sync.WaitGroup
	for range maxGroup + 5 {
		wg.Go(func() {
			if err := db.write(context.Background(), "nothing", func(*bolt.Tx) (func() error, error) { return nil, nil }); err != nil {
				t.Error(err)
			}
		})
	}
	eventually.True(t, "the writes to queue", func() bool { return queued(db) == maxGroup+5 })
	release()
	wg.Wait()
	if n := db.WriteStats().Commits - before.Commits; n != 3 {
		t.Errorf("%d commits, want 3 (the held one, a full group, the rest)", n)
	}
}

// TestGroupWriteFailureRunsTheRestAlone: a write that fails halfway rolls back
// its group; the others are then made one by one, each exactly once, and the
// failing one gets its own error and leaves nothing behind.
func TestGroupWriteFailureRunsTheRestAlone(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	ctx := t.Context()
	const client = "5511987654321"
	mustCommit(t, db, bot.Turn{MessageID: "wamid.old", Conversation: sampleConversation(client, "")})
	m := inbound(client, 1)
	mustEnqueue(t, db, m)

	release := holdWriter(t, db.w)
	before := mainCommits(db)
	s := submitter{tb: t, db: db}
	var caseID string
	var caseErr, turnErr, dupErr, badErr error
	s.start(func() { caseID, caseErr = db.NewCaseID(ctx) })
	boom := errors.New("disk on fire")
	var badRuns atomic.Int64
	s.start(func() {
		badErr = db.write(ctx, "bad", func(tx *bolt.Tx) (func() error, error) {
			badRuns.Add(1)
			return func() error {
				if err := tx.Bucket(bucketConversations).Put([]byte("half-written"), []byte("{}")); err != nil {
					return err
				}
				return boom
			}, nil
		})
	})
	s.start(func() {
		turnErr = db.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: sampleConversation(client, ""), Outbox: []bot.Outbound{outbound(client, "hi")}})
	})
	s.start(func() {
		dupErr = db.Commit(ctx, bot.Turn{MessageID: "wamid.old", Conversation: sampleConversation(client, "")})
	})
	release()
	s.wait()

	if caseID == "" || caseErr != nil {
		t.Errorf("NewCaseID() = %q, %v; want an id", caseID, caseErr)
	}
	if !errors.Is(badErr, boom) {
		t.Errorf("failing write error = %v, want %v", badErr, boom)
	}
	if badRuns.Load() != 2 {
		t.Errorf("the failing write ran %d times, want 2 (in the group, then alone)", badRuns.Load())
	}
	if turnErr != nil {
		t.Errorf("Commit() error = %v", turnErr)
	}
	if !errors.Is(dupErr, bot.ErrDuplicate) {
		t.Errorf("duplicate Commit() error = %v, want ErrDuplicate", dupErr)
	}
	if _, err := db.Conversation(ctx, "half-written"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the failing write's half: error = %v, want not found", err)
	}
	// The held one; the group rolled back, then three commits alone (the
	// failing write's transaction was rolled back again).
	if n := mainCommits(db) - before; n != 1+3 {
		t.Errorf("%d commits, want 4", n)
	}
	// The turn's message left the inbox.
	wantDepth(t, db, 0)
	wantStats(t, db, 1, 0, 0, 0)
	checkIndexes(t, db)
}

// TestGroupPanicReachesItsCaller: a write that panics panics in its caller,
// as it would without the writer, which goes on serving the others.
func TestGroupPanicReachesItsCaller(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	ctx := t.Context()
	const client = "5511987654321"
	release := holdWriter(t, db.iw)
	s := submitter{tb: t, db: db}
	var errs [2]error
	s.start(func() { _, errs[0] = db.Enqueue(ctx, []bot.Inbound{inbound(client, 1)}) })
	var recovered any
	s.start(func() {
		defer func() { recovered = recover() }()
		_ = db.iw.write(ctx, "panic", func(*bolt.Tx) (func() error, error) { panic("bad write") })
	})
	s.start(func() { _, errs[1] = db.Enqueue(ctx, []bot.Inbound{inbound(client, 2)}) })
	release()
	s.wait()
	if recovered != "bad write" {
		t.Errorf("the caller recovered %v, want the write's panic", recovered)
	}
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("the other writes failed: %v", errs)
	}
	mustEnqueue(t, db, inbound(client, 3))
	wantDepth(t, db, 3)
}

// TestMarkSeesWritesQueuedBeforeIt: a mark is worked out ahead of the
// writer from the row as read; a status recorded in between, by a write
// queued before it, is not overwritten but decides the mark.
func TestMarkSeesWritesQueuedBeforeIt(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	const a = "5511987654321"
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(a, ""), Outbox: []bot.Outbound{outbound(a, "a1")}})
	rows, err := db.OutboundRows(ctx, a)
	if err != nil || len(rows) != 1 {
		t.Fatalf("OutboundRows() = %v, %v", rows, err)
	}
	r := rows[0]

	release := holdWriter(t, db.w)
	s := submitter{tb: t, db: db}
	var statusErr, markErr error
	s.start(func() {
		statusErr = db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: "delivered", Recipient: a,
			Ref: bot.OutboundRef(r.ID, 1, 1)})
	})
	retry := r
	retry.Attempts, retry.NextAttempt, retry.Error = 1, at(5), "timeout"
	s.start(func() { markErr = db.MarkOutbound(ctx, retry) })
	release()
	s.wait()

	if statusErr != nil {
		t.Fatalf("OutboundStatus() error = %v", statusErr)
	}
	if !errors.Is(markErr, bot.ErrAlreadySent) {
		t.Errorf("MarkOutbound(retry) after the status error = %v, want ErrAlreadySent", markErr)
	}
	got, err := db.Outbound(ctx, r.ID)
	if err != nil || got.State != bot.OutboundSent || got.MetaID != "wamid.out.1" || got.Status != "delivered" {
		t.Errorf("Outbound() = %+v, %v; want sent as wamid.out.1, delivered", got, err)
	}
	checkIndexes(t, db)
}

// TestLazyWrites: a lazy write (a processed message's removal from the
// inbox) waits for the next write someone waits for and shares its commit,
// or is committed alone after lazyDelay; Close makes it.
func TestLazyWrites(t *testing.T) {
	const client = "5511987654321"
	lazyPut := func(db *DB, key string, done chan<- error) {
		err := db.iw.submitLazy(func(tx *bolt.Tx) (func() error, error) {
			return func() error { return tx.Bucket(bucketInboxConvs).Put([]byte(key), make([]byte, 8)) }, nil
		}, func(err error) { done <- err })
		if err != nil {
			t.Fatal(err)
		}
	}
	has := func(db *DB, key string) bool {
		var ok bool
		_ = db.ibolt.View(func(tx *bolt.Tx) error { ok = tx.Bucket(bucketInboxConvs).Get([]byte(key)) != nil; return nil })
		return ok
	}

	db := mustOpen(t, WithSealKey(testKey))
	before := db.WriteStats()
	done := make(chan error, 1)
	lazyPut(db, "lazy-1", done)
	mustEnqueue(t, db, inbound(client, 1))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatal("the lazy write was not made with the Enqueue after it")
	}
	if n := db.WriteStats().InboxCommits - before.InboxCommits; n != 1 {
		t.Errorf("%d inbox commits, want 1 (the Enqueue's, shared)", n)
	}

	start := time.Now()
	lazyPut(db, "lazy-2", done)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < lazyDelay-time.Millisecond {
		t.Errorf("a lazy write alone was committed after %v, want it to wait %v for company", waited, lazyDelay)
	}
	if !has(db, "lazy-2") {
		t.Error("the lazy write is not in the file")
	}

	path := filepath.Join(t.TempDir(), "portabot.db")
	closing, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	lazyPut(closing, "lazy-3", done)
	if err := closing.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("lazy write at Close: %v", err)
	}
	reopened := mustOpenPath(t, path)
	if !has(reopened, "lazy-3") {
		t.Error("Close did not make the lazy write")
	}
}

// TestProcessedLeavesInboxWithoutWaiting: Commit does not wait for its
// message's removal from the inbox, and InboxDepth counts it gone at once.
func TestProcessedLeavesInboxWithoutWaiting(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, WithSealKey(testKey))
	const client = "5511987654321"
	m := inbound(client, 1)
	mustEnqueue(t, db, m)
	release := holdWriter(t, db.iw)
	// The inbox's writer is busy: a Commit that waited for the removal
	// would hang here.
	mustCommit(t, db, bot.Turn{MessageID: m.ID, Conversation: sampleConversation(client, "")})
	if _, msgs, rel, ok, err := db.Claim(ctx); err != nil || ok {
		t.Errorf("Claim() while the removal waits = %v, ok %v, %v; want nothing", msgs, ok, err)
		if ok {
			rel()
		}
	}
	release()
	wantDepth(t, db, 0)
	checkIndexes(t, db)
}

// BenchmarkEnqueueParallel is a burst of webhooks: about 64 callers, each
// waiting for its message to be durable before answering Meta.
func BenchmarkEnqueueParallel(b *testing.B) {
	db := mustOpen(b, WithSealKey(testKey))
	ctx := context.Background()
	var seq atomic.Int64
	benchParallel(b, db, func() error {
		i := int(seq.Add(1))
		n, err := db.Enqueue(ctx, []bot.Inbound{inbound(fmt.Sprintf("55119%08d", i%512), i)})
		if err == nil && n != 1 {
			err = fmt.Errorf("Enqueue() added %d", n)
		}
		return err
	})
}

// BenchmarkCommitParallel is about 64 workers committing turns at once, each
// a conversation, its case and one audit event.
func BenchmarkCommitParallel(b *testing.B) {
	db := mustOpen(b)
	ctx := context.Background()
	id := mustNewCaseID(b, db)
	c := sampleCase(id, "5511987654321")
	ev := []bot.AuditEvent{{At: at(1), Actor: "client", Kind: "transition", From: fsm.AskPhone, To: fsm.AddingNumber}}
	var seq atomic.Int64
	benchParallel(b, db, func() error {
		i := int(seq.Add(1))
		conv := sampleConversation(fmt.Sprintf("55119%08d", i%512), id)
		conv.Delivered = i
		return db.Commit(ctx, bot.Turn{MessageID: fmt.Sprintf("wamid.%d", i), Conversation: conv, Case: &c, Audit: ev})
	})
}

// benchParallel runs write from about 64 goroutines and reports the writes
// made per second and per commit.
func benchParallel(b *testing.B, db *DB, write func() error) {
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	before := db.WriteStats()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := write(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	stats := db.WriteStats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	if commits := stats.Commits - before.Commits; commits > 0 {
		b.ReportMetric(float64(stats.Writes-before.Writes)/float64(commits), "writes/commit")
	}
}
