package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

var _ bot.Store = (*DB)(nil)

// Conversation returns the conversation keyed key, or the one whose client's
// current number or BSUID is key (see writeTurn), or an error matching
// bot.ErrNotFound.
func (db *DB) Conversation(ctx context.Context, key string) (bot.Conversation, error) {
	var c bot.Conversation
	if err := ctx.Err(); err != nil {
		return c, fmt.Errorf("storage: conversation: %w", err)
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		convs := tx.Bucket(bucketConversations)
		v := convs.Get([]byte(key))
		if v == nil && key != "" {
			if k := tx.Bucket(bucketClientIDs).Get([]byte(key)); k != nil {
				v = convs.Get(k)
			}
		}
		if v == nil || key == "" {
			// The key is a phone number, so it stays out of the error text,
			// which may end up in a log.
			return fmt.Errorf("storage: conversation: %w", bot.ErrNotFound)
		}
		return decode(v, &c, "conversation")
	})
	return c, err
}

// Case returns the case with id, or an error matching bot.ErrNotFound. An id
// this store never issued (such as "abc" or "007") is simply not found.
// Its Thread is the one SetThread recorded.
func (db *DB) Case(ctx context.Context, id string) (bot.Case, error) {
	var c bot.Case
	if err := ctx.Err(); err != nil {
		return c, fmt.Errorf("storage: case %s: %w", id, err)
	}
	key, ok := caseKey(id)
	if !ok {
		return c, fmt.Errorf("storage: case %q: %w", id, bot.ErrNotFound)
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCases).Get(key)
		if v == nil {
			return fmt.Errorf("storage: case %s: %w", id, bot.ErrNotFound)
		}
		if err := decode(v, &c, "case "+id); err != nil {
			return err
		}
		c.Thread = caseThread(tx, key)
		return nil
	})
	return c, err
}

// Cases returns every case in the order NewCaseID issued their ids, which is
// the order they were opened, each with the Thread SetThread recorded.
func (db *DB) Cases(ctx context.Context) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: cases: %w", err)
	}
	var cases []bot.Case
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
			var c bot.Case
			if err := decode(v, &c, "case "+caseID(k)); err != nil {
				return err
			}
			c.Thread = caseThread(tx, k)
			cases = append(cases, c)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return cases, nil
}

// Audit returns the history of case caseID, oldest first; it is empty, not an
// error, for a case without events or one that does not exist.
func (db *DB) Audit(ctx context.Context, caseID string) ([]bot.AuditEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: audit of case %s: %w", caseID, err)
	}
	prefix, ok := caseKey(caseID)
	if !ok {
		return nil, nil
	}
	var events []bot.AuditEvent
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var e bot.AuditEvent
			if err := decode(v, &e, "audit event of case "+caseID); err != nil {
				return err
			}
			events = append(events, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// NewCaseID returns the next case number. Each call costs a durable commit,
// and a number handed out but never committed is not reused, so ids may have
// gaps.
func (db *DB) NewCaseID(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("storage: new case id: %w", err)
	}
	var n uint64
	err := db.write(ctx, "new case id", func(tx *bolt.Tx) (func() error, error) {
		return func() error {
			var err error
			if n, err = tx.Bucket(bucketCases).NextSequence(); err != nil {
				return fmt.Errorf("storage: new case id: %w", err)
			}
			return nil
		}, nil
	})
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(n, 10), nil
}

// Commit writes t in one transaction of the main file: the conversation, the
// case when t.Case is not nil, the audit events appended to their cases'
// trails, the outbox rows, the notices for agents, and the message marked
// processed. Once that is durable, the message's removal from the inbox file
// is queued; Commit does not wait for it. When t.MessageID was committed before it writes nothing
// and returns an error matching bot.ErrDuplicate.
//
// An audit event without a CaseID belongs to the turn's case (t.Case, else
// the conversation's). An event for a case that neither exists nor is written
// by the turn is refused, and so is the whole turn: a trail nobody can read
// back is a bug worth surfacing.
//
// Outbox rows and notices get their ID from the store (any ID given is
// replaced); one without a State is pending. A notice without a CaseID is
// about the turn's case, and a notice, like an audit event, must be about a
// case that exists or is written by the turn.
//
// The case's Thread is ignored: SetThread alone records it, beside the case.
// The engine builds t.Case from a copy it read at the start of the turn, and
// the thread may have been set since, by the dispatcher posting the case's
// first notice; writing the copy's Thread would erase it.
func (db *DB) Commit(ctx context.Context, t bot.Turn) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	p, err := prepareTurn(t)
	if err != nil {
		return err
	}
	err = db.write(ctx, "commit", func(tx *bolt.Tx) (func() error, error) {
		if err := checkTurn(tx, p); err != nil {
			return nil, err
		}
		return func() error { return db.writeTurn(tx, p) }, nil
	})
	if err != nil || p.MessageID == "" {
		return err
	}
	// The message leaves the inbox once its effects are durable: before,
	// a crash leaves it in the inbox, to be processed again; after, the
	// processed marker keeps Enqueue from taking a redelivery, and Claim
	// from handing out a row a crash left behind (it removes such rows).
	// So the turn stands even if this second write fails, or never comes:
	// the row is removed later.
	//
	// The removal is queued now, behind any Enqueue of the message the
	// inbox's writer took before the mark was durable, so it finds the
	// row. Nobody waits for it: it rides with the next acknowledgement's
	// commit (see dropLater).
	db.dropLater([]string{p.MessageID})
	return nil
}

