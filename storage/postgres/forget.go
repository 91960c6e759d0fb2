package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/bot"
)

// Erasure and retention on PostgreSQL delete and rewrite rows in one
// transaction each. The old row versions stay in the table's pages until
// VACUUM reclaims them, and in the write-ahead log and its archives until
// those are recycled: that is the database's housekeeping, which the
// operator runs (autovacuum does it on its own schedule); the README says
// so.
//
// Every conversation and case they remove or rewrite goes through
// deleteConversations and rewriteCase.

var _ bot.Eraser = (*DB)(nil)

// errNoPseudonymKey refuses retention without a seal key.
var errNoPseudonymKey = errors.New("retention needs the seal key (PORTABOT_DB_KEY) to replace numbers by keyed hashes")

// Forget erases the client named by r and their cases (see bot.Eraser), in
// one transaction. It refuses while a replica holds the client's
// conversation (ErrBusy) or a Graph step is in flight (ErrInFlight).
func (db *DB) Forget(ctx context.Context, r bot.ForgetRequest) (bot.Erasure, error) {
	var out bot.Erasure
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("postgres: forget: %w", err)
	}
	if r.At.IsZero() {
		r.At = db.now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	err := db.tx(ctx, func(tx pgx.Tx) error {
		out = bot.Erasure{}
		keys := map[string]bool{}
		var convs []bot.Conversation
		addConv := func(id string) error {
			if id == "" {
				return nil
			}
			rows, err := tx.Query(ctx, `SELECT data FROM conversations WHERE key = $1
				UNION ALL SELECT c.data FROM client_ids i JOIN conversations c ON c.key = i.conv_key WHERE i.id = $1`, id)
			if err != nil {
				return fmt.Errorf("postgres: forget: %w", err)
			}
			found, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
			if err != nil {
				return fmt.Errorf("postgres: forget: %w", err)
			}
			for _, data := range found {
				var c bot.Conversation
				if err := decode(data, &c, "conversation"); err != nil {
					return err
				}
				if !keys[c.Key] {
					keys[c.Key] = true
					convs = append(convs, c)
				}
			}
			return nil
		}
		var numbers []string
		var direct []int64
		if r.Number != "" {
			numbers = append(numbers, r.Number)
			if err := addConv(r.Number); err != nil {
				return err
			}
		}
		if r.CaseID != "" {
			n, ok := caseNumber(r.CaseID)
			var data []byte
			err := errNotFound
			if ok {
				err = tx.QueryRow(ctx, `SELECT data FROM cases WHERE id = $1 FOR UPDATE`, n).Scan(&data)
			}
			if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, errNotFound) {
				return fmt.Errorf("postgres: forget: case %q: %w", r.CaseID, bot.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("postgres: forget: %w", err)
			}
			var c bot.Case
			if err := decode(data, &c, "case "+r.CaseID); err != nil {
				return err
			}
			if !c.Erased.IsZero() {
				return nil
			}
			if err := addConv(c.Client); err != nil {
				return err
			}
			for _, num := range []string{c.Client, c.ClientPhone} {
				// An expired case names its client by pseudonym: the
				// client's other expired cases carry the same one.
				if bot.IsPhoneID(num) || strings.HasPrefix(num, bot.PseudonymPrefix) {
					numbers = append(numbers, num)
				}
			}
			direct = append(direct, n)
		}
		keyList := func() []string {
			var l []string
			for k := range keys {
				l = append(l, k)
			}
			return l
		}
		if db.pkey != nil {
			// Cases retention expired hold the numbers' keyed hashes,
			// which recognise the client: they go with the rest.
			for _, num := range slices.Concat(numbers, keyList()) {
				numbers = append(numbers, bot.Pseudonym(db.pkey, num))
			}
		}
		rows, err := tx.Query(ctx, `SELECT id, data, thread FROM cases
			WHERE (data->>'Erased') IS NULL AND (id = ANY($1) OR data->>'Client' = ANY($2)
			   OR data->>'Client' = ANY($3) OR data->>'ClientPhone' = ANY($3) OR ltrim(data->>'Phone', '+') = ANY($3))
			ORDER BY id FOR UPDATE`, direct, keyList(), numbers)
		if err != nil {
			return fmt.Errorf("postgres: forget: %w", err)
		}
		var cases []bot.Case
		var nums []int64
		for rows.Next() {
			var n int64
			var data []byte
			var thread *string
			if err := rows.Scan(&n, &data, &thread); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: forget: %w", err)
			}
			var c bot.Case
			if err := decode(data, &c, "case "+strconv.FormatInt(n, 10)); err != nil {
				rows.Close()
				return err
			}
			c.Thread = deref(thread)
			cases, nums = append(cases, c), append(nums, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: forget: %w", err)
		}
		for _, c := range cases {
			if bot.InFlight(c) {
				return fmt.Errorf("postgres: forget: case %s is in %s: %w; try again once it is settled", c.ID, c.State, bot.ErrInFlight)
			}
			if err := addConv(c.Client); err != nil {
				return err
			}
		}
		if len(convs) == 0 && len(cases) == 0 {
			return nil
		}
		var busy bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM leases l WHERE l.queue = 'inbox' AND l.owner = ANY($1) AND `+live+`)`,
			keyList()).Scan(&busy); err != nil {
			return fmt.Errorf("postgres: forget: %w", err)
		}
		if busy {
			return fmt.Errorf("postgres: forget: %w; try again in a moment", bot.ErrBusy)
		}
		var addrs []string
		for _, c := range convs {
			for _, id := range []string{c.Key, c.Phone, c.UserID} {
				if id != "" && !slices.Contains(addrs, id) {
					addrs = append(addrs, id)
				}
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM inbox WHERE conv = ANY($1)`, addrs)
		if err != nil {
			return fmt.Errorf("postgres: forget waiting messages: %w", err)
		}
		out.Inbox = int(tag.RowsAffected())
		if out.Conversations, out.ClientIDs, out.Outbox, err = deleteConversations(ctx, tx, keyList(), addrs); err != nil {
			return err
		}
		for i, c := range cases {
			if err := eraseCase(ctx, tx, nums[i], c, r, &out); err != nil {
				return err
			}
		}
		return notify(ctx, tx, ChannelNotices)
	})
	if err != nil {
		return bot.Erasure{}, err
	}
	return out, nil
}

