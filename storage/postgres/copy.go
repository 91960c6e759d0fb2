package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/bot"
	"portabot/storage"
)

// ErrNotEmpty is matched by the error Import returns when the database
// already holds a deployment: a copy never merges two.
var ErrNotEmpty = errors.New("postgres: the database already holds conversations, cases or messages")

// Import writes d, read from another store (storage.DB.Dump), into this
// empty database in one transaction: on any error nothing is written. Ids
// are kept (case numbers, outbox and notice ids), and every sequence moves
// past them, so what the old store issued is never issued again. Waiting
// messages are sealed again with this store's key.
func (db *DB) Import(ctx context.Context, d storage.Dump) error {
	if db.sealer == nil && len(d.Inbox) > 0 {
		return fmt.Errorf("postgres: import: %w", errNoSealKey)
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		var used bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations) OR EXISTS (SELECT 1 FROM cases)
			OR EXISTS (SELECT 1 FROM processed) OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM inbox)
			OR EXISTS (SELECT 1 FROM notices)`).Scan(&used)
		if err != nil {
			return fmt.Errorf("postgres: import: %w", err)
		}
		if used {
			return ErrNotEmpty
		}
		b := &pgx.Batch{}
		for _, c := range d.Conversations {
			data, err := encode(c, "conversation")
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO conversations (key, data) VALUES ($1, $2)`, c.Key, data)
		}
		for id, key := range d.ClientIDs {
			b.Queue(`INSERT INTO client_ids (id, conv_key) VALUES ($1, $2)`, id, key)
		}
		lastCase := int64(d.LastCaseID)
		for _, c := range d.Cases {
			n, ok := caseNumber(c.ID)
			if !ok {
				return fmt.Errorf("postgres: import: case id %q is not a case number", c.ID)
			}
			lastCase = max(lastCase, n)
			rec := c
			rec.Thread = ""
			data, err := encode(rec, "case "+c.ID)
			if err != nil {
				return err
			}
			var thread *string
			if c.Thread != "" {
				thread = &c.Thread
			}
			b.Queue(`INSERT INTO cases (id, data, thread) VALUES ($1, $2, $3)`, n, data, thread)
		}
		caseIDs := make([]string, 0, len(d.Audit))
		for id := range d.Audit {
			caseIDs = append(caseIDs, id)
		}
		slices.Sort(caseIDs)
		for _, id := range caseIDs {
			n, ok := caseNumber(id)
			if !ok {
				return fmt.Errorf("postgres: import: audit of case %q, which is not a case number", id)
			}
			for _, e := range d.Audit[id] {
				data, err := encode(e, "audit event of case "+id)
				if err != nil {
					return err
				}
				b.Queue(`INSERT INTO audit (case_id, data) VALUES ($1, $2)`, n, data)
			}
		}
		for id, at := range d.Processed {
			b.Queue(`INSERT INTO processed (message_id, at) VALUES ($1, $2)`, id, at)
		}
		for _, r := range d.Outbox {
			n, ok := rowNumber(r.ID)
			if !ok {
				return fmt.Errorf("postgres: import: outbox row id %q", r.ID)
			}
			rec := stored(r)
			rec.ID = ""
			data, err := encode(rec, "outbox row "+r.ID)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO outbox (id, client, state, next_attempt, created, meta_id, data) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				n, r.To, string(r.State), r.NextAttempt, r.Created, r.MetaID, data)
		}
		for _, nt := range d.Notices {
			n, ok := rowNumber(nt.ID)
			if !ok {
				return fmt.Errorf("postgres: import: notice id %q", nt.ID)
			}
			cn, ok := caseNumber(nt.CaseID)
			if !ok {
				return fmt.Errorf("postgres: import: notice %s about case %q", nt.ID, nt.CaseID)
			}
			rec := nt
			rec.ID = ""
			data, err := encode(rec, "notice "+nt.ID)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO notices (id, case_id, state, next_attempt, data) VALUES ($1, $2, $3, $4, $5)`,
				n, cn, string(nt.State), nt.NextAttempt, data)
		}
		for _, m := range d.Inbox {
			plain, err := json.Marshal(m)
			if err != nil {
				return fmt.Errorf("postgres: import: encode message %s: %w", m.ID, err)
			}
			sealed, err := db.seal(m.Sender(), m.ID, plain)
			clear(plain)
			if err != nil {
				return fmt.Errorf("postgres: import: %w", err)
			}
			b.Queue(`INSERT INTO inbox (message_id, conv, sealed) VALUES ($1, $2, $3)`, m.ID, m.Sender(), sealed)
		}
		if lastCase > 0 {
			b.Queue(`SELECT setval('case_ids', $1)`, lastCase)
		}
		b.Queue(`SELECT setval('outbox_id_seq', max(id)) FROM outbox HAVING count(*) > 0`)
		b.Queue(`SELECT setval('notices_id_seq', max(id)) FROM notices HAVING count(*) > 0`)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("postgres: import: %w", err)
		}
		return nil
	})
}

// Dump reads everything the database holds, in the form Import writes, so
// that a copy can be checked against its source (storage.Dump.Sums).
// Waiting messages are unsealed, so the store needs its seal key when any
// wait. It reads in one repeatable-read transaction: one moment's state.
func (db *DB) Dump(ctx context.Context) (storage.Dump, error) {
	d := storage.Dump{ClientIDs: map[string]string{}, Audit: map[string][]bot.AuditEvent{}, Processed: map[string]time.Time{}}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		each := func(sql string, scan func(pgx.CollectableRow) error) error {
			rows, err := tx.Query(ctx, sql)
			if err != nil {
				return err
			}
			_, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) { return struct{}{}, scan(r) })
			return err
		}
		err := each(`SELECT data FROM conversations ORDER BY key`, func(r pgx.CollectableRow) error {
			var data []byte
			var c bot.Conversation
			if err := r.Scan(&data); err != nil {
				return err
			}
			d.Conversations = append(d.Conversations, c)
			return decode(data, &d.Conversations[len(d.Conversations)-1], "conversation")
		})
		if err == nil {
			err = each(`SELECT id, conv_key FROM client_ids`, func(r pgx.CollectableRow) error {
				var id, key string
				err := r.Scan(&id, &key)
				d.ClientIDs[id] = key
				return err
			})
		}
		if err == nil {
			var last int64
			var called bool
			if err = tx.QueryRow(ctx, `SELECT last_value, is_called FROM case_ids`).Scan(&last, &called); err == nil && called {
				d.LastCaseID = uint64(last)
			}
		}
		if err == nil {
			err = each(`SELECT data, thread FROM cases ORDER BY id`, func(r pgx.CollectableRow) error {
				var data []byte
				var thread *string
				var c bot.Case
				if err := r.Scan(&data, &thread); err != nil {
					return err
				}
				if err := decode(data, &c, "case"); err != nil {
					return err
				}
				c.Thread = deref(thread)
				d.Cases = append(d.Cases, c)
				return nil
			})
		}
		if err == nil {
			err = each(`SELECT case_id, data FROM audit ORDER BY seq`, func(r pgx.CollectableRow) error {
				var n int64
				var data []byte
				var e bot.AuditEvent
				if err := r.Scan(&n, &data); err != nil {
					return err
				}
				id := strconv.FormatInt(n, 10)
				d.Audit[id] = append(d.Audit[id], e)
				return decode(data, &d.Audit[id][len(d.Audit[id])-1], "audit event")
			})
		}
		if err == nil {
			err = each(`SELECT message_id, at FROM processed`, func(r pgx.CollectableRow) error {
				var id string
				var at time.Time
				err := r.Scan(&id, &at)
				d.Processed[id] = at.UTC().Truncate(time.Second)
				return err
			})
		}
		if err == nil {
			err = each(`SELECT id, data FROM outbox ORDER BY id`, func(r pgx.CollectableRow) error {
				var n int64
				var data []byte
				var row bot.Outbound
				if err := r.Scan(&n, &data); err != nil {
					return err
				}
				if err := decode(data, &row, "outbox row"); err != nil {
					return err
				}
				row.ID = rowID(n)
				d.Outbox = append(d.Outbox, row)
				return nil
			})
		}
		if err == nil {
			err = each(`SELECT id, data FROM notices ORDER BY id`, func(r pgx.CollectableRow) error {
				var n int64
				var data []byte
				var nt bot.Notice
				if err := r.Scan(&n, &data); err != nil {
					return err
				}
				if err := decode(data, &nt, "notice"); err != nil {
					return err
				}
				nt.ID = rowID(n)
				d.Notices = append(d.Notices, nt)
				return nil
			})
		}
		if err == nil {
			err = each(`SELECT i.conv, i.message_id, i.sealed FROM inbox i
				WHERE NOT EXISTS (SELECT 1 FROM processed p WHERE p.message_id = i.message_id) ORDER BY seq`,
				func(r pgx.CollectableRow) error {
					var conv, id string
					var sealed []byte
					if err := r.Scan(&conv, &id, &sealed); err != nil {
						return err
					}
					plain, err := db.unseal(conv, id, sealed)
					if err != nil {
						return fmt.Errorf("inbox message %w", err)
					}
					var m bot.Inbound
					err = json.Unmarshal(plain, &m)
					clear(plain)
					d.Inbox = append(d.Inbox, m)
					return err
				})
		}
		return err
	})
	if err != nil {
		return d, fmt.Errorf("postgres: dump: %w", err)
	}
	return d, nil
}
