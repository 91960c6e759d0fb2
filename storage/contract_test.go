package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"portabot/bot"
	"portabot/fsm"
)

// testStoreContract is what every bot.Store backend must do. open returns an
// empty store that lives until the end of t.
//
// Times in the fixtures are UTC and whole microseconds: JSON keeps
// nanoseconds, but PostgreSQL's timestamptz does not, and the suite must hold
// for both. cmp compares time.Time with its Equal method, so a monotonic
// reading lost on the way through storage does not count as a difference.
func testStoreContract(t *testing.T, open func(t *testing.T) bot.Store) {
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		if _, err := s.Conversation(ctx, "5511987654321"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Conversation(unknown) error = %v, want bot.ErrNotFound", err)
		}
		if _, err := s.Conversation(ctx, ""); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf(`Conversation("") error = %v, want bot.ErrNotFound`, err)
		}
		for _, id := range []string{"1", "999", "", "abc", "-1", "0"} {
			if _, err := s.Case(ctx, id); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("Case(%q) error = %v, want bot.ErrNotFound", id, err)
			}
			if evs, err := s.Audit(ctx, id); err != nil || len(evs) != 0 {
				t.Errorf("Audit(%q) = %v, %v; want empty, nil", id, evs, err)
			}
		}
		if cs, err := s.Cases(ctx); err != nil || len(cs) != 0 {
			t.Errorf("Cases() = %v, %v; want empty, nil", cs, err)
		}
		if ok, err := s.Processed(ctx, "wamid.unknown"); err != nil || ok {
			t.Errorf("Processed(unknown) = %v, %v; want false, nil", ok, err)
		}
		if err := s.SetWABA(ctx, "42", "1234567890", "U0AGENT"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("SetWABA(unknown) error = %v, want bot.ErrNotFound", err)
		}
	})

	t.Run("CommitAndReadBack", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := mustNewCaseID(t, s)
		conv := sampleConversation("5511987654321", id)
		c := sampleCase(id, conv.Key)
		events := []bot.AuditEvent{
			{CaseID: id, At: at(1), Actor: "client", Kind: "transition", From: fsm.AskPhone, To: fsm.AddingNumber, Detail: "+55******4321"},
			{CaseID: id, At: at(1), Actor: "graph", Kind: "add_phone_number", Detail: "ok"},
		}
		mustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: events})

		gotConv, err := s.Conversation(ctx, conv.Key)
		if err != nil {
			t.Fatalf("Conversation() error = %v", err)
		}
		if diff := cmp.Diff(conv, gotConv); diff != "" {
			t.Errorf("Conversation() mismatch (-want +got):\n%s", diff)
		}
		gotCase, err := s.Case(ctx, id)
		if err != nil {
			t.Fatalf("Case() error = %v", err)
		}
		if diff := cmp.Diff(c, gotCase); diff != "" {
			t.Errorf("Case() mismatch (-want +got):\n%s", diff)
		}
		gotCases, err := s.Cases(ctx)
		if err != nil {
			t.Fatalf("Cases() error = %v", err)
		}
		if diff := cmp.Diff([]bot.Case{c}, gotCases); diff != "" {
			t.Errorf("Cases() mismatch (-want +got):\n%s", diff)
		}
		gotEvents, err := s.Audit(ctx, id)
		if err != nil {
			t.Fatalf("Audit() error = %v", err)
		}
		if diff := cmp.Diff(events, gotEvents); diff != "" {
			t.Errorf("Audit() mismatch (-want +got):\n%s", diff)
		}
		if ok, err := s.Processed(ctx, "wamid.1"); err != nil || !ok {
			t.Errorf("Processed(wamid.1) = %v, %v; want true, nil", ok, err)
		}
	})

	t.Run("CommitOverwritesConversationAndCase", func(t *testing.T) {
		s := open(t)
		id := mustNewCaseID(t, s)
		conv := sampleConversation("5511987654321", id)
		c := sampleCase(id, conv.Key)
		mustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c})

		conv.State, conv.Step, conv.Misses, conv.Updated = fsm.AwaitCode, "", 0, at(5)
		c.State, c.Kept, c.Confirmed, c.Updated = fsm.AwaitCode, nil, nil, at(5)
		mustCommit(t, s, bot.Turn{MessageID: "wamid.2", Conversation: conv, Case: &c})
		// A turn without a case leaves the stored case alone.
		conv.Misses = 2
		mustCommit(t, s, bot.Turn{MessageID: "wamid.3", Conversation: conv})

		got := snapshotOf(t, s, []string{conv.Key}, []string{id})
		want := state{
			Conversations: []bot.Conversation{conv},
			Cases:         []bot.Case{c},
			AllCases:      []bot.Case{c},
			Audit:         map[string][]bot.AuditEvent{id: nil},
		}
		if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
			t.Errorf("state mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("CommitWithoutMessageID", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		conv := sampleConversation("5511987654321", "")
		// Recovery turns answer no message, so they are never duplicates.
		mustCommit(t, s, bot.Turn{Conversation: conv})
		conv.Misses++
		mustCommit(t, s, bot.Turn{Conversation: conv})
		got, err := s.Conversation(ctx, conv.Key)
		if err != nil {
			t.Fatalf("Conversation() error = %v", err)
		}
		if got.Misses != conv.Misses {
			t.Errorf("Misses = %d, want %d", got.Misses, conv.Misses)
		}
		if ok, err := s.Processed(ctx, ""); err != nil || ok {
			t.Errorf(`Processed("") = %v, %v; want false, nil`, ok, err)
		}
	})

	t.Run("DuplicateMessageWritesNothing", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := mustNewCaseID(t, s)
		conv := sampleConversation("5511987654321", id)
		c := sampleCase(id, conv.Key)
		mustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: []bot.AuditEvent{
			{CaseID: id, At: at(1), Actor: "bot", Kind: "opened"},
		}})
		id2 := mustNewCaseID(t, s)
		before := snapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id, id2})

		// The redelivery carries different content on purpose: none of it
		// may land, not the conversation, not either case, not the audit.
		conv2 := conv
		conv2.State, conv2.Misses = fsm.Cancelled, 9
		c2 := c
		c2.State = fsm.Cancelled
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv2, Case: &c2, Audit: []bot.AuditEvent{
			{CaseID: id, At: at(2), Actor: "client", Kind: "cancel"},
		}})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("Commit(same message) error = %v, want bot.ErrDuplicate", err)
		}
		other := sampleConversation("5521912345678", id2)
		c3 := sampleCase(id2, other.Key)
		err = s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: other, Case: &c3})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("Commit(same message, other client) error = %v, want bot.ErrDuplicate", err)
		}
		after := snapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id, id2})
		if diff := cmp.Diff(before, after, cmpEmpty); diff != "" {
			t.Errorf("duplicate changed the store (-before +after):\n%s", diff)
		}
	})

	t.Run("ConcurrentDuplicatesCommitOnce", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				conv := sampleConversation("5511987654321", "")
				conv.Misses = i
				errs[i] = s.Commit(ctx, bot.Turn{MessageID: "wamid.same", Conversation: conv})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Errorf("goroutines %d and %d both committed wamid.same", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, bot.ErrDuplicate):
				t.Errorf("goroutine %d: Commit() error = %v, want nil or bot.ErrDuplicate", i, err)
			}
		}
		if won < 0 {
			t.Fatal("no goroutine committed wamid.same")
		}
		got, err := s.Conversation(ctx, "5511987654321")
		if err != nil {
			t.Fatalf("Conversation() error = %v", err)
		}
		if got.Misses != won {
			t.Errorf("stored conversation came from goroutine %d, but %d committed", got.Misses, won)
		}
	})

	t.Run("AuditOrderAcrossCases", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		// Ids 1..21, so that "2" is a string prefix of "20" and "21", and "1"
		// of "10".."19": each case must still see only its own trail.
		var ids []string
		for range 21 {
			id := mustNewCaseID(t, s)
			c := sampleCase(id, "55119"+id)
			mustCommit(t, s, bot.Turn{Conversation: sampleConversation(c.Client, id), Case: &c})
			ids = append(ids, id)
		}
		watched := []string{"1", "2", "10", "12", "20", "21"}
		want := map[string][]bot.AuditEvent{}
		for i := range 60 {
			id := watched[i%len(watched)]
			// Some events name their case, some inherit it from the turn.
			ev := bot.AuditEvent{CaseID: id, At: at(i), Actor: "bot", Kind: "step", Detail: strconv.Itoa(i)}
			turnEv := ev
			if i%2 == 0 {
				turnEv.CaseID = ""
			}
			c, err := s.Case(ctx, id)
			if err != nil {
				t.Fatalf("Case(%s) error = %v", id, err)
			}
			mustCommit(t, s, bot.Turn{
				MessageID:    fmt.Sprintf("wamid.%d", i),
				Conversation: sampleConversation(c.Client, id),
				Case:         &c,
				Audit:        []bot.AuditEvent{turnEv},
			})
			want[id] = append(want[id], ev)
		}
		// Several events in one turn keep their order too, and may touch
		// another case than the turn's.
		c2, err := s.Case(ctx, "2")
		if err != nil {
			t.Fatalf("Case(2) error = %v", err)
		}
		multi := []bot.AuditEvent{
			{CaseID: "2", At: at(100), Actor: "U0AGENT", Kind: "note", Detail: "a"},
			{CaseID: "20", At: at(100), Actor: "U0AGENT", Kind: "note", Detail: "b"},
			{CaseID: "2", At: at(100), Actor: "U0AGENT", Kind: "note", Detail: "c"},
		}
		mustCommit(t, s, bot.Turn{MessageID: "wamid.multi", Conversation: sampleConversation(c2.Client, "2"), Case: &c2, Audit: multi})
		want["2"] = append(want["2"], multi[0], multi[2])
		want["20"] = append(want["20"], multi[1])

		for _, id := range ids {
			got, err := s.Audit(ctx, id)
			if err != nil {
				t.Fatalf("Audit(%s) error = %v", id, err)
			}
			if diff := cmp.Diff(want[id], got, cmpEmpty); diff != "" {
				t.Errorf("Audit(%s) mismatch (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("AuditNeedsAKnownCase", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		conv := sampleConversation("5511987654321", "")
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv, Audit: []bot.AuditEvent{
			{At: at(1), Actor: "bot", Kind: "orphan"},
		}})
		if err == nil {
			t.Error("Commit(audit event with no case anywhere) succeeded, want an error")
		}
		err = s.Commit(ctx, bot.Turn{MessageID: "wamid.2", Conversation: conv, Audit: []bot.AuditEvent{
			{CaseID: "7", At: at(1), Actor: "bot", Kind: "orphan"},
		}})
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Commit(audit event for unknown case) error = %v, want bot.ErrNotFound", err)
		}
		// A refused turn is refused whole.
		got := snapshotOf(t, s, []string{conv.Key}, []string{"7"})
		want := state{
			Conversations: []bot.Conversation{{}},
			Cases:         []bot.Case{{}},
			Audit:         map[string][]bot.AuditEvent{"7": nil},
		}
		if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
			t.Errorf("refused turns changed the store (-want +got):\n%s", diff)
		}
		for _, m := range []string{"wamid.1", "wamid.2"} {
			if ok, err := s.Processed(ctx, m); err != nil || ok {
				t.Errorf("Processed(%s) = %v, %v after a refused turn; want false, nil", m, ok, err)
			}
		}
	})

	t.Run("CommitRefusesConversationWithoutKey", func(t *testing.T) {
		s := open(t)
		if err := s.Commit(t.Context(), bot.Turn{MessageID: "wamid.1"}); err == nil {
			t.Error("Commit(conversation without key) succeeded, want an error")
		}
		if ok, err := s.Processed(t.Context(), "wamid.1"); err != nil || ok {
			t.Errorf("Processed(wamid.1) = %v, %v after a refused turn; want false, nil", ok, err)
		}
	})

	t.Run("NewCaseIDUniqueUnderConcurrency", func(t *testing.T) {
		s := open(t)
		const goroutines, each = 8, 10
		var (
			mu   sync.Mutex
			seen = map[string]bool{}
			wg   sync.WaitGroup
		)
		for range goroutines {
			wg.Go(func() {
				for range each {
					id, err := s.NewCaseID(t.Context())
					if err != nil {
						t.Errorf("NewCaseID() error = %v", err)
						return
					}
					mu.Lock()
					if seen[id] {
						t.Errorf("NewCaseID() returned %q twice", id)
					}
					seen[id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != goroutines*each {
			t.Errorf("got %d distinct ids, want %d", len(seen), goroutines*each)
		}
		for id := range seen {
			if n, err := strconv.ParseUint(id, 10, 64); err != nil || n == 0 || len(id) > 6 {
				t.Errorf("NewCaseID() = %q, want a short positive decimal number", id)
			}
		}
	})

	t.Run("CasesOldestFirst", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		var want []bot.Case
		for i := range 12 {
			id := mustNewCaseID(t, s)
			c := sampleCase(id, fmt.Sprintf("551190000%04d", i))
			c.Created, c.Updated = at(i), at(i)
			want = append(want, c)
		}
		// Committed out of order: the listing follows the ids, not the
		// order of writes, and "10" comes after "9".
		for _, i := range rand.Perm(len(want)) {
			c := want[i]
			mustCommit(t, s, bot.Turn{Conversation: sampleConversation(c.Client, c.ID), Case: &c})
		}
		got, err := s.Cases(ctx)
		if err != nil {
			t.Fatalf("Cases() error = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Cases() mismatch (-want +got):\n%s", diff)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		wantIDs := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("Cases() ids = %v, want %v", ids, wantIDs)
		}
	})

	t.Run("SetWABA", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := mustNewCaseID(t, s)
		conv := sampleConversation("5511987654321", id)
		c := sampleCase(id, conv.Key)
		c.WABA = ""
		opened := bot.AuditEvent{CaseID: id, At: at(0), Actor: "bot", Kind: "opened"}
		mustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: []bot.AuditEvent{opened}})

		before := time.Now().Add(-time.Millisecond)
		if err := s.SetWABA(ctx, id, "104996122399160", "U0AGENT"); err != nil {
			t.Fatalf("SetWABA() error = %v", err)
		}
		after := time.Now().Add(time.Millisecond)

		got, err := s.Case(ctx, id)
		if err != nil {
			t.Fatalf("Case() error = %v", err)
		}
		if got.Updated.Before(before) || got.Updated.After(after) {
			t.Errorf("Updated = %v, want between %v and %v", got.Updated, before, after)
		}
		want := c
		want.WABA, want.Updated = "104996122399160", got.Updated
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Case() after SetWABA mismatch (-want +got):\n%s", diff)
		}
		trail, err := s.Audit(ctx, id)
		if err != nil {
			t.Fatalf("Audit() error = %v", err)
		}
		wantTrail := []bot.AuditEvent{opened, {CaseID: id, At: got.Updated, Actor: "U0AGENT", Kind: "waba_set", Detail: "104996122399160"}}
		if diff := cmp.Diff(wantTrail, trail); diff != "" {
			t.Errorf("Audit() after SetWABA mismatch (-want +got):\n%s", diff)
		}
		// The conversation is not the store's to touch here.
		gotConv, err := s.Conversation(ctx, conv.Key)
		if err != nil {
			t.Fatalf("Conversation() error = %v", err)
		}
		if diff := cmp.Diff(conv, gotConv); diff != "" {
			t.Errorf("Conversation() changed by SetWABA (-want +got):\n%s", diff)
		}
	})

	t.Run("ConcurrentCommits", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const clients, turns = 8, 6
		ids := make([]string, clients)
		for i := range clients {
			ids[i] = mustNewCaseID(t, s)
		}
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				key := fmt.Sprintf("55119%08d", i)
				c := sampleCase(ids[i], key)
				for j := range turns {
					conv := sampleConversation(key, ids[i])
					conv.Delivered = j + 1
					c.CodeRequests = j + 1
					err := s.Commit(ctx, bot.Turn{
						MessageID:    fmt.Sprintf("wamid.%d.%d", i, j),
						Conversation: conv,
						Case:         &c,
						Audit:        []bot.AuditEvent{{At: at(j), Actor: "client", Kind: "step", Detail: strconv.Itoa(j)}},
					})
					if err != nil {
						t.Errorf("client %d turn %d: Commit() error = %v", i, j, err)
						return
					}
					// Readers run beside the writers.
					if _, err := s.Cases(ctx); err != nil {
						t.Errorf("Cases() error = %v", err)
					}
				}
			})
		}
		wg.Wait()
		for i := range clients {
			key := fmt.Sprintf("55119%08d", i)
			conv, err := s.Conversation(ctx, key)
			if err != nil || conv.Delivered != turns {
				t.Errorf("client %d: Conversation() = Delivered %d, %v; want %d, nil", i, conv.Delivered, err, turns)
			}
			c, err := s.Case(ctx, ids[i])
			if err != nil || c.CodeRequests != turns {
				t.Errorf("client %d: Case() = CodeRequests %d, %v; want %d, nil", i, c.CodeRequests, err, turns)
			}
			trail, err := s.Audit(ctx, ids[i])
			if err != nil {
				t.Fatalf("Audit() error = %v", err)
			}
			var details []string
			for _, e := range trail {
				details = append(details, e.Detail)
			}
			if want := []string{"0", "1", "2", "3", "4", "5"}; !slices.Equal(details, want) {
				t.Errorf("client %d: audit details = %v, want %v", i, details, want)
			}
			for j := range turns {
				if ok, err := s.Processed(ctx, fmt.Sprintf("wamid.%d.%d", i, j)); err != nil || !ok {
					t.Errorf("Processed(wamid.%d.%d) = %v, %v; want true, nil", i, j, ok, err)
				}
			}
		}
		all, err := s.Cases(ctx)
		if err != nil || len(all) != clients {
			t.Errorf("Cases() = %d cases, %v; want %d, nil", len(all), err, clients)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		id := mustNewCaseID(t, s)
		conv := sampleConversation("5511987654321", id)
		c := sampleCase(id, conv.Key)
		mustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c})
		before := snapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id})

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		other := sampleConversation("5521912345678", id)
		c2 := c
		c2.State = fsm.Cancelled
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.2", Conversation: other, Case: &c2, Audit: []bot.AuditEvent{
			{CaseID: id, At: at(1), Actor: "client", Kind: "cancel"},
		}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Commit(cancelled) error = %v, want context.Canceled", err)
		}
		if err := s.SetWABA(ctx, id, "104996122399160", "U0AGENT"); !errors.Is(err, context.Canceled) {
			t.Errorf("SetWABA(cancelled) error = %v, want context.Canceled", err)
		}
		if _, err := s.NewCaseID(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("NewCaseID(cancelled) error = %v, want context.Canceled", err)
		}
		if _, err := s.Conversation(ctx, conv.Key); !errors.Is(err, context.Canceled) {
			t.Errorf("Conversation(cancelled) error = %v, want context.Canceled", err)
		}
		if _, err := s.Case(ctx, id); !errors.Is(err, context.Canceled) {
			t.Errorf("Case(cancelled) error = %v, want context.Canceled", err)
		}
		if _, err := s.Cases(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Cases(cancelled) error = %v, want context.Canceled", err)
		}
		if _, err := s.Audit(ctx, id); !errors.Is(err, context.Canceled) {
			t.Errorf("Audit(cancelled) error = %v, want context.Canceled", err)
		}
		if _, err := s.Processed(ctx, "wamid.1"); !errors.Is(err, context.Canceled) {
			t.Errorf("Processed(cancelled) error = %v, want context.Canceled", err)
		}

		after := snapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id})
		if diff := cmp.Diff(before, after, cmpEmpty); diff != "" {
			t.Errorf("cancelled calls changed the store (-before +after):\n%s", diff)
		}
		if ok, err := s.Processed(t.Context(), "wamid.2"); err != nil || ok {
			t.Errorf("Processed(wamid.2) = %v, %v after a cancelled commit; want false, nil", ok, err)
		}
		// No case id was used up either.
		if next := mustNewCaseID(t, s); next != "2" {
			t.Errorf("NewCaseID() after a cancelled call = %q, want %q", next, "2")
		}
	})
}