var errNotFound = errors.New("not found")

// deleteConversations deletes the conversations keyed keys, the client ids
// pointing at them, and every outbox row to addrs with the processed
// markers of the messages they answered. Every deletion of a conversation
// goes through it.
func deleteConversations(ctx context.Context, tx pgx.Tx, keys, addrs []string) (convs, ids, rows int, err error) {
	tag, err := tx.Exec(ctx, `DELETE FROM conversations WHERE key = ANY($1)`, keys)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("postgres: delete conversation: %w", err)
	}
	convs = int(tag.RowsAffected())
	if tag, err = tx.Exec(ctx, `DELETE FROM client_ids WHERE conv_key = ANY($1)`, keys); err != nil {
		return 0, 0, 0, fmt.Errorf("postgres: delete client ids: %w", err)
	}
	ids = int(tag.RowsAffected())
	if err := tx.QueryRow(ctx, `WITH gone AS (DELETE FROM outbox WHERE client = ANY($1) RETURNING data->>'InReplyTo' AS m),
		marks AS (DELETE FROM processed WHERE message_id IN (SELECT m FROM gone WHERE m IS NOT NULL))
		SELECT count(*) FROM gone`, addrs).Scan(&rows); err != nil {
		return 0, 0, 0, fmt.Errorf("postgres: delete outbox rows: %w", err)
	}
	return convs, ids, rows, nil
}

// eraseCase replaces case n by its tombstone, deletes its audit but for
// one "erased" event, its notices and its business token, and queues the
// notice that rewrites its Slack thread.
func eraseCase(ctx context.Context, tx pgx.Tx, n int64, c bot.Case, r bot.ForgetRequest, out *bot.Erasure) error {
	tomb := bot.Tombstone(c, r.At, r.Actor)
	if err := rewriteCase(ctx, tx, n, &tomb); err != nil {
		return err
	}
	for _, q := range []struct {
		sql string
		n   *int
	}{
		{`DELETE FROM audit WHERE case_id = $1`, &out.AuditEvents},
		{`DELETE FROM notices WHERE case_id = $1`, &out.Notices},
		{`DELETE FROM business_tokens WHERE case_id = $1`, &out.Tokens},
	} {
		tag, err := tx.Exec(ctx, q.sql, n)
		if err != nil {
			return fmt.Errorf("postgres: forget case %s: %w", c.ID, err)
		}
		*q.n += int(tag.RowsAffected())
	}
	if err := appendAudit(ctx, tx, n, bot.AuditEvent{CaseID: c.ID, At: r.At, Actor: r.Actor, Kind: "erased",
		Detail: "personal data erased"}); err != nil {
		return err
	}
	out.Cases = append(out.Cases, c.ID)
	if c.Thread == "" {
		return nil // no thread to rewrite
	}
	return appendNotice(ctx, tx, n, bot.Notice{CaseID: c.ID, Kind: bot.NoticeErased,
		Text:    "Content erased on " + r.At.Format("2006-01-02 15:04 MST") + " by " + r.Actor + ".",
		Created: r.At, NextAttempt: r.At, State: bot.OutboundPending})
}

// rewriteCase replaces the record of case n by c. Every change retention
// and erasure make to a case goes through it.
func rewriteCase(ctx context.Context, tx pgx.Tx, n int64, c *bot.Case) error {
	return putCase(ctx, tx, n, c)
}