// preparedTurn is a Turn checked and resolved outside any transaction, by
// its caller, so that the writer, which every other write waits for, spends
// its time on what depends on the stored state.
type preparedTurn struct {
	bot.Turn
	convData   []byte           // the conversation, encoded
	caseKey    []byte           // nil when the turn writes no case
	events     []bot.AuditEvent // with their case ids filled in
	eventKeys  [][]byte
	outbox     []bot.Outbound // copies, so assigning ids never touches the caller's slice
	notices    []bot.Notice   // copies, with their case ids filled in
	noticeKeys [][]byte
}

func prepareTurn(t bot.Turn) (*preparedTurn, error) {
	if t.Conversation.Key == "" {
		return nil, errors.New("storage: commit: conversation has no key")
	}
	p := &preparedTurn{Turn: t}
	var err error
	if p.convData, err = encode(t.Conversation, "conversation"); err != nil {
		return nil, err
	}
	if t.Case != nil {
		var ok bool
		if p.caseKey, ok = caseKey(t.Case.ID); !ok {
			return nil, fmt.Errorf("storage: commit: case id %q was not issued by NewCaseID", t.Case.ID)
		}
	}
	p.events = make([]bot.AuditEvent, len(t.Audit))
	p.eventKeys = make([][]byte, len(t.Audit))
	// An event or notice without a case is about the turn's case.
	turnCase := t.Conversation.CaseID
	if t.Case != nil {
		turnCase = t.Case.ID
	}
	for i, e := range t.Audit {
		if e.CaseID == "" {
			e.CaseID = turnCase
		}
		k, ok := caseKey(e.CaseID)
		if !ok {
			return nil, fmt.Errorf("storage: commit: audit event %q has no valid case id (%q)", e.Kind, e.CaseID)
		}
		p.events[i], p.eventKeys[i] = e, k
	}
	p.outbox = make([]bot.Outbound, len(t.Outbox))
	for i, row := range t.Outbox {
		if row.State == "" {
			row.State = bot.OutboundPending
		}
		if err := checkOutbound(row); err != nil {
			return nil, fmt.Errorf("storage: commit: outbox row %d: %w", i, err)
		}
		p.outbox[i] = row
	}
	p.notices = make([]bot.Notice, len(t.Notices))
	p.noticeKeys = make([][]byte, len(t.Notices))
	for i, n := range t.Notices {
		if n.CaseID == "" {
			n.CaseID = turnCase
		}
		k, ok := caseKey(n.CaseID)
		if !ok {
			return nil, fmt.Errorf("storage: commit: notice %q has no valid case id (%q)", n.Kind, n.CaseID)
		}
		if n.State == "" {
			n.State = bot.OutboundPending
		}
		if err := checkNoticeState(n.State); err != nil {
			return nil, fmt.Errorf("storage: commit: notice %d: %w", i, err)
		}
		p.notices[i], p.noticeKeys[i] = n, k
	}
	return p, nil
}

