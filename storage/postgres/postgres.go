// Package postgres is portabot's store on PostgreSQL: the ports the bbolt
// store (package storage) implements, with the same meaning, for a BSP that
// runs several replicas on one database, because one machine is not enough
// or because its work must go on when a machine stops.
//
// bbolt has one process, so it holds claims in memory. Here a claim is a
// lease, a row in the database that names the replica holding a
// conversation, a client's replies or a case's notices, and when it expires.
// A living replica renews its leases; a replica that dies stops renewing
// them, and another takes the work over once they expire.
package postgres

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"portabot/bot"
)

// KeySize is the length of a seal key: AES-256, as for the bbolt store, so
// one PORTABOT_DB_KEY serves either.
const KeySize = 32

// DefaultLeaseTTL is how long a replica's claim outlives its last renewal.
// A replica renews its leases every third of it, so a slow query or a
// pause of the garbage collector does not lose them, and a replica that
// died holds its work up to this long.
const DefaultLeaseTTL = 30 * time.Second

// DB is the PostgreSQL store. It is safe for concurrent use, and any number
// of DBs, in one process or many, may share one database.
type DB struct {
	pool   *pgxpool.Pool
	sealer cipher.AEAD // nil without WithSealKey
	pkey   []byte      // bot.PseudonymKey of the seal key, nil without one
	// created is set when this open made the schema: a first start.
	created bool
	now     func() time.Time
	ttl     time.Duration
	// holder names this DB on its leases: renewal and Close find its own
	// by it.
	holder string

	// claiming is held (a token in a channel of one, so that a wait for it
	// ends with the caller's context) by the one claim of this DB that is
	// looking for a conversation and leasing it, with inCursor, the
	// conversation claimed last, for round-robin. Workers that looked at
	// once would all find the same conversation and queue on its lease's
	// row lock, each claim waiting for the others: the claim ran five times
	// a message, nearly all of it waiting (docs/scaling.md).
	claiming chan struct{}
	inCursor string

	fences fences // the claims this DB holds, by owner: see fence.go

	commits atomic.Uint64 // write transactions committed, for metrics

	stopBeat context.CancelFunc
	beatDone chan struct{}
	closed   sync.Once
}

type options struct {
	now        func() time.Time
	sealKey    []byte
	sealKeySet bool
	ttl        time.Duration
	tracer     pgx.QueryTracer
	minMax     int32
}

// An Option changes how Open opens the store.
type Option func(*options)

// WithSealKey sets the key that seals client text at rest (the inbox). It
// must be KeySize bytes. Without it the store keeps conversations and cases,
// but Enqueue refuses to store messages.
func WithSealKey(key []byte) Option {
	k := append([]byte(nil), key...)
	return func(o *options) { o.sealKey, o.sealKeySet = k, true }
}

// WithClock replaces time.Now for the times the store sets itself
// (SetWABA's Case.Updated and audit entry, the processed marker). Leases
// run on the database's clock, which all replicas share.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLeaseTTL sets how long a claim outlives this replica's last renewal
// (default DefaultLeaseTTL).
func WithLeaseTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithMinMaxConns raises the pool's size to at least n connections when the
// URL does not set pool_max_conns: a caller that runs many workers knows
// better than pgx's default, the number of CPUs.
func WithMinMaxConns(n int32) Option { return func(o *options) { o.minMax = n } }

