package postgres

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/bot"
)

var (
	_ bot.Inbox   = (*DB)(nil)
	_ bot.Outbox  = (*DB)(nil)
	_ bot.Notices = (*DB)(nil)
)

// The queues' lease names: a lease holds one owner of one queue.
const (
	leaseInbox   = "inbox"   // owner: a conversation's key
	leaseOutbox  = "outbox"  // owner: the client a reply goes to
	leaseNotices = "notices" // owner: a case's number
)

// maxClaim caps the messages one Claim returns, as on bbolt, so a client
// who sent a flood does not keep a worker while the others wait.
const maxClaim = 64

// live is the condition under which the lease l still holds.
const live = `l.expires > clock_timestamp()`

// unprocessed is the condition under which the inbox row i still waits.
// OFFSET 0 keeps the planner from turning it into a join with every
// processed message ever: probed by key for each inbox row, it costs the
// same whatever the planner believes of the tables' sizes, which a queue's
// churn makes wrong between two ANALYZEs.
const unprocessed = `NOT EXISTS (SELECT 1 FROM processed p WHERE p.message_id = i.message_id OFFSET 0)`

// takeLease is an INSERT of leases that takes an owner free or whose lease
// expired, and leaves one another replica holds: the primary key makes two
// replicas that try at once meet on one row, and only one of them gets it.
const takeLease = ` ON CONFLICT (queue, owner) DO UPDATE
	SET row_id = EXCLUDED.row_id, token = EXCLUDED.token, holder = EXCLUDED.holder, expires = EXCLUDED.expires
	WHERE leases.expires <= clock_timestamp()`

// releaser ends the leases a claim took, once: a late release of an old
// claim finds its token gone and cannot end a newer claim's lease.
func (db *DB) releaser(token string) func() {
	return sync.OnceFunc(func() {
		db.fences.drop(token)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// On failure the lease expires instead: the work waits a TTL.
		_, _ = db.pool.Exec(ctx, `DELETE FROM leases WHERE token = $1`, token)
	})
}

