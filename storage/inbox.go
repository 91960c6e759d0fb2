package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

var _ bot.Inbox = (*DB)(nil)

// maxClaim caps the messages one Claim returns, so that a client who sent a
// flood does not keep a worker on one conversation while the others wait:
// the rest are claimed again after the other conversations had their turn.
const maxClaim = 64

// Enqueue stores msgs in one durable transaction, sealed, and returns how
// many were new. A message whose ID is waiting in the inbox already, or was
// processed, is skipped (Meta redelivers webhooks), and so is a second copy
// within msgs.
//
// Every message must have an ID and a sender; otherwise nothing is stored.
// Without a seal key Enqueue refuses: client text (which may be a one-time
// code or a PIN) is never stored in the clear.
func (db *DB) Enqueue(ctx context.Context, msgs []bot.Inbound) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: enqueue: %w", err)
	}
	for i, m := range msgs {
		if m.ID == "" {
			return 0, fmt.Errorf("storage: enqueue: message %d of %d has no id", i+1, len(msgs))
		}
		if !validClient(m.Sender()) {
			return 0, fmt.Errorf("storage: enqueue: message %s has no valid sender", m.ID)
		}
	}
	if db.sealer == nil {
		return 0, fmt.Errorf("storage: enqueue: %w", errNoSealKey)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	// Encoding happens here, outside the writer, which other callers wait
	// for; sealing cannot, as the row key it is bound to comes from the
	// bucket's sequence.
	plain := make([][]byte, len(msgs))
	defer func() {
		for _, p := range plain {
			clear(p)
		}
	}()
	for i, m := range msgs {
		var err error
		if plain[i], err = json.Marshal(m); err != nil {
			return 0, fmt.Errorf("storage: enqueue: encode message %s: %w", m.ID, err)
		}
	}
	// Nothing to refuse once the messages are valid: whether each is new is
	// decided as it is written, so a copy later in msgs, or in a write
	// before this one in the same group, finds the first.
	var added int
	err := db.iw.write(ctx, "enqueue", func(tx *bolt.Tx) (func() error, error) {
		return func() error { return db.enqueue(tx, msgs, plain, &added) }, nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// enqueue writes the messages of msgs not seen before, encoded in plain, in
// tx, a transaction of the inbox file, and sets *added to how many it wrote.
//
// A message is seen when its id is in the inbox or was processed, which the
// main file knows. The inbox is checked first: a message taken out of it was
// marked processed in the main file before (see Commit), and the inbox's
// writer, which is running this, made that removal, so a message missing
// from the inbox here is either new or processed for any read of the main
// file that starts now.
func (db *DB) enqueue(tx *bolt.Tx, msgs []bot.Inbound, plain [][]byte, added *int) error {
	*added = 0
	inbox, ids, convs := tx.Bucket(bucketInbox), tx.Bucket(bucketInboxIDs), tx.Bucket(bucketInboxConvs)
	var processed *bolt.Bucket
	for i, m := range msgs {
		id := []byte(m.ID)
		if ids.Get(id) != nil {
			continue
		}
		if processed == nil {
			// A read of the main file: it never waits for the main
			// writer, and is ended before this transaction commits.
			mtx, err := db.bolt.Begin(false)
			if err != nil {
				return fmt.Errorf("storage: enqueue: read processed messages: %w", err)
			}
			defer func() { _ = mtx.Rollback() }()
			processed = mtx.Bucket(bucketProcessed)
		}
		if processed.Get(id) != nil {
			continue
		}
		seq, err := inbox.NextSequence()
		if err != nil {
			return fmt.Errorf("storage: enqueue: inbox sequence: %w", err)
		}
		key := inboxKey(m.Sender(), seq)
		sealed, err := db.seal(bucketInbox, key, plain[i])
		if err != nil {
			return fmt.Errorf("storage: enqueue: %w", err)
		}
		if err := inbox.Put(key, sealed); err != nil {
			return fmt.Errorf("storage: enqueue: write message %s: %w", m.ID, err)
		}
		if err := ids.Put(id, key); err != nil {
			return fmt.Errorf("storage: enqueue: index message %s: %w", m.ID, err)
		}
		if err := addWaiting(convs, []byte(m.Sender()), 1); err != nil {
			return err
		}
		*added++
	}
	return nil
}

// Claim returns the waiting messages of one conversation no other caller
// holds, oldest first and at most maxClaim of them, and holds the
// conversation until release is called. ok is false when no conversation is
// waiting, or every waiting one is held.
//
// Conversations are taken round-robin (in key order, starting after the one
// claimed last), so a busy client, or one whose message keeps failing, cannot
// keep the others waiting. The hold lives in this process's memory: a
// restart releases it, as it should, since no worker survives the restart.
//
// A message is taken out of the inbox by the Commit of its turn; one already
// processed is never returned, even if its row is still there (it is removed
// on the way).
func (db *DB) Claim(ctx context.Context) (key string, msgs []bot.Inbound, release func(), ok bool, err error) {
	noop := func() {}
	if err := ctx.Err(); err != nil {
		return "", nil, noop, false, fmt.Errorf("storage: claim: %w", err)
	}
	db.inMu.Lock()
	var tried []byte // the last conversation looked at, claimed or not
	var stale []string
	// The inbox is read first: a row whose message is processed in the
	// main file's snapshot, taken after, is stale, and one that is not is
	// not claimed by anyone else (its conversation is not held), so it
	// cannot be committed behind the snapshot's back.
	err = db.ibolt.View(func(itx *bolt.Tx) error {
		return db.bolt.View(func(mtx *bolt.Tx) error {
			inbox, processed := itx.Bucket(bucketInbox), mtx.Bucket(bucketProcessed)
			for conv := range rotate(itx.Bucket(bucketInboxConvs).Cursor(), db.inCursor) {
				if db.inHeld[string(conv)] {
					continue
				}
				tried = append(tried[:0], conv...)
				prefix := append(bytes.Clone(conv), 0)
				c := inbox.Cursor()
				for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(msgs) < maxClaim; k, v = c.Next() {
					m, err := db.openInbound(k, v)
					if err != nil {
						return fmt.Errorf("storage: claim: inbox row %d of conversation %s %w",
							binary.BigEndian.Uint64(k[len(prefix):]), bot.MaskPhone(string(conv)), err)
					}
					if processed.Get([]byte(m.ID)) != nil {
						stale = append(stale, m.ID)
						continue
					}
					msgs = append(msgs, m)
				}
				if len(msgs) > 0 {
					key = string(conv)
					return nil
				}
			}
			return nil
		})
	})
	// The cursor moves on even when a row failed to open, so one damaged
	// conversation does not stop the others from being claimed.
	if tried != nil {
		db.inCursor = tried
	}
	if err == nil && key != "" {
		db.inHeld[key] = true
	}
	db.inMu.Unlock()
	if len(stale) > 0 {
		// The rows are harmless while they stay (Claim skips them), and
		// most are on their way out already.
		db.dropLater(stale)
	}
	if err != nil {
		return "", nil, noop, false, err
	}
	if key == "" {
		return "", nil, noop, false, nil
	}
	release = sync.OnceFunc(func() {
		db.inMu.Lock()
		delete(db.inHeld, key)
		db.inMu.Unlock()
	})
	return key, msgs, release, true, nil
}

// dropLater queues the removal from the inbox of the messages ids, which
// the main file marks processed, as a lazy write of the inbox's writer (see
// submitLazy): it shares the commit of the next acknowledgement, or waits
// lazyDelay for one, and costs nobody a wait. Messages whose removal is
// queued already, or that are not in the inbox, are passed over.
func (db *DB) dropLater(ids []string) {
	db.dropMu.Lock()
	fresh := ids[:0:0]
	for _, id := range ids {
		if !db.dropping[id] {
			db.dropping[id] = true
			fresh = append(fresh, id)
		}
	}
	db.dropMu.Unlock()
	if len(fresh) == 0 {
		return
	}
	done := func(error) {
		db.dropMu.Lock()
		for _, id := range fresh {
			delete(db.dropping, id)
		}
		db.dropMu.Unlock()
	}
	err := db.iw.submitLazy(func(tx *bolt.Tx) (func() error, error) {
		return func() error {
			for _, id := range fresh {
				if err := dropInboxMessage(tx, id); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}, done)
	if err != nil {
		// Closed: the rows stay, and the next Claim after a restart
		// removes them.
		done(err)
	}
}

// settleDrops returns once the removals queued so far are made.
func (db *DB) settleDrops(ctx context.Context) error {
	db.dropMu.Lock()
	n := len(db.dropping)
	db.dropMu.Unlock()
	if n == 0 {
		return nil
	}
	// A write someone waits for takes the lazy ones queued before it.
	return db.iw.write(ctx, "take processed messages out of the inbox", func(*bolt.Tx) (func() error, error) {
		return nil, nil
	})
}

// InboxDepth returns how many messages wait in the inbox. The removals of
// messages already processed that are queued are made first.
func (db *DB) InboxDepth(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: inbox depth: %w", err)
	}
	if err := db.settleDrops(ctx); err != nil {
		return 0, fmt.Errorf("storage: inbox depth: %w", err)
	}
	var n uint64
	err := db.ibolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInboxConvs).ForEach(func(_, v []byte) error {
			n += binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return int(n), err
}

// openInbound unseals and decodes the inbox row k.
func (db *DB) openInbound(k, v []byte) (bot.Inbound, error) {
	var m bot.Inbound
	plain, err := db.unseal(bucketInbox, k, v)
	if err != nil {
		return m, err
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &m); err != nil {
		return m, fmt.Errorf("does not decode: %w", err)
	}
	return m, nil
}

// dropInboxMessage deletes message id from the inbox, if it is there; tx is
// a transaction of the inbox file.
func dropInboxMessage(tx *bolt.Tx, id string) error {
	ids := tx.Bucket(bucketInboxIDs)
	v := ids.Get([]byte(id))
	if v == nil {
		return nil
	}
	// Copied: v points into a page this transaction is about to change.
	key := bytes.Clone(v)
	if err := tx.Bucket(bucketInbox).Delete(key); err != nil {
		return fmt.Errorf("storage: drop inbox message %s: %w", id, err)
	}
	if err := ids.Delete([]byte(id)); err != nil {
		return fmt.Errorf("storage: drop inbox message %s: %w", id, err)
	}
	return addWaiting(tx.Bucket(bucketInboxConvs), key[:len(key)-inboxSeqLen], -1)
}

// addWaiting changes the count of conversation conv's waiting messages by
// delta, and drops the conversation from the index when none are left, so
// that Claim only ever walks conversations that have work.
func addWaiting(convs *bolt.Bucket, conv []byte, delta int) error {
	var n int
	if v := convs.Get(conv); v != nil {
		n = int(binary.BigEndian.Uint64(v))
	}
	n += delta
	var err error
	if n <= 0 {
		err = convs.Delete(conv)
	} else {
		err = convs.Put(conv, binary.BigEndian.AppendUint64(nil, uint64(n)))
	}
	if err != nil {
		return fmt.Errorf("storage: inbox index: %w", err)
	}
	return nil
}

// inboxSeqLen is the length of the separator and sequence that follow the
// conversation key in an inbox key.
const inboxSeqLen = 1 + 8

// inboxKey is conversation key, 0x00, big-endian sequence: the rows of one
// conversation are contiguous and in arrival order, and the separator keeps
// one client's prefix from matching a longer number ("5511" never reads
// "55119"'s rows).
func inboxKey(conv string, seq uint64) []byte {
	k := make([]byte, 0, len(conv)+inboxSeqLen)
	k = append(k, conv...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// validClient reports whether s can key a client's rows: not empty, and
// without the 0x00 that separates it from the rest of a key.
func validClient(s string) bool {
	return s != "" && !strings.ContainsRune(s, 0)
}

// rotate yields every key of c once, starting with the first key after
// "after" and wrapping around to end with after itself; with after nil it
// yields them in order. Successive callers that pass the key they took last
// go round all keys in turn.
func rotate(c *bolt.Cursor, after []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if after == nil {
			for k, _ := c.First(); k != nil; k, _ = c.Next() {
				if !yield(k) {
					return
				}
			}
			return
		}
		// after+0x00 is the smallest key greater than after.
		for k, _ := c.Seek(append(bytes.Clone(after), 0)); k != nil; k, _ = c.Next() {
			if !yield(k) {
				return
			}
		}
		for k, _ := c.First(); k != nil && bytes.Compare(k, after) <= 0; k, _ = c.Next() {
			if !yield(k) {
				return
			}
		}
	}
}
