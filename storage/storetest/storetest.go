// Package storetest is the contract every store of portabot keeps, as tests
// any backend runs against itself: bbolt, PostgreSQL and the bot's memory
// store answer the same port, and the bot relies on that port's meaning, not
// on a backend. A new backend calls RunStore, RunQueue and RunNotices from
// its own tests with a function that opens an empty store.
//
// Times in the fixtures are UTC and whole microseconds, so that they survive
// every backend unchanged.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"portabot/bot"
	"portabot/fsm"
)

// RunStore is what every bot.Store backend must do. open returns an
// empty store that lives until the end of t.
//
// Times in the fixtures are UTC and whole microseconds: JSON keeps
// nanoseconds, but PostgreSQL's timestamptz does not, and the suite must hold
// for both. cmp compares time.Time with its Equal method, so a monotonic
// reading lost on the way through storage does not count as a difference.
func RunStore(t *testing.T, open func(t *testing.T) bot.Store) {
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

	t.Run("ClientIDsFindTheConversation", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const bsuid, phone, newPhone = "BR.1502576394655843", "5511987654321", "5511955550000"
		conv := SampleConversation(bsuid, "")
		conv.Phone = phone
		MustCommit(t, s, bot.Turn{Conversation: conv})
		for _, id := range []string{bsuid, phone} {
			got, err := s.Conversation(ctx, id)
			if err != nil || got.Key != bsuid {
				t.Errorf("Conversation(%s) = key %q, %v; want the conversation keyed %s", id, got.Key, err, bsuid)
			}
		}
		// The client changed their number: the old one stops naming them.
		conv.Phone = newPhone
		MustCommit(t, s, bot.Turn{Conversation: conv, Forget: []string{phone}})
		if _, err := s.Conversation(ctx, phone); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Conversation(old number) error = %v, want bot.ErrNotFound", err)
		}
		if got, err := s.Conversation(ctx, newPhone); err != nil || got.Key != bsuid {
			t.Errorf("Conversation(new number) = key %q, %v; want %s", got.Key, err, bsuid)
		}
		// A second client on the old number is a conversation of its own,
		// and forgetting an id another conversation holds leaves it there.
		other := SampleConversation("BR.8800000000000002", "")
		other.Phone = phone
		MustCommit(t, s, bot.Turn{Conversation: other})
		MustCommit(t, s, bot.Turn{Conversation: conv, Forget: []string{phone}})
		if got, err := s.Conversation(ctx, phone); err != nil || got.Key != other.Key {
			t.Errorf("Conversation(old number, now another client's) = key %q, %v; want %s", got.Key, err, other.Key)
		}
	})

	t.Run("CommitAndReadBack", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := MustNewCaseID(t, s)
		conv := SampleConversation("5511987654321", id)
		c := SampleCase(id, conv.Key)
		events := []bot.AuditEvent{
			{CaseID: id, At: At(1), Actor: "client", Kind: "transition", From: fsm.AskPhone, To: fsm.AddingNumber, Detail: "+55******4321"},
			{CaseID: id, At: At(1), Actor: "graph", Kind: "add_phone_number", Detail: "ok"},
		}
		MustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: events})

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
		id := MustNewCaseID(t, s)
		conv := SampleConversation("5511987654321", id)
		c := SampleCase(id, conv.Key)
		MustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c})

		conv.State, conv.Step, conv.Misses, conv.Updated = fsm.AwaitCode, "", 0, At(5)
		c.State, c.Kept, c.Confirmed, c.Updated = fsm.AwaitCode, nil, nil, At(5)
		MustCommit(t, s, bot.Turn{MessageID: "wamid.2", Conversation: conv, Case: &c})
		// A turn without a case leaves the stored case alone.
		conv.Misses = 2
		MustCommit(t, s, bot.Turn{MessageID: "wamid.3", Conversation: conv})

		got := SnapshotOf(t, s, []string{conv.Key}, []string{id})
		want := State{
			Conversations: []bot.Conversation{conv},
			Cases:         []bot.Case{c},
			AllCases:      []bot.Case{c},
			Audit:         map[string][]bot.AuditEvent{id: nil},
		}
		if diff := cmp.Diff(want, got, CmpEmpty); diff != "" {
			t.Errorf("state mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("CommitWithoutMessageID", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		conv := SampleConversation("5511987654321", "")
		// Recovery turns answer no message, so they are never duplicates.
		MustCommit(t, s, bot.Turn{Conversation: conv})
		conv.Misses++
		MustCommit(t, s, bot.Turn{Conversation: conv})
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
		id := MustNewCaseID(t, s)
		conv := SampleConversation("5511987654321", id)
		c := SampleCase(id, conv.Key)
		MustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: []bot.AuditEvent{
			{CaseID: id, At: At(1), Actor: "bot", Kind: "opened"},
		}})
		id2 := MustNewCaseID(t, s)
		before := SnapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id, id2})

		// The redelivery carries different content on purpose: none of it
		// may land, not the conversation, not either case, not the audit.
		conv2 := conv
		conv2.State, conv2.Misses = fsm.Cancelled, 9
		c2 := c
		c2.State = fsm.Cancelled
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv2, Case: &c2, Audit: []bot.AuditEvent{
			{CaseID: id, At: At(2), Actor: "client", Kind: "cancel"},
		}})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("Commit(same message) error = %v, want bot.ErrDuplicate", err)
		}
		other := SampleConversation("5521912345678", id2)
		c3 := SampleCase(id2, other.Key)
		err = s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: other, Case: &c3})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Fatalf("Commit(same message, other client) error = %v, want bot.ErrDuplicate", err)
		}
		after := SnapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id, id2})
		if diff := cmp.Diff(before, after, CmpEmpty); diff != "" {
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
				conv := SampleConversation("5511987654321", "")
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
			id := MustNewCaseID(t, s)
			c := SampleCase(id, "55119"+id)
			MustCommit(t, s, bot.Turn{Conversation: SampleConversation(c.Client, id), Case: &c})
			ids = append(ids, id)
		}
		watched := []string{"1", "2", "10", "12", "20", "21"}
		want := map[string][]bot.AuditEvent{}
		for i := range 60 {
			id := watched[i%len(watched)]
			// Some events name their case, some inherit it from the turn.
			ev := bot.AuditEvent{CaseID: id, At: At(i), Actor: "bot", Kind: "step", Detail: strconv.Itoa(i)}
			turnEv := ev
			if i%2 == 0 {
				turnEv.CaseID = ""
			}
			c, err := s.Case(ctx, id)
			if err != nil {
				t.Fatalf("Case(%s) error = %v", id, err)
			}
			MustCommit(t, s, bot.Turn{
				MessageID:    fmt.Sprintf("wamid.%d", i),
				Conversation: SampleConversation(c.Client, id),
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
			{CaseID: "2", At: At(100), Actor: "U0AGENT", Kind: "note", Detail: "a"},
			{CaseID: "20", At: At(100), Actor: "U0AGENT", Kind: "note", Detail: "b"},
			{CaseID: "2", At: At(100), Actor: "U0AGENT", Kind: "note", Detail: "c"},
		}
		MustCommit(t, s, bot.Turn{MessageID: "wamid.multi", Conversation: SampleConversation(c2.Client, "2"), Case: &c2, Audit: multi})
		want["2"] = append(want["2"], multi[0], multi[2])
		want["20"] = append(want["20"], multi[1])

		for _, id := range ids {
			got, err := s.Audit(ctx, id)
			if err != nil {
				t.Fatalf("Audit(%s) error = %v", id, err)
			}
			if diff := cmp.Diff(want[id], got, CmpEmpty); diff != "" {
				t.Errorf("Audit(%s) mismatch (-want +got):\n%s", id, diff)
			}
		}
	})

	t.Run("AuditNeedsAKnownCase", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		conv := SampleConversation("5511987654321", "")
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv, Audit: []bot.AuditEvent{
			{At: At(1), Actor: "bot", Kind: "orphan"},
		}})
		if err == nil {
			t.Error("Commit(audit event with no case anywhere) succeeded, want an error")
		}
		err = s.Commit(ctx, bot.Turn{MessageID: "wamid.2", Conversation: conv, Audit: []bot.AuditEvent{
			{CaseID: "7", At: At(1), Actor: "bot", Kind: "orphan"},
		}})
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Commit(audit event for unknown case) error = %v, want bot.ErrNotFound", err)
		}
		// A refused turn is refused whole.
		got := SnapshotOf(t, s, []string{conv.Key}, []string{"7"})
		want := State{
			Conversations: []bot.Conversation{{}},
			Cases:         []bot.Case{{}},
			Audit:         map[string][]bot.AuditEvent{"7": nil},
		}
		if diff := cmp.Diff(want, got, CmpEmpty); diff != "" {
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
			id := MustNewCaseID(t, s)
			c := SampleCase(id, fmt.Sprintf("551190000%04d", i))
			c.Created, c.Updated = At(i), At(i)
			want = append(want, c)
		}
		// Committed out of order: the listing follows the ids, not the
		// order of writes, and "10" comes after "9".
		for _, i := range rand.Perm(len(want)) {
			c := want[i]
			MustCommit(t, s, bot.Turn{Conversation: SampleConversation(c.Client, c.ID), Case: &c})
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
		id := MustNewCaseID(t, s)
		conv := SampleConversation("5511987654321", id)
		c := SampleCase(id, conv.Key)
		c.WABA = ""
		opened := bot.AuditEvent{CaseID: id, At: At(0), Actor: "bot", Kind: "opened"}
		MustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Audit: []bot.AuditEvent{opened}})

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
			ids[i] = MustNewCaseID(t, s)
		}
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				key := fmt.Sprintf("55119%08d", i)
				c := SampleCase(ids[i], key)
				for j := range turns {
					conv := SampleConversation(key, ids[i])
					conv.Delivered = j + 1
					c.CodeRequests = j + 1
					err := s.Commit(ctx, bot.Turn{
						MessageID:    fmt.Sprintf("wamid.%d.%d", i, j),
						Conversation: conv,
						Case:         &c,
						Audit:        []bot.AuditEvent{{At: At(j), Actor: "client", Kind: "step", Detail: strconv.Itoa(j)}},
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
		id := MustNewCaseID(t, s)
		conv := SampleConversation("5511987654321", id)
		c := SampleCase(id, conv.Key)
		MustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c})
		before := SnapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id})

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		other := SampleConversation("5521912345678", id)
		c2 := c
		c2.State = fsm.Cancelled
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.2", Conversation: other, Case: &c2, Audit: []bot.AuditEvent{
			{CaseID: id, At: At(1), Actor: "client", Kind: "cancel"},
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

		after := SnapshotOf(t, s, []string{conv.Key, "5521912345678"}, []string{id})
		if diff := cmp.Diff(before, after, CmpEmpty); diff != "" {
			t.Errorf("cancelled calls changed the store (-before +after):\n%s", diff)
		}
		if ok, err := s.Processed(t.Context(), "wamid.2"); err != nil || ok {
			t.Errorf("Processed(wamid.2) = %v, %v after a cancelled commit; want false, nil", ok, err)
		}
		// No case id was used up either.
		if next := MustNewCaseID(t, s); next != "2" {
			t.Errorf("NewCaseID() after a cancelled call = %q, want %q", next, "2")
		}
	})
	t.Run("CaseIndex", func(t *testing.T) { RunCaseIndex(t, open) })
}

