package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"portabot/bot"
	"portabot/bot/delivery"
	"portabot/storage"
	"portabot/storage/postgres"
)

// serveStore is what serve needs of a store, whichever backend PORTABOT_DB
// names: the bot's ports, and what operators watch and prune.
type serveStore interface {
	bot.Store
	bot.Inbox
	bot.Outbox
	bot.Notices
	InboxDepth(ctx context.Context) (int, error)
	OutboxStats(ctx context.Context) (pending, sent, parked, failed int, err error)
	NoticeStats(ctx context.Context) (pending, sent, failed int, err error)
	PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error)
	WriteStats() (commits, writes uint64)
	Close() error
	// Created reports a store made by this open: a first start.
	Created() bool
	// Health is /readyz's probe of the store.
	Health(ctx context.Context) error
	bot.TokenVault
	// RememberTrigger is Slack's replay guard (slack.Triggers).
	RememberTrigger(ctx context.Context, trigger string, expires time.Time) (seen bool, err error)
	// AuditRefusal records an agent refused an action on a case.
	AuditRefusal(ctx context.Context, caseID, user, action string) error
}

// serveConns is the fewest connections serve's pool may open, unless the URL
// says otherwise (pool_max_conns): its runner's workers, its parallel sends
// and its listener each hold one at times, and pgx's default (the number of
// CPUs, at least 4) would leave them waiting for each other.
const serveConns = parallelSends + 8

// isPostgres reports whether PORTABOT_DB names a PostgreSQL database rather
// than a bbolt file.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openServeStore opens the store PORTABOT_DB names: a postgres:// URL, shared by
// every replica, or else the bbolt file, the embedded default.
//
// leaseTTL is how long a replica's claims outlive it on PostgreSQL: short
// enough that a dead replica's clients wait little, long enough that a live
// one, slowed down, renews in time (it renews every third of it).
func openServeStore(ctx context.Context, db string, key []byte, leaseTTL time.Duration) (serveStore, error) {
	if isPostgres(db) {
		return postgres.Open(ctx, db, postgres.WithSealKey(key), postgres.WithMinMaxConns(serveConns), postgres.WithLeaseTTL(leaseTTL))
	}
	st, err := storage.Open(db, append([]storage.Option{storage.WithSealKey(key)}, storeFaults...)...)
	if err != nil {
		return nil, err
	}
	return boltStore{st}, nil
}

// storeKey is dbKey, except that on PostgreSQL the key must be configured:
// sandbox mode keeps a generated one in a file beside a bbolt file, and
// replicas on other machines could not share it.
func storeKey(cfg serveConfig) ([]byte, error) {
	if isPostgres(cfg.DB) && cfg.DBKey == "" {
		return nil, errors.New("PORTABOT_DB_KEY is required with PostgreSQL: every replica must seal with the same key")
	}
	return dbKey(cfg)
}

// boltStore gives the bbolt store's write counts the shape metrics reads.
type boltStore struct{ *storage.DB }

func (s boltStore) WriteStats() (commits, writes uint64) {
	w := s.DB.WriteStats()
	return w.Commits, w.Writes
}

// listener is a store that tells a replica when another has work for it.
type listener interface {
	Listen(ctx context.Context, wake func(channel string))
}

// listenForWork wakes serve's workers when another replica, sharing st,
// has work for them, until ctx ends; on bbolt, the only process is the one
// that made the work, and it wakes its workers itself.
func listenForWork(ctx context.Context, st serveStore, runner *delivery.Runner, replies *delivery.Dispatcher, notices *delivery.NoticeDispatcher) {
	l, ok := st.(listener)
	if !ok {
		return
	}
	bot.GuardLoop(ctx, "replica listener", nil, func(ctx context.Context) { listen(ctx, l, runner, replies, notices) })
}

// listen is listenForWork's loop, run under bot.GuardLoop.
func listen(ctx context.Context, l listener, runner *delivery.Runner, replies *delivery.Dispatcher, notices *delivery.NoticeDispatcher) {
	l.Listen(ctx, func(channel string) {
		switch channel {
		case postgres.ChannelInbox:
			runner.Notify()
		case postgres.ChannelOutbox:
			replies.Notify()
		case postgres.ChannelNotices:
			if notices != nil {
				notices.Notify()
			}
		}
	})
}

// outboxPruner is a store whose sent replies can be pruned.
type outboxPruner interface {
	PruneOutbox(ctx context.Context, before time.Time, limit int) (int, error)
}

// simStatePath is where sandbox mode keeps the simulated Meta's state:
// beside a bbolt file, and nowhere on PostgreSQL, whose URL is no file name
// (and may hold a password that a failed save would log).
func simStatePath(db string) string {
	if isPostgres(db) {
		return ""
	}
	return db + ".sim.json"
}
