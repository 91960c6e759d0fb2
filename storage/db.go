// Package storage keeps portabot's conversations, cases and audit trail, and
// the durable queues around them: the inbox of client messages waiting to be
// processed, the outbox of replies waiting to be sent, and the notices
// waiting to be posted to the agents' channel. It implements bot.Store,
// bot.Inbox, bot.Outbox and bot.Notices on bbolt, the embedded default: one
// process, one file, nothing to install. Every backend passes the same
// contract tests, so the bot cannot tell which one it runs on.
//
// The bbolt file holds these buckets:
//
//	meta           "schema" -> format version, so an older binary refuses a newer file
//	conversations  client WhatsApp id -> JSON bot.Conversation
//	cases          8-byte big-endian case number -> JSON bot.Case
//	audit          case number + 8-byte big-endian sequence -> JSON bot.AuditEvent
//	processed      inbound message id -> RFC 3339 time the message was committed
//	case_threads   case number -> the agents' thread of the case (Slack's message ts)
//
//	inbox          client id + 0x00 + 8-byte big-endian sequence -> sealed JSON bot.Inbound
//	inbox_ids      inbound message id -> its inbox key
//	inbox_convs    client id -> 8-byte count of its waiting messages
//
//	outbox            8-byte big-endian row id -> JSON bot.Outbound
//	outbox_by_client  client id + 0x00 + row id -> empty (every row of a client)
//	outbox_pending    client id + 0x00 + row id -> empty (pending rows only)
//	outbox_heads      client id -> its outbox_due key
//	outbox_due        8-byte NextAttempt (Unix ns) + row id of a client's oldest pending row -> client id
//	outbox_meta       Meta message id -> row id
//	outbox_stats      row state -> 8-byte count
//
//	notices          8-byte big-endian notice id -> JSON bot.Notice
//	notices_pending  case number + notice id -> empty (pending notices only)
//	notices_heads    case number -> its notices_due key
//	notices_due      8-byte NextAttempt (Unix ns) + notice id of a case's oldest pending notice -> case number
//	notices_stats    notice state -> 8-byte count
//
// Case numbers are stored big-endian so that byte order is numeric order: case
// 10 sorts after case 9, and the 8-byte prefix of an audit key can never match
// another case's (case 2's trail never picks up case 20's events). Keys that
// start with a client id put 0x00 after it, so that one number's prefix scan
// never reads a longer number's rows.
//
// A message's text may be the client's one-time code or new PIN, so inbox
// rows are sealed with AES-256-GCM under the key given to WithSealKey (from
// PORTABOT_DB_KEY, or LoadOrCreateKey in sandbox mode), bound to their bucket
// and key, and deleted by the Commit of the turn that processed them.
// Outbox rows hold the bot's own replies and are stored as they are.
//
// A case's thread lives in case_threads, not in its record: turns write whole
// case records from copies read earlier, and would otherwise erase a thread
// set in between (see SetThread).
//
// Claims (a conversation taken from the inbox, a client's next reply taken
// from the outbox, a case's next notice) are held in memory: bbolt allows one process, so a mutex
// and a set are all the locking they need, and a restart frees them.
//
// Writes are group-committed: one writer goroutine applies every write
// waiting in one transaction, so concurrent callers share one fsync, and a
// caller returns once its own write is durable (see writer.go). Reads are
// bbolt read transactions, which never wait for the writer.
package storage

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// schemaVersion is the layout this code reads and writes. Raise it with a
// migration in Open whenever a stored format changes incompatibly.
const schemaVersion = 1

var (
	bucketMeta          = []byte("meta")
	bucketConversations = []byte("conversations")
	bucketCases         = []byte("cases")
	bucketAudit         = []byte("audit")
	bucketProcessed     = []byte("processed")
	bucketCaseThreads   = []byte("case_threads")

	bucketInbox      = []byte("inbox")
	bucketInboxIDs   = []byte("inbox_ids")
	bucketInboxConvs = []byte("inbox_convs")

	bucketOutbox         = []byte("outbox")
	bucketOutboxByClient = []byte("outbox_by_client")
	bucketOutboxPending  = []byte("outbox_pending")
	bucketOutboxHeads    = []byte("outbox_heads")
	bucketOutboxDue      = []byte("outbox_due")
	bucketOutboxMeta     = []byte("outbox_meta")
	bucketOutboxStats    = []byte("outbox_stats")

	bucketNotices        = []byte("notices")
	bucketNoticesPending = []byte("notices_pending")
	bucketNoticesHeads   = []byte("notices_heads")
	bucketNoticesDue     = []byte("notices_due")
	bucketNoticesStats   = []byte("notices_stats")

	keySchema = []byte("schema")

	// allBuckets are created by Open, so that no other method has to cope
	// with a missing one.
	allBuckets = [][]byte{
		bucketConversations, bucketCases, bucketAudit, bucketProcessed, bucketCaseThreads,
		bucketInbox, bucketInboxIDs, bucketInboxConvs,
		bucketOutbox, bucketOutboxByClient, bucketOutboxPending, bucketOutboxHeads,
		bucketOutboxDue, bucketOutboxMeta, bucketOutboxStats,
		bucketNotices, bucketNoticesPending, bucketNoticesHeads, bucketNoticesDue, bucketNoticesStats,
	}
)