// Base is a fixture time: UTC, whole microseconds.
var Base = time.Date(2026, 5, 4, 10, 30, 0, 123456000, time.UTC)

// At is the fixture time minute minutes after Base.
func At(minute int) time.Time { return Base.Add(time.Duration(minute) * time.Minute) }

// SampleConversation is a conversation keyed key, in case caseID (none when empty).
func SampleConversation(key, caseID string) bot.Conversation {
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
		Created:    At(0),
		Updated:    At(3),
		// A reading of the wall clock as the engine would take it: local
		// zone, monotonic part stripped by the truncation.
		LastSeen:  time.Now().Truncate(time.Microsecond),
		Delivered: 4,
	}
}

// SampleCase is case id of client, as the engine would write it.
func SampleCase(id, client string) bot.Case {
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
		CodeRequestedAt: At(2),
		WrongCodes:      1,
		InFlight:        "register",
		RegisterCalls:   1,
		Kept:            &bot.Kept{DisplayName: "Padaria Pão Quente", QualityRating: "GREEN", MessagingLimit: "TIER_1K", OfficialBusiness: true},
		Templates:       &bot.TemplateResult{Migrated: []string{"1", "2"}, Failed: map[string]string{"3": "rejected"}},
		Problem:         "Meta asks to wait before another code",
		TraceID:         "AbCdEf123",
		Created:         At(0),
		Updated:         At(4),
	}
}

// MustNewCaseID is s.NewCaseID, failing the test on an error.
func MustNewCaseID(tb testing.TB, s bot.Store) string {
	tb.Helper()
	id, err := s.NewCaseID(context.Background())
	if err != nil {
		tb.Fatalf("NewCaseID() error = %v", err)
	}
	return id
}

// MustCommit is s.Commit, failing the test on an error.
func MustCommit(tb testing.TB, s bot.Store, t bot.Turn) {
	tb.Helper()
	if err := s.Commit(context.Background(), t); err != nil {
		tb.Fatalf("Commit(%q) error = %v", t.MessageID, err)
	}
}

// State is what a test can observe of a store through the port, for
// "nothing changed" comparisons.
type State struct {
	Conversations []bot.Conversation // zero value where not found
	Cases         []bot.Case         // zero value where not found
	AllCases      []bot.Case
	Audit         map[string][]bot.AuditEvent
}

// CmpEmpty treats nil and empty slices and maps alike: the port promises
// "empty", not which kind.
var CmpEmpty = cmpopts.EquateEmpty()