// Enqueue stores msgs, sealed, in one transaction and returns how many were
// new: a message in the inbox already or processed is skipped, and so is a
// second copy within msgs. Every message must have an ID and a sender, and
// the store a seal key; otherwise nothing is stored.
func (db *DB) Enqueue(ctx context.Context, msgs []bot.Inbound) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: enqueue: %w", err)
	}
	for i, m := range msgs {
		if m.ID == "" {
			return 0, fmt.Errorf("postgres: enqueue: message %d of %d has no id", i+1, len(msgs))
		}
		if !validClient(m.Sender()) {
			return 0, fmt.Errorf("postgres: enqueue: message %s has no valid sender", m.ID)
		}
	}
	if db.sealer == nil {
		return 0, fmt.Errorf("postgres: enqueue: %w", errNoSealKey)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	sealed := make([][]byte, len(msgs))
	for i, m := range msgs {
		plain, err := json.Marshal(m)
		if err != nil {
			return 0, fmt.Errorf("postgres: enqueue: encode message %s: %w", m.ID, err)
		}
		sealed[i], err = db.seal(m.Sender(), m.ID, plain)
		clear(plain)
		if err != nil {
			return 0, fmt.Errorf("postgres: enqueue: %w", err)
		}
	}
	var added int
	err := db.tx(ctx, func(tx pgx.Tx) error {
		added = 0
		for i, m := range msgs {
			tag, err := tx.Exec(ctx, `INSERT INTO inbox (message_id, conv, sealed)
				SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM processed WHERE message_id = $1)
				ON CONFLICT (message_id) DO NOTHING`, m.ID, m.Sender(), sealed[i])
			if err != nil {
				return fmt.Errorf("postgres: enqueue: write message %s: %w", m.ID, err)
			}
			added += int(tag.RowsAffected())
		}
		if added > 0 {
			return notify(ctx, tx, ChannelInbox)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// Claim returns the waiting messages of one conversation no replica holds,
// oldest first and at most maxClaim of them, and holds the conversation
// with a lease until release is called, or until this replica stops
// renewing it. ok is false when no conversation is waiting, or every
// waiting one is held.
//
// Conversations are taken round-robin from the one this DB claimed last,
// so a busy client cannot keep the others waiting.
func (db *DB) Claim(ctx context.Context) (key string, msgs []bot.Inbound, release func(), ok bool, err error) {
	noop := func() {}
	if err := ctx.Err(); err != nil {
		return "", nil, noop, false, fmt.Errorf("postgres: claim: %w", err)
	}
	token := newToken()
	key, err = db.lease(ctx, token)
	if err != nil || key == "" {
		return "", nil, noop, false, err
	}
	db.fences.hold(leaseInbox, key, token)
	release = db.releaser(token)
	msgs, err = db.waiting(ctx, key)
	if err != nil || len(msgs) == 0 {
		release()
		return "", nil, noop, false, err
	}
	return key, msgs, release, true, nil
}

// lease leases the next waiting conversation no replica holds for token,
// and returns its key, or "" when there is none. This DB's claims lease one
// at a time: each starts after the conversation the one before took.
func (db *DB) lease(ctx context.Context, token string) (string, error) {
	select {
	case db.claiming <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("postgres: claim: %w", ctx.Err())
	}
	defer func() { <-db.claiming }()
	// Another replica may take the conversation found between the look
	// and the lease; the look is made again, a few times, before giving
	// up on finding work now.
	for range 3 {
		key, err := db.takeConversation(ctx, db.inCursor, token)
		if err != nil {
			return "", fmt.Errorf("postgres: claim: %w", err)
		}
		if key != "" {
			db.inCursor = key
			return key, nil
		}
		if idle, err := db.nothingWaits(ctx); err != nil || idle {
			return "", err
		}
	}
	return "", nil
}

// takeConversation leases the first conversation after cursor (wrapping
// around) with messages waiting and no live lease, and returns its key, or
// "" when there is none or another replica took it first.
func (db *DB) takeConversation(ctx context.Context, cursor, token string) (string, error) {
	var key string
	err := db.pool.QueryRow(ctx, `
		WITH waiting AS (
			SELECT DISTINCT conv FROM inbox i
			WHERE `+unprocessed+`
			  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.queue = 'inbox' AND l.owner = i.conv AND `+live+`)
		), next AS (
			SELECT conv FROM waiting ORDER BY conv <= $1, conv LIMIT 1
		)
		INSERT INTO leases (queue, owner, token, holder, expires)
		SELECT 'inbox', conv, $2, $3, clock_timestamp() + make_interval(secs => $4) FROM next`+takeLease+`
		RETURNING owner`, cursor, token, db.holder, db.ttl.Seconds()).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return key, err
}

// nothingWaits reports whether no conversation has a message waiting that
// no replica holds.
func (db *DB) nothingWaits(ctx context.Context) (bool, error) {
	var some bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM inbox i
		WHERE `+unprocessed+`
		  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.queue = 'inbox' AND l.owner = i.conv AND `+live+`))`).Scan(&some)
	if err != nil {
		return false, fmt.Errorf("postgres: claim: %w", err)
	}
	return !some, nil
}

// waiting reads conversation key's unprocessed messages, oldest first.
func (db *DB) waiting(ctx context.Context, key string) ([]bot.Inbound, error) {
	if _, err := db.pool.Exec(ctx, `DELETE FROM inbox i USING processed p
		WHERE i.conv = $1 AND p.message_id = i.message_id`, key); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, message_id, sealed FROM inbox WHERE conv = $1 ORDER BY seq LIMIT $2`,
		key, maxClaim)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	defer rows.Close()
	var msgs []bot.Inbound
	for rows.Next() {
		var seq int64
		var id string
		var sealed []byte
		if err := rows.Scan(&seq, &id, &sealed); err != nil {
			return nil, fmt.Errorf("postgres: claim: %w", err)
		}
		plain, err := db.unseal(key, id, sealed)
		if err != nil {
			return nil, fmt.Errorf("postgres: claim: inbox row %d of conversation %s %w", seq, bot.MaskPhone(key), err)
		}
		var m bot.Inbound
		err = json.Unmarshal(plain, &m)
		clear(plain)
		if err != nil {
			return nil, fmt.Errorf("postgres: claim: inbox row %d does not decode: %w", seq, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: claim: %w", err)
	}
	return msgs, nil
}

// InboxDepth returns how many messages wait in the inbox.
func (db *DB) InboxDepth(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: inbox depth: %w", err)
	}
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM inbox i
		WHERE `+unprocessed+``).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: inbox depth: %w", err)
	}
	return n, nil
}

// claimHeads leases up to n owners of a queue whose head (oldest pending
// row) is due at now and free, soonest-due first, and returns the ids of
// those heads. heads is a query of (id, owner, next_attempt), one row per
// owner.
func (db *DB) claimHeads(ctx context.Context, queue, heads string, now time.Time, n int, token string) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `
		WITH heads AS (`+heads+`), due AS (
			SELECT id, owner, next_attempt FROM heads h
			WHERE next_attempt <= $1
			  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.queue = $3 AND l.owner = h.owner AND `+live+`)
			ORDER BY next_attempt, id LIMIT $2
		), taken AS (
			INSERT INTO leases (queue, owner, row_id, token, holder, expires)
			SELECT $3, owner, id::text, $4, $5, clock_timestamp() + make_interval(secs => $6) FROM due`+takeLease+`
			RETURNING row_id
		)
		SELECT d.id FROM due d JOIN taken t ON t.row_id = d.id::text ORDER BY d.next_attempt, d.id`,
		now, n, queue, token, db.holder, db.ttl.Seconds())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ClaimOutbound returns up to n rows due at now: for each client only its
// oldest pending row, and only if no replica holds the client. Rows come
// soonest-due first, and are held until MarkOutbound settles them, release
// is called, or this replica stops renewing its leases.
func (db *DB) ClaimOutbound(ctx context.Context, now time.Time, n int) ([]bot.Outbound, func(), error) {
	noop := func() {}
	if err := ctx.Err(); err != nil {
		return nil, noop, fmt.Errorf("postgres: claim outbox: %w", err)
	}
	if n <= 0 {
		return nil, noop, nil
	}
	token := newToken()
	release := db.releaser(token)
	ids, err := db.claimHeads(ctx, leaseOutbox, `SELECT DISTINCT ON (client) id, client AS owner, next_attempt
		FROM outbox WHERE state = 'pending' ORDER BY client, id`, now, n, token)
	if err != nil {
		release()
		return nil, noop, fmt.Errorf("postgres: claim outbox: %w", err)
	}
	rows := make([]bot.Outbound, 0, len(ids))
	for _, id := range ids {
		db.fences.hold(leaseOutbox, outboxFence(id), token)
		row, err := db.outbound(ctx, db.pool, id, false)
		if err != nil {
			release()
			return nil, noop, fmt.Errorf("postgres: claim outbox: %w", err)
		}
		// Settled by another replica between the lease and this read.
		if row.State == bot.OutboundPending {
			rows = append(rows, row)
		}
	}
	return rows, release, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// outbound reads row id, locked for the transaction q when lock is set.
func (db *DB) outbound(ctx context.Context, q querier, id int64, lock bool) (bot.Outbound, error) {
	var row bot.Outbound
	var data []byte
	sql := `SELECT data FROM outbox WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	err := q.QueryRow(ctx, sql, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, fmt.Errorf("outbox row %s: %w", rowID(id), bot.ErrNotFound)
	}
	if err != nil {
		return row, err
	}
	if err := decode(data, &row, "outbox row "+rowID(id)); err != nil {
		return row, err
	}
	row.ID = rowID(id)
	return row, nil
}

// MarkSending stores a claimed pending row with its Attempts and Sending
// set, before the attempt's request goes to Meta; the claim's lease stays.
func (db *DB) MarkSending(ctx context.Context, row bot.Outbound) error {
	if row.State != bot.OutboundPending || row.Sending.IsZero() {
		return fmt.Errorf("postgres: record send attempt of row %s: the row must be pending with Sending set", row.ID)
	}
	return db.markOutbound(ctx, "record send attempt of row", row, false)
}

// MarkOutbound stores row after a send attempt and ends the lease a claim
// had on it, under the bbolt store's rules (storage.DB.MarkOutbound): a
// sent row stays sent (bot.ErrAlreadySent), keeps its Meta id and
// recipient, keeps what statuses taught the store, and loses its reply.
func (db *DB) MarkOutbound(ctx context.Context, row bot.Outbound) error {
	return db.markOutbound(ctx, "mark outbox row", row, true)
}

func (db *DB) markOutbound(ctx context.Context, what string, row bot.Outbound, settle bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s %s: %w", what, row.ID, err)
	}
	id, ok := rowNumber(row.ID)
	if !ok {
		return fmt.Errorf("postgres: %s %q: %w", what, row.ID, bot.ErrNotFound)
	}
	if err := checkOutbound(row); err != nil {
		return fmt.Errorf("postgres: %s %s: %w", what, row.ID, err)
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		old, err := db.outbound(ctx, tx, id, true)
		if err != nil {
			return fmt.Errorf("postgres: %s: %w", what, err)
		}
		next := row
		if next.MetaID == "" {
			next.MetaID = old.MetaID
		}
		switch {
		case old.To != row.To:
			return fmt.Errorf("postgres: %s %s: the row is for another recipient", what, row.ID)
		case old.State == bot.OutboundSent && row.State != bot.OutboundSent:
			return fmt.Errorf("postgres: %s %s: it cannot become %s (a reply Meta accepted is never sent again): %w",
				what, row.ID, row.State, bot.ErrAlreadySent)
		case old.MetaID != "" && next.MetaID != old.MetaID:
			return fmt.Errorf("postgres: %s %s: it was sent as another Meta message already", what, row.ID)
		}
		if !settle {
			// The attempt is recorded only while this replica's claim
			// holds: a replica that lost its lease would otherwise send
			// a reply the new holder is sending too.
			if err := db.checkFence(ctx, tx, leaseOutbox, old.To, strconv.FormatInt(id, 10), outboxFence(id)); err != nil {
				return fmt.Errorf("postgres: %s %s: %w", what, row.ID, err)
			}
		}
		if next.Status == "" {
			next.Status = old.Status
		}
		next.PartsSent = max(next.PartsSent, old.PartsSent)
		if err := writeOutbound(ctx, tx, id, next); err != nil {
			return err
		}
		if settle {
			_, err := tx.Exec(ctx, `DELETE FROM leases WHERE queue = 'outbox' AND owner = $1 AND row_id = $2`,
				old.To, strconv.FormatInt(id, 10))
			if err != nil {
				return fmt.Errorf("postgres: %s %s: end lease: %w", what, row.ID, err)
			}
		}
		return nil
	})
}

