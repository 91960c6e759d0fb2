package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
)

// ErrLeaseLost is the error of a write this replica made for work whose
// lease it no longer holds: the lease expired (the replica was cut off from
// the database, or paused, for longer than the TTL) and another replica
// took the work. The other replica's view is the newer one; this replica's
// write is refused whole, so that a turn is not committed over the other's
// and a reply is not sent by both.
var ErrLeaseLost = errors.New("the lease on this work expired and another replica took it over")

// A lease's token is its fencing token: each claim takes the lease under a
// token of its own, and a replica that takes an expired lease replaces the
// token. A write made under a claim checks, in its transaction, that the
// lease still carries the claim's token, and locks the lease row, so no
// other replica can take the lease until the write has committed.
//
// Expiry alone does not refuse the write: a lease that ran out but that
// nobody took still carries the token, and the work is still this
// replica's. What refuses it is another claim.
//
// fences maps each owner this DB holds a claim on (the conversation a
// worker processes, the outbox row a sender delivers) to that claim's token.
type fences struct {
	mu sync.Mutex
	m  map[string]string
}

func fenceKey(queue, owner string) string { return queue + "\x00" + owner }

// outboxFence is the fence of one outbox row: the lease names the client,
// the fence names the row the claim handed out.
func outboxFence(id int64) string { return strconv.FormatInt(id, 10) }

func (f *fences) hold(queue, owner, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[fenceKey(queue, owner)] = token
}

// drop forgets the owners held under token; an owner claimed again since,
// under another token, stays.
func (f *fences) drop(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, t := range f.m {
		if t == token {
			delete(f.m, k)
		}
	}
}

func (f *fences) token(queue, owner string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.m[fenceKey(queue, owner)]
	return t, ok
}

// checkFence refuses, with ErrLeaseLost, a write for owner of queue made
// under a claim of this DB whose lease another replica has taken since,
// and locks the lease for the rest of tx. A write for an owner this DB holds
// no claim on (an agent's action, a test's direct write) is not fenced.
// rowID narrows an outbox lease to the row the claim handed out.
func (db *DB) checkFence(ctx context.Context, tx pgx.Tx, queue, owner, rowID, fence string) error {
	token, ok := db.fences.token(queue, fence)
	if !ok {
		return nil
	}
	sql := `SELECT 1 FROM leases WHERE queue = $1 AND owner = $2 AND token = $3`
	args := []any{queue, owner, token}
	if rowID != "" {
		sql += ` AND row_id = $4`
		args = append(args, rowID)
	}
	var one int
	err := tx.QueryRow(ctx, sql+` FOR UPDATE`, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("check lease: %w", err)
	}
	return nil
}
