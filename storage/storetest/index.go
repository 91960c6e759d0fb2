package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
	"portabot/fsm"
)

// RunCaseIndex is the contract of bot.CaseIndex: every answer is what a
// scan of every case (Cases) would give, after any sequence of writes.
func RunCaseIndex(t *testing.T, open func(t *testing.T) bot.Store) {
	t.Run("AgreesWithAFullScanAcrossWrites", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		rng := rand.New(rand.NewPCG(14, 2026))
		numbers := []string{"5511987650001", "5511987650002", "5521912340003", "BR.1502576394655843", "MX.99887766"}
		states := []fsm.State{fsm.CheckBMAccess, fsm.Check2FA, fsm.AskPhone, fsm.AddingNumber, fsm.Registering,
			fsm.AwaitCode, fsm.Blocked, fsm.Handoff, fsm.Failed, fsm.Done, fsm.Cancelled}
		var ids []string
		cases := map[string]bot.Case{}
		for step := range 80 {
			var c bot.Case
			if len(ids) == 0 || rng.IntN(3) == 0 {
				id := MustNewCaseID(t, s)
				client := numbers[rng.IntN(len(numbers))]
				c = bot.Case{ID: id, Client: client, Lang: bot.English, State: fsm.CheckBMAccess, Created: At(step), Updated: At(step)}
				if bot.IsPhoneID(client) {
					c.ClientPhone = client
				}
				ids = append(ids, id)
			} else {
				c = cases[ids[rng.IntN(len(ids))]]
			}
			c.State = states[rng.IntN(len(states))]
			c.Updated = At(step)
			switch rng.IntN(4) {
			case 0:
				c.Phone = "+" + numbers[rng.IntN(3)]
			case 1:
				c.Phone = ""
			}
			if fsm.IsFinal(c.State) {
				c.Closed = At(step)
			} else {
				c.Closed = time.Time{}
			}
			cases[c.ID] = c
			conv := SampleConversation(c.Client, c.ID)
			if rng.IntN(5) == 0 {
				if err := s.SetWABA(ctx, c.ID, "1049961223991"+strconv.Itoa(step), "U1"); err != nil {
					// The case may not be stored yet: that is the port's ErrNotFound.
					if !errors.Is(err, bot.ErrNotFound) {
						t.Fatalf("SetWABA() error = %v", err)
					}
				}
			}
			MustCommit(t, s, bot.Turn{MessageID: fmt.Sprintf("wamid.idx.%d", step), Conversation: conv, Case: &c})
			if step%10 == 9 {
				checkIndex(t, s, rng, numbers, states)
			}
		}
		checkIndex(t, s, rng, numbers, states)
	})

	t.Run("PagesNewestFirst", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		for i := range 7 {
			id := MustNewCaseID(t, s)
			c := SampleCase(id, "551198765000"+strconv.Itoa(i))
			c.State = fsm.Done
			if i%2 == 0 {
				c.State = fsm.AwaitCode
			}
			MustCommit(t, s, bot.Turn{Conversation: SampleConversation(c.Client, id), Case: &c})
		}
		var got []string
		q := bot.CaseQuery{Limit: 3}
		for range 5 {
			page, err := s.ListCases(ctx, q)
			if err != nil {
				t.Fatalf("ListCases(%+v) error = %v", q, err)
			}
			for _, c := range page.Cases {
				got = append(got, c.ID)
			}
			if page.Next == "" {
				break
			}
			q.Before = page.Next
		}
		if want := []string{"7", "6", "5", "4", "3", "2", "1"}; !slices.Equal(got, want) {
			t.Errorf("every case, page by page = %v, want %v", got, want)
		}
		page, err := s.ListCases(ctx, bot.CaseQuery{States: []fsm.State{fsm.AwaitCode}, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		if ids := caseIDs(page.Cases); !slices.Equal(ids, []string{"7", "5", "3", "1"}) || page.Next != "" {
			t.Errorf("await_code, one page of 4 = %v next %q, want [7 5 3 1] and no next page", ids, page.Next)
		}
		if _, err := s.ListCases(ctx, bot.CaseQuery{Before: "007", Limit: 3}); err == nil {
			t.Error(`ListCases(Before: "007") = nil error, want one: that is no case id`)
		}
	})

	t.Run("ByNumberWithOrWithoutPlus", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		a := SampleCase(MustNewCaseID(t, s), "BR.1502576394655843") // a client known only by BSUID
		b := SampleCase(MustNewCaseID(t, s), "5521912340003")
		b.ClientPhone = "5521912340003"
		b.Phone = "+5521912340003" // porting the number they write from
		for _, c := range []*bot.Case{&a, &b} {
			MustCommit(t, s, bot.Turn{Conversation: SampleConversation(c.Client, c.ID), Case: c})
		}
		for id, want := range map[string][]string{
			"+5511987654321":      {a.ID}, // SampleCase's ported number
			"5511987654321":       {a.ID},
			"BR.1502576394655843": {a.ID},
			"+5521912340003":      {b.ID},
			"552191234000":        nil, // a prefix is not the number
			"":                    nil,
		} {
			got, err := s.CasesByNumber(ctx, id)
			if err != nil {
				t.Fatalf("CasesByNumber(%q) error = %v", id, err)
			}
			if ids := caseIDs(got); !slices.Equal(ids, want) {
				t.Errorf("CasesByNumber(%q) = %v, want %v", id, ids, want)
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.ListCases(ctx, bot.CaseQuery{Limit: 1}); !errors.Is(err, context.Canceled) {
			t.Errorf("ListCases() error = %v, want context.Canceled", err)
		}
		if _, err := s.CasesByNumber(ctx, "5511987654321"); !errors.Is(err, context.Canceled) {
			t.Errorf("CasesByNumber() error = %v, want context.Canceled", err)
		}
		if _, err := s.CaseCounts(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("CaseCounts() error = %v, want context.Canceled", err)
		}
		if _, err := s.CasesClosedSince(ctx, Base); !errors.Is(err, context.Canceled) {
			t.Errorf("CasesClosedSince() error = %v, want context.Canceled", err)
		}
	})
}

// checkIndex compares every answer of the index with a full scan.
func checkIndex(t *testing.T, s bot.Store, rng *rand.Rand, numbers []string, states []fsm.State) {
	t.Helper()
	ctx := t.Context()
	all, err := s.Cases(ctx)
	if err != nil {
		t.Fatalf("Cases() error = %v", err)
	}
	counts := map[fsm.State]int{}
	for _, c := range all {
		counts[c.State]++
	}
	gotCounts, err := s.CaseCounts(ctx)
	if err != nil {
		t.Fatalf("CaseCounts() error = %v", err)
	}
	if diff := cmp.Diff(counts, gotCounts, CmpEmpty); diff != "" {
		t.Errorf("CaseCounts() differs from a count of every case (-scan +index):\n%s", diff)
	}
	for range 4 {
		var pick []fsm.State
		for _, st := range states {
			if rng.IntN(3) == 0 {
				pick = append(pick, st)
			}
		}
		var wantIDs []string
		for _, c := range slices.Backward(all) {
			if len(pick) == 0 || slices.Contains(pick, c.State) {
				wantIDs = append(wantIDs, c.ID)
			}
		}
		var gotIDs []string
		q := bot.CaseQuery{States: pick, Limit: 1 + rng.IntN(5)}
		for range len(all) + 1 {
			page, err := s.ListCases(ctx, q)
			if err != nil {
				t.Fatalf("ListCases(%+v) error = %v", q, err)
			}
			if len(page.Cases) > q.Limit {
				t.Fatalf("ListCases(%+v) gave %d cases, over the limit", q, len(page.Cases))
			}
			for _, c := range page.Cases {
				gotIDs = append(gotIDs, c.ID)
				if want := findCase(all, c.ID); !cmp.Equal(c, want) {
					t.Errorf("ListCases() case %s differs from Cases():\n%s", c.ID, cmp.Diff(want, c))
				}
			}
			if page.Next == "" {
				break
			}
			q.Before = page.Next
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("ListCases(states %v) page by page = %v, a scan finds %v", pick, gotIDs, wantIDs)
		}
	}
	for _, n := range numbers {
		for _, spelling := range []string{n, "+" + n} {
			var wantIDs []string
			for _, c := range all {
				if c.Phone == "+"+n || c.ClientPhone == n || c.Client == n || c.Phone == n {
					wantIDs = append(wantIDs, c.ID)
				}
			}
			if !bot.IsPhoneID(n) && spelling != n {
				continue // "+BR.1…" is no spelling of a BSUID
			}
			got, err := s.CasesByNumber(ctx, spelling)
			if err != nil {
				t.Fatalf("CasesByNumber() error = %v", err)
			}
			if ids := caseIDs(got); !slices.Equal(ids, wantIDs) {
				t.Errorf("CasesByNumber(%q) = %v, a scan finds %v", spelling, ids, wantIDs)
			}
		}
	}
	since := At(rng.IntN(80))
	var wantClosed []bot.Case
	for _, c := range all {
		if !c.Closed.IsZero() && !c.Closed.Before(since) {
			wantClosed = append(wantClosed, c)
		}
	}
	slices.SortStableFunc(wantClosed, func(a, b bot.Case) int { return a.Closed.Compare(b.Closed) })
	gotClosed, err := s.CasesClosedSince(ctx, since)
	if err != nil {
		t.Fatalf("CasesClosedSince() error = %v", err)
	}
	if diff := cmp.Diff(caseIDs(wantClosed), caseIDs(gotClosed), CmpEmpty); diff != "" {
		t.Errorf("CasesClosedSince(%v) differs from a scan (-scan +index):\n%s", since, diff)
	}
}

func caseIDs(cs []bot.Case) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func findCase(all []bot.Case, id string) bot.Case {
	for _, c := range all {
		if c.ID == id {
			return c
		}
	}
	return bot.Case{}
}
