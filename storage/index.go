package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"portabot/bot"
	"portabot/fsm"
)

// The case indexes let serve's paths read what they need and no more:
// recovery reads the cases in a transient state, the security webhook the
// cases of one number, /porta list a page of cases in the states asked for,
// the metrics and stats the counts. A store that has kept a million closed
// cases answers them as fast as an empty one.
//
//	cases_by_state   state + 0x00 + case number -> empty
//	cases_by_number  number digits or BSUID + 0x00 + case number -> empty (Phone, ClientPhone, Client)
//	cases_closed     Closed (Unix ns, 8 bytes big-endian) + case number -> empty (cases with a Closed)
//	case_counts      state -> 8-byte big-endian count of its cases
//
// indexCase alone writes them, inside the transaction that writes or
// deletes the case, so they never disagree with the cases bucket.
var (
	bucketCasesByState  = []byte("cases_by_state")
	bucketCasesByNumber = []byte("cases_by_number")
	bucketCasesClosed   = []byte("cases_closed")
	bucketCaseCounts    = []byte("case_counts")

	indexBuckets = [][]byte{bucketCasesByState, bucketCasesByNumber, bucketCasesClosed, bucketCaseCounts}
)

// indexCase moves case c's index entries from what before says to what
// after says, in tx: before is the record as stored (nil for a new case),
// after the record being written (nil when the case is deleted). Every
// write or deletion of a case goes through it.
func indexCase(tx *bolt.Tx, before, after *bot.Case) error {
	var id string
	switch {
	case after != nil:
		id = after.ID
	case before != nil:
		id = before.ID
	default:
		return nil
	}
	key, ok := caseKey(id)
	if !ok {
		return fmt.Errorf("storage: index case %q: not an id NewCaseID issues", id)
	}
	old, cur := indexEntries(before, key), indexEntries(after, key)
	for _, e := range old {
		if slices.ContainsFunc(cur, e.same) {
			continue
		}
		if err := tx.Bucket(e.bucket).Delete(e.key); err != nil {
			return fmt.Errorf("storage: index case %s: %w", id, err)
		}
	}
	for _, e := range cur {
		if slices.ContainsFunc(old, e.same) {
			continue
		}
		if err := tx.Bucket(e.bucket).Put(e.key, nil); err != nil {
			return fmt.Errorf("storage: index case %s: %w", id, err)
		}
	}
	if before == nil || after == nil || before.State != after.State {
		counts := tx.Bucket(bucketCaseCounts)
		if before != nil {
			if err := addCaseCount(counts, before.State, -1); err != nil {
				return err
			}
		}
		if after != nil {
			if err := addCaseCount(counts, after.State, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

type indexEntry struct {
	bucket, key []byte
}

func (e indexEntry) same(o indexEntry) bool {
	return bytes.Equal(e.bucket, o.bucket) && bytes.Equal(e.key, o.key)
}

// indexEntries are the index keys of case c stored under key.
func indexEntries(c *bot.Case, key []byte) []indexEntry {
	if c == nil {
		return nil
	}
	es := []indexEntry{{bucketCasesByState, prefixed([]byte(c.State), key)}}
	for _, n := range bot.CaseNumbers(c) {
		es = append(es, indexEntry{bucketCasesByNumber, prefixed([]byte(n), key)})
	}
	if !c.Closed.IsZero() {
		es = append(es, indexEntry{bucketCasesClosed, append(unixNano(c.Closed), key...)})
	}
	return es
}

// prefixed is p + 0x00 + key: the 0x00 keeps one prefix's scan from reading
// a longer prefix's entries.
func prefixed(p, key []byte) []byte {
	out := make([]byte, 0, len(p)+1+len(key))
	return append(append(append(out, p...), 0), key...)
}

func unixNano(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8+caseKeyLen), uint64(max(t.UnixNano(), 0)))
}

func addCaseCount(b *bolt.Bucket, s fsm.State, delta int64) error {
	if s == "" {
		// A case written without a state (an import, a hand-made record)
		// has nothing to be counted under; bbolt has no empty key.
		return nil
	}
	name := []byte(s)
	n := int64(0)
	if v := b.Get(name); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n = max(n+delta, 0)
	var err error
	if n == 0 {
		err = b.Delete(name)
	} else {
		err = b.Put(name, binary.BigEndian.AppendUint64(nil, uint64(n)))
	}
	if err != nil {
		return fmt.Errorf("storage: count cases in %s: %w", name, err)
	}
	return nil
}

// buildCaseIndex writes the indexes afresh from the cases bucket: once, when
// Open meets a file written before they existed.
func buildCaseIndex(tx *bolt.Tx) error {
	for _, name := range indexBuckets {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return fmt.Errorf("storage: rebuild the %s index: %w", name, err)
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("storage: rebuild the %s index: %w", name, err)
		}
	}
	return tx.Bucket(bucketCases).ForEach(func(k, v []byte) error {
		var c bot.Case
		if err := decode(v, &c, "case "+caseID(k)); err != nil {
			return err
		}
		// The id in the record is the one the key says, whatever an old
		// writer put there.
		c.ID = caseID(k)
		return indexCase(tx, nil, &c)
	})
}

// storedCase reads the case at key in tx, nil when there is none.
func storedCase(cases *bolt.Bucket, key []byte) (*bot.Case, error) {
	v := cases.Get(key)
	if v == nil {
		return nil, nil
	}
	var c bot.Case
	if err := decode(v, &c, "case "+caseID(key)); err != nil {
		return nil, err
	}
	c.ID = caseID(key)
	return &c, nil
}

// ListCases returns one page of the cases q selects, newest first, from the
// state index (or, for every state, from the cases bucket itself).
func (db *DB) ListCases(ctx context.Context, q bot.CaseQuery) (bot.CasePage, error) {
	var page bot.CasePage
	if err := ctx.Err(); err != nil {
		return page, fmt.Errorf("storage: list cases: %w", err)
	}
	limit := max(q.Limit, 1)
	var before []byte
	if q.Before != "" {
		var ok bool
		if before, ok = caseKey(q.Before); !ok {
			return page, fmt.Errorf("storage: list cases before %q: not a case id", q.Before)
		}
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		cases := tx.Bucket(bucketCases)
		next := newestFirst(tx, q.States, before)
		for {
			k := next()
			if k == nil {
				return nil
			}
			if len(page.Cases) == limit {
				page.Next = page.Cases[limit-1].ID
				return nil
			}
			c, err := storedCase(cases, k)
			if err != nil {
				return err
			}
			if c == nil {
				continue // an index entry without its case would be a bug; skip rather than fail a list
			}
			c.Thread = caseThread(tx, k)
			page.Cases = append(page.Cases, *c)
		}
	})
	return page, err
}

