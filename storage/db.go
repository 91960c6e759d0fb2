// Package storage keeps portabot's conversations, cases and audit trail, and
// the durable queues around them: the inbox of client messages waiting to be
// processed, the outbox of replies waiting to be sent, and the notices
// waiting to be posted to the agents' channel. It implements bot.Store,
// bot.Inbox, bot.Outbox and bot.Notices on bbolt, the embedded default: one
// process, nothing to install. Every backend passes the same contract tests,
// so the bot cannot tell which one it runs on.
//
// The store is two bbolt files, each with its own writer (see writer.go):
// the main file at the path given to Open, and the inbox file beside it, at
// InboxPath(path) (the path with "-inbox" appended: portabot.db-inbox).
// Open takes the lock of both and Close releases both; they belong
// together, and are copied, moved and removed together. The inbox has a file
// of its own so that the commit acknowledging a webhook is small and never
// waits behind the engine's turns, which commit to the main file.
//
// The main file holds these buckets:
//
//	meta           "schema" -> format version, so an older binary refuses a newer file
//	conversations  conversation key (the client's first WhatsApp id or BSUID) -> JSON bot.Conversation
//	client_ids     a client's current phone number or BSUID, when not the key -> conversation key
//	cases          8-byte big-endian case number -> JSON bot.Case
//	audit          case number + 8-byte big-endian sequence -> JSON bot.AuditEvent
//	processed      inbound message id -> when its turn was committed, Unix seconds, 8 bytes big-endian (RFC 3339 text in older files)
//	case_threads   case number -> the agents' thread of the case (Slack's message ts)
//	slack_triggers an agent action's trigger id -> when Slack stops accepting its signature, Unix ns, 8 bytes big-endian
//
//	outbox            8-byte big-endian row id -> JSON bot.Outbound (pending, parked and failed rows)
//	outbox_sent       8-byte big-endian row id -> JSON bot.Outbound without its Reply (sent rows)
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
// The inbox file holds these:
//
//	meta           "schema" -> format version, as in the main file
//	inbox          client id + 0x00 + 8-byte big-endian sequence -> sealed JSON bot.Inbound
//	inbox_ids      inbound message id -> its inbox key
//	inbox_convs    client id -> 8-byte count of its waiting messages
//
// A message is new to Enqueue when neither the inbox's inbox_ids nor the main
// file's processed bucket knows its id. The Commit of its turn writes the
// main file, processed marker included, and once that is durable queues the
// message's removal from the inbox, a lazy write that shares the next
// acknowledgement's commit (see writer.go). A crash between the two leaves a
// row whose id is processed; Claim never hands such a row out, and removes
// it.
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
// and key, and deleted once the turn that processed them is committed.
// Outbox rows hold the bot's own replies and are stored as they are until
// Meta accepts them. Then they move to outbox_sent without their text, which
// nothing needs any more, and PruneOutbox deletes them once no status is
// expected.
//
// A case's thread lives in case_threads, not in its record: turns write whole
// case records from copies read earlier, and would otherwise erase a thread
// set in between (see SetThread).
//
// Claims (a conversation taken from the inbox, a client's next reply taken
// from the outbox, a case's next notice) are held in memory: bbolt allows one process, so a mutex
// and a set are all the locking they need, and a restart frees them.
//
// Writes are group-committed: one writer goroutine per file applies every
// write waiting in one transaction, so concurrent callers share one fsync,
// and a caller returns once its own write is durable (see writer.go). Reads
// are bbolt read transactions, which never wait for a writer.
package storage

import (
	"bytes"
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

	"portabot/bot"
)

// schemaVersion is the layout this code reads and writes, recorded in the
// meta bucket of both files. Raise it with a migration in Open whenever a
// stored format changes incompatibly.
//
//	1  one file, the inbox in it
//	2  the inbox in a file of its own (Open moves a version 1 inbox there)
//	3  sent outbox rows in outbox_sent, without their reply (Open moves them
//	   there); an older binary would not find them
//	4  the case indexes and counts (index.go; Open builds them from the
//	   cases); an older binary would write cases without them
const schemaVersion = 4