// SnapshotOf reads what s shows through the port of the conversations and cases named.
func SnapshotOf(tb testing.TB, s bot.Store, convKeys, caseIDs []string) State {
	tb.Helper()
	ctx := context.Background()
	var st State
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

// QueueBackend is a store that also queues work: the inbox and outbox ports,
// and the lookups operators (and these tests) use to see inside them.
type QueueBackend interface {
	bot.Store
	bot.Inbox
	bot.Outbox
	Outbound(ctx context.Context, id string) (bot.Outbound, error)
	OutboundRows(ctx context.Context, client string) ([]bot.Outbound, error)
	OutboxStats(ctx context.Context) (pending, sent, parked, failed int, err error)
	InboxDepth(ctx context.Context) (int, error)
}

// RunQueue is what every backend's inbox and outbox must do. open
// returns an empty store, able to seal client text, that lives until the end
// of t. Claims are the backend's business (a mutex on bbolt, row locks on
// PostgreSQL); what they guarantee is tested here.
func RunQueue(t *testing.T, open func(t *testing.T) QueueBackend) {
	t.Run("UnparkPutsParkedRowsBackInOrder", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const who = "5511987654321"
		conv := SampleConversation(who, "")
		MustCommit(t, s, bot.Turn{Conversation: conv, Outbox: []bot.Outbound{
			{To: who, Reply: bot.Reply{Text: "one"}, Created: At(1), NextAttempt: At(1), LastInbound: At(0)},
			{To: who, Reply: bot.Reply{Text: "two"}, Created: At(1), NextAttempt: At(1), LastInbound: At(0)},
		}})
		rows, release, err := s.ClaimOutbound(ctx, At(2), 10)
		if err != nil || len(rows) != 1 {
			t.Fatalf("ClaimOutbound = %d rows, %v; want the client's first", len(rows), err)
		}
		first := rows[0]
		first.State = bot.OutboundParked
		if err := s.MarkOutbound(ctx, first); err != nil {
			t.Fatal(err)
		}
		release()
		rows, release, err = s.ClaimOutbound(ctx, At(2), 10)
		if err != nil || len(rows) != 1 || rows[0].Reply.Text != "two" {
			t.Fatalf("ClaimOutbound after parking the first = %+v, %v; want the second", rows, err)
		}
		second := rows[0]
		second.State = bot.OutboundParked
		if err := s.MarkOutbound(ctx, second); err != nil {
			t.Fatal(err)
		}
		release()
		if _, _, parked, _, err := s.OutboxStats(ctx); err != nil || parked != 2 {
			t.Fatalf("parked rows = %d, %v; want 2", parked, err)
		}
		// The client writes again: the parked rows go first, then the turn's.
		conv.LastSeen, conv.Updated = At(5), At(5)
		MustCommit(t, s, bot.Turn{Conversation: conv, Unpark: true, Outbox: []bot.Outbound{
			{To: who, Reply: bot.Reply{Text: "three"}, Created: At(5), NextAttempt: At(5), LastInbound: At(5)},
		}})
		var order []string
		for range 3 {
			rows, release, err := s.ClaimOutbound(ctx, At(6), 10)
			if err != nil || len(rows) != 1 {
				t.Fatalf("ClaimOutbound = %d rows, %v; want one", len(rows), err)
			}
			r := rows[0]
			if !r.LastInbound.Equal(At(5)) {
				t.Errorf("row %q goes out with the window of %v; want the client's new message, %v", r.Reply.Text, r.LastInbound, At(5))
			}
			order = append(order, r.Reply.Text)
			r.State = bot.OutboundSent
			if err := s.MarkOutbound(ctx, r); err != nil {
				t.Fatal(err)
			}
			release()
		}
		if want := []string{"one", "two", "three"}; !slices.Equal(order, want) {
			t.Errorf("replies went out %v; want %v", order, want)
		}
	})

	t.Run("InboxGroupsAClientByBSUID", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := Inbound("5511987654321", 1)
		a.UserID = "BR.1502576394655843"
		b := bot.Inbound{ID: "wamid.bsuid.only", UserID: a.UserID, Text: "only the BSUID", At: At(2)}
		if n, err := s.Enqueue(ctx, []bot.Inbound{a, b}); err != nil || n != 2 {
			t.Fatalf("Enqueue = %d, %v; want 2", n, err)
		}
		key, msgs, release, ok, err := s.Claim(ctx)
		if err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		defer release()
		if key != a.UserID || len(msgs) != 2 {
			t.Errorf("Claim = %q with %d messages; want both messages under the BSUID", key, len(msgs))
		}
	})

	t.Run("EnqueueDedupes", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		m1, m2, m3 := Inbound("5511987654321", 1), Inbound("5511987654321", 2), Inbound("5521912345678", 3)
		if n, err := s.Enqueue(ctx, []bot.Inbound{m1, m2, m1}); err != nil || n != 2 {
			t.Errorf("Enqueue(m1, m2, m1) = %d, %v; want 2, nil", n, err)
		}
		if n, err := s.Enqueue(ctx, []bot.Inbound{m2, m3}); err != nil || n != 1 {
			t.Errorf("Enqueue(m2, m3) = %d, %v; want 1, nil", n, err)
		}
		MustCommit(t, s, bot.Turn{MessageID: m1.ID, Conversation: SampleConversation(m1.From, "")})
		if n, err := s.Enqueue(ctx, []bot.Inbound{m1}); err != nil || n != 0 {
			t.Errorf("Enqueue(m1) after it was processed = %d, %v; want 0, nil", n, err)
		}
		// Processed without ever being queued (the terminal chat does
		// that): a late webhook for it is still a redelivery.
		direct := Inbound("5511987654321", 4)
		MustCommit(t, s, bot.Turn{MessageID: direct.ID, Conversation: SampleConversation(direct.From, "")})
		if n, err := s.Enqueue(ctx, []bot.Inbound{direct}); err != nil || n != 0 {
			t.Errorf("Enqueue(processed, never queued) = %d, %v; want 0, nil", n, err)
		}
		if n, err := s.Enqueue(ctx, nil); err != nil || n != 0 {
			t.Errorf("Enqueue(nil) = %d, %v; want 0, nil", n, err)
		}
		WantDepth(t, s, 2)
		got := ClaimAll(t, s)
		want := map[string][]bot.Inbound{m2.From: {m2}, m3.From: {m3}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("waiting messages (-want +got):\n%s", diff)
		}
	})

	t.Run("EnqueueRefusesIncompleteMessages", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		good := Inbound("5511987654321", 0)
		noID := Inbound("5511987654321", 1)
		noID.ID = ""
		noFrom := Inbound("", 3)
		for name, batch := range map[string][]bot.Inbound{"no id": {good, noID}, "no sender": {good, noFrom}} {
			if n, err := s.Enqueue(ctx, batch); err == nil || n != 0 {
				t.Errorf("Enqueue(%s) = %d, %v; want 0 and an error", name, n, err)
			} else if strings.Contains(err.Error(), good.Text) {
				t.Errorf("Enqueue(%s) error %q repeats the client's text", name, err)
			}
		}
		// The batch is refused whole, the good message too.
		WantDepth(t, s, 0)
	})

	t.Run("ClaimEmpty", func(t *testing.T) {
		s := open(t)
		key, msgs, release, ok, err := s.Claim(t.Context())
		if err != nil || ok || key != "" || len(msgs) != 0 {
			t.Errorf("Claim(empty) = %q, %v, ok %v, %v; want nothing", key, msgs, ok, err)
		}
		if release != nil {
			release()
		}
	})

	t.Run("ClaimKeepsArrivalOrder", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		clients := []string{"5511987654321", "551198765432", "5521912345678"}
		want := map[string][]bot.Inbound{}
		var all []bot.Inbound
		for i := range 30 {
			// One client's number is a prefix of another's: their rows
			// must still never mix.
			m := Inbound(clients[i%len(clients)], i)
			want[m.From] = append(want[m.From], m)
			all = append(all, m)
		}
		// Interleaved, in batches of varying size, some repeating earlier
		// messages, as Meta's webhooks would.
		for i := 0; i < len(all); {
			n := 1 + i%4
			batch := slices.Clone(all[i:min(i+n, len(all))])
			if i > 0 {
				batch = append(batch, all[i-1])
			}
			if _, err := s.Enqueue(ctx, batch); err != nil {
				t.Fatalf("Enqueue() error = %v", err)
			}
			i += n
		}
		WantDepth(t, s, len(all))
		if diff := cmp.Diff(want, ClaimAll(t, s)); diff != "" {
			t.Errorf("claimed messages per conversation (-want +got):\n%s", diff)
		}
		WantDepth(t, s, 0)
	})

	t.Run("ClaimHoldsConversation", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a, b := Inbound("5511987654321", 1), Inbound("5521912345678", 2)
		MustEnqueue(t, s, a, b)
		k1, m1, rel1, ok1, err1 := s.Claim(ctx)
		k2, _, rel2, ok2, err2 := s.Claim(ctx)
		if err1 != nil || err2 != nil || !ok1 || !ok2 || k1 == k2 {
			t.Fatalf("two Claims = (%q, %v, %v), (%q, %v, %v); want both conversations, one each", k1, ok1, err1, k2, ok2, err2)
		}
		if _, _, _, ok, err := s.Claim(ctx); ok || err != nil {
			t.Errorf("third Claim with both conversations held = ok %v, %v; want nothing", ok, err)
		}
		rel1()
		rel1() // a second release changes nothing
		k3, m3, rel3, ok3, err := s.Claim(ctx)
		if err != nil || !ok3 || k3 != k1 {
			t.Fatalf("Claim after release = %q, ok %v, %v; want %q again", k3, ok3, err, k1)
		}
		if diff := cmp.Diff(m1, m3); diff != "" {
			t.Errorf("unprocessed messages claimed again differ (-first +again):\n%s", diff)
		}
		if _, _, _, ok, _ := s.Claim(ctx); ok {
			t.Error("Claim returned a conversation while both are held, after a double release")
		}
		rel2()
		rel3()
	})

	t.Run("ClaimRotates", func(t *testing.T) {
		s := open(t)
		clients := []string{"5511900000001", "5511900000002", "5511900000003"}
		for i := range 9 {
			// The first client is the busiest and the first in key order.
			c := clients[0]
			if i%3 == 2 {
				c = clients[1+i%2]
			}
			if i == 8 {
				c = clients[2]
			}
			MustEnqueue(t, s, Inbound(c, i))
		}
		// Claimed and released without progress, as when a message keeps
		// failing: every conversation still gets its turn.
		for round := range 2 {
			seen := map[string]bool{}
			for range len(clients) {
				key, _, release, ok, err := s.Claim(t.Context())
				if err != nil || !ok {
					t.Fatalf("Claim() = ok %v, %v", ok, err)
				}
				release()
				seen[key] = true
			}
			if len(seen) != len(clients) {
				t.Errorf("round %d: %d claims reached %d conversations, want all %d", round, len(clients), len(seen), len(clients))
			}
		}
	})

	t.Run("ClaimInParts", func(t *testing.T) {
		s := open(t)
		var want []bot.Inbound
		for i := range 150 {
			want = append(want, Inbound("5511987654321", i))
		}
		MustEnqueue(t, s, want...)
		got := ClaimAll(t, s)["5511987654321"]
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("messages claimed over several claims (-want +got):\n%s", diff)
		}
	})

	t.Run("CommitTakesMessageOutOfInbox", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		m1, m2 := Inbound("5511987654321", 1), Inbound("5511987654321", 2)
		MustEnqueue(t, s, m1, m2)
		_, msgs, release, ok, err := s.Claim(ctx)
		if err != nil || !ok || len(msgs) != 2 {
			t.Fatalf("Claim() = %v, ok %v, %v; want both messages", msgs, ok, err)
		}
		MustCommit(t, s, bot.Turn{MessageID: m1.ID, Conversation: SampleConversation(m1.From, "")})
		WantDepth(t, s, 1)
		// The turn for m2 fails: it stays, and is what the next claim gets.
		release()
		_, msgs, release, ok, err = s.Claim(ctx)
		if err != nil || !ok {
			t.Fatalf("Claim() = ok %v, %v", ok, err)
		}
		release()
		if diff := cmp.Diff([]bot.Inbound{m2}, msgs); diff != "" {
			t.Errorf("Claim() after m1's commit (-want +got):\n%s", diff)
		}
		if err := s.Commit(ctx, bot.Turn{MessageID: m1.ID, Conversation: SampleConversation(m1.From, "")}); !errors.Is(err, bot.ErrDuplicate) {
			t.Errorf("Commit(m1 again) error = %v, want bot.ErrDuplicate", err)
		}
		// A refused turn leaves its message waiting.
		err = s.Commit(ctx, bot.Turn{MessageID: m2.ID, Conversation: SampleConversation(m2.From, ""),
			Audit: []bot.AuditEvent{{CaseID: "9", Kind: "orphan"}}, Outbox: []bot.Outbound{Outbound(m2.From, "lost")}})
		if err == nil {
			t.Fatal("Commit(audit for unknown case) succeeded")
		}
		WantDepth(t, s, 1)
		WantStats(t, s, 0, 0, 0, 0)
		// A turn that answers no message takes nothing out.
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(m2.From, "")})
		WantDepth(t, s, 1)
		MustCommit(t, s, bot.Turn{MessageID: m2.ID, Conversation: SampleConversation(m2.From, "")})
		WantDepth(t, s, 0)
		if _, _, _, ok, err := s.Claim(ctx); ok || err != nil {
			t.Errorf("Claim() after every message was committed = ok %v, %v; want nothing", ok, err)
		}
	})

	t.Run("ConcurrentClaimers", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		const clients, each, workers = 6, 15, 8
		want := map[string][]string{}
		var all []bot.Inbound
		for i := range each {
			for c := range clients {
				m := Inbound(fmt.Sprintf("55119%08d", c), i*clients+c)
				all = append(all, m)
				want[m.From] = append(want[m.From], m.ID)
			}
		}
		// Half is waiting before the workers start, half arrives while
		// they work.
		MustEnqueue(t, s, all[:len(all)/2]...)
		var (
			mu        sync.Mutex
			holders   = map[string]int{}
			got       = map[string][]string{}
			done      int
			wg        sync.WaitGroup
			enqueued  = make(chan struct{})
			committed = map[string]int{}
		)
		wg.Go(func() {
			defer close(enqueued)
			for _, m := range all[len(all)/2:] {
				if _, err := s.Enqueue(ctx, []bot.Inbound{m}); err != nil {
					t.Errorf("Enqueue() error = %v", err)
					return
				}
			}
		})
		for w := range workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					key, msgs, release, ok, err := s.Claim(ctx)
					if err != nil {
						t.Errorf("worker %d: Claim() error = %v", w, err)
						return
					}
					if !ok {
						mu.Lock()
						finished := done == len(all)
						mu.Unlock()
						if finished {
							return
						}
						time.Sleep(time.Millisecond)
						continue
					}
					mu.Lock()
					holders[key]++
					if holders[key] > 1 {
						t.Errorf("conversation %s claimed by %d workers at once", key, holders[key])
					}
					mu.Unlock()
					for _, m := range msgs {
						if m.From != key {
							t.Errorf("claim of %s returned a message from %s", key, m.From)
						}
						err := s.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: SampleConversation(key, "")})
						mu.Lock()
						committed[m.ID]++
						if err != nil {
							t.Errorf("worker %d: Commit(%s) error = %v", w, m.ID, err)
						} else {
							got[key] = append(got[key], m.ID)
							done++
						}
						mu.Unlock()
					}
					mu.Lock()
					holders[key]--
					mu.Unlock()
					release()
				}
			})
		}
		wg.Wait()
		<-enqueued
		if ctx.Err() != nil {
			t.Fatalf("workers did not finish: %d of %d messages processed", done, len(all))
		}
		for id, n := range committed {
			if n != 1 {
				t.Errorf("message %s handed out %d times, want once", id, n)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("processing order per conversation (-want +got):\n%s", diff)
		}
		WantDepth(t, s, 0)
	})

	t.Run("OutboxRowsFromCommit", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a, b := "5511987654321", "5521912345678"
		rowsA := []bot.Outbound{Outbound(a, "one"), Outbound(a, "two"), Outbound(a, "three")}
		rowsA[1].Reply.Buttons = []bot.Button{{ID: "yes", Title: "Sim"}, {ID: "no", Title: "Não"}}
		rowsA[2].State = "" // the store makes it pending
		MustCommit(t, s, bot.Turn{MessageID: "wamid.a", Conversation: SampleConversation(a, ""), Outbox: rowsA})
		MustCommit(t, s, bot.Turn{MessageID: "wamid.b", Conversation: SampleConversation(b, ""),
			Outbox: []bot.Outbound{Outbound(b, "uno"), Outbound(b, "dos")}})
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "four")}})
		for _, r := range rowsA {
			if r.ID != "" {
				t.Errorf("Commit() wrote id %q into the caller's row", r.ID)
			}
		}

		got, err := s.OutboundRows(ctx, a)
		if err != nil {
			t.Fatalf("OutboundRows() error = %v", err)
		}
		want := append(slices.Clone(rowsA), Outbound(a, "four"))
		want[2].State = bot.OutboundPending
		if len(got) != len(want) {
			t.Fatalf("OutboundRows(a) = %d rows, want %d", len(got), len(want))
		}
		for i := range want {
			want[i].ID = got[i].ID
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("OutboundRows(a) mismatch (-want +got):\n%s", diff)
		}
		ids := map[string]bool{}
		for i, r := range got {
			if r.ID == "" || ids[r.ID] {
				t.Errorf("row %d has id %q, want a new unique one", i, r.ID)
			}
			ids[r.ID] = true
			if i > 0 && r.ID <= got[i-1].ID {
				t.Errorf("ids %q then %q: a client's ids must sort in the order its rows were written", got[i-1].ID, r.ID)
			}
			one, err := s.Outbound(ctx, r.ID)
			if err != nil {
				t.Errorf("Outbound(%s) error = %v", r.ID, err)
			} else if diff := cmp.Diff(r, one); diff != "" {
				t.Errorf("Outbound(%s) mismatch (-rows +one):\n%s", r.ID, diff)
			}
		}
		if rows, err := s.OutboundRows(ctx, "55119"); err != nil || len(rows) != 0 {
			t.Errorf("OutboundRows(prefix of a client) = %v, %v; want none", rows, err)
		}
		for _, id := range []string{"", "1", "zz", "ffffffffffffffff", got[0].ID + "0"} {
			if _, err := s.Outbound(ctx, id); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("Outbound(%q) error = %v, want bot.ErrNotFound", id, err)
			}
		}
		WantStats(t, s, 6, 0, 0, 0)

		// A redelivered message adds no replies.
		err = s.Commit(ctx, bot.Turn{MessageID: "wamid.a", Conversation: SampleConversation(a, ""), Outbox: rowsA})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Errorf("Commit(wamid.a again) error = %v, want bot.ErrDuplicate", err)
		}
		WantStats(t, s, 6, 0, 0, 0)
	})

	// What the two queues share is written once, in queue.go.
	outbox := func(t *testing.T) queue[bot.Outbound] { return outboxQueue(open(t)) }
	t.Run("ClaimOutboundOneRowPerClientInOrder", func(t *testing.T) { testClaimOnePerGroupInOrder(t, outbox(t)) })
	t.Run("ClaimOutboundLimit", func(t *testing.T) { testClaimLimit(t, outbox(t)) })
	t.Run("ClaimOutboundWaitsForNextAttempt", func(t *testing.T) { testClaimWaitsForNextAttempt(t, outbox(t)) })
	t.Run("SettledRowsStaySettled", func(t *testing.T) { testSettledRowsStaySettled(t, outbox(t)) })
	t.Run("MarkOutboundNeverUnsends", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		sent := testMarkNeverUnsends(t, outboxQueue(s))
		r := sent
		r.MetaID = "wamid.out.other"
		if err := s.MarkOutbound(ctx, r); err == nil {
			t.Error("MarkOutbound(sent row with another Meta id) succeeded, want a refusal")
		}
		if got, err := s.Outbound(ctx, sent.ID); err != nil || got.State != bot.OutboundSent || got.MetaID != sent.MetaID {
			t.Errorf("row after refused marks = %+v, %v; want it sent as %s", got, err, sent.MetaID)
		}
		WantStats(t, s, 0, 1, 0, 0)
	})
	t.Run("MarkOutboundEndsHold", func(t *testing.T) { testMarkEndsHold(t, outbox(t)) })

	t.Run("OutboundStatus", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := "5511987654321"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1"), Outbound(a, "a2")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		release()
		sent := MarkSent(t, s, rows[0], "wamid.out.1")

		steps := []struct{ status, detail, wantStatus, wantError string }{
			{"sent", "", "sent", ""},
			{"delivered", "", "delivered", ""},
			{"read", "", "read", ""},
			{"delivered", "", "read", ""}, // late webhook: read stays
			{"failed", "131026 message undeliverable", "failed", "131026 message undeliverable"},
		}
		for _, st := range steps {
			if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.out.1", Status: st.status, Detail: st.detail}); err != nil {
				t.Fatalf("OutboundStatus(%s) error = %v", st.status, err)
			}
			got, err := s.Outbound(ctx, sent.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != st.wantStatus || got.Error != st.wantError || got.State != bot.OutboundSent {
				t.Errorf("after status %s: row = state %s, status %q, error %q; want sent, %q, %q",
					st.status, got.State, got.Status, got.Error, st.wantStatus, st.wantError)
			}
		}
		// A mark carrying no status keeps the one Meta reported.
		sent.Attempts = 2
		if err := s.MarkOutbound(ctx, sent); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Outbound(ctx, sent.ID); got.Status != "failed" || got.Attempts != 2 {
			t.Errorf("after MarkOutbound without status: status %q, attempts %d; want failed, 2", got.Status, got.Attempts)
		}
		for _, id := range []string{"wamid.unknown", ""} {
			if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: id, Status: "delivered"}); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("OutboundStatus(%q) error = %v, want bot.ErrNotFound", id, err)
			}
		}
		// a2 was never sent, so Meta cannot know it.
		other, _ := s.OutboundRows(ctx, a)
		if len(other) != 2 || other[1].Status != "" {
			t.Errorf("a2 = %+v, want no status", other)
		}
	})

	t.Run("MarkSendingKeepsHold", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := "5511987654321"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		r := rows[0]
		r.Attempts, r.Sending = 1, At(10)
		if err := s.MarkSending(ctx, r); err != nil {
			t.Fatalf("MarkSending() error = %v", err)
		}
		// The attempt is still out: nobody else may take the row.
		if more, rel := MustClaimOutbound(t, s, At(10), 1); len(more) != 0 {
			t.Errorf("ClaimOutbound() during the attempt = %v, want none", Texts(more))
		} else {
			rel()
		}
		release()
		// As after a crash: the row comes back in doubt.
		rows, release = MustClaimOutbound(t, s, At(10), 1)
		defer release()
		if len(rows) != 1 || !rows[0].InDoubt() || rows[0].Attempts != 1 || !rows[0].Sending.Equal(At(10)) {
			t.Fatalf("ClaimOutbound() after the attempt's hold ended = %+v, want a1 in doubt since minute 10", rows)
		}
		bad := rows[0]
		bad.Sending = time.Time{}
		if err := s.MarkSending(ctx, bad); err == nil {
			t.Error("MarkSending() without Sending succeeded, want a refusal")
		}
	})

	t.Run("StatusSettlesRowInDoubt", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := "5511987654321"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1"), Outbound(a, "a2")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		release()
		r := rows[0]
		r.Attempts, r.Sending = 1, At(10)
		if err := s.MarkSending(ctx, r); err != nil {
			t.Fatal(err)
		}
		// The process stopped before it heard Meta's answer; Meta's status
		// names the row.
		if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.doubt.1", Status: "sent", Recipient: a,
			Ref: bot.OutboundRef(r.ID, 1, 1)}); err != nil {
			t.Fatalf("OutboundStatus() error = %v", err)
		}
		got, err := s.Outbound(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != bot.OutboundSent || got.MetaID != "wamid.doubt.1" || got.Status != "sent" || got.InDoubt() || got.PartsSent != 1 {
			t.Errorf("row after its status = %+v, want sent as wamid.doubt.1, no longer in doubt", got)
		}
		WantStats(t, s, 1, 1, 0, 0)
		// The row is never sent again; the client's next reply is due.
		rows, release = MustClaimOutbound(t, s, At(10), 5)
		if got := Texts(rows); len(got) != 1 || got[0] != "a2" {
			t.Errorf("ClaimOutbound() after the status = %v, want [a2]", got)
		}
		release()
		// The attempt's late verdict cannot undo it.
		r.NextAttempt = At(20)
		if err := s.MarkOutbound(ctx, r); !errors.Is(err, bot.ErrAlreadySent) {
			t.Errorf("MarkOutbound(pending) of the settled row error = %v, want bot.ErrAlreadySent", err)
		}
		if err := s.MarkSending(ctx, r); !errors.Is(err, bot.ErrAlreadySent) {
			t.Errorf("MarkSending() of the settled row error = %v, want bot.ErrAlreadySent", err)
		}
		// An answer that did come agrees with the status: accepted.
		r.State, r.MetaID, r.Sending = bot.OutboundSent, "wamid.doubt.1", time.Time{}
		if err := s.MarkOutbound(ctx, r); err != nil {
			t.Errorf("MarkOutbound(sent, same Meta id) error = %v", err)
		}
		// Later statuses find the row by Meta's id alone.
		if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.doubt.1", Status: "read"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Outbound(ctx, r.ID); got.Status != "read" {
			t.Errorf("status after read = %q, want read", got.Status)
		}
		WantStats(t, s, 1, 1, 0, 0)
	})

	t.Run("StatusesCountPartsInOrder", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := "5511987654321"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		release()
		r := rows[0]
		r.Attempts, r.Sending = 1, At(10)
		if err := s.MarkSending(ctx, r); err != nil {
			t.Fatal(err)
		}
		status := func(metaID, status string, part int) {
			t.Helper()
			if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: metaID, Status: status, Recipient: "+" + a,
				Ref: bot.OutboundRef(r.ID, part, 3)}); err != nil {
				t.Fatalf("OutboundStatus(part %d) error = %v", part, err)
			}
		}
		// Parts 1 and 2 of 3 reached Meta: the reply is not out yet, and a
		// retry starts with part 3.
		status("wamid.p2", "sent", 2)
		status("wamid.p1", "delivered", 1)
		got, _ := s.Outbound(ctx, r.ID)
		if got.State != bot.OutboundPending || got.PartsSent != 2 || got.MetaID != "wamid.p1" || got.Status != "delivered" {
			t.Fatalf("row after parts 1 and 2 = %+v, want pending with 2 parts sent, first part wamid.p1 delivered", got)
		}
		// A mark made from an older copy keeps what the statuses taught.
		r.NextAttempt = At(12)
		if err := s.MarkOutbound(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Outbound(ctx, r.ID)
		if got.PartsSent != 2 || got.MetaID != "wamid.p1" || got.Status != "delivered" || !got.InDoubt() {
			t.Errorf("row after a mark from an older copy = %+v, want 2 parts, wamid.p1, delivered, in doubt", got)
		}
		// The last part settles it; its statuses do not stand for the
		// first message's.
		status("wamid.p3", "read", 3)
		got, _ = s.Outbound(ctx, r.ID)
		if got.State != bot.OutboundSent || got.PartsSent != 3 || got.Status != "delivered" || got.MetaID != "wamid.p1" {
			t.Errorf("row after the last part = %+v, want sent, 3 parts, first part still delivered", got)
		}
		WantStats(t, s, 0, 1, 0, 0)
	})

	t.Run("StatusRefMustNameARowForTheRecipient", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a, b := "5511987654321", "5521912345678"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		release()
		r := rows[0]
		r.Attempts, r.Sending = 1, At(10)
		if err := s.MarkSending(ctx, r); err != nil {
			t.Fatal(err)
		}
		for name, rc := range map[string]bot.Receipt{
			"another recipient":  {MetaID: "wamid.b", Status: "sent", Recipient: b, Ref: bot.OutboundRef(r.ID, 1, 1)},
			"a row never issued": {MetaID: "wamid.c", Status: "sent", Recipient: a, Ref: bot.OutboundRef("00000000000000ff", 1, 1)},
			"not a reference":    {MetaID: "wamid.d", Status: "sent", Recipient: a, Ref: r.ID},
			"no id at all":       {Status: "sent", Recipient: a},
		} {
			if err := s.OutboundStatus(ctx, rc); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("OutboundStatus(%s) error = %v, want bot.ErrNotFound", name, err)
			}
		}
		if got, _ := s.Outbound(ctx, r.ID); got.State != bot.OutboundPending || !got.InDoubt() {
			t.Errorf("row = %+v, want still pending in doubt", got)
		}
	})

	t.Run("StatusSettlesFailedRow", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := "5511987654321"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		release()
		r := rows[0]
		r.Attempts, r.Sending = 1, At(10)
		if err := s.MarkSending(ctx, r); err != nil {
			t.Fatal(err)
		}
		// Given up without an answer, then Meta tells: it had the message.
		r.State, r.Error = bot.OutboundFailed, "no answer"
		if err := s.MarkOutbound(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.late", Status: "failed", Detail: "131047: Re-engagement message",
			Ref: bot.OutboundRef(r.ID, 1, 1)}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Outbound(ctx, r.ID)
		if got.State != bot.OutboundSent || got.Status != "failed" || got.Error != "131047: Re-engagement message" {
			t.Errorf("row = %+v, want sent with Meta's failed status and its reason", got)
		}
		WantStats(t, s, 0, 1, 0, 0)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		a := "5511987654321"
		MustEnqueue(t, s, Inbound(a, 1))
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(a, ""), Outbox: []bot.Outbound{Outbound(a, "a1")}})
		rows, release := MustClaimOutbound(t, s, At(10), 1)
		release()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Enqueue(ctx, []bot.Inbound{Inbound(a, 2)}); !errors.Is(err, context.Canceled) {
			t.Errorf("Enqueue(cancelled) error = %v, want context.Canceled", err)
		}
		if _, _, _, ok, err := s.Claim(ctx); ok || !errors.Is(err, context.Canceled) {
			t.Errorf("Claim(cancelled) = ok %v, %v; want context.Canceled", ok, err)
		}
		wantCancelled(t, outboxQueue(s), ctx, rows[0], bot.OutboundFailed)
		if err := s.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.x", Status: "read"}); !errors.Is(err, context.Canceled) {
			t.Errorf("OutboundStatus(cancelled) error = %v, want context.Canceled", err)
		}
		WantDepth(t, s, 1)
		WantStats(t, s, 1, 0, 0, 0)
	})
}

