package storage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/fsm"
)

// Expire applies retention (see bot.Eraser) to at most limit cases and
// conversations due before before, in one transaction; the caller runs
// Scrub once a run of calls is over, so that the bytes it replaced leave
// the free pages too. It reads the
// cases and conversations after the last ones it looked at, wrapping round,
// so a run of calls walks each bucket once rather than rereading its start.
// Notices created before before that are no longer pending go too, up to
// limit, and count in what it returns.
func (db *DB) Expire(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: expire: %w", err)
	}
	if db.pkey == nil {
		return 0, fmt.Errorf("storage: expire: %w", errNoPseudonymKey)
	}
	if limit <= 0 {
		return 0, nil
	}
	now := db.now().UTC().Truncate(time.Microsecond)
	var caseKeys, convKeys, noticeKeys [][]byte
	db.expMu.Lock()
	defer db.expMu.Unlock()
	// A walk of the cases that went all the way round found every case
	// due at its cutoff; within expRescan of that cutoff the cases are not
	// read again, so a run of calls expiring conversations does not reread
	// every case for each batch. A case falling due in between waits for
	// the next run.
	walkCases := db.expCasesAt.IsZero() || before.Sub(db.expCasesAt) >= expRescan || before.Before(db.expCasesAt)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		if walkCases {
			caseKeys, db.expCase, err = scanFrom(tx.Bucket(bucketCases), db.expCase, limit, func(k, v []byte) (bool, error) {
				var c bot.Case
				if err := decode(v, &c, "case "+caseID(k)); err != nil {
					return false, err
				}
				return caseDue(c, before), nil
			})
			if err != nil {
				return err
			}
			if len(caseKeys) < limit {
				db.expCasesAt = before
			}
		}
		cases := tx.Bucket(bucketCases)
		convKeys, db.expConv, err = scanFrom(tx.Bucket(bucketConversations), db.expConv, limit-len(caseKeys), func(k, v []byte) (bool, error) {
			var c bot.Conversation
			if err := decode(v, &c, "conversation"); err != nil {
				return false, err
			}
			return convDue(cases, c, before)
		})
		if err != nil {
			return err
		}
		noticeKeys, err = oldNotices(tx, before, limit)
		return err
	})
	if err != nil {
		return 0, err
	}
	if len(caseKeys)+len(convKeys)+len(noticeKeys) == 0 {
		return 0, nil
	}
	var n int
	err = db.write(ctx, "expire", func(tx *bolt.Tx) (func() error, error) {
		return func() error {
			n = 0
			cases := tx.Bucket(bucketCases)
			for _, k := range caseKeys {
				v := cases.Get(k)
				if v == nil {
					continue
				}
				var c bot.Case
				if err := decode(v, &c, "case "+caseID(k)); err != nil {
					return err
				}
				if !caseDue(c, before) {
					continue
				}
				if err := expireCase(tx, k, c, db.pkey, now); err != nil {
					return err
				}
				n++
			}
			for _, k := range convKeys {
				v := tx.Bucket(bucketConversations).Get(k)
				if v == nil {
					continue
				}
				var c bot.Conversation
				if err := decode(v, &c, "conversation"); err != nil {
					return err
				}
				if due, err := convDue(cases, c, before); err != nil || !due {
					if err != nil {
						return err
					}
					continue
				}
				if _, _, err := deleteConversation(tx, c); err != nil {
					return err
				}
				n++
			}
			for _, idk := range noticeKeys {
				v := tx.Bucket(bucketNotices).Get(idk)
				if v == nil {
					continue
				}
				var nt bot.Notice
				if err := decode(v, &nt, "notice "+noticeID(idk)); err != nil {
					return err
				}
				ck, ok := caseKey(nt.CaseID)
				if !ok || nt.State == bot.OutboundPending {
					continue
				}
				if err := deleteNotice(tx, ck, idk, nt.State); err != nil {
					return err
				}
				n++
			}
			return nil
		}, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// expRescan is how long after a full walk of the cases found every one
// due Expire skips the cases and expires only conversations and notices.
// serve's pruner runs a pass every 10 minutes; a pass over a backlog
// makes many calls within seconds of each other.
const expRescan = time.Minute

// caseDue reports whether c is closed since before and not yet expired.
func caseDue(c bot.Case, before time.Time) bool {
	closed, ok := bot.Closed(c)
	return ok && closed.Before(before) && c.Expired.IsZero() && c.Erased.IsZero()
}

// convDue reports whether conversation c has been idle since before and
// its case, if any, is over.
func convDue(cases *bolt.Bucket, c bot.Conversation, before time.Time) (bool, error) {
	if !c.Updated.Before(before) || !c.LastSeen.Before(before) || fsm.IsTransient(c.State) {
		return false, nil
	}
	if c.CaseID == "" {
		return true, nil
	}
	k, ok := caseKey(c.CaseID)
	v := cases.Get(k)
	if !ok || v == nil {
		return true, nil
	}
	var cs bot.Case
	if err := decode(v, &cs, "case "+c.CaseID); err != nil {
		return false, err
	}
	_, closed := bot.Closed(cs)
	return closed, nil
}

// expireCase replaces the numbers in case k by pseudonyms, drops what its
// audit trail may say about the person, and deletes its business token.
func expireCase(tx *bolt.Tx, k []byte, c bot.Case, pkey []byte, now time.Time) error {
	exp := bot.Expired(c, pkey, now)
	if err := rewriteCase(tx, k, &c, &exp); err != nil {
		return err
	}
	audit := tx.Bucket(bucketAudit)
	type change struct{ k, v []byte }
	var changes []change
	cur := audit.Cursor()
	for ak, av := cur.Seek(k); ak != nil && bytes.HasPrefix(ak, k); ak, av = cur.Next() {
		var e bot.AuditEvent
		if err := decode(av, &e, "audit event of case "+c.ID); err != nil {
			return err
		}
		x := bot.ExpiredEvent(e)
		if x == e {
			continue
		}
		data, err := encode(x, "audit event of case "+c.ID)
		if err != nil {
			return err
		}
		changes = append(changes, change{bytes.Clone(ak), data})
	}
	for _, ch := range changes {
		if err := audit.Put(ch.k, ch.v); err != nil {
			return fmt.Errorf("storage: expire audit of case %s: %w", c.ID, err)
		}
	}
	if tx.Bucket(bucketBusinessTokens).Get(k) != nil {
		if err := tx.Bucket(bucketBusinessTokens).Delete(k); err != nil {
			return fmt.Errorf("storage: expire business token of case %s: %w", c.ID, err)
		}
	}
	return nil
}

// oldNotices returns up to limit notices created before before that are
// not pending. Notice ids follow the order they were made, so the scan
// ends at the first newer one.
func oldNotices(tx *bolt.Tx, before time.Time, limit int) ([][]byte, error) {
	var keys [][]byte
	c := tx.Bucket(bucketNotices).Cursor()
	for k, v := c.First(); k != nil && len(keys) < limit; k, v = c.Next() {
		var n bot.Notice
		if err := decode(v, &n, "notice "+noticeID(k)); err != nil {
			return nil, err
		}
		if !n.Created.Before(before) {
			break
		}
		if n.State != bot.OutboundPending {
			keys = append(keys, bytes.Clone(k))
		}
	}
	return keys, nil
}

// scanFrom walks b from the key after from, wrapping round to its start,
// until it has looked at every key once or found limit for which due holds;
// it returns those and the key to start from next time.
func scanFrom(b *bolt.Bucket, from []byte, limit int, due func(k, v []byte) (bool, error)) ([][]byte, []byte, error) {
	var found [][]byte
	if limit <= 0 {
		return nil, from, nil
	}
	c := b.Cursor()
	var last []byte
	visit := func(k, v []byte) (bool, error) {
		ok, err := due(k, v)
		if err != nil {
			return false, err
		}
		last = k
		if ok {
			found = append(found, bytes.Clone(k))
		}
		return len(found) >= limit, nil
	}
	k, v := c.First()
	if from != nil {
		k, v = c.Seek(from)
		if k != nil && bytes.Equal(k, from) {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		if stop, err := visit(k, v); err != nil || stop {
			return found, bytes.Clone(last), err
		}
	}
	if from != nil {
		for k, v = c.First(); k != nil && bytes.Compare(k, from) <= 0; k, v = c.Next() {
			if stop, err := visit(k, v); err != nil || stop {
				return found, bytes.Clone(last), err
			}
		}
	}
	return found, nil, nil
}

// PruneProcessed deletes at most limit processed-message markers set
// before before (see bot.Eraser). The markers are keyed by message id, in
// no useful order, so it walks them from where the last call stopped.
func (db *DB) PruneProcessed(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: prune processed: %w", err)
	}
	if limit <= 0 {
		return 0, nil
	}
	db.expMu.Lock()
	defer db.expMu.Unlock()
	var keys [][]byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		keys, db.expMark, err = scanFrom(tx.Bucket(bucketProcessed), db.expMark, limit, func(_, v []byte) (bool, error) {
			at, ok := processedAt(v)
			return !ok || at.Before(before), nil
		})
		return err
	})
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	var n int
	err = db.write(ctx, "prune processed", func(tx *bolt.Tx) (func() error, error) {
		return func() error {
			n = 0
			b := tx.Bucket(bucketProcessed)
			for _, k := range keys {
				if b.Get(k) == nil {
					continue
				}
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("storage: prune processed: %w", err)
				}
				n++
			}
			return nil
		}, nil
	})
	return n, err
}
