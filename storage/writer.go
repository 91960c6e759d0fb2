package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Group commit
//
// bbolt has one writer and makes every commit durable with two fdatasyncs,
// so a store that gives each caller its own transaction writes at the speed
// of the disk's sync, however many callers wait: a burst of webhooks queues
// up behind one fsync after another. Every write of this store therefore
// goes through one writer goroutine instead. A caller submits its write and
// blocks; the writer takes every write waiting, applies them in one
// transaction, one after the other in the order they were submitted, commits
// once, and answers each caller with its own result. It starts the next
// commit as soon as the last one ends: there is no timer and no waiting for a
// group to fill, so a lone caller pays one commit, as before, and a crowd
// shares one.
//
// The store has two files, the main one and the inbox (see db.go), and one
// writer for each. They commit independently, so the small write that
// acknowledges a webhook pays its own commit and never waits behind the
// engine's turns. A write spans one file only; the one step that changes
// both, a turn taking its message out of the inbox, is two writes in a
// fixed order (see Commit).
//
// That removal is a lazy write: nobody waits for it, and it does not start
// a commit of its own while writes someone waits for keep coming; it goes
// in the next one's transaction, or in its own after lazyDelay. So a burst
// of webhooks pays no extra commits for the messages processed meanwhile.
// Lazy or not, writes are applied in the order they were submitted.
//
// Each write sees the writes applied before it in the same transaction, so
// the store's checks hold across a group exactly as they do between
// separate commits: the second of two Enqueues of one message id finds the
// first, and the second of two Commits of one message gets ErrDuplicate.
//
// One caller's refusal must not cost the others their write, and bbolt has
// no savepoints to roll back one caller's part of a transaction. So a write
// comes in two steps (see writeOp): a check, which only reads, and either
// refuses, writing nothing, or returns the function that writes. A refusal
// (a duplicate, an unknown id, a rule the new state would break) is that
// caller's answer, and the group goes on. An error while writing (an I/O or
// bbolt error, something unexpected) may leave part of a write in the
// transaction, so the group is rolled back, and so is a group whose commit
// fails; then every write of the group runs again, each in a transaction of
// its own, so the innocent ones are committed exactly once and the culprit
// gets its own error.
//
// A caller whose context ends while its write is still waiting takes it back:
// nothing is written. Once the writer has taken the write, the caller waits
// for the true result, since the write may already be on disk.

// ErrClosed is matched (with errors.Is) by the error a write returns when the
// store was closed before it could be made.
var ErrClosed = errors.New("the store is closed")

// maxGroup caps the writes one transaction carries, which bounds the dirty
// pages held in memory and the work redone when a group is rolled back. The
// rest are taken by the next commit, at once.
const maxGroup = 1000

// A writeOp is one caller's write. The writer calls it inside a transaction
// that other callers' writes may share. The op only reads: it checks what it
// must and returns either an error, which refuses the write (nothing of it
// is written; the error is the caller's answer), or apply, the function that
// does the writes (nil when there is nothing to write). An error from apply
// means the transaction may hold part of the write, and rolls back the whole
// group.
//
// An op may run more than once (the writes of a group that was rolled back
// run again), so it must set every result it hands back on each run, and
// touch nothing outside tx: claims, holds and other memory are the caller's
// business once its write returns.
type writeOp func(tx *bolt.Tx) (apply func() error, err error)

// writeReq is a write waiting for the writer, or being made by it.
type writeReq struct {
	op   writeOp
	done chan error // buffered: the writer never waits for the caller
	// after, when set, is called by the writer with the result, for a
	// write nobody waits for (see submitLazy).
	after func(error)
	lazy  bool
	// alone, when set, runs on the writer between two transactions,
	// instead of op inside one: no other write of the file happens
	// meanwhile (see runAlone).
	alone func() error

	// Guarded by writer.mu.
	taken   bool // the writer has it: its caller waits for the result
	dropped bool // its caller gave up before the writer took it
}

// WriteStats counts the store's writes since Open, over both files:
// Commits is the number of durable transactions the writers committed,
// Writes the number of callers' writes they carried (refused ones included,
// as their callers were answered from that transaction). Writes/Commits is
// how many callers shared each fsync. InboxCommits and InboxWrites are the
// part of them made in the inbox file.
type WriteStats struct {
	Commits      uint64
	Writes       uint64
	InboxCommits uint64
	InboxWrites  uint64
}

// WriteStats returns the counts of the writes made so far.
func (db *DB) WriteStats() WriteStats {
	ic, iw := db.iw.commits.Load(), db.iw.writes.Load()
	return WriteStats{Commits: db.w.commits.Load() + ic, Writes: db.w.writes.Load() + iw, InboxCommits: ic, InboxWrites: iw}
}