// Inbound is message i from client from. Its text is the kind a client
// types: sometimes a code.
func Inbound(from string, i int) bot.Inbound {
	m := bot.Inbound{ID: fmt.Sprintf("wamid.%s.%d", from, i), From: from, Text: fmt.Sprintf("message %d: my code is %06d", i, 482913+i), At: At(i)}
	switch i % 3 {
	case 1:
		m.Text, m.Choice = "Sim", "yes"
	case 2:
		m.Text, m.Unsupported = "", "sticker"
	}
	return m
}

// Outbound is a pending reply to client, due from the fixture's start.
func Outbound(client, text string) bot.Outbound {
	return bot.Outbound{
		To:          client,
		Reply:       bot.Reply{Text: text},
		InReplyTo:   "wamid.in." + text,
		LastInbound: At(0),
		Created:     At(1),
		NextAttempt: At(1),
		State:       bot.OutboundPending,
	}
}

// MustEnqueue is s.Enqueue, failing the test on an error.
func MustEnqueue(tb testing.TB, s bot.Inbox, msgs ...bot.Inbound) {
	tb.Helper()
	if _, err := s.Enqueue(context.Background(), msgs); err != nil {
		tb.Fatalf("Enqueue() error = %v", err)
	}
}

// WantDepth fails the test unless the inbox holds want messages.
func WantDepth(tb testing.TB, s QueueBackend, want int) {
	tb.Helper()
	if n, err := s.InboxDepth(context.Background()); err != nil || n != want {
		tb.Errorf("InboxDepth() = %d, %v; want %d, nil", n, err, want)
	}
}

