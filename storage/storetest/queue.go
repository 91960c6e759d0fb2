package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
)

// queue is one of a store's two outgoing queues, the replies to clients and
// the notices to agents, seen through what they share: rows owned by a
// group (a client, a case) that go out one at a time per group in the order
// they were written, each claimed under a hold and marked with the outcome
// of its attempt. The tests written against it hold both queues to the same
// rules; what only one queue has is tested in RunQueue or RunNotices.
type queue[R any] struct {
	// Names for messages: the claim and mark methods, and what a group is.
	claimName, markName, group string
	// settled are the states a row ends in, besides pending.
	settled []bot.OutboundState

	// newGroup names group i, making what the queue needs for it to own
	// rows; commit writes rows of group in one turn.
	newGroup func(t *testing.T, i int) string
	commit   func(t *testing.T, group string, rows ...R)
	row      func(group, text string) R // a pending row, due from the fixture's start
	claim    func(ctx context.Context, now time.Time, n int) ([]R, func(), error)
	mark     func(ctx context.Context, r R) error
	markSent func(t *testing.T, r R) R // a delivery, as the dispatcher records it

	get func(R) queued
	set func(R, queued) R

	stats func(tb testing.TB, pending, sent, parked, failed int)
}

// queued is what the rows of both queues have.
type queued struct {
	ID, Group, Text string
	State           bot.OutboundState
	Attempts        int
	NextAttempt     time.Time
	Error           string
}

func (q queue[R]) edit(r R, change func(*queued)) R {
	v := q.get(r)
	change(&v)
	return q.set(r, v)
}

func (q queue[R]) mustClaim(t *testing.T, now time.Time, n int) ([]R, func()) {
	t.Helper()
	rows, release, err := q.claim(context.Background(), now, n)
	if err != nil {
		t.Fatalf("%s() error = %v", q.claimName, err)
	}
	if release == nil {
		t.Fatalf("%s() returned a nil release", q.claimName)
	}
	return rows, release
}

// wantNone fails the test unless a claim at now finds nothing due.
func (q queue[R]) wantNone(t *testing.T, now time.Time, when string) {
	t.Helper()
	if rows, release := q.mustClaim(t, now, 10); len(rows) != 0 {
		t.Errorf("%s(%s) = %v, want none", q.claimName, when, q.texts(rows))
	} else {
		release()
	}
}

func (q queue[R]) texts(rows []R) []string {
	var out []string
	for _, r := range rows {
		out = append(out, q.get(r).Text)
	}
	return out
}

// outboxQueue is the replies' queue of s, grouped by client.
func outboxQueue(s QueueBackend) queue[bot.Outbound] {
	return queue[bot.Outbound]{
		claimName: "ClaimOutbound", markName: "MarkOutbound", group: "client",
		settled:  []bot.OutboundState{bot.OutboundSent, bot.OutboundParked, bot.OutboundFailed},
		newGroup: func(_ *testing.T, i int) string { return fmt.Sprintf("55119%08d", i) },
		commit: func(t *testing.T, client string, rows ...bot.Outbound) {
			t.Helper()
			MustCommit(t, s, bot.Turn{Conversation: SampleConversation(client, ""), Outbox: rows})
		},
		row:   Outbound,
		claim: s.ClaimOutbound,
		mark:  s.MarkOutbound,
		markSent: func(t *testing.T, r bot.Outbound) bot.Outbound {
			t.Helper()
			return MarkSent(t, s, r, "wamid.out."+r.Reply.Text)
		},
		get: func(r bot.Outbound) queued {
			return queued{ID: r.ID, Group: r.To, Text: r.Reply.Text, State: r.State,
				Attempts: r.Attempts, NextAttempt: r.NextAttempt, Error: r.Error}
		},
		set: func(r bot.Outbound, v queued) bot.Outbound {
			r.ID, r.To, r.Reply.Text, r.State = v.ID, v.Group, v.Text, v.State
			r.Attempts, r.NextAttempt, r.Error = v.Attempts, v.NextAttempt, v.Error
			return r
		},
		stats: func(tb testing.TB, pending, sent, parked, failed int) {
			tb.Helper()
			WantStats(tb, s, pending, sent, parked, failed)
		},
	}
}

