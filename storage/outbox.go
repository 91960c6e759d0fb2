package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

var _ bot.Outbox = (*DB)(nil)

// newOutboxQueue is the outbox's queue: rows owned by the client they go
// to, whose due index entries hold the client's id.
func newOutboxQueue() *queue[bot.Outbound] {
	return &queue[bot.Outbound]{
		what: "outbox", item: "row", rows: bucketOutbox, due: bucketOutboxDue,
		owner: func(v []byte) (string, error) { return string(v), nil },
		decode: func(idk, data []byte) (bot.Outbound, string, bot.OutboundState, error) {
			var row bot.Outbound
			err := decode(data, &row, "outbox row "+outboundID(idk))
			return row, row.ID, row.State, err
		},
		held: map[string]*queueHold{},
	}
}

// ClaimOutbound returns up to n rows due at now: for each client only its
// oldest pending row, and only if that row's NextAttempt is not after now and
// no other claim holds the client. Rows come soonest-due first. They are held
// until MarkOutbound settles them or release is called; a restart releases
// every hold (on PostgreSQL the hold becomes a row lock).
//
// Rows that are sent, parked or failed are never returned: a client whose
// oldest row is due later waits, and so do its newer rows, so replies reach a
// client in the order they were written.
func (db *DB) ClaimOutbound(ctx context.Context, now time.Time, n int) ([]bot.Outbound, func(), error) {
	return db.outQ.claim(ctx, db.bolt, now, n)
}

// MarkSending stores a claimed pending row with its Attempts and Sending
// set, before the attempt's request goes to Meta. Unlike MarkOutbound it
// keeps the claim's hold: the attempt is still running. It fails with an
// error matching bot.ErrAlreadySent when the row is sent already.
func (db *DB) MarkSending(ctx context.Context, row bot.Outbound) error {
	if row.State != bot.OutboundPending || row.Sending.IsZero() {
		return fmt.Errorf("storage: record send attempt of row %s: the row must be pending with Sending set", row.ID)
	}
	return db.markOutbound(ctx, "record send attempt of row", row)
}

// MarkOutbound stores row, found by its ID, after a send attempt, and ends
// the hold a claim had on it. It returns an error matching bot.ErrNotFound
// for an ID the store never issued.
//
// A row once sent stays sent: Meta accepted it, and a second send would
// reach the client twice; marking it as anything else fails with an error
// matching bot.ErrAlreadySent. So is its Meta id, once set. The recipient
// never changes. What Meta's statuses taught the store meanwhile is kept
// when row, read before they came, does not know it: the Status, the Meta
// id, and how many parts Meta accepted. A row marked sent is stored
// without its reply (see storedOutbound).
func (db *DB) MarkOutbound(ctx context.Context, row bot.Outbound) error {
	if err := db.markOutbound(ctx, "mark outbox row", row); err != nil {
		return err
	}
	db.outQ.drop(row.To, row.ID)
	return nil
}

// markOutbound writes row over the stored one, under the rules MarkOutbound
// lists; what names the operation in errors.
func (db *DB) markOutbound(ctx context.Context, what string, row bot.Outbound) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: %s %s: %w", what, row.ID, err)
	}
	idk, ok := outboundKey(row.ID)
	if !ok {
		return fmt.Errorf("storage: %s %q: %w", what, row.ID, bot.ErrNotFound)
	}
	if err := checkOutbound(row); err != nil {
		return fmt.Errorf("storage: %s %s: %w", what, row.ID, err)
	}
	// The mark is worked out here, from a read of the stored row, so that
	// the writer, which every other write waits for, neither decodes nor
	// encodes: it only checks that the row is still the one read, and works
	// the mark out again itself in the rare case it is not (a status
	// recorded in between).
	var ahead *outboundMark
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if data := getOutbound(tx, idk); data != nil {
			ahead = planMark(what, row, idk, bytes.Clone(data))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: %s %s: %w", what, row.ID, err)
	}
	return db.write(ctx, what+" "+row.ID, func(tx *bolt.Tx) (func() error, error) {
		data := getOutbound(tx, idk)
		if data == nil {
			return nil, fmt.Errorf("storage: %s %s: %w", what, row.ID, bot.ErrNotFound)
		}
		m := ahead
		if m == nil || !bytes.Equal(m.stored, data) {
			m = planMark(what, row, idk, data)
		}
		if m.err != nil {
			return nil, m.err
		}
		return func() error { return writeOutboundData(tx, idk, &m.old, m.next, m.data) }, nil
	})
}

