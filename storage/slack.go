package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// bucketSlackTriggers holds the trigger ids of the agents' actions taken,
// each with the time after which Slack no longer accepts its signature: a
// captured signed request replayed after a restart must find its id here.
var bucketSlackTriggers = []byte("slack_triggers")

// RememberTrigger records an agent action's trigger id until expires and
// reports whether it was already recorded, unexpired: a replay. Expired ids
// are deleted on the way, so the bucket holds only minutes of actions.
func (db *DB) RememberTrigger(ctx context.Context, trigger string, expires time.Time) (seen bool, err error) {
	now := db.now()
	err = db.write(ctx, "remember slack trigger", func(tx *bolt.Tx) (func() error, error) {
		b := tx.Bucket(bucketSlackTriggers)
		seen = false
		if v := b.Get([]byte(trigger)); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now.UnixNano() {
			seen = true
			return nil, nil
		}
		var expired [][]byte
		_ = b.ForEach(func(k, v []byte) error {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) <= now.UnixNano() {
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		})
		return func() error {
			for _, k := range expired {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("storage: forget expired slack trigger: %w", err)
				}
			}
			if err := b.Put([]byte(trigger), binary.BigEndian.AppendUint64(nil, uint64(expires.UnixNano()))); err != nil {
				return fmt.Errorf("storage: remember slack trigger: %w", err)
			}
			return nil
		}, nil
	})
	return seen, err
}

// AuditRefusal writes to case caseID's audit trail that user was refused
// action on it, so the trail shows who tried what, not only what was done.
func (db *DB) AuditRefusal(ctx context.Context, caseID, user, action string) error {
	key, ok := caseKey(caseID)
	if !ok {
		return fmt.Errorf("storage: audit refusal on case %q: %w", caseID, bot.ErrNotFound)
	}
	at := db.now()
	return db.write(ctx, "audit refusal on case "+caseID, func(tx *bolt.Tx) (func() error, error) {
		if tx.Bucket(bucketCases).Get(key) == nil {
			return nil, fmt.Errorf("storage: audit refusal on case %s: %w", caseID, bot.ErrNotFound)
		}
		return func() error {
			return appendAudit(tx, key, bot.AuditEvent{CaseID: caseID, At: at, Actor: user, Kind: "refused", Detail: action})
		}, nil
	})
}
