package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The channels a replica hears when another has work for it. Payloads are
// empty: a notification says where to look, never whose message it is, so
// no phone number travels outside the tables.
const (
	ChannelInbox   = "portabot_inbox"   // a message was enqueued
	ChannelOutbox  = "portabot_outbox"  // a reply is due
	ChannelNotices = "portabot_notices" // a notice is due
)

// notify tells every listening replica, once tx commits, that channel has
// work. PostgreSQL folds identical notifications of one transaction into
// one.
func notify(ctx context.Context, tx execer, channel string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, channel); err != nil {
		return fmt.Errorf("postgres: notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls wake with the channel's name whenever a replica (this one
// included) has work on it, until ctx ends. It holds one connection of the
// pool; when that connection fails it connects again, after a pause. Once
// it listens, on the first connection and every new one, it calls wake for
// every channel: what was said before it listened is lost. Workers still
// poll: a notification only makes them look sooner.
func (db *DB) Listen(ctx context.Context, wake func(channel string)) {
	channels := []string{ChannelInbox, ChannelOutbox, ChannelNotices}
	for ctx.Err() == nil {
		err := db.listen(ctx, channels, wake)
		if ctx.Err() != nil {
			return
		}
		_ = err // the workers' polling covers the gap; nothing to tell
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (db *DB) listen(ctx context.Context, channels []string, wake func(string)) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection that listened is not given back to the pool: another
	// user would inherit its LISTENs.
	defer func() { _ = conn.Hijack().Close(context.Background()) }()
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	for _, ch := range channels {
		wake(ch)
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		wake(n.Channel)
	}
}