// outboundMark is a mark worked out from the stored row: the row it
// replaces (as far as writeOutbound needs it), the row to store and its
// encoding, or why the mark is refused.
type outboundMark struct {
	stored []byte // the stored row it was worked out from
	old    bot.Outbound
	next   bot.Outbound
	data   []byte
	err    error
}

// planMark works out the mark of row over stored, the row stored under idk,
// under the rules MarkOutbound lists; what names the operation in errors.
// stored is only read.
func planMark(what string, row bot.Outbound, idk, stored []byte) *outboundMark {
	m := &outboundMark{stored: stored}
	var marks storedMarks
	if m.err = decode(stored, &marks, "outbox row "+row.ID); m.err != nil {
		return m
	}
	old := marks.outbound()
	next := row
	if next.MetaID == "" {
		next.MetaID = old.MetaID
	}
	switch {
	case old.To != row.To:
		m.err = fmt.Errorf("storage: %s %s: the row is for another recipient", what, row.ID)
	case old.State == bot.OutboundSent && row.State != bot.OutboundSent:
		m.err = fmt.Errorf("storage: %s %s: it cannot become %s (a reply Meta accepted is never sent again): %w",
			what, row.ID, row.State, bot.ErrAlreadySent)
	case old.MetaID != "" && next.MetaID != old.MetaID:
		m.err = fmt.Errorf("storage: %s %s: it was sent as another Meta message already", what, row.ID)
	}
	if m.err != nil {
		return m
	}
	if next.Status == "" {
		next.Status = old.Status
	}
	next.PartsSent = max(next.PartsSent, old.PartsSent)
	next.ID = outboundID(idk)
	next = storedOutbound(next)
	m.old, m.next = old, next
	m.data, m.err = encode(next, "outbox row "+next.ID)
	return m
}

// storedMarks is what marking a row reads of the stored one. The writer,
// which every other write waits for, decodes only these, and not the reply
// that makes up most of the row. The names are bot.Outbound's, as stored.
type storedMarks struct {
	To        string
	State     bot.OutboundState
	MetaID    string
	Status    string
	PartsSent int
}

// outbound is the stored row as far as marking it needs.
func (m storedMarks) outbound() bot.Outbound {
	return bot.Outbound{To: m.To, State: m.State, MetaID: m.MetaID, Status: m.Status, PartsSent: m.PartsSent}
}

// OutboundStatus records a status Meta reported. The row is the one r.Ref
// names (an OutboundRef, echoed from the message's biz_opaque_callback_data)
// when it exists and is for r.Recipient, else the one whose first message
// Meta knows as r.MetaID; it returns an error matching bot.ErrNotFound when
// there is none.
//
// Any status for a message proves Meta accepted it, so a status for a row
// not yet sent settles what the send attempt could not: the row's last
// message makes it sent (never to be sent again), an earlier one counts in
// PartsSent. That is how a reply whose send was cut off (a crash, a timeout)
// is known to be out, and stored without its reply (see storedOutbound).
// Status, and Error when the status is "failed", follow the reports on the
// row's first message.
func (db *DB) OutboundStatus(ctx context.Context, r bot.Receipt) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: outbound status: %w", err)
	}
	if r.MetaID == "" && r.Ref == "" {
		return fmt.Errorf("storage: outbound status: no Meta message id: %w", bot.ErrNotFound)
	}
	return db.write(ctx, "outbound status", func(tx *bolt.Tx) (func() error, error) {
		idk, row, part, parts, err := statusRow(tx, r)
		if err != nil {
			return nil, err
		}
		next, changed := row.WithReceipt(r, part, parts)
		if !changed {
			return nil, nil
		}
		if next.MetaID != row.MetaID {
			if err := checkMetaID(tx, next.MetaID, idk); err != nil {
				return nil, err
			}
		}
		return func() error { return writeOutbound(tx, idk, &row, next) }, nil
	})
}

