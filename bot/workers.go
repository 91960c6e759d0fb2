package bot

import (
	"context"
	"log/slog"
	"time"
)

// What the delivery package's runner and dispatchers need of the engine
// beyond its turns: its clock, its log, and the cases and windows behind
// the rows they deliver.

// Now is the engine's clock: the outbox's due times are read on it.
func (b *Bot) Now() time.Time { return b.cfg.Now() }

// Logger is the engine's log, which the workers that drive it share.
func (b *Bot) Logger() *slog.Logger { return b.log }

// Case returns the case with id, or an error matching ErrNotFound.
func (b *Bot) Case(ctx context.Context, id string) (Case, error) { return b.store.Case(ctx, id) }

// ParkReply is Reengage for a reply the dispatcher could not send for the
// closed window; metaSaid is Meta's 131047, which outweighs the client's
// last message by our clock. open reports that the client wrote since the
// reply was made: nothing needs to wait, and lastSeen is the start of their
// open window.
func (b *Bot) ParkReply(ctx context.Context, key string, metaSaid bool) (open bool, lastSeen time.Time, err error) {
	return b.reengage(ctx, key, metaSaid, false)
}