// newestFirst returns a function yielding case keys below before (all when
// nil), highest first, of the cases in states (every case when empty). It
// merges one cursor per state over cases_by_state.
func newestFirst(tx *bolt.Tx, states []fsm.State, before []byte) func() []byte {
	if len(states) == 0 {
		c := tx.Bucket(bucketCases).Cursor()
		var k []byte
		first := true
		return func() []byte {
			if first {
				first = false
				if before == nil {
					k, _ = c.Last()
				} else {
					k = seekBelow(c, before)
				}
			} else {
				k, _ = c.Prev()
			}
			return k
		}
	}
	var heads []*stateCursor
	for _, s := range slices.Compact(slices.Sorted(slices.Values(states))) {
		h := &stateCursor{c: tx.Bucket(bucketCasesByState).Cursor(), prefix: append([]byte(s), 0)}
		limit := before
		if limit == nil {
			limit = bytes.Repeat([]byte{0xff}, caseKeyLen)
		}
		h.key = h.caseKey(seekBelow(h.c, append(bytes.Clone(h.prefix), limit...)))
		heads = append(heads, h)
	}
	return func() []byte {
		var best *stateCursor
		for _, h := range heads {
			if h.key != nil && (best == nil || bytes.Compare(h.key, best.key) > 0) {
				best = h
			}
		}
		if best == nil {
			return nil
		}
		k := best.key
		prev, _ := best.c.Prev()
		best.key = best.caseKey(prev)
		return k
	}
}

// stateCursor walks one state's entries of cases_by_state backwards.
type stateCursor struct {
	c      *bolt.Cursor
	prefix []byte
	key    []byte // the case key at the cursor, nil when done
}

// caseKey is the case key of index entry k, nil when k is not one of the
// cursor's state.
func (h *stateCursor) caseKey(k []byte) []byte {
	if len(k) != len(h.prefix)+caseKeyLen || !bytes.HasPrefix(k, h.prefix) {
		return nil
	}
	return bytes.Clone(k[len(h.prefix):])
}

// seekBelow moves c to the greatest key below limit and returns it (nil
// when there is none).
func seekBelow(c *bolt.Cursor, limit []byte) []byte {
	k, _ := c.Seek(limit)
	if k == nil {
		k, _ = c.Last()
		if k != nil && bytes.Compare(k, limit) < 0 {
			return k
		}
		return nil
	}
	k, _ = c.Prev()
	return k
}

// CasesByNumber returns the cases indexed under id's number key (see
// bot.NumberKey), oldest first.
func (db *DB) CasesByNumber(ctx context.Context, id string) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: cases by number: %w", err)
	}
	n := bot.NumberKey(id)
	if n == "" {
		return nil, nil
	}
	prefix := append([]byte(n), 0)
	var out []bot.Case
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		out, err = indexedCases(tx, bucketCasesByNumber, prefix, len(prefix),
			func(k []byte) bool { return bytes.HasPrefix(k, prefix) })
		return err
	})
	return out, err
}

// indexedCases reads the cases the index bucket names from key start on,
// while in holds for the key: each key of the index is head bytes, then
// the case's key. Keys of another length are not the index's and are
// passed over.
func indexedCases(tx *bolt.Tx, index, start []byte, head int, in func(k []byte) bool) ([]bot.Case, error) {
	cases := tx.Bucket(bucketCases)
	cur := tx.Bucket(index).Cursor()
	var out []bot.Case
	for k, _ := cur.Seek(start); k != nil && in(k); k, _ = cur.Next() {
		if len(k) != head+caseKeyLen {
			continue
		}
		ck := k[head:]
		c, err := storedCase(cases, ck)
		if err != nil {
			return nil, err
		}
		if c != nil {
			c.Thread = caseThread(tx, ck)
			out = append(out, *c)
		}
	}
	return out, nil
}

// CaseCounts returns the counts kept beside the state index.
func (db *DB) CaseCounts(ctx context.Context) (map[fsm.State]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: case counts: %w", err)
	}
	counts := map[fsm.State]int{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCaseCounts).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				counts[fsm.State(k)] = int(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	return counts, err
}

// CasesClosedSince returns the cases closed at or after since, in the order
// they closed, from cases_closed.
func (db *DB) CasesClosedSince(ctx context.Context, since time.Time) ([]bot.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: cases closed since: %w", err)
	}
	var out []bot.Case
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		out, err = indexedCases(tx, bucketCasesClosed, unixNano(since), 8, func([]byte) bool { return true })
		return err
	})
	return out, err
}