// WantStats fails the test unless the outbox counts are these.
func WantStats(tb testing.TB, s QueueBackend, pending, sent, parked, failed int) {
	tb.Helper()
	p, se, pa, f, err := s.OutboxStats(context.Background())
	if err != nil || p != pending || se != sent || pa != parked || f != failed {
		tb.Errorf("OutboxStats() = pending %d, sent %d, parked %d, failed %d, %v; want %d, %d, %d, %d",
			p, se, pa, f, err, pending, sent, parked, failed)
	}
}

// ClaimAll works the inbox until it is empty, one claim at a time,
// committing every message, and returns them per conversation in the order
// they were claimed. It fails the test if a claim breaks a conversation's
// order or returns a message twice.
func ClaimAll(tb testing.TB, s QueueBackend) map[string][]bot.Inbound {
	tb.Helper()
	ctx := context.Background()
	got := map[string][]bot.Inbound{}
	for range 1000 {
		key, msgs, release, ok, err := s.Claim(ctx)
		if err != nil {
			tb.Fatalf("Claim() error = %v", err)
		}
		if !ok {
			return got
		}
		if len(msgs) == 0 {
			tb.Fatalf("Claim() returned conversation %s with no messages", key)
		}
		for _, m := range msgs {
			if m.From != key {
				tb.Errorf("claim of %s returned a message from %s", key, m.From)
			}
			MustCommit(tb, s, bot.Turn{MessageID: m.ID, Conversation: SampleConversation(key, "")})
			got[key] = append(got[key], m)
		}
		release()
	}
	tb.Fatal("the inbox did not empty after 1000 claims")
	return nil
}

