package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"portabot/bot"
)

var _ bot.Store = (*DB)(nil)

// Conversation returns the conversation keyed key, or the one whose
// client's current number or BSUID is key, or an error matching
// bot.ErrNotFound.
func (db *DB) Conversation(ctx context.Context, key string) (bot.Conversation, error) {
	var c bot.Conversation
	if err := ctx.Err(); err != nil {
		return c, fmt.Errorf("postgres: conversation: %w", err)
	}
	if key == "" {
		return c, fmt.Errorf("postgres: conversation: %w", bot.ErrNotFound)
	}
	var data []byte
	err := db.pool.QueryRow(ctx, `
		SELECT data FROM (
			SELECT 0 AS ord, data FROM conversations WHERE key = $1
			UNION ALL
			SELECT 1, c.data FROM client_ids i JOIN conversations c ON c.key = i.conv_key WHERE i.id = $1
		) found ORDER BY ord LIMIT 1`, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		// The key is a phone number: it stays out of the error text,
		// which may end up in a log.
		return c, fmt.Errorf("postgres: conversation: %w", bot.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("postgres: conversation: %w", err)
	}
	return c, decode(data, &c, "conversation")
}

// Case returns the case with id, with the Thread SetThread recorded, or an
// error matching bot.ErrNotFound.
func (db *DB) Case(ctx context.Context, id string) (bot.Case, error) {
	var c bot.Case
	if err := ctx.Err(); err != nil {
		return c, fmt.Errorf("postgres: case %s: %w", id, err)
	}
	n, ok := caseNumber(id)
	if !ok {
		return c, fmt.Errorf("postgres: case %q: %w", id, bot.ErrNotFound)
	}
	var data []byte
	var thread *string
	err := db.pool.QueryRow(ctx, `SELECT data, thread FROM cases WHERE id = $1`, n).Scan(&data, &thread)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("postgres: case %s: %w", id, bot.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("postgres: case %s: %w", id, err)
	}
	if err := decode(data, &c, "case "+id); err != nil {
		return c, err
	}
	c.Thread = deref(thread)
	return c, nil
}

// Cases returns every case in the order their ids were issued.
func (db *DB) Cases(ctx context.Context) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: cases: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, data, thread FROM cases ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: cases: %w", err)
	}
	var cases []bot.Case
	for rows.Next() {
		var id int64
		var data []byte
		var thread *string
		if err := rows.Scan(&id, &data, &thread); err != nil {
			return nil, fmt.Errorf("postgres: cases: %w", err)
		}
		var c bot.Case
		if err := decode(data, &c, "case "+strconv.FormatInt(id, 10)); err != nil {
			rows.Close()
			return nil, err
		}
		c.Thread = deref(thread)
		cases = append(cases, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: cases: %w", err)
	}
	return cases, nil
}

// Audit returns the history of case caseID, oldest first; empty for a case
// without events or one that does not exist.
func (db *DB) Audit(ctx context.Context, caseID string) ([]bot.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: audit of case %s: %w", caseID, err)
	}
	n, ok := caseNumber(caseID)
	if !ok {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT data FROM audit WHERE case_id = $1 ORDER BY seq`, n)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit of case %s: %w", caseID, err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bot.AuditEvent, error) {
		var data []byte
		var e bot.AuditEvent
		if err := r.Scan(&data); err != nil {
			return e, err
		}
		return e, decode(data, &e, "audit event of case "+caseID)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audit of case %s: %w", caseID, err)
	}
	return events, nil
}

// NewCaseID returns the next case number from a sequence: unique across
// replicas, with gaps where a number was handed out and never committed.
func (db *DB) NewCaseID(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("postgres: new case id: %w", err)
	}
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT nextval('case_ids')`).Scan(&n); err != nil {
		return "", fmt.Errorf("postgres: new case id: %w", err)
	}
	return strconv.FormatInt(n, 10), nil
}