// Open connects to the database at url (postgres://…), applies the schema
// migrations it lacks (under an advisory lock, so replicas that start
// together apply them once) and starts renewing this replica's leases.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	o := options{now: time.Now, ttl: DefaultLeaseTTL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.ttl < 3*time.Millisecond {
		return nil, fmt.Errorf("postgres: lease TTL %v is too short to renew", o.ttl)
	}
	var sealer cipher.AEAD
	if o.sealKeySet {
		var err error
		if sealer, err = newSealer(o.sealKey); err != nil {
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's error repeats the URL with its password masked.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") && cfg.MaxConns < o.minMax {
		cfg.MaxConns = o.minMax
	}
	if o.tracer != nil {
		cfg.ConnConfig.Tracer = o.tracer
	}
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set && !strings.Contains(url, "jit=") {
		// The store's statements are short; JIT compiling one whose
		// estimate a stale statistic inflated costs more CPU than running
		// it (100 ms against 1 ms, measured on the claim query).
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	applied, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{pool: pool, sealer: sealer, now: o.now, ttl: o.ttl, holder: newToken(), beatDone: make(chan struct{}),
		claiming: make(chan struct{}, 1),
		created:  len(applied) > 0 && applied[0].Version == 1}
	if sealer != nil {
		db.pkey = bot.PseudonymKey(o.sealKey)
	}
	beat, stop := context.WithCancel(context.WithoutCancel(ctx))
	db.stopBeat = stop
	go db.renew(beat)
	return db, nil
}

// Close gives up this replica's leases, so that other replicas take its
// work at once rather than after the TTL, and closes the connections.
func (db *DB) Close() error {
	var err error
	db.closed.Do(func() {
		db.stopBeat()
		<-db.beatDone
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, e := db.pool.Exec(ctx, `DELETE FROM leases WHERE holder = $1`, db.holder); e != nil {
			err = fmt.Errorf("postgres: give up leases: %w", e)
		}
		db.pool.Close()
	})
	return err
}

// renew extends this replica's leases every third of the TTL until ctx
// ends. One statement renews them all, whatever their number.
func (db *DB) renew(ctx context.Context) {
	defer close(db.beatDone)
	t := time.NewTicker(db.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A failed renewal is retried at the next tick; leases that
		// expire meanwhile are taken by another replica, which is what
		// the TTL is for.
		_, _ = db.pool.Exec(ctx, `UPDATE leases SET expires = clock_timestamp() + make_interval(secs => $2)
			WHERE holder = $1`, db.holder, db.ttl.Seconds())
	}
}

// WriteStats counts write transactions. PostgreSQL commits each on its own,
// so commits and writes are the same number (bbolt groups them).
func (db *DB) WriteStats() (commits, writes uint64) {
	n := db.commits.Load()
	return n, n
}

// tx runs fn in a transaction and commits it; any error rolls it back, so a
// refused write leaves nothing behind.
func (db *DB) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.pool, fn)
	if err == nil {
		db.commits.Add(1)
	}
	return err
}

// newSealer is AES-256-GCM with a random 96-bit nonce per value, in front
// of the ciphertext, as the bbolt store seals.
func newSealer(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("postgres: seal key must be %d bytes (AES-256), got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("postgres: seal key: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("postgres: seal key: %w", err)
	}
	return aead, nil
}

var errNoSealKey = errors.New("no seal key configured (PORTABOT_DB_KEY); client messages are never stored in the clear")

// sealAD binds a sealed message to its conversation and id: a value copied
// onto another row fails to open instead of passing for that row's message.
func sealAD(conv, messageID string) []byte {
	return []byte("inbox\x00" + conv + "\x00" + messageID)
}

func (db *DB) seal(conv, messageID string, plain []byte) ([]byte, error) {
	if db.sealer == nil {
		return nil, errNoSealKey
	}
	return db.sealer.Seal(nil, nil, plain, sealAD(conv, messageID)), nil
}

func (db *DB) unseal(conv, messageID string, sealed []byte) ([]byte, error) {
	if db.sealer == nil {
		return nil, fmt.Errorf("cannot be opened: %w", errNoSealKey)
	}
	pt, err := db.sealer.Open(nil, nil, sealed, sealAD(conv, messageID))
	if err != nil {
		return nil, errors.New("cannot be opened with the configured seal key (PORTABOT_DB_KEY differs from the one it was written with, or the row is damaged)")
	}
	return pt, nil
}

// newToken is 128 random bits: a lease's token, a replica's name.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
