package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/bot"
	"portabot/fsm"
)

// The case indexes of migration 00003: the columns state, closed and
// numbers, derived from each case's JSON by a trigger, their indexes, and
// case_counts, kept by another trigger. Every statement that writes or
// deletes a case keeps them, in its own transaction.

// ListCases returns one page of the cases q selects, newest first: one
// index range per state, merged, so a page reads about what it returns.
func (db *DB) ListCases(ctx context.Context, q bot.CaseQuery) (bot.CasePage, error) {
	var page bot.CasePage
	if err := ctx.Err(); err != nil {
		return page, fmt.Errorf("postgres: list cases: %w", err)
	}
	limit := max(q.Limit, 1)
	before := int64(1<<63 - 1)
	if q.Before != "" {
		n, ok := caseNumber(q.Before)
		if !ok {
			return page, fmt.Errorf("postgres: list cases before %q: not a case id", q.Before)
		}
		before = n
	}
	var (
		rows pgx.Rows
		err  error
	)
	if len(q.States) == 0 {
		rows, err = db.pool.Query(ctx, `SELECT id, data, thread FROM cases WHERE id < $1 ORDER BY id DESC LIMIT $2`,
			before, limit+1)
	} else {
		states := make([]string, len(q.States))
		for i, s := range q.States {
			states[i] = string(s)
		}
		rows, err = db.pool.Query(ctx, `
			SELECT c.id, c.data, c.thread FROM (SELECT DISTINCT unnest($1::text[]) AS s) st,
				LATERAL (SELECT id, data, thread FROM cases WHERE state = st.s AND id < $2 ORDER BY id DESC LIMIT $3) c
			ORDER BY c.id DESC LIMIT $3`, states, before, limit+1)
	}
	if err != nil {
		return page, fmt.Errorf("postgres: list cases: %w", err)
	}
	cases, err := collectCases(rows, "list cases")
	if err != nil {
		return page, err
	}
	if len(cases) > limit {
		cases = cases[:limit]
		page.Next = cases[limit-1].ID
	}
	page.Cases = cases
	return page, nil
}

// CasesByNumber returns, oldest first, the cases whose numbers include id's
// number key, through the numbers column's GIN index.
func (db *DB) CasesByNumber(ctx context.Context, id string) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: cases by number: %w", err)
	}
	key := bot.NumberKey(id)
	if key == "" {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, data, thread FROM cases WHERE numbers @> ARRAY[$1::text] ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("postgres: cases by number: %w", err)
	}
	return collectCases(rows, "cases by number")
}

// CaseCounts returns the counts the trigger keeps.
func (db *DB) CaseCounts(ctx context.Context) (map[fsm.State]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: case counts: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT state, n FROM case_counts WHERE n > 0`)
	if err != nil {
		return nil, fmt.Errorf("postgres: case counts: %w", err)
	}
	counts := map[fsm.State]int{}
	var (
		s string
		n int64
	)
	_, err = pgx.ForEachRow(rows, []any{&s, &n}, func() error {
		counts[fsm.State(s)] = int(n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: case counts: %w", err)
	}
	return counts, nil
}

// CasesClosedSince returns the cases closed at or after since, in the order
// they closed.
func (db *DB) CasesClosedSince(ctx context.Context, since time.Time) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: cases closed since: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, data, thread FROM cases WHERE closed >= $1 ORDER BY closed, id`, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: cases closed since: %w", err)
	}
	return collectCases(rows, "cases closed since")
}

// collectCases reads rows of (id, data, thread) into cases.
func collectCases(rows pgx.Rows, what string) ([]bot.Case, error) {
	defer rows.Close()
	var cases []bot.Case
	for rows.Next() {
		var (
			id     int64
			data   []byte
			thread *string
		)
		if err := rows.Scan(&id, &data, &thread); err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", what, err)
		}
		var c bot.Case
		if err := decode(data, &c, "case "+strconv.FormatInt(id, 10)); err != nil {
			return nil, err
		}
		c.Thread = deref(thread)
		cases = append(cases, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return cases, nil
}