// statusRow finds the row a status is about: by its reference when it has
// one the store issued for the same recipient, else by Meta's id. part and
// parts are the reference's, zero without one.
func statusRow(tx *bolt.Tx, r bot.Receipt) (idk []byte, row bot.Outbound, part, parts int, err error) {
	if id, p, n, ok := bot.ParseOutboundRef(r.Ref); ok {
		if k, ok := outboundKey(id); ok {
			if data := getOutbound(tx, k); data != nil {
				if err := decode(data, &row, "outbox row "+id); err != nil {
					return nil, row, 0, 0, err
				}
				if r.Recipient == "" || bot.Digits(r.Recipient) == bot.Digits(row.To) {
					return bytes.Clone(k), row, p, n, nil
				}
			}
		}
	}
	if r.MetaID == "" {
		return nil, row, 0, 0, fmt.Errorf("storage: outbound status: no outbox row sent that message: %w", bot.ErrNotFound)
	}
	v := tx.Bucket(bucketOutboxMeta).Get([]byte(r.MetaID))
	if v == nil {
		return nil, row, 0, 0, fmt.Errorf("storage: outbound status: no outbox row sent that message: %w", bot.ErrNotFound)
	}
	idk = bytes.Clone(v)
	data := getOutbound(tx, idk)
	if data == nil {
		return nil, row, 0, 0, fmt.Errorf("storage: outbound status: Meta id index names missing row %s", outboundID(idk))
	}
	if err := decode(data, &row, "outbox row "+outboundID(idk)); err != nil {
		return nil, row, 0, 0, err
	}
	return idk, row, 0, 0, nil
}

// checkMetaID refuses to give a row a Meta id another row already has.
func checkMetaID(tx *bolt.Tx, metaID string, idk []byte) error {
	if v := tx.Bucket(bucketOutboxMeta).Get([]byte(metaID)); v != nil && !bytes.Equal(v, idk) {
		return fmt.Errorf("storage: outbound status: Meta message %s belongs to row %s", metaID, outboundID(v))
	}
	return nil
}

// Outbound returns the outbox row with id, or an error matching
// bot.ErrNotFound.
func (db *DB) Outbound(ctx context.Context, id string) (bot.Outbound, error) {
	var row bot.Outbound
	if err := ctx.Err(); err != nil {
		return row, fmt.Errorf("storage: outbox row %s: %w", id, err)
	}
	idk, ok := outboundKey(id)
	if !ok {
		return row, fmt.Errorf("storage: outbox row %q: %w", id, bot.ErrNotFound)
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		data := getOutbound(tx, idk)
		if data == nil {
			return fmt.Errorf("storage: outbox row %s: %w", id, bot.ErrNotFound)
		}
		return decode(data, &row, "outbox row "+id)
	})
	return row, err
}

// OutboundRows returns every outbox row for client, in every state, in the
// order they were written (empty, not an error, when there are none).
func (db *DB) OutboundRows(ctx context.Context, client string) ([]bot.Outbound, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: outbox rows: %w", err)
	}
	if !validClient(client) {
		return nil, nil
	}
	var rows []bot.Outbound
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := append([]byte(client), 0)
		c := tx.Bucket(bucketOutboxByClient).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			idk := k[len(prefix):]
			data := getOutbound(tx, idk)
			if data == nil {
				return fmt.Errorf("storage: outbox rows: client index names missing row %s", outboundID(idk))
			}
			var row bot.Outbound
			if err := decode(data, &row, "outbox row "+outboundID(idk)); err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// OutboxStats counts the outbox rows in each state.
func (db *DB) OutboxStats(ctx context.Context) (pending, sent, parked, failed int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("storage: outbox stats: %w", err)
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		stats := tx.Bucket(bucketOutboxStats)
		pending, sent = readCount(stats, bot.OutboundPending), readCount(stats, bot.OutboundSent)
		parked, failed = readCount(stats, bot.OutboundParked), readCount(stats, bot.OutboundFailed)
		return nil
	})
	return pending, sent, parked, failed, err
}