// MustClaimOutbound is s.ClaimOutbound, failing the test on an error.
func MustClaimOutbound(tb testing.TB, s bot.Outbox, now time.Time, n int) ([]bot.Outbound, func()) {
	tb.Helper()
	rows, release, err := s.ClaimOutbound(context.Background(), now, n)
	if err != nil {
		tb.Fatalf("ClaimOutbound() error = %v", err)
	}
	if release == nil {
		tb.Fatal("ClaimOutbound() returned a nil release")
	}
	return rows, release
}

// MarkSent marks r sent by Meta as metaID and returns the row as marked.
func MarkSent(tb testing.TB, s bot.Outbox, r bot.Outbound, metaID string) bot.Outbound {
	tb.Helper()
	r.State, r.MetaID, r.Attempts, r.Error = bot.OutboundSent, metaID, r.Attempts+1, ""
	if err := s.MarkOutbound(context.Background(), r); err != nil {
		tb.Fatalf("MarkOutbound(sent) error = %v", err)
	}
	return r
}

// Texts are the replies' texts, for messages that say which rows came.
func Texts(rows []bot.Outbound) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Reply.Text)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// NoticeBackend is a store that also queues notices for agents, with the
// counts operators read for metrics.
type NoticeBackend interface {
	bot.Store
	bot.Notices
	NoticeStats(ctx context.Context) (pending, sent, failed int, err error)
}

