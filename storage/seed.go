package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// History is one client's port as it stands in the store once over: their
// conversation, their case, the case's audit trail and the markers of the
// messages they sent.
type History struct {
	Conversation bot.Conversation
	Case         bot.Case
	Audit        []bot.AuditEvent
	Processed    []string
}

// LoadHistory writes hs in one transaction of the main file, each exactly as
// the turns that made it would have (the case through putCase, with its
// index entries), but without a turn's checks and outbox: it is how
// `portabot bench --history` gives a store years of closed cases in
// minutes. The store must have no other writer while it runs.
func (db *DB) LoadHistory(ctx context.Context, hs []History) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: load history: %w", err)
	}
	mark := processedMark(db.now())
	// One sync at the end instead of one per transaction, and none when
	// the file grows: a store being seeded is thrown away if seeding fails.
	db.bolt.NoSync, db.bolt.NoGrowSync = true, true
	defer func() { db.bolt.NoSync, db.bolt.NoGrowSync = false, false }()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		// The keys come in ascending order, so pages can be packed full:
		// the seeding writes half the pages, in half the time, and the
		// figure of bytes per case is that of a store packed tight (turns
		// that append to many cases at once leave pages less full).
		setFill(tx, 1, append([][]byte{bucketConversations, bucketCases, bucketAudit, bucketProcessed,
			bucketClientIDs}, indexBuckets...)...)
		convs, cases, processed := tx.Bucket(bucketConversations), tx.Bucket(bucketCases), tx.Bucket(bucketProcessed)
		for i := range hs {
			h := &hs[i]
			key, ok := caseKey(h.Case.ID)
			if !ok {
				return fmt.Errorf("storage: load history: case id %q is not one NewCaseID issues", h.Case.ID)
			}
			if err := put(convs, []byte(h.Conversation.Key), h.Conversation, "conversation"); err != nil {
				return err
			}
			if err := writeClientIDs(tx, bot.Turn{Conversation: h.Conversation}); err != nil {
				return err
			}
			if err := putCase(cases, key, &h.Case); err != nil {
				return err
			}
			for _, e := range h.Audit {
				if err := appendAudit(tx, key, e); err != nil {
					return err
				}
			}
			for _, id := range h.Processed {
				if err := processed.Put([]byte(id), mark); err != nil {
					return fmt.Errorf("storage: load history: %w", err)
				}
			}
		}
		return nil
	})
	if err == nil {
		err = db.bolt.Sync()
	}
	if err != nil {
		return fmt.Errorf("storage: load history into %s: %w", db.path, err)
	}
	return nil
}