var (
	bucketMeta          = []byte("meta")
	bucketConversations = []byte("conversations")
	bucketClientIDs     = []byte("client_ids")
	bucketCases         = []byte("cases")
	bucketAudit         = []byte("audit")
	bucketProcessed     = []byte("processed")
	bucketCaseThreads   = []byte("case_threads")

	bucketInbox      = []byte("inbox")
	bucketInboxIDs   = []byte("inbox_ids")
	bucketInboxConvs = []byte("inbox_convs")

	bucketOutbox         = []byte("outbox")
	bucketOutboxSent     = []byte("outbox_sent")
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

	// bucketBusinessTokens holds, by case, the business token Embedded
	// Signup gave for the client's WABA, sealed like the inbox.
	bucketBusinessTokens = []byte("business_tokens")

	keySchema = []byte("schema")

	// mainBuckets and inboxBuckets are created by Open, each in its file,
	// so that no other method has to cope with a missing one.
	mainBuckets = [][]byte{
		bucketConversations, bucketClientIDs, bucketCases, bucketAudit, bucketProcessed, bucketCaseThreads,
		bucketOutbox, bucketOutboxSent, bucketOutboxByClient, bucketOutboxPending, bucketOutboxHeads,
		bucketOutboxDue, bucketOutboxMeta, bucketOutboxStats,
		bucketNotices, bucketNoticesPending, bucketNoticesHeads, bucketNoticesDue, bucketNoticesStats,
		bucketSlackTriggers,
		bucketBusinessTokens,
		bucketCasesByState, bucketCasesByNumber, bucketCasesClosed, bucketCaseCounts,
	}
	inboxBuckets = [][]byte{bucketInbox, bucketInboxIDs, bucketInboxConvs}
)

// InboxPath returns the path of the inbox file that goes with the main file
// at path: path with "-inbox" appended.
func InboxPath(path string) string { return path + "-inbox" }

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
	bolt   *bolt.DB // the main file
	ibolt  *bolt.DB // the inbox file
	path   string
	now    func() time.Time
	sealer cipher.AEAD // nil without WithSealKey
	pkey   []byte      // bot.PseudonymKey of the seal key, nil without one

	// Claims live in memory: bbolt has one process, so a mutex and a set are
	// all the locking a claim needs, and a restart releases every claim.
	// On PostgreSQL the same claims become row locks (SELECT ... FOR UPDATE
	// SKIP LOCKED) held by the claiming transaction.
	inMu     sync.Mutex
	inHeld   map[string]bool // conversations claimed from the inbox
	inCursor []byte          // the conversation claimed last, for round-robin

	outQ    *queue[bot.Outbound] // replies, held by client
	noticeQ *queue[bot.Notice]   // notices for agents, held by case

	// Every write to a file goes through that file's writer, which commits
	// the writes waiting together (see writer.go).
	w  *writer // the main file's
	iw *writer // the inbox file's

	dropMu   sync.Mutex
	dropping map[string]bool // messages whose removal from the inbox is queued

	created    bool // Open created both files: the store's first start
	inboxFresh bool // Open created the inbox file

	probeMu sync.Mutex
	probe   probeState

	// expMu guards where Expire and PruneProcessed stopped last, so the
	// next call goes on from there (see scanFrom).
	expMu                     sync.Mutex
	expCase, expConv, expMark []byte
	// expCasesAt is the cutoff of Expire's last full walk of the cases
	// that found fewer than it could take: every case due then was
	// found (see expRescan).
	expCasesAt time.Time

	scrubOwed atomic.Bool // the last Scrub left freed pages unscrubbed
}

// Created reports whether Open created the store's files, which happens
// only where neither existed: the store's first start.
func (db *DB) Created() bool { return db.created }

type options struct {
	lockTimeout time.Duration
	now         func() time.Time
	sealKey     []byte
	sealKeySet  bool
	newInbox    bool
	writeFault  func() error
}

// An Option changes how Open opens the file.
type Option func(*options)

