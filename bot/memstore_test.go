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

func TestMemStoreEraserContract(t *testing.T) {
	storetest.RunEraser(t, memPseudonymKey, func(t *testing.T) storetest.EraserBackend { return newMemStore() })
}

// memPseudonymKey stands in for the key a real store derives from its seal
// key.
var memPseudonymKey = bot.PseudonymKey([]byte("memstore-seal-key-32-bytes-long!"))

var _ bot.Eraser = (*memStore)(nil)

// Forget erases the client r names, as the real stores do, in the parts
// this store keeps: conversations, client ids, cases and audit.
func (m *memStore) Forget(ctx context.Context, r bot.ForgetRequest) (bot.Erasure, error) {
	var out bot.Erasure
	if err := ctx.Err(); err != nil {
		return out, err
	}
	if r.At.IsZero() {
		r.At = m.now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := map[string]bool{}
	numbers := map[string]bool{}
	addConv := func(id string) {
		if c, ok := m.convs[id]; ok {
			keys[c.Key] = true
		} else if k, ok := m.ids[id]; ok {
			keys[k] = true
		}
	}
	var direct *bot.Case
	if r.Number != "" {
		numbers[r.Number] = true
		addConv(r.Number)
	}
	if r.CaseID != "" {
		c, ok := m.cases[r.CaseID]
		if !ok {
			return out, fmt.Errorf("memstore: forget case %q: %w", r.CaseID, bot.ErrNotFound)
		}
		if !c.Erased.IsZero() {
			return out, nil
		}
		addConv(c.Client)
		for _, n := range []string{c.Client, c.ClientPhone} {
			if bot.IsPhoneID(n) {
				numbers[n] = true
			}
		}
		direct = &c
	}
	var cases []bot.Case
	for i := 1; i <= m.next; i++ {
		c, ok := m.cases[fmt.Sprint(i)]
		if !ok || !c.Erased.IsZero() {
			continue
		}
		match := keys[c.Client] || (direct != nil && direct.ID == c.ID)
		for n := range numbers {
			// Past retention the case holds the number's keyed hash.
			match = match || bot.Matches(c, n) || bot.Matches(c, bot.Pseudonym(memPseudonymKey, n))
		}
		if match {
			cases = append(cases, c)
		}
	}
	for _, c := range cases {
		addConv(c.Client)
		if bot.InFlight(c) {
			return bot.Erasure{}, fmt.Errorf("memstore: forget: case %s: %w", c.ID, bot.ErrInFlight)
		}
	}
	for k := range keys {
		delete(m.convs, k)
		out.Conversations++
		for id, ck := range m.ids {
			if ck == k {
				delete(m.ids, id)
				out.ClientIDs++
			}
		}
	}
	for _, c := range cases {
		out.AuditEvents += len(m.audit[c.ID])
		m.cases[c.ID] = bot.Tombstone(c, r.At, r.Actor)
		m.audit[c.ID] = []bot.AuditEvent{{CaseID: c.ID, At: r.At, Actor: r.Actor, Kind: "erased", Detail: "personal data erased"}}
		out.Cases = append(out.Cases, c.ID)
	}
	return out, nil
}

// Expire applies retention as the real stores do.
func (m *memStore) Expire(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UTC().Truncate(time.Microsecond)
	n := 0
	for i := 1; i <= m.next && n < limit; i++ {
		id := fmt.Sprint(i)
		c, ok := m.cases[id]
		closed, over := bot.Closed(c)
		if !ok || !over || !closed.Before(before) || !c.Expired.IsZero() || !c.Erased.IsZero() {
			continue
		}
		m.cases[id] = bot.Expired(c, memPseudonymKey, now)
		for j, e := range m.audit[id] {
			m.audit[id][j] = bot.ExpiredEvent(e)
		}
		n++
	}
	for k, c := range m.convs {
		if n >= limit {
			break
		}
		if !c.Updated.Before(before) || !c.LastSeen.Before(before) || fsm.IsTransient(c.State) {
			continue
		}
		if cs, ok := m.cases[c.CaseID]; ok {
			if _, over := bot.Closed(cs); !over {
				continue
			}
		}
		delete(m.convs, k)
		for id, ck := range m.ids {
			if ck == k {
				delete(m.ids, id)
			}
		}
		n++
	}
	return n, nil
}

// PruneProcessed deletes markers set before before.
func (m *memStore) PruneProcessed(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, at := range m.marked {
		if n >= limit {
			break
		}
		if at.Before(before) {
			delete(m.marked, id)
			delete(m.processed, id)
			n++
		}
	}
	return n, nil
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