// base is a fixture time: UTC, whole microseconds.
var base = time.Date(2026, 5, 4, 10, 30, 0, 123456000, time.UTC)

func at(minute int) time.Time { return base.Add(time.Duration(minute) * time.Minute) }

func sampleConversation(key, caseID string) bot.Conversation {
	return bot.Conversation{
		Key:        key,
		Lang:       bot.Portuguese,
		LangChosen: true,
		State:      fsm.Blocked,
		Back:       fsm.Check2FA,
		CaseID:     caseID,
		Step:       "pin_confirm",
		PinHash:    "argon2id$c2FsdA$aGFzaA",
		Misses:     1,
		Created:    at(0),
		Updated:    at(3),
		// A reading of the wall clock as the engine would take it: local
		// zone, monotonic part stripped by the truncation.
		LastSeen:  time.Now().Truncate(time.Microsecond),
		Delivered: 4,
	}
}

func sampleCase(id, client string) bot.Case {
	return bot.Case{
		ID:              id,
		Client:          client,
		Lang:            bot.Spanish,
		State:           fsm.MigratingTemplates,
		Phone:           "+5511987654321",
		CC:              "55",
		National:        "11987654321",
		WABA:            "104996122399160",
		SourceWABA:      "102290129340398",
		PhoneNumberID:   "106540352242922",
		Confirmed:       []bot.Check{bot.CheckBM, bot.Check2FA, bot.CheckReception},
		Blocked:         bot.CheckDisplayName,
		Method:          "SMS",
		CodeRequests:    2,
		CodeRequestedAt: at(2),
		WrongCodes:      1,
		InFlight:        "register",
		RegisterCalls:   1,
		Kept:            &bot.Kept{DisplayName: "Padaria Pão Quente", QualityRating: "GREEN", MessagingLimit: "TIER_1K", OfficialBusiness: true},
		Templates:       &bot.TemplateResult{Migrated: []string{"1", "2"}, Failed: map[string]string{"3": "rejected"}},
		Problem:         "Meta asks to wait before another code",
		TraceID:         "AbCdEf123",
		Created:         at(0),
		Updated:         at(4),
	}
}