// OutboundStatus records a status Meta reported, under the bbolt store's
// rules (storage.DB.OutboundStatus). Whichever replica the webhook reaches
// settles the row: the row is locked for the update, so a status and a
// send attempt's mark never overwrite each other.
func (db *DB) OutboundStatus(ctx context.Context, r bot.Receipt) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: outbound status: %w", err)
	}
	if r.MetaID == "" && r.Ref == "" {
		return fmt.Errorf("postgres: outbound status: no Meta message id: %w", bot.ErrNotFound)
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		id, row, part, parts, err := db.statusRow(ctx, tx, r)
		if err != nil {
			return err
		}
		next, changed := row.WithReceipt(r, part, parts)
		if !changed {
			return nil
		}
		if next.MetaID != row.MetaID {
			var other int64
			err := tx.QueryRow(ctx, `SELECT id FROM outbox WHERE meta_id = $1 AND id <> $2 LIMIT 1`, next.MetaID, id).Scan(&other)
			if err == nil {
				return fmt.Errorf("postgres: outbound status: Meta message %s belongs to row %s", next.MetaID, rowID(other))
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("postgres: outbound status: %w", err)
			}
		}
		if err := writeOutbound(ctx, tx, id, next); err != nil {
			return err
		}
		if next.State != row.State {
			// Meta has the reply: the client's next one, waiting behind
			// it, may go now, even while the replica whose attempt is in
			// doubt holds its lease (it may be dead, and the lease would
			// keep the client waiting until it expired).
			if _, err := tx.Exec(ctx, `DELETE FROM leases WHERE queue = 'outbox' AND owner = $1 AND row_id = $2`,
				row.To, strconv.FormatInt(id, 10)); err != nil {
				return fmt.Errorf("postgres: outbound status: end lease: %w", err)
			}
			return notify(ctx, tx, ChannelOutbox)
		}
		return nil
	})
}