// Processed reports whether a turn for message messageID was committed.
func (db *DB) Processed(ctx context.Context, messageID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("postgres: processed: %w", err)
	}
	if messageID == "" {
		return false, nil
	}
	var seen bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM processed WHERE message_id = $1)`, messageID).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("postgres: processed: %w", err)
	}
	return seen, nil
}

// SetWABA sets the destination WABA of case caseID and records who did it,
// in one transaction, or returns an error matching bot.ErrNotFound.
func (db *DB) SetWABA(ctx context.Context, caseID, waba, actor string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: set waba of case %s: %w", caseID, err)
	}
	n, ok := caseNumber(caseID)
	if !ok {
		return fmt.Errorf("postgres: set waba of case %q: %w", caseID, bot.ErrNotFound)
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	return db.tx(ctx, func(tx pgx.Tx) error {
		var data []byte
		err := tx.QueryRow(ctx, `SELECT data FROM cases WHERE id = $1 FOR UPDATE`, n).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: set waba of case %s: %w", caseID, bot.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("postgres: set waba of case %s: %w", caseID, err)
		}
		var c bot.Case
		if err := decode(data, &c, "case "+caseID); err != nil {
			return err
		}
		c.WABA, c.Updated = waba, now
		if err := putCase(ctx, tx, n, &c); err != nil {
			return err
		}
		return appendAudit(ctx, tx, n, bot.AuditEvent{CaseID: caseID, At: now, Actor: actor, Kind: "waba_set", Detail: waba})
	})
}

// Commit writes t in one transaction: the conversation and its client ids,
// the case, the audit events, the parked rows put back in line, the outbox
// rows, the notices, the message marked processed and taken out of the
// inbox. When t.MessageID was committed before it writes nothing and returns
// an error matching bot.ErrDuplicate; two replicas committing the same
// message at once meet on the processed row's key, and one of them gets it.
// A turn of a conversation this DB claimed is refused with ErrLeaseLost once
// another replica took the conversation over (see fence.go).
//
// The rules are the bbolt store's (storage.DB.Commit): an event or notice
// without a case is the turn's; one about a case that neither exists nor is
// written by the turn refuses the whole turn; the case's Thread is ignored.
func (db *DB) Commit(ctx context.Context, t bot.Turn) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	p, err := prepareTurn(t)
	if err != nil {
		return err
	}
	now := db.now().UTC()
	return db.tx(ctx, func(tx pgx.Tx) error {
		// A turn of a conversation this replica claimed commits only while
		// the claim holds: once another replica took it over, that
		// replica's turns are the newer ones.
		if err := db.checkFence(ctx, tx, leaseInbox, p.Conversation.Key, "", p.Conversation.Key); err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		if p.MessageID != "" {
			tag, err := tx.Exec(ctx, `INSERT INTO processed (message_id, at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
				p.MessageID, now)
			if err != nil {
				return fmt.Errorf("postgres: commit: mark processed: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("postgres: commit: %w", bot.ErrDuplicate)
			}
		}
		if err := checkCases(ctx, tx, p); err != nil {
			return err
		}
		if p.Unpark {
			// Read before the batch: the rows are locked and rewritten
			// here, and keep their places ahead of the turn's own.
			if err := unpark(ctx, tx, p.Conversation); err != nil {
				return err
			}
		}
		// What is left cannot be refused by what is stored: it goes to
		// the server in one round trip.
		b := &pgx.Batch{}
		w := batchExec{b}
		b.Queue(`INSERT INTO conversations (key, data) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data`, p.Conversation.Key, p.convData)
		if err := writeClientIDs(ctx, w, p.Turn); err != nil {
			return err
		}
		if p.Case != nil {
			if err := putCase(ctx, w, p.caseNum, p.Case); err != nil {
				return err
			}
		}
		for i, e := range p.events {
			if err := appendAudit(ctx, w, p.eventCases[i], e); err != nil {
				return err
			}
		}
		for _, row := range p.outbox {
			if err := appendOutbound(ctx, w, row); err != nil {
				return err
			}
		}
		for i, n := range p.notices {
			if err := appendNotice(ctx, w, p.noticeCases[i], n); err != nil {
				return err
			}
		}
		if p.MessageID != "" {
			b.Queue(`DELETE FROM inbox WHERE message_id = $1`, p.MessageID)
		}
		if len(p.outbox) > 0 || p.Unpark {
			if err := notify(ctx, w, ChannelOutbox); err != nil {
				return err
			}
		}
		if len(p.notices) > 0 {
			if err := notify(ctx, w, ChannelNotices); err != nil {
				return err
			}
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		return nil
	})
}

// preparedTurn is a Turn checked and resolved before its transaction starts.
type preparedTurn struct {
	bot.Turn
	convData    []byte
	caseNum     int64
	events      []bot.AuditEvent
	eventCases  []int64
	outbox      []bot.Outbound
	notices     []bot.Notice
	noticeCases []int64
}

