package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

var _ bot.Notices = (*DB)(nil)

// newNoticeQueue is the notices' queue: notices owned by their case, whose
// due index entries hold the case's key.
func newNoticeQueue() *queue[bot.Notice] {
	return &queue[bot.Notice]{
		what: "notices", item: "notice", rows: bucketNotices, due: bucketNoticesDue,
		owner: func(v []byte) (string, error) {
			if len(v) != caseKeyLen {
				return "", errors.New("names no case")
			}
			return caseID(v), nil
		},
		decode: func(idk, data []byte) (bot.Notice, string, bot.OutboundState, error) {
			var n bot.Notice
			err := decode(data, &n, "notice "+noticeID(idk))
			return n, n.ID, n.State, err
		},
		held: map[string]*queueHold{},
	}
}

// ClaimNotices returns up to n notices due at now: for each case only its
// oldest pending notice, and only if that notice's NextAttempt is not after
// now and no other claim holds the case. Notices come soonest-due first.
// They are held until MarkNotice settles them or release is called; a
// restart releases every hold.
//
// Sent and failed notices are never returned. A case whose oldest pending
// notice is due later waits, and so do its newer notices, so the case's
// thread reads in the order the notices were written.
func (db *DB) ClaimNotices(ctx context.Context, now time.Time, n int) ([]bot.Notice, func(), error) {
	return db.noticeQ.claim(ctx, db.bolt, now, n)
}

// MarkNotice stores n, found by its ID, after a delivery attempt, and ends
// the hold a claim had on it. It returns an error matching bot.ErrNotFound
// for an ID the store never issued.
//
// A notice once sent stays sent: the agents saw it, and a second post would
// repeat it in the case's thread. A notice never moves to another case.
func (db *DB) MarkNotice(ctx context.Context, n bot.Notice) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: mark notice %s: %w", n.ID, err)
	}
	idk, ok := noticeKey(n.ID)
	if !ok {
		return fmt.Errorf("storage: mark notice %q: %w", n.ID, bot.ErrNotFound)
	}
	if err := checkNoticeState(n.State); err != nil {
		return fmt.Errorf("storage: mark notice %s: %w", n.ID, err)
	}
	err := db.write(ctx, "mark notice "+n.ID, func(tx *bolt.Tx) (func() error, error) {
		data := tx.Bucket(bucketNotices).Get(idk)
		if data == nil {
			return nil, fmt.Errorf("storage: mark notice %s: %w", n.ID, bot.ErrNotFound)
		}
		var old bot.Notice
		if err := decode(data, &old, "notice "+n.ID); err != nil {
			return nil, err
		}
		switch {
		case old.CaseID != n.CaseID:
			return nil, fmt.Errorf("storage: mark notice %s: the notice is about case %s, not %q", n.ID, old.CaseID, n.CaseID)
		case old.State == bot.OutboundSent && n.State != bot.OutboundSent:
			return nil, fmt.Errorf("storage: mark notice %s: it was sent already and cannot become %s (agents would read it twice)", n.ID, n.State)
		}
		ck, ok := caseKey(old.CaseID)
		if !ok {
			return nil, fmt.Errorf("storage: mark notice %s: stored with invalid case id %q", n.ID, old.CaseID)
		}
		return func() error { return writeNotice(tx, ck, idk, &old, n) }, nil
	})
	if err != nil {
		return err
	}
	db.noticeQ.drop(n.CaseID, n.ID)
	return nil
}

// SetThread records thread as the agents' thread about case caseID. It
// returns an error matching bot.ErrNotFound for an unknown case. A case keeps
// its first thread: the first message posted about it is its thread, so a
// different thread set later (two notices posted as first messages around the
// same time) is dropped, and SetThread returns nil.
//
// The thread is stored beside the case, never inside its record: the engine
// commits whole case records from copies it read earlier, and such a copy,
// read before SetThread, would erase a thread stored inside the record.
// Case and Cases fill Case.Thread in; Commit ignores it.
func (db *DB) SetThread(ctx context.Context, caseID, thread string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: set thread of case %s: %w", caseID, err)
	}
	key, ok := caseKey(caseID)
	if !ok {
		return fmt.Errorf("storage: set thread of case %q: %w", caseID, bot.ErrNotFound)
	}
	if thread == "" {
		return fmt.Errorf("storage: set thread of case %s: empty thread", caseID)
	}
	return db.write(ctx, "set thread of case "+caseID, func(tx *bolt.Tx) (func() error, error) {
		if tx.Bucket(bucketCases).Get(key) == nil {
			return nil, fmt.Errorf("storage: set thread of case %s: %w", caseID, bot.ErrNotFound)
		}
		threads := tx.Bucket(bucketCaseThreads)
		if threads.Get(key) != nil {
			return nil, nil
		}
		return func() error {
			if err := threads.Put(key, []byte(thread)); err != nil {
				return fmt.Errorf("storage: set thread of case %s: %w", caseID, err)
			}
			return nil
		}, nil
	})
}