// statusRow finds the row a status is about, locked: by its reference when
// it names a row for the same recipient, else by Meta's id.
func (db *DB) statusRow(ctx context.Context, tx pgx.Tx, r bot.Receipt) (id int64, row bot.Outbound, part, parts int, err error) {
	if ref, p, n, ok := bot.ParseOutboundRef(r.Ref); ok {
		if k, ok := rowNumber(ref); ok {
			row, err := db.outbound(ctx, tx, k, true)
			switch {
			case err == nil:
				if r.Recipient == "" || bot.Digits(r.Recipient) == bot.Digits(row.To) {
					return k, row, p, n, nil
				}
			case !errors.Is(err, bot.ErrNotFound):
				return 0, row, 0, 0, fmt.Errorf("postgres: outbound status: %w", err)
			}
		}
	}
	notFound := fmt.Errorf("postgres: outbound status: no outbox row sent that message: %w", bot.ErrNotFound)
	if r.MetaID == "" {
		return 0, row, 0, 0, notFound
	}
	err = tx.QueryRow(ctx, `SELECT id FROM outbox WHERE meta_id = $1 ORDER BY id DESC LIMIT 1`, r.MetaID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, row, 0, 0, notFound
	}
	if err != nil {
		return 0, row, 0, 0, fmt.Errorf("postgres: outbound status: %w", err)
	}
	row, err = db.outbound(ctx, tx, id, true)
	if err != nil {
		return 0, row, 0, 0, fmt.Errorf("postgres: outbound status: %w", err)
	}
	return id, row, 0, 0, nil
}

