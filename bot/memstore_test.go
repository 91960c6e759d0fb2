package bot_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"portabot/bot"
	"portabot/fsm"
	"portabot/storage/storetest"
)

// The fuzzer's store stands in for a real one: if it kept a weaker contract,
// the fuzzer would pass states a real store refuses, or miss what it finds.
func TestMemStoreContract(t *testing.T) {
	storetest.RunStore(t, func(t *testing.T) bot.Store { return newMemStore() })
}

// The memory store answers the index's queries by looking at every case:
// it holds a fuzzer's few, and what it must match is their meaning.

func (m *memStore) sortedCases() []bot.Case {
	var out []bot.Case
	for _, c := range m.cases {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b bot.Case) int { return cmp.Compare(caseNum(a.ID), caseNum(b.ID)) })
	return out
}

func caseNum(id string) int {
	n, _ := strconv.Atoi(id)
	return n
}

func (m *memStore) ListCases(ctx context.Context, q bot.CaseQuery) (bot.CasePage, error) {
	if err := ctx.Err(); err != nil {
		return bot.CasePage{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if q.Before != "" && strconv.Itoa(caseNum(q.Before)) != q.Before {
		return bot.CasePage{}, fmt.Errorf("memstore: list cases before %q: not a case id", q.Before)
	}
	limit := max(q.Limit, 1)
	var page bot.CasePage
	for _, c := range slices.Backward(m.sortedCases()) {
		if q.Before != "" && caseNum(c.ID) >= caseNum(q.Before) {
			continue
		}
		if len(q.States) > 0 && !slices.Contains(q.States, c.State) {
			continue
		}
		if len(page.Cases) == limit {
			page.Next = page.Cases[limit-1].ID
			break
		}
		page.Cases = append(page.Cases, c)
	}
	return page, nil
}

func (m *memStore) CasesByNumber(ctx context.Context, id string) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := bot.NumberKey(id)
	var out []bot.Case
	for _, c := range m.sortedCases() {
		if key != "" && slices.Contains(bot.CaseNumbers(&c), key) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memStore) CaseCounts(ctx context.Context) (map[fsm.State]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	counts := map[fsm.State]int{}
	for _, c := range m.cases {
		counts[c.State]++
	}
	return counts, nil
}

func (m *memStore) CasesClosedSince(ctx context.Context, since time.Time) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []bot.Case
	for _, c := range m.sortedCases() {
		if !c.Closed.IsZero() && !c.Closed.Before(since) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b bot.Case) int { return a.Closed.Compare(b.Closed) })
	return out, nil
}