// noticeQueue is the agents' notices of s, grouped by case.
func noticeQueue(s NoticeBackend) queue[bot.Notice] {
	return queue[bot.Notice]{
		claimName: "ClaimNotices", markName: "MarkNotice", group: "case",
		settled:  []bot.OutboundState{bot.OutboundSent, bot.OutboundFailed},
		newGroup: func(t *testing.T, i int) string { t.Helper(); return OpenCase(t, s, i) },
		commit: func(t *testing.T, id string, rows ...bot.Notice) {
			t.Helper()
			CommitNotices(t, s, id, rows...)
		},
		row:   Notice,
		claim: s.ClaimNotices,
		mark:  s.MarkNotice,
		markSent: func(t *testing.T, n bot.Notice) bot.Notice {
			t.Helper()
			return MarkNoticeSent(t, s, n)
		},
		get: func(n bot.Notice) queued {
			return queued{ID: n.ID, Group: n.CaseID, Text: n.Text, State: n.State,
				Attempts: n.Attempts, NextAttempt: n.NextAttempt, Error: n.Error}
		},
		set: func(n bot.Notice, v queued) bot.Notice {
			n.ID, n.CaseID, n.Text, n.State = v.ID, v.Group, v.Text, v.State
			n.Attempts, n.NextAttempt, n.Error = v.Attempts, v.NextAttempt, v.Error
			return n
		},
		stats: func(tb testing.TB, pending, sent, parked, failed int) {
			tb.Helper()
			if parked != 0 {
				tb.Fatalf("a notice is never parked, yet %d are expected", parked)
			}
			WantNoticeStats(tb, s, pending, sent, failed)
		},
	}
}

// testClaimOnePerGroupInOrder: a claim hands out the oldest pending row of
// each group not held, and a group's rows go out in the order written.
func testClaimOnePerGroupInOrder[R any](t *testing.T, q queue[R]) {
	a, b := q.newGroup(t, 1), q.newGroup(t, 2)
	q.commit(t, a, q.row(a, "a1"), q.row(a, "a2"))
	q.commit(t, b, q.row(b, "b1"))
	q.commit(t, a, q.row(a, "a3"))
	now := At(10)

	rows, release := q.mustClaim(t, now, 10)
	if got := q.texts(rows); !sameSet(got, []string{"a1", "b1"}) {
		t.Fatalf("%s() = %v, want the oldest row of each %s [a1 b1]", q.claimName, got, q.group)
	}
	if more, rel := q.mustClaim(t, now, 10); len(more) != 0 {
		t.Errorf("%s() while both %ss are held = %v, want none", q.claimName, q.group, q.texts(more))
	} else {
		rel()
	}
	release()
	rows, release = q.mustClaim(t, now, 10)
	if got := q.texts(rows); !sameSet(got, []string{"a1", "b1"}) {
		t.Fatalf("%s() after release = %v, want [a1 b1] again", q.claimName, got)
	}
	var sent []R
	for _, r := range rows {
		if q.get(r).Group == a {
			sent = append(sent, q.markSent(t, r))
		}
	}
	release()

	// a1 went out: a2 is next for a, never a3 before it.
	for range 3 {
		rows, release := q.mustClaim(t, now, 10)
		for _, r := range rows {
			if q.get(r).Group == a {
				sent = append(sent, q.markSent(t, r))
			}
		}
		release()
	}
	if got, want := q.texts(sent), []string{"a1", "a2", "a3"}; !slices.Equal(got, want) {
		t.Errorf("a's rows went out as %v, want %v", got, want)
	}
	byID := func(x, y R) int { return strings.Compare(q.get(x).ID, q.get(y).ID) }
	if !slices.IsSortedFunc(sent, byID) {
		var ids []string
		for _, r := range sent {
			ids = append(ids, q.get(r).ID)
		}
		t.Errorf("a's row ids %q are not in the order the rows were written", ids)
	}
	q.stats(t, 1, 3, 0, 0)
}