// Outbound returns the outbox row with id, or an error matching
// bot.ErrNotFound.
func (db *DB) Outbound(ctx context.Context, id string) (bot.Outbound, error) {
	if err := ctx.Err(); err != nil {
		return bot.Outbound{}, fmt.Errorf("postgres: outbox row %s: %w", id, err)
	}
	n, ok := rowNumber(id)
	if !ok {
		return bot.Outbound{}, fmt.Errorf("postgres: outbox row %q: %w", id, bot.ErrNotFound)
	}
	row, err := db.outbound(ctx, db.pool, n, false)
	if err != nil {
		return row, fmt.Errorf("postgres: %w", err)
	}
	return row, nil
}

// OutboundRows returns every outbox row for client, in every state, in the
// order they were written.
func (db *DB) OutboundRows(ctx context.Context, client string) ([]bot.Outbound, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: outbox rows: %w", err)
	}
	if !validClient(client) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, data FROM outbox WHERE client = $1 ORDER BY id`, client)
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox rows: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (bot.Outbound, error) {
		var id int64
		var data []byte
		var row bot.Outbound
		if err := r.Scan(&id, &data); err != nil {
			return row, err
		}
		err := decode(data, &row, "outbox row "+rowID(id))
		row.ID = rowID(id)
		return row, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: outbox rows: %w", err)
	}
	return out, nil
}

// OutboxStats counts the outbox rows in each state.
func (db *DB) OutboxStats(ctx context.Context) (pending, sent, parked, failed int, err error) {
	counts, err := db.count(ctx, "outbox")
	if err != nil {
		return 0, 0, 0, 0, err
	}
	return counts[bot.OutboundPending], counts[bot.OutboundSent], counts[bot.OutboundParked], counts[bot.OutboundFailed], nil
}

// NoticeStats counts the notices in each state.
func (db *DB) NoticeStats(ctx context.Context) (pending, sent, failed int, err error) {
	counts, err := db.count(ctx, "notices")
	if err != nil {
		return 0, 0, 0, err
	}
	return counts[bot.OutboundPending], counts[bot.OutboundSent], counts[bot.OutboundFailed], nil
}

func (db *DB) count(ctx context.Context, table string) (map[bot.OutboundState]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s stats: %w", table, err)
	}
	rows, err := db.pool.Query(ctx, `SELECT state, count(*) FROM `+table+` GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s stats: %w", table, err)
	}
	counts := map[bot.OutboundState]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("postgres: %s stats: %w", table, err)
		}
		counts[bot.OutboundState(s)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s stats: %w", table, err)
	}
	return counts, nil
}