// WithLockTimeout sets how long Open waits for another process to release
// the files (default one second). Zero is refused: bbolt would wait forever,
// and a second instance would hang without a word.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithClock replaces time.Now for the times the store sets itself (SetWABA's
// Case.Updated and audit entry, the processed marker).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open opens the bbolt file at path and the inbox file beside it
// (InboxPath), creating them (mode 0600) if they do not exist. It fails
// after the lock timeout, with an error matching ErrLocked, when either file
// is held elsewhere, refuses files written by a newer portabot, and refuses
// a seal key of the wrong length. A file written before the inbox had a file
// of its own has its waiting messages moved there.
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
	mainState, inboxState, err := checkFiles(path)
	if err != nil {
		return nil, err
	}
	bdb, err := openBolt(path, &bolt.Options{Timeout: o.lockTimeout})
	if err != nil {
		return nil, err
	}
	if mainState == filePresent && inboxState == fileMissing && !o.newInbox {
		// Only a store from before the inbox had a file of its own may
		// lack it; any later one lost acknowledged messages with it.
		if err := refuseMissingInbox(bdb, path); err != nil {
			_ = bdb.Close()
			return nil, err
		}
	}
	if inboxState == filePresent {
		if err := walkInbox(InboxPath(path), o.lockTimeout); err != nil {
			_ = bdb.Close()
			return nil, err
		}
	}
	// The inbox is a queue: nearly every page it ever used is free again,
	// and a freelist written with every commit would make each
	// acknowledgement write it whole. Unsynced, the freelist is rebuilt at
	// Open by a scan of the file, which is small unless a backlog waits.
	ibdb, err := openBolt(InboxPath(path), &bolt.Options{Timeout: o.lockTimeout, NoFreelistSync: true,
		FreelistType: bolt.FreelistMapType})
	if err != nil {
		_ = bdb.Close()
		return nil, err
	}
	db := &DB{bolt: bdb, ibolt: ibdb, path: path, now: o.now, sealer: sealer,
		inHeld: map[string]bool{}, outQ: newOutboxQueue(), noticeQ: newNoticeQueue(),
		dropping: map[string]bool{}, created: mainState == fileMissing, inboxFresh: inboxState == fileMissing}
	if sealer != nil {
		db.pkey = bot.PseudonymKey(o.sealKey)
	}
	if err := db.initSafely(); err != nil {
		_ = ibdb.Close()
		_ = bdb.Close()
		return nil, err
	}
	db.w = startWriter(bdb, fillAppended, o.writeFault)
	db.iw = startWriter(ibdb, fillInbox, o.writeFault)
	return db, nil
}

// appendFill is the FillPercent of the buckets whose keys come from a
// sequence, so that new rows always go at the end, and of outbox_sent, whose
// rows arrive in nearly that order, as replies go out about in the order
// they were made. bbolt's default of half a page suits keys that arrive in
// any order; here it leaves two outbox rows of about a kilobyte on each page
// where three fit, whenever a group commit appends several turns' rows at
// once. The tenth left free is headroom for a row that grows a little in
// place: an attempt recorded on a row owed, a status on a sent one. bbolt
// never splits a page of four rows or fewer, so rows appended one commit at
// a time gain nothing either way.
const appendFill = 0.9

// fillAppended sets appendFill on the main file's buckets filled at their
// end, and scatterFill on those keyed by client or message id, for the
// transaction tx; bbolt keeps FillPercent per transaction.
func fillAppended(tx *bolt.Tx) {
	setFill(tx, appendFill, bucketOutbox, bucketOutboxSent, bucketNotices)
	setFill(tx, scatterFill, bucketConversations, bucketProcessed, bucketOutboxMeta, bucketOutboxByClient)
}

// fillInbox sets scatterFill on the inbox file's buckets for the
// transaction tx: they are keyed by client and message id too, and a burst
// fills them as a BSP's clients fill the main file.
func fillInbox(tx *bolt.Tx) { setFill(tx, scatterFill, inboxBuckets...) }

func setFill(tx *bolt.Tx, fill float64, names ...[]byte) {
	for _, name := range names {
		if b := tx.Bucket(name); b != nil {
			b.FillPercent = fill
		}
	}
}

// scatterFill is the FillPercent of the buckets whose keys arrive in any
// order and that grow with every client and message: conversations,
// processed markers and the outbox's indexes. A group commit puts many of
// their keys into one page at once, and bbolt's default then splits it into
// half-full pages, which stay half full: these buckets took twice the pages
// their rows need. Pages split fuller take later keys a few at a time, and
// a split costs less than the pages a BSP's clients would otherwise fill.
const scatterFill = 0.85

// openBolt opens one of the store's files, taking its lock within
// opts.Timeout. bbolt panics on some damaged pages; that is an error
// naming the file here, not a crash.
func openBolt(path string, opts *bolt.Options) (bdb *bolt.DB, err error) {
	defer func() {
		if v := recover(); v != nil {
			bdb, err = nil, fmt.Errorf("storage: %s is damaged (%v); %s", path, v, restoreHint)
		}
	}()
	bdb, err = bolt.Open(path, 0o600, opts)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{path: path, timeout: opts.Timeout}
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	return bdb, nil
}