// NoticeStats counts the notices in each state.
func (db *DB) NoticeStats(ctx context.Context) (pending, sent, failed int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, 0, fmt.Errorf("storage: notice stats: %w", err)
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		stats := tx.Bucket(bucketNoticesStats)
		pending = readCount(stats, bot.OutboundPending)
		sent = readCount(stats, bot.OutboundSent)
		failed = readCount(stats, bot.OutboundFailed)
		return nil
	})
	return pending, sent, failed, err
}

// caseThread is the thread stored for the case under key, or "".
func caseThread(tx *bolt.Tx, key []byte) string {
	return string(tx.Bucket(bucketCaseThreads).Get(key))
}

// appendNotice adds n, about the case under ck, under the next notice id.
// Ids come from one sequence for all cases, so one case's notices sort in
// the order they were written.
func appendNotice(tx *bolt.Tx, ck []byte, n bot.Notice) error {
	seq, err := tx.Bucket(bucketNotices).NextSequence()
	if err != nil {
		return fmt.Errorf("storage: notice sequence: %w", err)
	}
	return writeNotice(tx, ck, binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq), nil, n)
}

// writeNotice stores n under idk and brings the indexes in line with it; ck
// is its case's key, old the notice it replaces, nil for a new one.
func writeNotice(tx *bolt.Tx, ck, idk []byte, old *bot.Notice, n bot.Notice) error {
	n.ID = noticeID(idk)
	if err := put(tx.Bucket(bucketNotices), idk, n, "notice "+n.ID); err != nil {
		return err
	}
	var oldState bot.OutboundState
	if old != nil {
		oldState = old.State
	}
	if oldState != n.State {
		stats := tx.Bucket(bucketNoticesStats)
		if oldState != "" {
			if err := addCount(stats, oldState, -1); err != nil {
				return err
			}
		}
		if err := addCount(stats, n.State, 1); err != nil {
			return err
		}
		pending := tx.Bucket(bucketNoticesPending)
		pk := append(bytes.Clone(ck), idk...)
		var err error
		switch {
		case n.State == bot.OutboundPending:
			err = pending.Put(pk, []byte{})
		case oldState == bot.OutboundPending:
			err = pending.Delete(pk)
		}
		if err != nil {
			return fmt.Errorf("storage: notices pending index: %w", err)
		}
	}
	if oldState == bot.OutboundPending || n.State == bot.OutboundPending {
		return refreshNoticeHead(tx, ck)
	}
	return nil
}

// refreshNoticeHead points the case's entry in the due index at its oldest
// pending notice, with that notice's NextAttempt, or removes the entry when
// none of its notices is pending.
func refreshNoticeHead(tx *bolt.Tx, ck []byte) error {
	var due []byte
	if k, _ := tx.Bucket(bucketNoticesPending).Cursor().Seek(ck); k != nil && bytes.HasPrefix(k, ck) {
		idk := bytes.Clone(k[len(ck):])
		data := tx.Bucket(bucketNotices).Get(idk)
		if data == nil {
			return fmt.Errorf("storage: notices pending index names missing notice %s", noticeID(idk))
		}
		var n bot.Notice
		if err := decode(data, &n, "notice "+noticeID(idk)); err != nil {
			return err
		}
		due = dueKey(n.NextAttempt, idk)
	}
	if err := moveHead(tx.Bucket(bucketNoticesHeads), tx.Bucket(bucketNoticesDue), bytes.Clone(ck), due); err != nil {
		return fmt.Errorf("storage: notices due index: %w", err)
	}
	return nil
}

// checkNoticeState refuses a state a notice cannot be in: parked is for
// replies waiting for the client's 24-hour window, which agents do not have.
func checkNoticeState(s bot.OutboundState) error {
	switch s {
	case bot.OutboundPending, bot.OutboundSent, bot.OutboundFailed:
		return nil
	}
	return fmt.Errorf("notice state %q is not pending, sent or failed", s)
}

// noticeID is the public form of a notice key, in the outbox's format: 16
// hex digits, so that ids compare as strings in the same order as the keys.
func noticeID(idk []byte) string { return outboundID(idk) }

// noticeKey is the inverse of noticeID.
func noticeKey(id string) ([]byte, bool) { return outboundKey(id) }