// PruneOutbox deletes up to limit outbox rows that Meta accepted (sent) and
// that were both made and last due before before, and returns how many it
// deleted, in one transaction. Rows that are pending (in doubt included),
// parked or failed are never deleted, and neither is a row a claim holds.
//
// A sent row is kept only for Meta's later statuses (delivered, read),
// which record on it and nothing else: a status for a deleted row finds
// nothing, which the webhook takes for a row already gone. Keeping rows
// for the window in which statuses come keeps that record; dropping them
// after keeps the file from growing with every reply ever sent.
//
// Sent rows are read in id order, which is the order they were made, and
// the scan ends at the first row made at or after before. They live apart
// from the rows still owed (see writeOutboundData), so the scan never
// reads those.
func (db *DB) PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("storage: prune outbox: %w", err)
	}
	if limit <= 0 {
		return 0, nil
	}
	var ids [][]byte
	db.outQ.mu.Lock()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutboxSent).Cursor()
		for k, v := c.First(); k != nil && len(ids) < limit; k, v = c.Next() {
			var row bot.Outbound
			if err := decode(v, &row, "outbox row "+outboundID(k)); err != nil {
				return err
			}
			if !row.Created.Before(before) {
				break
			}
			if !row.NextAttempt.Before(before) {
				continue
			}
			if db.outQ.holding(row.To, outboundID(k)) {
				continue
			}
			ids = append(ids, bytes.Clone(k))
		}
		return nil
	})
	db.outQ.mu.Unlock()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	var n int
	err = db.write(ctx, "prune outbox", func(tx *bolt.Tx) (func() error, error) {
		return func() error {
			n = 0
			for _, idk := range ids {
				deleted, err := deleteSent(tx, idk)
				if err != nil {
					return err
				}
				if deleted {
					n++
				}
			}
			return nil
		}, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// deleteSent deletes the outbox row idk, with its index entries, if it is
// sent; a sent row is in no queue index, only in the client's and Meta's.
func deleteSent(tx *bolt.Tx, idk []byte) (bool, error) {
	sent := tx.Bucket(bucketOutboxSent)
	data := sent.Get(idk)
	if data == nil {
		return false, nil
	}
	var row bot.Outbound
	if err := decode(data, &row, "outbox row "+outboundID(idk)); err != nil {
		return false, err
	}
	if err := sent.Delete(idk); err != nil {
		return false, fmt.Errorf("storage: prune outbox row %s: %w", outboundID(idk), err)
	}
	if err := tx.Bucket(bucketOutboxByClient).Delete(clientRowKey(row.To, idk)); err != nil {
		return false, fmt.Errorf("storage: prune outbox client index: %w", err)
	}
	if row.MetaID != "" {
		meta := tx.Bucket(bucketOutboxMeta)
		if bytes.Equal(meta.Get([]byte(row.MetaID)), idk) {
			if err := meta.Delete([]byte(row.MetaID)); err != nil {
				return false, fmt.Errorf("storage: prune outbox Meta id index: %w", err)
			}
		}
	}
	return true, addCount(tx.Bucket(bucketOutboxStats), bot.OutboundSent, -1)
}

// appendOutbound adds row to the outbox under the next id and returns that
// id. Ids come from one sequence for all clients, so one client's rows sort
// in the order they were written.
func appendOutbound(tx *bolt.Tx, row bot.Outbound) (string, error) {
	outbox := tx.Bucket(bucketOutbox)
	seq, err := outbox.NextSequence()
	if err != nil {
		return "", fmt.Errorf("storage: outbox sequence: %w", err)
	}
	idk := binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
	row.ID = outboundID(idk)
	if err := writeOutbound(tx, idk, nil, row); err != nil {
		return "", err
	}
	return row.ID, nil
}

// writeOutbound stores row under idk and brings the indexes in line with it;
// old is the row it replaces, nil for a new row.
func writeOutbound(tx *bolt.Tx, idk []byte, old *bot.Outbound, row bot.Outbound) error {
	row.ID = outboundID(idk)
	row = storedOutbound(row)
	data, err := encode(row, "outbox row "+row.ID)
	if err != nil {
		return err
	}
	return writeOutboundData(tx, idk, old, row, data)
}

// writeOutboundData is writeOutbound with row already encoded in data, and
// its ID set.
//
// A sent row goes to outbox_sent, every other to outbox. Sent rows wait out
// the retention for their statuses and, under load, far outnumber the rows
// still owed. Left in place, a row shrunk by storedOutbound would free next
// to nothing: bbolt merges a page only once it is under a quarter full, so
// the pages would stay as many as before, mostly empty. Moved, the sent rows
// fill the pages of outbox_sent in nearly the order they were made, and the
// rows owed, which every claim and mark reads, keep a few pages of their own.
func writeOutboundData(tx *bolt.Tx, idk []byte, old *bot.Outbound, row bot.Outbound, data []byte) error {
	into, other := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxSent)
	if row.State == bot.OutboundSent {
		into, other = other, into
	}
	if err := into.Put(idk, data); err != nil {
		return fmt.Errorf("storage: write outbox row %s: %w", row.ID, err)
	}
	if old != nil && (old.State == bot.OutboundSent) != (row.State == bot.OutboundSent) {
		if err := other.Delete(idk); err != nil {
			return fmt.Errorf("storage: move outbox row %s: %w", row.ID, err)
		}
	}
	ck := clientRowKey(row.To, idk)
	var oldState bot.OutboundState
	if old == nil {
		if err := tx.Bucket(bucketOutboxByClient).Put(ck, []byte{}); err != nil {
			return fmt.Errorf("storage: outbox client index: %w", err)
		}
	} else {
		oldState = old.State
	}
	if oldState != row.State {
		stats := tx.Bucket(bucketOutboxStats)
		if oldState != "" {
			if err := addCount(stats, oldState, -1); err != nil {
				return err
			}
		}
		if err := addCount(stats, row.State, 1); err != nil {
			return err
		}
		pending := tx.Bucket(bucketOutboxPending)
		var err error
		switch {
		case row.State == bot.OutboundPending:
			err = pending.Put(ck, []byte{})
		case oldState == bot.OutboundPending:
			err = pending.Delete(ck)
		}
		if err != nil {
			return fmt.Errorf("storage: outbox pending index: %w", err)
		}
	}
	if row.MetaID != "" && (old == nil || old.MetaID != row.MetaID) {
		if err := tx.Bucket(bucketOutboxMeta).Put([]byte(row.MetaID), bytes.Clone(idk)); err != nil {
			return fmt.Errorf("storage: outbox Meta id index: %w", err)
		}
	}
	if oldState == bot.OutboundPending || row.State == bot.OutboundPending {
		return refreshHead(tx, row.To, idk, &row)
	}
	return nil
}

// storedOutbound is row as the store keeps it. Once Meta accepted a reply,
// nothing reads its text again: the dispatcher never sends a sent row,
// statuses (a late "failed" included) record on its Status and Error, and
// pruning, the stats and the agents' commands read none of it. So the
// reply is dropped, and the row keeps only what statuses and pruning need;
// read back, a sent row has an empty Reply. That is most of a row's bytes,
// kept for the whole retention.
func storedOutbound(row bot.Outbound) bot.Outbound {
	if row.State == bot.OutboundSent {
		row.Reply = bot.Reply{}
	}
	return row
}

// getOutbound returns the stored row idk, wherever its state keeps it (see
// writeOutboundData), or nil when there is none.
func getOutbound(tx *bolt.Tx, idk []byte) []byte {
	if data := tx.Bucket(bucketOutbox).Get(idk); data != nil {
		return data
	}
	return tx.Bucket(bucketOutboxSent).Get(idk)
}

// moveSentRows moves the sent rows a file written before schema 3 keeps
// among the others to outbox_sent, without their reply, as
// writeOutboundData would have stored them. The indexes name rows by id
// alone and stay as they are.
func moveSentRows(tx *bolt.Tx) error {
	outbox, sent := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxSent)
	var moved [][]byte
	c := outbox.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var row bot.Outbound
		if err := decode(v, &row, "outbox row "+outboundID(k)); err != nil {
			return err
		}
		if row.State != bot.OutboundSent {
			continue
		}
		data, err := encode(storedOutbound(row), "outbox row "+outboundID(k))
		if err != nil {
			return err
		}
		k = bytes.Clone(k)
		if err := sent.Put(k, data); err != nil {
			return fmt.Errorf("storage: move sent outbox row %s: %w", outboundID(k), err)
		}
		moved = append(moved, k)
	}
	// Deleted after the scan: a bbolt cursor may skip a key when the one
	// under it is deleted.
	for _, k := range moved {
		if err := outbox.Delete(k); err != nil {
			return fmt.Errorf("storage: move sent outbox row %s: %w", outboundID(k), err)
		}
	}
	return nil
}