// init checks the schema version of both files, moves an inbox left in the
// main file by schema 1 to the inbox file, creates the buckets, so that no
// other method has to cope with a missing one, and moves the sent outbox
// rows a file before schema 3 keeps among the others to outbox_sent.
func (db *DB) init() error {
	if err := db.bolt.View(func(tx *bolt.Tx) error { return checkSchema(tx, db.path) }); err != nil {
		return err
	}
	ipath := InboxPath(db.path)
	err := db.ibolt.Update(func(tx *bolt.Tx) error {
		if err := setSchema(tx, ipath); err != nil {
			return err
		}
		return createBuckets(tx, inboxBuckets)
	})
	if err != nil {
		return err
	}
	if err := db.moveInbox(); err != nil {
		return err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		from := storedSchema(tx)
		if err := setSchema(tx, db.path); err != nil {
			return err
		}
		// Moved to the inbox file by moveInbox, which committed there
		// first: only now may they go.
		for _, name := range inboxBuckets {
			if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("storage: drop the %s bucket moved to %s: %w", name, ipath, err)
			}
		}
		if err := createBuckets(tx, mainBuckets); err != nil {
			return err
		}
		if from < 3 {
			if err := moveSentRows(tx); err != nil {
				return err
			}
		}
		if from < 4 {
			return buildCaseIndex(tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.checkIdentity()
}

// checkSchema refuses a file whose schema version is unreadable or newer
// than schemaVersion.
func checkSchema(tx *bolt.Tx, path string) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil
	}
	v := meta.Get(keySchema)
	if v == nil {
		return nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return fmt.Errorf("storage: %s has an unreadable schema version %q", path, v)
	}
	if n > schemaVersion {
		return fmt.Errorf("storage: %s has schema version %d, newer than the %d this portabot understands; upgrade portabot or restore a backup", path, n, schemaVersion)
	}
	return nil
}

// storedSchema is the schema version the file records, 0 for a new file.
// An unreadable one also reads as 0; checkSchema refuses it.
func storedSchema(tx *bolt.Tx) int {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(meta.Get(keySchema)))
	return n
}

// setSchema checks the file's schema version and records schemaVersion.
func setSchema(tx *bolt.Tx, path string) error {
	if err := checkSchema(tx, path); err != nil {
		return err
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("storage: create meta bucket: %w", err)
	}
	want := []byte(strconv.Itoa(schemaVersion))
	if bytes.Equal(meta.Get(keySchema), want) {
		return nil
	}
	if err := meta.Put(keySchema, want); err != nil {
		return fmt.Errorf("storage: write schema version: %w", err)
	}
	return nil
}

func createBuckets(tx *bolt.Tx, names [][]byte) error {
	for _, name := range names {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("storage: create %s bucket: %w", name, err)
		}
	}
	return nil
}

// moveInbox copies the inbox buckets a schema 1 main file holds into the
// inbox file, in one transaction there; init then drops them from the main
// file. A crash in between leaves them in both, and the next Open copies
// them again, which changes nothing: the rows keep their keys (their seal is
// bound to bucket and key, not to the file), and the inbox's sequence only
// moves forward.
func (db *DB) moveInbox() error {
	return db.bolt.View(func(mtx *bolt.Tx) error {
		if mtx.Bucket(bucketInbox) == nil {
			return nil
		}
		return db.ibolt.Update(func(itx *bolt.Tx) error {
			for _, name := range inboxBuckets {
				src, dst := mtx.Bucket(name), itx.Bucket(name)
				if src == nil {
					continue
				}
				err := src.ForEach(func(k, v []byte) error { return dst.Put(bytes.Clone(k), bytes.Clone(v)) })
				if err != nil {
					return fmt.Errorf("storage: move the %s bucket to %s: %w", name, InboxPath(db.path), err)
				}
				if seq := src.Sequence(); seq > dst.Sequence() {
					if err := dst.SetSequence(seq); err != nil {
						return fmt.Errorf("storage: move the %s bucket to %s: %w", name, InboxPath(db.path), err)
					}
				}
			}
			return nil
		})
	})
}

// Close makes every write already submitted, then releases both files and
// their locks. A write submitted after Close returns an error matching
// ErrClosed. Calling Close again does nothing.
func (db *DB) Close() error {
	// The main file first: a turn committed there is then taken out of the
	// inbox, which is still open.
	db.w.stop()
	db.iw.stop()
	err := db.ibolt.Close()
	if err != nil {
		err = fmt.Errorf("storage: close %s: %w", InboxPath(db.path), err)
	}
	if cerr := db.bolt.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("storage: close %s: %w", db.path, cerr)
	}
	return err
}

// Path returns the main file the store was opened on; the inbox file is
// InboxPath(Path()).
func (db *DB) Path() string { return db.path }

// Backup writes a consistent copy of the main file to w. It reads a
// snapshot, so the bot keeps committing while the copy is made; the copy
// opens with Open like any other file. The inbox file is not in it: it holds
// only the messages acknowledged and not yet processed, and a store restored
// from the copy starts with an empty inbox.
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