// checkTurn is what the store refuses in a turn that depends on what is
// stored: a message committed before, an audit event or a notice about a
// case that neither exists nor is written by the turn. It only reads, so a
// turn it refuses writes nothing, and a group of writes sharing tx goes on
// without it (see writeOp).
func checkTurn(tx *bolt.Tx, p *preparedTurn) error {
	if p.MessageID != "" && tx.Bucket(bucketProcessed).Get([]byte(p.MessageID)) != nil {
		return fmt.Errorf("storage: commit: %w", bot.ErrDuplicate)
	}
	cases := tx.Bucket(bucketCases)
	known := func(k []byte) bool {
		return (p.Case != nil && bytes.Equal(k, p.caseKey)) || cases.Get(k) != nil
	}
	for i, e := range p.events {
		if !known(p.eventKeys[i]) {
			return fmt.Errorf("storage: commit: audit event %q for case %s: %w", e.Kind, e.CaseID, bot.ErrNotFound)
		}
	}
	for i, n := range p.notices {
		if !known(p.noticeKeys[i]) {
			return fmt.Errorf("storage: commit: notice %q for case %s: %w", n.Kind, n.CaseID, bot.ErrNotFound)
		}
	}
	return nil
}

// writeTurn writes one prepared turn that checkTurn accepted inside tx. It
// changes nothing in p and touches nothing outside the transaction (no
// claims, no counters in memory), so it can run again in another
// transaction when the one it ran in was rolled back.
func (db *DB) writeTurn(tx *bolt.Tx, p *preparedTurn) error {
	if err := tx.Bucket(bucketConversations).Put([]byte(p.Conversation.Key), p.convData); err != nil {
		return fmt.Errorf("storage: write conversation: %w", err)
	}
	if err := writeClientIDs(tx, p.Turn); err != nil {
		return err
	}
	if p.Case != nil {
		if err := putCase(tx.Bucket(bucketCases), p.caseKey, p.Case); err != nil {
			return err
		}
	}
	for i, e := range p.events {
		if err := appendAudit(tx, p.eventKeys[i], e); err != nil {
			return err
		}
	}
	if p.Unpark {
		if err := unpark(tx, p.Conversation); err != nil {
			return err
		}
	}
	for _, row := range p.outbox {
		if _, err := appendOutbound(tx, row); err != nil {
			return err
		}
	}
	for i, n := range p.notices {
		if err := appendNotice(tx, p.noticeKeys[i], n); err != nil {
			return err
		}
	}
	if p.MessageID != "" {
		if err := tx.Bucket(bucketProcessed).Put([]byte(p.MessageID), processedMark(db.now())); err != nil {
			return fmt.Errorf("storage: commit: mark processed: %w", err)
		}
	}
	return nil
}

// writeClientIDs points the client's current number and BSUID at their
// conversation, and stops the ids the turn forgets from pointing at it. An
// id that now points at another conversation is left to that one.
func writeClientIDs(tx *bolt.Tx, t bot.Turn) error {
	ids := tx.Bucket(bucketClientIDs)
	key := []byte(t.Conversation.Key)
	for _, id := range t.Forget {
		if id != "" && bytes.Equal(ids.Get([]byte(id)), key) {
			if err := ids.Delete([]byte(id)); err != nil {
				return fmt.Errorf("storage: forget a client id: %w", err)
			}
		}
	}
	for _, id := range []string{t.Conversation.Phone, t.Conversation.UserID} {
		if id == "" || id == t.Conversation.Key || bytes.Equal(ids.Get([]byte(id)), key) {
			continue
		}
		if err := ids.Put([]byte(id), key); err != nil {
			return fmt.Errorf("storage: index a client id: %w", err)
		}
	}
	return nil
}

// unpark puts conv's parked outbox rows back in line, due now, with the
// client's last message as their window.
func unpark(tx *bolt.Tx, conv bot.Conversation) error {
	prefix := append([]byte(conv.Key), 0)
	var keys [][]byte
	c := tx.Bucket(bucketOutboxByClient).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k[len(prefix):]))
	}
	outbox := tx.Bucket(bucketOutbox)
	for _, idk := range keys {
		data := outbox.Get(idk)
		if data == nil {
			continue // sent: kept in outbox_sent
		}
		var row bot.Outbound
		if err := decode(data, &row, "outbox row "+outboundID(idk)); err != nil {
			return err
		}
		if row.State != bot.OutboundParked {
			continue
		}
		old := row
		row.State, row.Error = bot.OutboundPending, ""
		row.LastInbound, row.NextAttempt = conv.LastSeen, conv.Updated
		if err := writeOutbound(tx, idk, &old, row); err != nil {
			return err
		}
	}
	return nil
}

// processedMark is the value of a processed marker: when the turn was
// committed, in Unix seconds, 8 bytes big-endian. Only the marker's
// presence is read when a message comes again; the time is there to prune
// markers by age.
func processedMark(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(max(t.Unix(), 0)))
}