// ErrLocked is matched (with errors.Is) by the error Open returns when another
// process, or another DB in this one, holds the file.
var ErrLocked = errors.New("storage: database file is locked")

type lockedError struct {
	path    string
	timeout time.Duration
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("storage: %s is in use by another portabot process (bbolt lock not acquired within %v)", e.path, e.timeout)
}

func (e *lockedError) Is(target error) bool { return target == ErrLocked }

// DB is the bbolt store. It is safe for concurrent use.
type DB struct {
	bolt   *bolt.DB
	path   string
	now    func() time.Time
	sealer cipher.AEAD // nil without WithSealKey

	// Claims live in memory: bbolt has one process, so a mutex and a set are
	// all the locking a claim needs, and a restart releases every claim.
	// On PostgreSQL the same claims become row locks (SELECT ... FOR UPDATE
	// SKIP LOCKED) held by the claiming transaction.
	inMu     sync.Mutex
	inHeld   map[string]bool // conversations claimed from the inbox
	inCursor []byte          // the conversation claimed last, for round-robin

	outMu   sync.Mutex
	outHeld map[string]*outHold // client -> the claim holding its head row

	noticeMu   sync.Mutex
	noticeHeld map[string]*noticeHold // case id -> the claim holding its head notice

	// Every write goes through one writer goroutine, which commits the
	// writes waiting in queue together (see writer.go).
	wmu        sync.Mutex
	wcond      sync.Cond // signalled, with wmu, when queue grows or closing is set
	queue      []*writeReq
	closing    bool
	writerDone chan struct{} // closed when the writer has stopped
	commits    atomic.Uint64
	writes     atomic.Uint64
}

type options struct {
	lockTimeout time.Duration
	now         func() time.Time
	sealKey     []byte
	sealKeySet  bool
}

// An Option changes how Open opens the file.
type Option func(*options)

// WithLockTimeout sets how long Open waits for another process to release
// the file (default one second). Zero is refused: bbolt would wait forever,
// and a second instance would hang without a word.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithClock replaces time.Now for the times the store sets itself (SetWABA's
// Case.Updated and audit entry, the processed marker).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open opens the bbolt file at path, creating it (mode 0600) if it does not
// exist. It fails after the lock timeout, with an error matching ErrLocked,
// when the file is held elsewhere, refuses a file written by a newer
// portabot, and refuses a seal key of the wrong length.
func Open(path string, opts ...Option) (*DB, error) {
	o := options{lockTimeout: time.Second, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.lockTimeout <= 0 {
		return nil, fmt.Errorf("storage: lock timeout must be positive, got %v", o.lockTimeout)
	}
	var sealer cipher.AEAD
	if o.sealKeySet {
		var err error
		if sealer, err = newSealer(o.sealKey); err != nil {
			return nil, err
		}
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{path: path, timeout: o.lockTimeout}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db := &DB{bolt: bdb, path: path, now: o.now, sealer: sealer,
		inHeld: map[string]bool{}, outHeld: map[string]*outHold{}, noticeHeld: map[string]*noticeHold{}}
	if err := db.init(); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	db.wcond.L = &db.wmu
	db.writerDone = make(chan struct{})
	go db.runWriter()
	return db, nil
}

// init checks the schema version and creates the buckets, so that no other
// method has to cope with a missing one.
func (db *DB) init() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("storage: create meta bucket: %w", err)
		}
		if v := meta.Get(keySchema); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("storage: %s has an unreadable schema version %q", db.path, v)
			}
			if n > schemaVersion {
				return fmt.Errorf("storage: %s has schema version %d, newer than the %d this portabot understands; upgrade portabot or restore a backup", db.path, n, schemaVersion)
			}
		} else if err := meta.Put(keySchema, []byte(strconv.Itoa(schemaVersion))); err != nil {
			return fmt.Errorf("storage: write schema version: %w", err)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("storage: create %s bucket: %w", name, err)
			}
		}
		return nil
	})
}

// Close makes every write already submitted, then releases the file and its
// lock. A write submitted after Close returns an error matching ErrClosed.
// Calling Close again does nothing.
func (db *DB) Close() error {
	db.stopWriter()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("storage: close %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file the store was opened on.
func (db *DB) Path() string { return db.path }

// Backup writes a consistent copy of the whole file to w. It reads a snapshot,
// so the bot keeps committing while the copy is made; the copy opens with Open
// like any other file.
func (db *DB) Backup(w io.Writer) error {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: backup %s: %w", db.path, err)
	}
	return nil
}