func mustNewCaseID(tb testing.TB, s bot.Store) string {
	tb.Helper()
	id, err := s.NewCaseID(context.Background())
	if err != nil {
		tb.Fatalf("NewCaseID() error = %v", err)
	}
	return id
}

func mustCommit(tb testing.TB, s bot.Store, t bot.Turn) {
	tb.Helper()
	if err := s.Commit(context.Background(), t); err != nil {
		tb.Fatalf("Commit(%q) error = %v", t.MessageID, err)
	}
}

// state is what a test can observe of a store through the port, for
// "nothing changed" comparisons.
type state struct {
	Conversations []bot.Conversation // zero value where not found
	Cases         []bot.Case         // zero value where not found
	AllCases      []bot.Case
	Audit         map[string][]bot.AuditEvent
}

// cmpEmpty treats nil and empty slices and maps alike: the port promises
// "empty", not which kind.
var cmpEmpty = cmpopts.EquateEmpty()

func snapshotOf(tb testing.TB, s bot.Store, convKeys, caseIDs []string) state {
	tb.Helper()
	ctx := context.Background()
	var st state
	for _, k := range convKeys {
		c, err := s.Conversation(ctx, k)
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			tb.Fatalf("Conversation() error = %v", err)
		}
		st.Conversations = append(st.Conversations, c)
	}
	st.Audit = map[string][]bot.AuditEvent{}
	for _, id := range caseIDs {
		c, err := s.Case(ctx, id)
		if err != nil && !errors.Is(err, bot.ErrNotFound) {
			tb.Fatalf("Case(%s) error = %v", id, err)
		}
		st.Cases = append(st.Cases, c)
		evs, err := s.Audit(ctx, id)
		if err != nil {
			tb.Fatalf("Audit(%s) error = %v", id, err)
		}
		st.Audit[id] = evs
	}
	all, err := s.Cases(ctx)
	if err != nil {
		tb.Fatalf("Cases() error = %v", err)
	}
	st.AllCases = all
	return st
}