// testClaimLimit: a claim returns at most n rows, never two of one group.
func testClaimLimit[R any](t *testing.T, q queue[R]) {
	for i := range 5 {
		g := q.newGroup(t, i)
		q.commit(t, g, q.row(g, "hi"))
	}
	seen := map[string]bool{}
	for _, want := range []int{2, 2, 1, 0} {
		rows, release := q.mustClaim(t, At(10), 2)
		defer release()
		if len(rows) != want {
			t.Errorf("%s(n=2) = %d rows, want %d", q.claimName, len(rows), want)
		}
		for _, r := range rows {
			g := q.get(r).Group
			if seen[g] {
				t.Errorf("%s %s claimed twice while held", q.group, g)
			}
			seen[g] = true
		}
	}
	for _, n := range []int{0, -1} {
		if rows, release := q.mustClaim(t, At(10), n); len(rows) != 0 {
			t.Errorf("%s(n=%d) = %d rows, want none", q.claimName, n, len(rows))
		} else {
			release()
		}
	}
}

// testClaimWaitsForNextAttempt: a row is not claimed before its
// NextAttempt, nor are the rows written after it, and a failed attempt's
// record comes back with the row.
func testClaimWaitsForNextAttempt[R any](t *testing.T, q queue[R]) {
	ctx := t.Context()
	a := q.newGroup(t, 1)
	first := q.edit(q.row(a, "a1"), func(v *queued) { v.NextAttempt = At(5) })
	q.commit(t, a, first, q.row(a, "a2"))
	// a2 was due long ago, but a1 is not yet, and a1 goes first.
	q.wantNone(t, At(4), "before a1 is due")
	rows, release := q.mustClaim(t, At(5), 10)
	if got := q.texts(rows); !slices.Equal(got, []string{"a1"}) {
		t.Fatalf("%s(when a1 is due) = %v, want [a1]", q.claimName, got)
	}
	// The attempt failed; retry in ten minutes.
	r := q.edit(rows[0], func(v *queued) { v.Attempts, v.NextAttempt, v.Error = 1, At(15), "rate limited" })
	if err := q.mark(ctx, r); err != nil {
		t.Fatalf("%s(retry) error = %v", q.markName, err)
	}
	release()
	q.wantNone(t, At(14), "before the retry is due")
	rows, release = q.mustClaim(t, At(15), 10)
	defer release()
	if len(rows) != 1 {
		t.Fatalf("%s(when the retry is due) = %v, want [a1]", q.claimName, q.texts(rows))
	}
	if diff := cmp.Diff(r, rows[0]); diff != "" {
		t.Errorf("%s(when the retry is due) mismatch (-want +got):\n%s", q.claimName, diff)
	}
}

// testSettledRowsStaySettled: a row marked with any state but pending is
// never claimed again, and the group's next row is.
func testSettledRowsStaySettled[R any](t *testing.T, q queue[R]) {
	ctx := t.Context()
	a := q.newGroup(t, 1)
	var written []R
	for _, st := range q.settled {
		written = append(written, q.row(a, string(st)))
	}
	q.commit(t, a, append(written, q.row(a, "last"))...)
	count := map[bot.OutboundState]int{bot.OutboundPending: 1}
	for _, st := range q.settled {
		rows, release := q.mustClaim(t, At(10), 10)
		if len(rows) != 1 || q.get(rows[0]).Text != string(st) {
			t.Fatalf("%s() = %v, want [%s]", q.claimName, q.texts(rows), st)
		}
		if st == bot.OutboundSent {
			q.markSent(t, rows[0])
		} else if err := q.mark(ctx, q.edit(rows[0], func(v *queued) { v.State, v.Attempts = st, 1 })); err != nil {
			t.Fatalf("%s(%s) error = %v", q.markName, st, err)
		}
		release()
		count[st]++
	}
	wantCounts := func() {
		t.Helper()
		q.stats(t, count[bot.OutboundPending], count[bot.OutboundSent], count[bot.OutboundParked], count[bot.OutboundFailed])
	}
	wantCounts()
	rows, release := q.mustClaim(t, At(10), 10)
	if got := q.texts(rows); !slices.Equal(got, []string{"last"}) {
		t.Fatalf("%s() = %v, want [last]", q.claimName, got)
	}
	q.markSent(t, rows[0])
	release()
	count[bot.OutboundPending]--
	count[bot.OutboundSent]++
	q.wantNone(t, At(1000), "with every row settled")
	q.wantNone(t, At(100000), "long after, with every row settled")
	wantCounts()
}