// RunNotices is what every backend's notices and case threads must
// do. open returns an empty store that lives until the end of t.
func RunNotices(t *testing.T, open func(t *testing.T) NoticeBackend) {
	t.Run("CommitWritesNotices", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := MustNewCaseID(t, s)
		conv := SampleConversation("5511987654321", id)
		c := SampleCase(id, conv.Key)
		first := Notice(id, "opened")
		second := Notice("", "no case named") // about the turn's case
		second.State = ""                     // pending by default
		in := []bot.Notice{first, second}
		MustCommit(t, s, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Notices: in})
		if in[0].ID != "" || in[1].CaseID != "" || in[1].State != "" {
			t.Errorf("Commit() changed the caller's notices: %+v", in)
		}
		WantNoticeStats(t, s, 2, 0, 0)

		rows, release := MustClaimNotices(t, s, At(10), 10)
		defer release()
		if len(rows) != 1 {
			t.Fatalf("ClaimNotices() = %v, want only the case's oldest notice", NoticeTexts(rows))
		}
		want := first
		want.ID = rows[0].ID
		if diff := cmp.Diff(want, rows[0]); diff != "" {
			t.Errorf("ClaimNotices() mismatch (-want +got):\n%s", diff)
		}
		if rows[0].ID == "" {
			t.Error("ClaimNotices() returned a notice without an ID")
		}

		// A duplicate turn writes no notices.
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c, Notices: []bot.Notice{Notice(id, "again")}})
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Errorf("Commit(duplicate) error = %v, want bot.ErrDuplicate", err)
		}
		WantNoticeStats(t, s, 2, 0, 0)
	})

	t.Run("CommitRefusesNoticesWithoutACase", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		conv := SampleConversation("5511987654321", "")
		err := s.Commit(ctx, bot.Turn{MessageID: "wamid.1", Conversation: conv, Notices: []bot.Notice{Notice("", "orphan")}})
		if err == nil {
			t.Error("Commit(notice with no case anywhere) succeeded, want an error")
		}
		err = s.Commit(ctx, bot.Turn{MessageID: "wamid.2", Conversation: conv, Notices: []bot.Notice{Notice("7", "orphan")}})
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Commit(notice for unknown case) error = %v, want bot.ErrNotFound", err)
		}
		id := MustNewCaseID(t, s)
		c := SampleCase(id, conv.Key)
		bad := Notice(id, "parked")
		bad.State = bot.OutboundParked
		if err := s.Commit(ctx, bot.Turn{MessageID: "wamid.3", Conversation: conv, Case: &c, Notices: []bot.Notice{bad}}); err == nil {
			t.Error("Commit(parked notice) succeeded, want an error")
		}
		// Refused turns are refused whole.
		if _, err := s.Conversation(ctx, conv.Key); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Conversation() after refused turns error = %v, want bot.ErrNotFound", err)
		}
		if _, err := s.Case(ctx, id); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Case() after a refused turn error = %v, want bot.ErrNotFound", err)
		}
		WantNoticeStats(t, s, 0, 0, 0)
	})

	// What the two queues share is written once, in queue.go.
	notices := func(t *testing.T) queue[bot.Notice] { return noticeQueue(open(t)) }
	t.Run("ClaimNoticesOnePerCaseInOrder", func(t *testing.T) { testClaimOnePerGroupInOrder(t, notices(t)) })
	t.Run("ClaimNoticesLimit", func(t *testing.T) { testClaimLimit(t, notices(t)) })
	t.Run("ClaimNoticesWaitsForNextAttempt", func(t *testing.T) { testClaimWaitsForNextAttempt(t, notices(t)) })
	t.Run("SettledNoticesStaySettled", func(t *testing.T) { testSettledRowsStaySettled(t, notices(t)) })
	t.Run("MarkNoticeNeverUnsends", func(t *testing.T) { testMarkNeverUnsends(t, notices(t)) })
	t.Run("MarkNoticeEndsHold", func(t *testing.T) { testMarkEndsHold(t, notices(t)) })

	t.Run("ConcurrentClaimersNeverShareACase", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		const cases, each, workers = 6, 5, 8
		var ids []string
		written := map[string][]string{}
		for i := range cases {
			id := OpenCase(t, s, i)
			ids = append(ids, id)
		}
		// Interleaved turns, so ids of different cases alternate.
		for j := range each {
			for _, id := range ids {
				text := fmt.Sprintf("%s.%d", id, j)
				CommitNotices(t, s, id, Notice(id, text))
				written[id] = append(written[id], text)
			}
		}
		var (
			mu     sync.Mutex
			inHand = map[string]int{} // case -> worker holding its notice
			posted = map[string][]string{}
			wg     sync.WaitGroup
		)
		allPosted := func() bool {
			for _, id := range ids {
				if len(posted[id]) != each {
					return false
				}
			}
			return true
		}
		deadline := time.Now().Add(20 * time.Second)
		for w := range workers {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					rows, release, err := s.ClaimNotices(ctx, At(10), 2)
					if err != nil {
						t.Errorf("worker %d: ClaimNotices() error = %v", w, err)
						return
					}
					mu.Lock()
					for _, n := range rows {
						if other, ok := inHand[n.CaseID]; ok {
							t.Errorf("workers %d and %d hold case %s at once", other, w, n.CaseID)
						}
						inHand[n.CaseID] = w
					}
					done := len(rows) == 0 && allPosted()
					mu.Unlock()
					if done {
						release()
						return
					}
					// Posting takes a while, and lets the other workers run.
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
					for _, n := range rows {
						n.Attempts++
						mu.Lock()
						delete(inHand, n.CaseID)
						// Some posts fail once, to be retried at once.
						if n.Attempts == 1 && rand.IntN(4) == 0 {
							n.Error = "slack: 503"
						} else {
							n.State, n.Error = bot.OutboundSent, ""
							posted[n.CaseID] = append(posted[n.CaseID], n.Text)
						}
						mu.Unlock()
						if err := s.MarkNotice(ctx, n); err != nil {
							t.Errorf("worker %d: MarkNotice() error = %v", w, err)
						}
					}
					release()
				}
				t.Errorf("worker %d: the notices were not all sent in time", w)
			})
		}
		wg.Wait()
		if diff := cmp.Diff(written, posted); diff != "" {
			t.Errorf("notices posted per case (-written +posted):\n%s", diff)
		}
		WantNoticeStats(t, s, 0, cases*each, 0)
	})

	t.Run("SetThread", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for _, id := range []string{"1", "42", "", "abc", "007", "0"} {
			if err := s.SetThread(ctx, id, "1715000000.000100"); !errors.Is(err, bot.ErrNotFound) {
				t.Errorf("SetThread(%q) error = %v, want bot.ErrNotFound", id, err)
			}
		}
		id := OpenCase(t, s, 1)
		other := OpenCase(t, s, 2)
		if c, err := s.Case(ctx, id); err != nil || c.Thread != "" {
			t.Errorf("Case() before SetThread = Thread %q, %v; want empty, nil", c.Thread, err)
		}
		if err := s.SetThread(ctx, id, ""); err == nil {
			t.Error(`SetThread("") succeeded, want an error`)
		}
		if err := s.SetThread(ctx, id, "1715000000.000100"); err != nil {
			t.Fatalf("SetThread() error = %v", err)
		}
		// The first message is the case's thread: a later one loses.
		if err := s.SetThread(ctx, id, "1715000999.000200"); err != nil {
			t.Errorf("SetThread(second thread) error = %v, want nil", err)
		}
		WantThreads(t, s, map[string]string{id: "1715000000.000100", other: ""})
		if err := s.SetThread(ctx, other, "1715000500.000300"); err != nil {
			t.Fatalf("SetThread(other) error = %v", err)
		}
		WantThreads(t, s, map[string]string{id: "1715000000.000100", other: "1715000500.000300"})
	})

	t.Run("ThreadSurvivesCommitOfAStaleCase", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := OpenCase(t, s, 1)
		// The engine reads the case at the start of a turn ...
		stale, err := s.Case(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// ... the dispatcher posts the case's first notice meanwhile ...
		if err := s.SetThread(ctx, id, "1715000000.000100"); err != nil {
			t.Fatal(err)
		}
		// ... and the turn commits its copy, read without the thread.
		stale.State, stale.Updated = fsm.AwaitCode, At(20)
		MustCommit(t, s, bot.Turn{MessageID: "wamid.stale", Conversation: SampleConversation(stale.Client, id), Case: &stale})
		got, err := s.Case(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := stale
		want.Thread = "1715000000.000100"
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Case() after a stale commit mismatch (-want +got):\n%s", diff)
		}
		// A copy carrying some other thread changes nothing either, and
		// neither does SetWABA, which rewrites the record.
		stale.Thread = "bogus"
		MustCommit(t, s, bot.Turn{MessageID: "wamid.bogus", Conversation: SampleConversation(stale.Client, id), Case: &stale})
		if err := s.SetWABA(ctx, id, "104996122399160", "U0AGENT"); err != nil {
			t.Fatal(err)
		}
		WantThreads(t, s, map[string]string{id: "1715000000.000100"})
	})

	t.Run("CommitIgnoresThread", func(t *testing.T) {
		s := open(t)
		id := MustNewCaseID(t, s)
		c := SampleCase(id, "5511987654321")
		c.Thread = "1715000000.000100"
		MustCommit(t, s, bot.Turn{Conversation: SampleConversation(c.Client, id), Case: &c})
		if c.Thread != "1715000000.000100" {
			t.Errorf("Commit() changed the caller's case: Thread %q", c.Thread)
		}
		// Only SetThread records a thread.
		WantThreads(t, s, map[string]string{id: ""})
		if err := s.SetThread(t.Context(), id, "1715000999.000200"); err != nil {
			t.Fatal(err)
		}
		WantThreads(t, s, map[string]string{id: "1715000999.000200"})
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		a := OpenCase(t, s, 1)
		CommitNotices(t, s, a, Notice(a, "a1"))
		rows, release := MustClaimNotices(t, s, At(10), 1)
		release()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		wantCancelled(t, noticeQueue(s), ctx, rows[0], bot.OutboundSent)
		if err := s.SetThread(ctx, a, "1715000000.000100"); !errors.Is(err, context.Canceled) {
			t.Errorf("SetThread(cancelled) error = %v, want context.Canceled", err)
		}
		if _, _, _, err := s.NoticeStats(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("NoticeStats(cancelled) error = %v, want context.Canceled", err)
		}
		WantNoticeStats(t, s, 1, 0, 0)
		WantThreads(t, s, map[string]string{a: ""})
	})
}