// refreshHead points client's entry in the due index at its oldest pending
// row, with that row's NextAttempt, or removes the entry when no row of the
// client is pending. The outbox_heads bucket remembers the entry, so the old
// one can be found without reading the row it named. written is the row
// just stored under key written: when it is the head, its NextAttempt is
// taken from it instead of decoding it again.
func refreshHead(tx *bolt.Tx, client string, writtenKey []byte, written *bot.Outbound) error {
	prefix := append([]byte(client), 0)
	var due []byte
	if k, _ := tx.Bucket(bucketOutboxPending).Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
		idk := bytes.Clone(k[len(prefix):])
		if bytes.Equal(idk, writtenKey) {
			return moveDue(tx, client, dueKey(written.NextAttempt, idk))
		}
		data := tx.Bucket(bucketOutbox).Get(idk)
		if data == nil {
			return fmt.Errorf("storage: outbox pending index names missing row %s", outboundID(idk))
		}
		var head struct{ NextAttempt time.Time }
		if err := decode(data, &head, "outbox row "+outboundID(idk)); err != nil {
			return err
		}
		due = dueKey(head.NextAttempt, idk)
	}
	return moveDue(tx, client, due)
}

// moveDue makes due client's entry in the outbox's due index (see moveHead).
func moveDue(tx *bolt.Tx, client string, due []byte) error {
	if err := moveHead(tx.Bucket(bucketOutboxHeads), tx.Bucket(bucketOutboxDue), []byte(client), due); err != nil {
		return fmt.Errorf("storage: outbox due index: %w", err)
	}
	return nil
}