// PruneOutbox deletes up to limit rows Meta accepted that were both made and
// last due before before, oldest first, never one a replica holds, and
// returns how many it deleted.
func (db *DB) PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("postgres: prune outbox: %w", err)
	}
	if limit <= 0 {
		return 0, nil
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM outbox WHERE id IN (
		SELECT id FROM outbox o WHERE state = 'sent' AND created < $1 AND next_attempt < $1
		  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.queue = 'outbox' AND l.owner = o.client AND l.row_id = o.id::text AND `+live+`)
		ORDER BY id LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune outbox: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// unpark puts conv's parked rows back in line, due now (the turn's time),
// with the client's last message as their window.
func unpark(ctx context.Context, tx pgx.Tx, conv bot.Conversation) error {
	rows, err := tx.Query(ctx, `SELECT id, data FROM outbox WHERE client = $1 AND state = 'parked' ORDER BY id FOR UPDATE`, conv.Key)
	if err != nil {
		return fmt.Errorf("postgres: unpark: %w", err)
	}
	type parked struct {
		id  int64
		row bot.Outbound
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parked, error) {
		var p parked
		var data []byte
		if err := r.Scan(&p.id, &data); err != nil {
			return p, err
		}
		return p, decode(data, &p.row, "outbox row "+rowID(p.id))
	})
	if err != nil {
		return fmt.Errorf("postgres: unpark: %w", err)
	}
	for _, p := range list {
		row := p.row
		row.State, row.Error = bot.OutboundPending, ""
		row.LastInbound, row.NextAttempt = conv.LastSeen, conv.Updated
		if err := writeOutbound(ctx, tx, p.id, row); err != nil {
			return err
		}
	}
	return nil
}

// appendOutbound adds row under the next id: ids come from one sequence,
// so a client's rows sort in the order they were written.
func appendOutbound(ctx context.Context, tx execer, row bot.Outbound) error {
	row = stored(row)
	row.ID = ""
	data, err := encode(row, "outbox row")
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (client, state, next_attempt, created, meta_id, data)
		VALUES ($1, $2, $3, $4, $5, $6)`, row.To, string(row.State), row.NextAttempt, row.Created, row.MetaID, data)
	if err != nil {
		return fmt.Errorf("postgres: write outbox row: %w", err)
	}
	return nil
}

// writeOutbound stores row over row id.
func writeOutbound(ctx context.Context, tx pgx.Tx, id int64, row bot.Outbound) error {
	row = stored(row)
	row.ID = ""
	data, err := encode(row, "outbox row "+rowID(id))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE outbox SET state = $2, next_attempt = $3, meta_id = $4, data = $5 WHERE id = $1`,
		id, string(row.State), row.NextAttempt, row.MetaID, data)
	if err != nil {
		return fmt.Errorf("postgres: write outbox row %s: %w", rowID(id), err)
	}
	return nil
}

// stored is row as the store keeps it: once Meta accepted it, nothing reads
// its reply again, so it is dropped.
func stored(row bot.Outbound) bot.Outbound {
	if row.State == bot.OutboundSent {
		row.Reply = bot.Reply{}
	}
	return row
}

// checkOutbound refuses a row without a recipient or with an unknown state.
// The error names no recipient and no text.
func checkOutbound(row bot.Outbound) error {
	if !validClient(row.To) {
		return errors.New("no valid recipient")
	}
	switch row.State {
	case bot.OutboundPending, bot.OutboundSent, bot.OutboundParked, bot.OutboundFailed:
		return nil
	}
	return fmt.Errorf("unknown state %q", row.State)
}

// ClaimNotices returns up to n notices due at now: for each case only its
// oldest pending one, and only if no replica holds the case, held until
// MarkNotice settles them, release is called, or this replica stops
// renewing its leases.
func (db *DB) ClaimNotices(ctx context.Context, now time.Time, n int) ([]bot.Notice, func(), error) {
	noop := func() {}
	if err := ctx.Err(); err != nil {
		return nil, noop, fmt.Errorf("postgres: claim notices: %w", err)
	}
	if n <= 0 {
		return nil, noop, nil
	}
	token := newToken()
	release := db.releaser(token)
	ids, err := db.claimHeads(ctx, leaseNotices, `SELECT DISTINCT ON (case_id) id, case_id::text AS owner, next_attempt
		FROM notices WHERE state = 'pending' ORDER BY case_id, id`, now, n, token)
	if err != nil {
		release()
		return nil, noop, fmt.Errorf("postgres: claim notices: %w", err)
	}
	out := make([]bot.Notice, 0, len(ids))
	for _, id := range ids {
		nt, err := db.notice(ctx, db.pool, id, false)
		if err != nil {
			release()
			return nil, noop, fmt.Errorf("postgres: claim notices: %w", err)
		}
		if nt.State == bot.OutboundPending {
			out = append(out, nt)
		}
	}
	return out, release, nil
}