// A writer is the single writer of one bbolt file: every write to the file
// goes through it. The store has two, one per file, which commit
// independently: an acknowledgement's inbox write never waits for the
// engine's turns, nor a turn for a burst of acknowledgements.
type writer struct {
	bolt *bolt.DB
	// prepare, when set, is called at the start of every transaction, to
	// set what bbolt keeps per transaction (a bucket's FillPercent).
	prepare func(tx *bolt.Tx)

	mu      sync.Mutex
	cond    sync.Cond // signalled, with mu, when queue grows or closing is set
	queue   []*writeReq
	eager   int       // writes in queue that are not lazy
	since   time.Time // when the oldest lazy write in queue was submitted
	alarm   bool      // a timer will signal cond when the oldest lazy write is due
	closing bool
	done    chan struct{} // closed when the writer has stopped
	commits atomic.Uint64
	writes  atomic.Uint64
	// lastFail is why the last commit failed, nil once one succeeds: a
	// full or read-only disk shows here before a client notices.
	lastFail atomic.Pointer[string]
	// commitMu is held for every transaction the writer makes, so that a
	// backup can take its snapshot between two commits (see snapshot).
	commitMu sync.Mutex
	// fault, when set, is asked before each commit; an error fails the
	// transaction as a failing disk would (see WithWriteFault).
	fault func() error
}

// update runs fn in a write transaction on the writer's file, failing it
// with the injected fault, if any, after fn wrote.
func (w *writer) update(fn func(tx *bolt.Tx) error) error {
	w.commitMu.Lock()
	defer w.commitMu.Unlock()
	return w.bolt.Update(func(tx *bolt.Tx) error {
		if w.prepare != nil {
			w.prepare(tx)
		}
		if err := fn(tx); err != nil {
			return err
		}
		if w.fault != nil {
			return w.fault()
		}
		return nil
	})
}

// startWriter starts the writer of bdb; prepare may be nil.
func startWriter(bdb *bolt.DB, prepare func(tx *bolt.Tx), fault func() error) *writer {
	w := &writer{bolt: bdb, prepare: prepare, fault: fault, done: make(chan struct{})}
	w.cond.L = &w.mu
	go w.run()
	return w
}

// write submits a write to the main file and waits for its result. what
// names the operation in the errors write makes itself.
func (db *DB) write(ctx context.Context, what string, op writeOp) error {
	return db.w.write(ctx, what, op)
}

// write submits op and waits for its result. what names the operation in
// the errors write makes itself.
func (w *writer) write(ctx context.Context, what string, op writeOp) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	r := &writeReq{op: op, done: make(chan error, 1)}
	if err := w.submit(what, r); err != nil {
		return err
	}
	var err error
	select {
	case err = <-r.done:
	case <-ctx.Done():
		w.mu.Lock()
		if !r.taken {
			r.dropped = true
			w.mu.Unlock()
			return fmt.Errorf("storage: %s: %w", what, ctx.Err())
		}
		w.mu.Unlock()
		err = <-r.done
	}
	if p, ok := err.(*writePanic); ok {
		// The write panicked in the writer, which survived it; the
		// panic belongs to the caller, as it would without the writer.
		panic(p.value)
	}
	return err
}

// submit queues r, which someone waits for, and wakes the writer; after
// Close it refuses.
func (w *writer) submit(what string, r *writeReq) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return fmt.Errorf("storage: %s: %w", what, ErrClosed)
	}
	w.queue = append(w.queue, r)
	w.eager++
	w.cond.Signal()
	return nil
}

// runAlone runs fn on the writer, after the writes submitted before and
// before those submitted after, outside any transaction of the writer's, and
// returns its result. fn may open its own transactions of the file.
func (w *writer) runAlone(ctx context.Context, what string, fn func() error) error {
	r := &writeReq{alone: fn, done: make(chan error, 1)}
	if err := w.submit(what, r); err != nil {
		return err
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		w.mu.Lock()
		if !r.taken {
			r.dropped = true
			w.mu.Unlock()
			return fmt.Errorf("storage: %s: %w", what, ctx.Err())
		}
		w.mu.Unlock()
		return <-r.done
	}
}

// lazyDelay is how long a lazy write may wait for a write someone waits
// for, whose commit it then shares, before it is committed on its own.
const lazyDelay = 20 * time.Millisecond