// moveHead makes due the one entry owner has in the due index dues, with
// owner as its value, or removes owner's entry when due is nil. heads maps
// each owner to its current entry, so the old one is found without reading
// the row it named.
func moveHead(heads, dues *bolt.Bucket, owner, due []byte) error {
	old := heads.Get(owner)
	if bytes.Equal(old, due) {
		return nil
	}
	if old != nil {
		if err := dues.Delete(bytes.Clone(old)); err != nil {
			return err
		}
	}
	if due == nil {
		return heads.Delete(owner)
	}
	if err := heads.Put(owner, due); err != nil {
		return err
	}
	return dues.Put(due, owner)
}

// addCount changes the count of rows in state s by delta, in a queue's
// stats bucket (outbox_stats or notices_stats).
func addCount(stats *bolt.Bucket, s bot.OutboundState, delta int) error {
	n := readCount(stats, s)
	n = max(n+delta, 0)
	if err := stats.Put([]byte(s), binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
		return fmt.Errorf("storage: %s count: %w", s, err)
	}
	return nil
}

// readCount is the count of rows in state s in a stats bucket.
func readCount(stats *bolt.Bucket, s bot.OutboundState) int {
	if v := stats.Get([]byte(s)); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	return 0
}

// checkOutbound refuses a row the indexes cannot hold. The error names no
// recipient and no text.
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

// outboundID is the public form of an outbox key: 16 hex digits, so that
// ids compare as strings in the same order as the keys do.
func outboundID(idk []byte) string { return hex.EncodeToString(idk) }

// outboundKey is the inverse of outboundID; only the exact form it produces
// is accepted, so one row never answers to two ids.
func outboundKey(id string) ([]byte, bool) {
	if len(id) != 16 {
		return nil, false
	}
	k, err := hex.DecodeString(id)
	if err != nil || outboundID(k) != id {
		return nil, false
	}
	return k, true
}

// clientRowKey is client, 0x00, row key: one client's rows together, oldest
// first.
func clientRowKey(client string, idk []byte) []byte {
	k := make([]byte, 0, len(client)+1+len(idk))
	k = append(k, client...)
	k = append(k, 0)
	return append(k, idk...)
}

// dueKey is the due index key: NextAttempt, then the row key, both
// big-endian, so a cursor meets rows in the order they fall due.
func dueKey(t time.Time, idk []byte) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(idk)), dueNanos(t))
	return append(k, idk...)
}

// dueNanos is t in Unix nanoseconds, clamped to what fits: a zero time (due
// at once) maps to 0, and times past 2262 to the maximum.
func dueNanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}