// Notice is a pending notice about case caseID, due from the fixture's start.
func Notice(caseID, text string) bot.Notice {
	return bot.Notice{
		CaseID:      caseID,
		Kind:        bot.NoticeBlocked,
		Text:        text,
		Created:     At(1),
		NextAttempt: At(1),
		State:       bot.OutboundPending,
	}
}

// OpenCase commits a new case for client number i and returns its id.
func OpenCase(tb testing.TB, s bot.Store, i int) string {
	tb.Helper()
	id := MustNewCaseID(tb, s)
	c := SampleCase(id, fmt.Sprintf("55119%08d", i))
	MustCommit(tb, s, bot.Turn{Conversation: SampleConversation(c.Client, id), Case: &c})
	return id
}

// CommitNotices commits a turn of case id that writes notices.
func CommitNotices(tb testing.TB, s bot.Store, id string, notices ...bot.Notice) {
	tb.Helper()
	c, err := s.Case(context.Background(), id)
	if err != nil {
		tb.Fatalf("Case(%s) error = %v", id, err)
	}
	MustCommit(tb, s, bot.Turn{Conversation: SampleConversation(c.Client, id), Case: &c, Notices: notices})
}

// MustClaimNotices is s.ClaimNotices, failing the test on an error.
func MustClaimNotices(tb testing.TB, s bot.Notices, now time.Time, n int) ([]bot.Notice, func()) {
	tb.Helper()
	rows, release, err := s.ClaimNotices(context.Background(), now, n)
	if err != nil {
		tb.Fatalf("ClaimNotices() error = %v", err)
	}
	if release == nil {
		tb.Fatal("ClaimNotices() returned a nil release")
	}
	return rows, release
}

// MarkNoticeSent marks n delivered and returns it as marked.
func MarkNoticeSent(tb testing.TB, s bot.Notices, n bot.Notice) bot.Notice {
	tb.Helper()
	n.State, n.Attempts, n.Error = bot.OutboundSent, n.Attempts+1, ""
	if err := s.MarkNotice(context.Background(), n); err != nil {
		tb.Fatalf("MarkNotice(sent) error = %v", err)
	}
	return n
}

// WantNoticeStats fails the test unless the notice counts are these.
func WantNoticeStats(tb testing.TB, s NoticeBackend, pending, sent, failed int) {
	tb.Helper()
	p, se, f, err := s.NoticeStats(context.Background())
	if err != nil || p != pending || se != sent || f != failed {
		tb.Errorf("NoticeStats() = pending %d, sent %d, failed %d, %v; want %d, %d, %d",
			p, se, f, err, pending, sent, failed)
	}
}

// WantThreads checks the Thread of each case, through Case and Cases.
func WantThreads(tb testing.TB, s bot.Store, want map[string]string) {
	tb.Helper()
	ctx := context.Background()
	for id, thread := range want {
		c, err := s.Case(ctx, id)
		if err != nil || c.Thread != thread {
			tb.Errorf("Case(%s) = Thread %q, %v; want %q, nil", id, c.Thread, err, thread)
		}
	}
	all, err := s.Cases(ctx)
	if err != nil {
		tb.Fatalf("Cases() error = %v", err)
	}
	for _, c := range all {
		if thread, ok := want[c.ID]; ok && c.Thread != thread {
			tb.Errorf("Cases(): case %s has Thread %q, want %q", c.ID, c.Thread, thread)
		}
	}
}

// NoticeTexts are the notices' texts, for messages that say which came.
func NoticeTexts(rows []bot.Notice) []string {
	var out []string
	for _, n := range rows {
		out = append(out, n.Text)
	}
	return out
}
