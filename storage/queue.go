package storage

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// queue is one of the store's delivery queues: the outbox (replies, owned
// by the client they go to) and the notices (owned by their case). Its due
// index holds one entry per owner, the owner's head row, ordered by due
// time; a claim hands out head rows and holds their owners, so an owner's
// rows go out one at a time and in the order they were written.
//
// Holds live in memory: bbolt has one process, so a mutex and a map are all
// the locking a claim needs, and a restart releases every hold. On
// PostgreSQL the same holds become row locks (FOR UPDATE SKIP LOCKED).
type queue[T any] struct {
	what      string // "outbox", "notices": names the queue in errors
	item      string // "row", "notice": names one of its rows in errors
	rows, due []byte // the buckets of the rows and of the due index
	// owner reads the owner from a due index entry's value.
	owner func(dueValue []byte) (string, error)
	// decode reads a stored row, and returns it with its id and state.
	decode func(idk, data []byte) (T, string, bot.OutboundState, error)

	mu   sync.Mutex
	held map[string]*queueHold // owner -> the claim holding its head row
}

// queueHold marks an owner whose head row a claim handed out. It is gone
// when the claim is released or the row is marked, whichever is first; the
// pointer identifies the hold, so a late release of an old claim cannot
// drop a newer claim's hold on the same owner.
type queueHold struct {
	id string
}

// claim returns up to n head rows due at now whose owners no other claim
// holds, soonest-due first, held until release is called or drop settles
// them.
func (q *queue[T]) claim(ctx context.Context, bdb *bolt.DB, now time.Time, n int) ([]T, func(), error) {
	noop := func() {}
	if err := ctx.Err(); err != nil {
		return nil, noop, fmt.Errorf("storage: claim %s: %w", q.what, err)
	}
	if n <= 0 {
		return nil, noop, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	limit := dueNanos(now)
	var rows []T
	var owners, ids []string
	err := bdb.View(func(tx *bolt.Tx) error {
		stored := tx.Bucket(q.rows)
		c := tx.Bucket(q.due).Cursor()
		// The scan stops at the first head row not yet due.
		for k, v := c.First(); k != nil && len(rows) < n; k, v = c.Next() {
			if binary.BigEndian.Uint64(k[:8]) > limit {
				break
			}
			owner, err := q.owner(v)
			if err != nil {
				return fmt.Errorf("storage: claim %s: due index entry %x: %w", q.what, k, err)
			}
			if q.held[owner] != nil {
				continue
			}
			idk := k[8:]
			data := stored.Get(idk)
			if data == nil {
				return fmt.Errorf("storage: claim %s: due index names missing %s %s", q.what, q.item, outboundID(idk))
			}
			row, id, state, err := q.decode(idk, data)
			if err != nil {
				return err
			}
			if state != bot.OutboundPending {
				return fmt.Errorf("storage: claim %s: due index names %s %s, which is %s", q.what, q.item, id, state)
			}
			rows, owners, ids = append(rows, row), append(owners, owner), append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, noop, err
	}
	holds := make([]*queueHold, len(rows))
	for i, owner := range owners {
		holds[i] = &queueHold{id: ids[i]}
		q.held[owner] = holds[i]
	}
	release := sync.OnceFunc(func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		for i, owner := range owners {
			if q.held[owner] == holds[i] {
				delete(q.held, owner)
			}
		}
	})
	return rows, release, nil
}

// holding reports whether a claim holds owner's head row id. The caller
// holds q.mu.
func (q *queue[T]) holding(owner, id string) bool {
	h := q.held[owner]
	return h != nil && h.id == id
}

// drop ends the hold on owner if it is the hold on row id, which a mark
// has just settled.
func (q *queue[T]) drop(owner, id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.holding(owner, id) {
		delete(q.held, owner)
	}
}