// Expire applies retention (see bot.Eraser) to at most limit cases,
// conversations and notices due before before, in one transaction.
func (db *DB) Expire(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: expire: %w", err)
	}
	if db.pkey == nil {
		return 0, fmt.Errorf("postgres: expire: %w", errNoPseudonymKey)
	}
	if limit <= 0 {
		return 0, nil
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	var total int
	err := db.tx(ctx, func(tx pgx.Tx) error {
		total = 0
		// Closed: done and cancelled since Closed, failed since Updated.
		rows, err := tx.Query(ctx, `SELECT id, data FROM cases
			WHERE (data->>'Expired') IS NULL AND (data->>'Erased') IS NULL
			  AND ((data->>'State' IN ('done', 'cancelled') AND COALESCE(NULLIF(data->>'Closed', '0001-01-01T00:00:00Z'), data->>'Updated')::timestamptz < $1)
			    OR (data->>'State' = 'failed' AND (data->>'Updated')::timestamptz < $1))
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, before, limit)
		if err != nil {
			return fmt.Errorf("postgres: expire: %w", err)
		}
		type due struct {
			n int64
			c bot.Case
		}
		var cases []due
		for rows.Next() {
			var d due
			var data []byte
			if err := rows.Scan(&d.n, &data); err != nil {
				rows.Close()
				return fmt.Errorf("postgres: expire: %w", err)
			}
			if err := decode(data, &d.c, "case"); err != nil {
				rows.Close()
				return err
			}
			cases = append(cases, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: expire: %w", err)
		}
		for _, d := range cases {
			if err := expireCase(ctx, tx, d.n, d.c, db.pkey, now); err != nil {
				return err
			}
			total++
		}
		if total >= limit {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT cv.data FROM conversations cv
			LEFT JOIN cases c ON c.id::text = cv.data->>'CaseID'
			WHERE (cv.data->>'Updated')::timestamptz < $1 AND (cv.data->>'LastSeen')::timestamptz < $1
			  AND cv.data->>'State' NOT IN ('adding_number', 'requesting_code', 'verifying', 'registering', 'migrating_templates')
			  AND (c.id IS NULL OR c.data->>'State' IN ('done', 'cancelled', 'failed'))
			LIMIT $2 FOR UPDATE OF cv SKIP LOCKED`, before, limit-total)
		if err != nil {
			return fmt.Errorf("postgres: expire: %w", err)
		}
		datas, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return fmt.Errorf("postgres: expire: %w", err)
		}
		var keys, addrs []string
		for _, data := range datas {
			var c bot.Conversation
			if err := decode(data, &c, "conversation"); err != nil {
				return err
			}
			keys = append(keys, c.Key)
			for _, id := range []string{c.Key, c.Phone, c.UserID} {
				if id != "" {
					addrs = append(addrs, id)
				}
			}
		}
		if len(keys) > 0 {
			n, _, _, err := deleteConversations(ctx, tx, keys, addrs)
			if err != nil {
				return err
			}
			total += n
		}
		if total >= limit {
			return nil
		}
		tag, err := tx.Exec(ctx, `DELETE FROM notices WHERE id IN (
			SELECT id FROM notices WHERE state <> 'pending' AND (data->>'Created')::timestamptz < $1 ORDER BY id LIMIT $2)`,
			before, limit-total)
		if err != nil {
			return fmt.Errorf("postgres: expire notices: %w", err)
		}
		total += int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// expireCase replaces the numbers in case n by pseudonyms, drops what its
// audit may say about the person, and deletes its business token.
func expireCase(ctx context.Context, tx pgx.Tx, n int64, c bot.Case, pkey []byte, now time.Time) error {
	exp := bot.Expired(c, pkey, now)
	if err := rewriteCase(ctx, tx, n, &exp); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT seq, data FROM audit WHERE case_id = $1 ORDER BY seq`, n)
	if err != nil {
		return fmt.Errorf("postgres: expire audit of case %s: %w", c.ID, err)
	}
	type change struct {
		seq  int64
		data []byte
	}
	var changes []change
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			rows.Close()
			return fmt.Errorf("postgres: expire audit of case %s: %w", c.ID, err)
		}
		var e bot.AuditEvent
		if err := decode(data, &e, "audit event"); err != nil {
			rows.Close()
			return err
		}
		if x := bot.ExpiredEvent(e); x != e {
			enc, err := encode(x, "audit event")
			if err != nil {
				rows.Close()
				return err
			}
			changes = append(changes, change{seq, enc})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: expire audit of case %s: %w", c.ID, err)
	}
	for _, ch := range changes {
		if _, err := tx.Exec(ctx, `UPDATE audit SET data = $2 WHERE seq = $1`, ch.seq, ch.data); err != nil {
			return fmt.Errorf("postgres: expire audit of case %s: %w", c.ID, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM business_tokens WHERE case_id = $1`, n); err != nil {
		return fmt.Errorf("postgres: expire business token of case %s: %w", c.ID, err)
	}
	return nil
}

// PruneProcessed deletes at most limit processed-message markers set
// before before.
func (db *DB) PruneProcessed(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: prune processed: %w", err)
	}
	if limit <= 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM processed WHERE message_id IN (
		SELECT message_id FROM processed WHERE at < $1 LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune processed: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