// processedAt reads a processed marker's time: 8 bytes as processedMark
// writes them, or the RFC 3339 text of files written before.
func processedAt(v []byte) (time.Time, bool) {
	if len(v) == 8 {
		return time.Unix(int64(binary.BigEndian.Uint64(v)), 0).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	return t, err == nil
}

// Processed reports whether a turn for message messageID was committed.
func (db *DB) Processed(ctx context.Context, messageID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("storage: processed: %w", err)
	}
	if messageID == "" {
		return false, nil
	}
	var seen bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		seen = tx.Bucket(bucketProcessed).Get([]byte(messageID)) != nil
		return nil
	})
	return seen, err
}

// SetWABA sets the destination WABA of case caseID and records who did it,
// in one transaction. It returns an error matching bot.ErrNotFound for an
// unknown case.
func (db *DB) SetWABA(ctx context.Context, caseID, waba, actor string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: set waba of case %s: %w", caseID, err)
	}
	key, ok := caseKey(caseID)
	if !ok {
		return fmt.Errorf("storage: set waba of case %q: %w", caseID, bot.ErrNotFound)
	}
	// Truncated to microseconds so the same value survives PostgreSQL, and
	// stripped of the monotonic reading, which JSON drops anyway.
	now := db.now().UTC().Truncate(time.Microsecond)
	return db.write(ctx, "set waba of case "+caseID, func(tx *bolt.Tx) (func() error, error) {
		cases := tx.Bucket(bucketCases)
		v := cases.Get(key)
		if v == nil {
			return nil, fmt.Errorf("storage: set waba of case %s: %w", caseID, bot.ErrNotFound)
		}
		var c bot.Case
		if err := decode(v, &c, "case "+caseID); err != nil {
			return nil, err
		}
		c.WABA = waba
		c.Updated = now
		return func() error {
			if err := putCase(cases, key, &c); err != nil {
				return err
			}
			return appendAudit(tx, key, bot.AuditEvent{
				CaseID: caseID,
				At:     now,
				Actor:  actor,
				Kind:   "waba_set",
				Detail: waba,
			})
		}, nil
	})
}

const (
	caseKeyLen  = 8
	auditKeyLen = caseKeyLen + 8
)

// caseKey turns a public case id into its bucket key. Only the canonical
// decimal form NewCaseID produces is accepted, so "7" and "007" can never name
// two different records.
func caseKey(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != id {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(make([]byte, 0, caseKeyLen), n), true
}

func caseID(key []byte) string {
	return strconv.FormatUint(binary.BigEndian.Uint64(key), 10)
}

// putCase writes c, with its index entries (see indexCase), and moves the
// id sequence past its number, so that a case
// committed under an id NewCaseID did not issue (an import, a restore) can
// never be handed out again. c's Thread is not written: the thread lives in
// case_threads (see SetThread).
func putCase(cases *bolt.Bucket, key []byte, c *bot.Case) error {
	before, err := storedCase(cases, key)
	if err != nil {
		return err
	}
	rec := *c
	rec.Thread = ""
	if err := indexCase(cases.Tx(), before, &rec); err != nil {
		return err
	}
	if err := put(cases, key, rec, "case "+c.ID); err != nil {
		return err
	}
	if n := binary.BigEndian.Uint64(key); n > cases.Sequence() {
		if err := cases.SetSequence(n); err != nil {
			return fmt.Errorf("storage: advance case sequence: %w", err)
		}
	}
	return nil
}

// appendAudit adds e at the end of its case's trail. The sequence is shared by
// all cases; only its order within one case matters.
func appendAudit(tx *bolt.Tx, caseKey []byte, e bot.AuditEvent) error {
	audit := tx.Bucket(bucketAudit)
	seq, err := audit.NextSequence()
	if err != nil {
		return fmt.Errorf("storage: audit sequence: %w", err)
	}
	key := binary.BigEndian.AppendUint64(append(make([]byte, 0, auditKeyLen), caseKey...), seq)
	return put(audit, key, e, "audit event of case "+e.CaseID)
}

func put(b *bolt.Bucket, key []byte, v any, what string) error {
	data, err := encode(v, what)
	if err != nil {
		return err
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("storage: write %s: %w", what, err)
	}
	return nil
}

// encode is v as stored: JSON.
func encode(v any, what string) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("storage: encode %s: %w", what, err)
	}
	return data, nil
}

// decode copies v out of the mmap as it parses it, so nothing returned from
// a transaction points into pages bbolt may reuse.
func decode(v []byte, dst any, what string) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("storage: decode %s: %w", what, err)
	}
	return nil
}