// submitLazy queues op, a write nobody waits for and that may wait: it goes
// in the transaction of the next write someone waits for, or after
// lazyDelay in one of its own, so that it costs no commit of its own while
// other writes come. after is called by the writer with its result. Writes
// still keep the order they were submitted in.
func (w *writer) submitLazy(op writeOp, after func(error)) error {
	r := &writeReq{op: op, done: make(chan error, 1), after: after, lazy: true}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing {
		return ErrClosed
	}
	if len(w.queue) == 0 || w.eager == len(w.queue) {
		w.since = time.Now()
	}
	w.queue = append(w.queue, r)
	w.cond.Signal()
	return nil
}

// ready reports whether the writer should commit what is queued now: a
// write someone waits for, a lazy one due, a full group, or Close. With
// w.mu held; when only lazy writes wait, it sets an alarm for the oldest.
func (w *writer) ready() bool {
	if len(w.queue) == 0 {
		return w.closing
	}
	wait := lazyDelay - time.Since(w.since)
	if w.eager > 0 || w.closing || len(w.queue) >= maxGroup || wait <= 0 {
		return true
	}
	if !w.alarm {
		w.alarm = true
		time.AfterFunc(wait, func() {
			w.mu.Lock()
			w.alarm = false
			w.cond.Signal()
			w.mu.Unlock()
		})
	}
	return false
}

// run commits whatever is waiting, as soon as the previous commit ends,
// until stop and the queue is empty.
func (w *writer) run() {
	defer close(w.done)
	var group []*writeReq
	for {
		w.mu.Lock()
		for !w.ready() {
			w.cond.Wait()
		}
		if len(w.queue) == 0 {
			w.mu.Unlock()
			return
		}
		n := min(len(w.queue), maxGroup)
		for i, r := range w.queue[:n] {
			if r.alone != nil {
				n = max(i, 1)
				break
			}
		}
		group = group[:0]
		for _, r := range w.queue[:n] {
			if !r.lazy {
				w.eager--
			}
			if !r.dropped {
				r.taken = true
				group = append(group, r)
			}
		}
		left := copy(w.queue, w.queue[n:])
		clear(w.queue[left:])
		w.queue = w.queue[:left]
		if left > 0 {
			// The lazy writes left wait from now: they were due with
			// the group just taken, or came with a full one.
			w.since = time.Now()
		}
		w.mu.Unlock()

		switch {
		case len(group) == 1 && group[0].alone != nil:
			group[0].answer(group[0].alone())
		case len(group) > 0:
			w.commitGroup(group)
		}
		clear(group)
	}
}

// commitGroup applies the writes of group in one transaction, in order, and
// answers each caller. When the transaction fails, each write runs again
// alone (see the comment at the top of this file).
func (w *writer) commitGroup(group []*writeReq) {
	results := make([]error, len(group))
	err := w.update(func(tx *bolt.Tx) error {
		for i, r := range group {
			refused, err := runOp(tx, r.op)
			if err != nil {
				return err
			}
			results[i] = refused
		}
		return nil
	})
	if err == nil {
		w.lastFail.Store(nil)
		w.commits.Add(1)
		w.writes.Add(uint64(len(group)))
		for i, r := range group {
			r.answer(results[i])
		}
		return
	}
	msg := err.Error()
	w.lastFail.Store(&msg)
	if len(group) == 1 {
		group[0].answer(err)
		return
	}
	for _, r := range group {
		r.answer(w.writeAlone(r.op))
	}
}

// answer gives the write's caller its result.
func (r *writeReq) answer(err error) {
	r.done <- err
	if r.after != nil {
		r.after(err)
	}
}

// writeAlone makes one write in a transaction of its own.
func (w *writer) writeAlone(op writeOp) error {
	var refused error
	err := w.update(func(tx *bolt.Tx) error {
		var err error
		refused, err = runOp(tx, op)
		return err
	})
	if err != nil {
		msg := err.Error()
		w.lastFail.Store(&msg)
		return err
	}
	w.lastFail.Store(nil)
	w.commits.Add(1)
	w.writes.Add(1)
	return refused
}

// runOp runs op in tx. refused is op's refusal, which leaves tx as it was;
// err is a failure while writing (or a panic, as a *writePanic), after which
// tx must be rolled back.
func runOp(tx *bolt.Tx, op writeOp) (refused, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &writePanic{value: v}
		}
	}()
	apply, refused := op(tx)
	if refused != nil || apply == nil {
		return refused, nil
	}
	return nil, apply()
}

// writePanic carries a panic out of the writer to the caller whose write
// raised it.
type writePanic struct {
	value any
}

func (p *writePanic) Error() string { return fmt.Sprintf("storage: write panicked: %v", p.value) }

// stop makes writes submitted from now on fail with ErrClosed, and returns
// when the writer has made every write submitted before.
func (w *writer) stop() {
	w.mu.Lock()
	w.closing = true
	w.cond.Broadcast()
	w.mu.Unlock()
	<-w.done
}
