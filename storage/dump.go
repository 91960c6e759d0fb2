package storage

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// Dump is everything a store holds, in a form any backend can write: how a
// deployment moves from its bbolt file to PostgreSQL (portabot store copy).
// Client text is in it in the clear, unsealed from the inbox, so a Dump
// lives in memory only, and its Sums never show it.
type Dump struct {
	Conversations []bot.Conversation
	// ClientIDs maps a client's current number or BSUID to their
	// conversation's key.
	ClientIDs map[string]string
	// Cases carry their Thread.
	Cases []bot.Case
	// Audit is every case's trail, oldest first.
	Audit map[string][]bot.AuditEvent
	// Processed is when each processed message was committed, to the
	// second.
	Processed map[string]time.Time
	// Outbox and Notices keep their IDs, in the order they were written.
	Outbox  []bot.Outbound
	Notices []bot.Notice
	// Inbox is the messages waiting, in the order they arrived.
	Inbox []bot.Inbound
	// LastCaseID is the highest case number ever issued.
	LastCaseID uint64
}

// Sums are a Dump's counts and SHA-256 checksums, section by section, in an
// order that does not depend on the backend: two stores with the same Sums
// hold the same things. They hash what the store holds, client text
// included, but show only the hashes.
func (d Dump) Sums() map[string]string {
	sum := func(n int, parts []string) string {
		slices.Sort(parts)
		h := sha256.Sum256([]byte(strings.Join(parts, "\n")))
		return fmt.Sprintf("%d %s", n, hex.EncodeToString(h[:8]))
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	out := map[string]string{}
	var parts []string
	for _, c := range d.Conversations {
		parts = append(parts, enc(c))
	}
	out["conversations"] = sum(len(d.Conversations), parts)
	parts = nil
	for id, key := range d.ClientIDs {
		parts = append(parts, id+" "+key)
	}
	out["client_ids"] = sum(len(d.ClientIDs), parts)
	parts = nil
	for _, c := range d.Cases {
		parts = append(parts, enc(c))
	}
	out["cases"] = sum(len(d.Cases), parts)
	parts = nil
	events := 0
	for id, evs := range d.Audit {
		events += len(evs)
		parts = append(parts, id+" "+enc(evs))
	}
	out["audit"] = sum(events, parts)
	parts = nil
	for id, at := range d.Processed {
		parts = append(parts, id+" "+at.UTC().Format(time.RFC3339))
	}
	out["processed"] = sum(len(d.Processed), parts)
	parts = nil
	for _, r := range d.Outbox {
		parts = append(parts, enc(r))
	}
	out["outbox"] = sum(len(d.Outbox), parts)
	parts = nil
	for _, n := range d.Notices {
		parts = append(parts, enc(n))
	}
	out["notices"] = sum(len(d.Notices), parts)
	parts = nil
	for _, m := range d.Inbox {
		parts = append(parts, enc(m))
	}
	out["inbox"] = sum(len(d.Inbox), parts)
	return out
}

// Dump reads everything the store holds in one read transaction of each
// file. Messages of the inbox are unsealed, so the store needs its seal key
// when any wait.
func (db *DB) Dump(ctx context.Context) (Dump, error) {
	d := Dump{ClientIDs: map[string]string{}, Audit: map[string][]bot.AuditEvent{}, Processed: map[string]time.Time{}}
	if err := ctx.Err(); err != nil {
		return d, fmt.Errorf("storage: dump: %w", err)
	}
	if err := db.settleDrops(ctx); err != nil {
		return d, fmt.Errorf("storage: dump: %w", err)
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketConversations).ForEach(func(k, v []byte) error {
			var c bot.Conversation
			if err := decode(v, &c, "conversation"); err != nil {
				return err
			}
			d.Conversations = append(d.Conversations, c)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketClientIDs).ForEach(func(k, v []byte) error {
			d.ClientIDs[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		cases := tx.Bucket(bucketCases)
		d.LastCaseID = cases.Sequence()
		if err := cases.ForEach(func(k, v []byte) error {
			var c bot.Case
			if err := decode(v, &c, "case "+caseID(k)); err != nil {
				return err
			}
			c.Thread = caseThread(tx, k)
			d.Cases = append(d.Cases, c)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
			var e bot.AuditEvent
			if err := decode(v, &e, "audit event"); err != nil {
				return err
			}
			id := caseID(k[:caseKeyLen])
			d.Audit[id] = append(d.Audit[id], e)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketProcessed).ForEach(func(k, v []byte) error {
			at, _ := processedAt(v)
			d.Processed[string(k)] = at.Truncate(time.Second)
			return nil
		}); err != nil {
			return err
		}
		var rows []bot.Outbound
		for _, b := range [][]byte{bucketOutbox, bucketOutboxSent} {
			if err := tx.Bucket(b).ForEach(func(k, v []byte) error {
				var r bot.Outbound
				if err := decode(v, &r, "outbox row "+outboundID(k)); err != nil {
					return err
				}
				r.ID = outboundID(k)
				rows = append(rows, r)
				return nil
			}); err != nil {
				return err
			}
		}
		slices.SortFunc(rows, func(a, b bot.Outbound) int { return strings.Compare(a.ID, b.ID) })
		d.Outbox = rows
		return tx.Bucket(bucketNotices).ForEach(func(k, v []byte) error {
			var n bot.Notice
			if err := decode(v, &n, "notice "+noticeID(k)); err != nil {
				return err
			}
			n.ID = noticeID(k)
			d.Notices = append(d.Notices, n)
			return nil
		})
	})
	if err != nil {
		return d, err
	}
	err = db.ibolt.View(func(tx *bolt.Tx) error {
		var keyed []arrival
		if err := tx.Bucket(bucketInbox).ForEach(func(k, v []byte) error {
			m, err := db.openInbound(k, v)
			if err != nil {
				return fmt.Errorf("storage: dump: inbox row %w", err)
			}
			if _, done := d.Processed[m.ID]; done {
				return nil
			}
			seq := binary.BigEndian.Uint64(k[len(k)-8:])
			keyed = append(keyed, struct {
				seq uint64
				m   bot.Inbound
			}{seq, m})
			return nil
		}); err != nil {
			return err
		}
		// Keys start with the conversation: the sequence is the order
		// of arrival across all of them.
		slices.SortFunc(keyed, func(a, b arrival) int { return cmp.Compare(a.seq, b.seq) })
		for _, e := range keyed {
			d.Inbox = append(d.Inbox, e.m)
		}
		return nil
	})
	return d, err
}

// arrival is an inbox message with its place in the inbox's sequence.
type arrival struct {
	seq uint64
	m   bot.Inbound
}