func prepareTurn(t bot.Turn) (*preparedTurn, error) {
	if t.Conversation.Key == "" {
		return nil, errors.New("postgres: commit: conversation has no key")
	}
	p := &preparedTurn{Turn: t}
	var err error
	if p.convData, err = encode(t.Conversation, "conversation"); err != nil {
		return nil, err
	}
	turnCase := t.Conversation.CaseID
	if t.Case != nil {
		var ok bool
		if p.caseNum, ok = caseNumber(t.Case.ID); !ok {
			return nil, fmt.Errorf("postgres: commit: case id %q was not issued by NewCaseID", t.Case.ID)
		}
		turnCase = t.Case.ID
	}
	for _, e := range t.Audit {
		if e.CaseID == "" {
			e.CaseID = turnCase
		}
		n, ok := caseNumber(e.CaseID)
		if !ok {
			return nil, fmt.Errorf("postgres: commit: audit event %q has no valid case id (%q)", e.Kind, e.CaseID)
		}
		p.events, p.eventCases = append(p.events, e), append(p.eventCases, n)
	}
	for i, row := range t.Outbox {
		if row.State == "" {
			row.State = bot.OutboundPending
		}
		if err := checkOutbound(row); err != nil {
			return nil, fmt.Errorf("postgres: commit: outbox row %d: %w", i, err)
		}
		p.outbox = append(p.outbox, row)
	}
	for i, n := range t.Notices {
		if n.CaseID == "" {
			n.CaseID = turnCase
		}
		num, ok := caseNumber(n.CaseID)
		if !ok {
			return nil, fmt.Errorf("postgres: commit: notice %q has no valid case id (%q)", n.Kind, n.CaseID)
		}
		if n.State == "" {
			n.State = bot.OutboundPending
		}
		if err := checkNoticeState(n.State); err != nil {
			return nil, fmt.Errorf("postgres: commit: notice %d: %w", i, err)
		}
		p.notices, p.noticeCases = append(p.notices, n), append(p.noticeCases, num)
	}
	return p, nil
}

// checkCases refuses a turn with an audit event or notice about a case that
// neither exists nor is written by the turn.
func checkCases(ctx context.Context, tx pgx.Tx, p *preparedTurn) error {
	var want []int64
	for _, n := range append(append([]int64(nil), p.eventCases...), p.noticeCases...) {
		if p.Case == nil || n != p.caseNum {
			want = append(want, n)
		}
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id FROM cases WHERE id = ANY($1)`, want)
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	known := map[int64]bool{}
	for _, n := range found {
		known[n] = true
	}
	for i, e := range p.events {
		if !known[p.eventCases[i]] && (p.Case == nil || p.eventCases[i] != p.caseNum) {
			return fmt.Errorf("postgres: commit: audit event %q for case %s: %w", e.Kind, e.CaseID, bot.ErrNotFound)
		}
	}
	for i, n := range p.notices {
		if !known[p.noticeCases[i]] && (p.Case == nil || p.noticeCases[i] != p.caseNum) {
			return fmt.Errorf("postgres: commit: notice %q for case %s: %w", n.Kind, n.CaseID, bot.ErrNotFound)
		}
	}
	return nil
}

// writeClientIDs points the client's current number and BSUID at their
// conversation, and stops the ids the turn forgets from pointing at it. An
// id that points at another conversation is left to that one.
func writeClientIDs(ctx context.Context, tx execer, t bot.Turn) error {
	key := t.Conversation.Key
	for _, id := range t.Forget {
		if id == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM client_ids WHERE id = $1 AND conv_key = $2`, id, key); err != nil {
			return fmt.Errorf("postgres: forget a client id: %w", err)
		}
	}
	for _, id := range []string{t.Conversation.Phone, t.Conversation.UserID} {
		if id == "" || id == key {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO client_ids (id, conv_key) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET conv_key = EXCLUDED.conv_key`, id, key); err != nil {
			return fmt.Errorf("postgres: index a client id: %w", err)
		}
	}
	return nil
}

// putCase writes c without its Thread (which lives beside it) and moves the
// id sequence past its number, so that a case committed under an id the
// sequence did not issue (an import, a copy) is never handed out again.
func putCase(ctx context.Context, tx execer, n int64, c *bot.Case) error {
	rec := *c
	rec.Thread = ""
	data, err := encode(rec, "case "+c.ID)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cases (id, data) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data`, n, data); err != nil {
		return fmt.Errorf("postgres: write case %s: %w", c.ID, err)
	}
	if _, err := tx.Exec(ctx, `SELECT setval('case_ids', $1) FROM case_ids WHERE NOT is_called OR last_value < $1`, n); err != nil {
		return fmt.Errorf("postgres: advance case sequence: %w", err)
	}
	return nil
}

func appendAudit(ctx context.Context, tx execer, caseNum int64, e bot.AuditEvent) error {
	data, err := encode(e, "audit event of case "+e.CaseID)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit (case_id, data) VALUES ($1, $2)`, caseNum, data); err != nil {
		return fmt.Errorf("postgres: write audit event of case %s: %w", e.CaseID, err)
	}
	return nil
}

// caseNumber reads a public case id. Only the canonical decimal form is
// accepted, so "7" and "007" never name two records.
func caseNumber(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, false
	}
	return n, true
}

// execer runs a statement whose result only matters when it fails: a
// transaction, or a batch that sends many such at once.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// batchExec queues statements in a batch; their errors come when the batch
// is sent.
type batchExec struct{ b *pgx.Batch }

func (w batchExec) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	w.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func encode(v any, what string) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode %s: %w", what, err)
	}
	return data, nil
}

func decode(data []byte, dst any, what string) error {
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("postgres: decode %s: %w", what, err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// validClient reports whether s can name a client's rows.
func validClient(s string) bool { return s != "" && !strings.ContainsRune(s, 0) }