func (db *DB) notice(ctx context.Context, q querier, id int64, lock bool) (bot.Notice, error) {
	var n bot.Notice
	var data []byte
	sql := `SELECT data FROM notices WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	err := q.QueryRow(ctx, sql, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, fmt.Errorf("notice %s: %w", rowID(id), bot.ErrNotFound)
	}
	if err != nil {
		return n, err
	}
	if err := decode(data, &n, "notice "+rowID(id)); err != nil {
		return n, err
	}
	n.ID = rowID(id)
	return n, nil
}

// MarkNotice stores n after a delivery attempt and ends the lease a claim
// had on it. A notice once sent stays sent (agents would read it twice),
// and never moves to another case.
func (db *DB) MarkNotice(ctx context.Context, n bot.Notice) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: mark notice %s: %w", n.ID, err)
	}
	id, ok := rowNumber(n.ID)
	if !ok {
		return fmt.Errorf("postgres: mark notice %q: %w", n.ID, bot.ErrNotFound)
	}
	if err := checkNoticeState(n.State); err != nil {
		return fmt.Errorf("postgres: mark notice %s: %w", n.ID, err)
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		old, err := db.notice(ctx, tx, id, true)
		if err != nil {
			return fmt.Errorf("postgres: mark notice: %w", err)
		}
		switch {
		case old.CaseID != n.CaseID:
			return fmt.Errorf("postgres: mark notice %s: the notice is about case %s, not %q", n.ID, old.CaseID, n.CaseID)
		case old.State == bot.OutboundSent && n.State != bot.OutboundSent:
			return fmt.Errorf("postgres: mark notice %s: it was sent already and cannot become %s (agents would read it twice)", n.ID, n.State)
		}
		rec := n
		rec.ID = ""
		data, err := encode(rec, "notice "+n.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE notices SET state = $2, next_attempt = $3, data = $4 WHERE id = $1`,
			id, string(n.State), n.NextAttempt, data); err != nil {
			return fmt.Errorf("postgres: mark notice %s: %w", n.ID, err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM leases WHERE queue = 'notices' AND owner = $1 AND row_id = $2`,
			old.CaseID, strconv.FormatInt(id, 10))
		if err != nil {
			return fmt.Errorf("postgres: mark notice %s: end lease: %w", n.ID, err)
		}
		return nil
	})
}

func appendNotice(ctx context.Context, tx execer, caseNum int64, n bot.Notice) error {
	n.ID = ""
	data, err := encode(n, "notice")
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO notices (case_id, state, next_attempt, data) VALUES ($1, $2, $3, $4)`,
		caseNum, string(n.State), n.NextAttempt, data)
	if err != nil {
		return fmt.Errorf("postgres: write notice: %w", err)
	}
	return nil
}

// SetThread records thread as the agents' thread about case caseID. A case
// keeps its first thread; a later one is dropped and SetThread returns nil.
func (db *DB) SetThread(ctx context.Context, caseID, thread string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: set thread of case %s: %w", caseID, err)
	}
	n, ok := caseNumber(caseID)
	if !ok {
		return fmt.Errorf("postgres: set thread of case %q: %w", caseID, bot.ErrNotFound)
	}
	if thread == "" {
		return fmt.Errorf("postgres: set thread of case %s: empty thread", caseID)
	}
	var exists bool
	err := db.pool.QueryRow(ctx, `WITH set AS (UPDATE cases SET thread = $2 WHERE id = $1 AND thread IS NULL RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1)`, n, thread).Scan(&exists)
	if err != nil {
		return fmt.Errorf("postgres: set thread of case %s: %w", caseID, err)
	}
	if !exists {
		return fmt.Errorf("postgres: set thread of case %s: %w", caseID, bot.ErrNotFound)
	}
	return nil
}

func checkNoticeState(s bot.OutboundState) error {
	switch s {
	case bot.OutboundPending, bot.OutboundSent, bot.OutboundFailed:
		return nil
	}
	return fmt.Errorf("notice state %q is not pending, sent or failed", s)
}

// rowID is the public form of an outbox or notice id, as on bbolt: 16 hex
// digits, so ids compare as strings in the order they were written.
func rowID(n int64) string { return fmt.Sprintf("%016x", uint64(n)) }

// rowNumber is the inverse of rowID; only the exact form it produces is
// accepted.
func rowNumber(id string) (int64, bool) {
	if len(id) != 16 {
		return 0, false
	}
	b, err := hex.DecodeString(id)
	if err != nil || hex.EncodeToString(b) != id {
		return 0, false
	}
	n, err := strconv.ParseInt(id, 16, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