// testMarkNeverUnsends: a sent row stays sent and in its group, whatever a
// later mark says; marks of ids the store never issued are not found. It
// returns the sent row, for checks of what only one queue keeps.
func testMarkNeverUnsends[R any](t *testing.T, q queue[R]) R {
	ctx := t.Context()
	a, b := q.newGroup(t, 1), q.newGroup(t, 2)
	q.commit(t, a, q.row(a, "a1"))
	rows, release := q.mustClaim(t, At(10), 1)
	release()
	sent := q.markSent(t, rows[0])
	// The same mark again (a retried write) is fine.
	if err := q.mark(ctx, sent); err != nil {
		t.Errorf("%s(sent row, sent again) error = %v", q.markName, err)
	}
	for _, st := range []bot.OutboundState{bot.OutboundPending, bot.OutboundParked, bot.OutboundFailed, "", "bogus"} {
		if err := q.mark(ctx, q.edit(sent, func(v *queued) { v.State = st })); err == nil {
			t.Errorf("%s(sent row -> state %q) succeeded, want a refusal", q.markName, st)
		}
	}
	if err := q.mark(ctx, q.edit(sent, func(v *queued) { v.Group = b })); err == nil {
		t.Errorf("%s(row moved to another %s) succeeded, want a refusal", q.markName, q.group)
	}
	q.wantNone(t, At(1000), "after refused un-sends")
	q.wantNone(t, At(100000), "long after refused un-sends")
	for _, id := range []string{"", "nope", "00000000000000ff", "0000000000000001x"} {
		if err := q.mark(ctx, q.edit(sent, func(v *queued) { v.ID = id })); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s(id %q) error = %v, want bot.ErrNotFound", q.markName, id, err)
		}
	}
	q.stats(t, 0, 1, 0, 0)
	return sent
}

// testMarkEndsHold: a mark ends the hold of the claim that took the row, so
// that the row may be claimed again at once, and that claim's hold outlives
// the first claim's late release.
func testMarkEndsHold[R any](t *testing.T, q queue[R]) {
	ctx := t.Context()
	a := q.newGroup(t, 1)
	q.commit(t, a, q.row(a, "a1"))
	rows, release1 := q.mustClaim(t, At(10), 1)
	r := q.edit(rows[0], func(v *queued) { v.Attempts, v.NextAttempt, v.Error = 1, At(10), "timeout" })
	if err := q.mark(ctx, r); err != nil {
		t.Fatal(err)
	}
	// Settled: another claim may take the row before the first claim is
	// released ...
	rows, release2 := q.mustClaim(t, At(10), 1)
	if len(rows) != 1 {
		t.Fatalf("%s() after %s = %d rows, want the row again", q.claimName, q.markName, len(rows))
	}
	// ... and the first claim's late release leaves the second's hold.
	release1()
	if more, rel := q.mustClaim(t, At(10), 1); len(more) != 0 {
		t.Errorf("%s() = %v while a newer claim holds the %s, want none", q.claimName, q.texts(more), q.group)
	} else {
		rel()
	}
	release2()
	release2() // twice is harmless
	if rows, rel := q.mustClaim(t, At(10), 1); len(rows) != 1 {
		t.Errorf("%s() after every release = %d rows, want 1", q.claimName, len(rows))
	} else {
		rel()
	}
}

// wantCancelled fails the test unless a claim and a mark of r, as state st,
// under the cancelled ctx fail with context.Canceled.
func wantCancelled[R any](t *testing.T, q queue[R], ctx context.Context, r R, st bot.OutboundState) {
	t.Helper()
	if rows, release, err := q.claim(ctx, At(10), 1); len(rows) != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("%s(cancelled) = %d rows, %v; want context.Canceled", q.claimName, len(rows), err)
	} else {
		release()
	}
	if err := q.mark(ctx, q.edit(r, func(v *queued) { v.State = st })); !errors.Is(err, context.Canceled) {
		t.Errorf("%s(cancelled) error = %v, want context.Canceled", q.markName, err)
	}
}
