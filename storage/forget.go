package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// Erasure and retention
//
// Forget and Expire delete rows and rewrite others, but bbolt copies a page
// on every write and leaves the old copy on its freelist, bytes intact, until
// the page is reused: a deleted number would stay readable in the file. So
// both end by scrubbing the free pages of both files (see scrub.go), which
// overwrites with zeros every page no transaction can read any more.
//
// Every conversation and case they remove goes through deleteConversation
// and rewriteCase, the one place where the rows that name them by number are
// kept in step.

var _ bot.Eraser = (*DB)(nil)

// Forget erases the client named by r and their cases (see bot.Eraser), in
// one transaction of the main file, after their waiting messages left the
// inbox file. It then scrubs the free pages of both files; a scrub put off
// by readers that would still see the old pages is finished by the next
// Scrub.
func (db *DB) Forget(ctx context.Context, r bot.ForgetRequest) (bot.Erasure, error) {
	var out bot.Erasure
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("storage: forget: %w", err)
	}
	if r.At.IsZero() {
		r.At = db.now()
	}
	r.At = r.At.UTC().Truncate(time.Microsecond)
	var t target
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		t, err = findTarget(tx, r, db.pkey)
		return err
	}); err != nil {
		return out, err
	}
	if len(t.convs) == 0 && len(t.cases) == 0 {
		return out, nil
	}
	for _, c := range t.cases {
		if bot.InFlight(c) {
			return out, fmt.Errorf("storage: forget: case %s is in %s: %w; try again once it is settled", c.ID, c.State, bot.ErrInFlight)
		}
	}
	db.inMu.Lock()
	for _, conv := range t.convs {
		if db.inHeld[conv.Key] {
			db.inMu.Unlock()
			return out, fmt.Errorf("storage: forget: %w; try again in a moment", bot.ErrBusy)
		}
	}
	// Held until the erasure is written, so that no worker claims the
	// client's messages in between and writes the conversation back.
	for _, conv := range t.convs {
		db.inHeld[conv.Key] = true
	}
	db.inMu.Unlock()
	defer func() {
		db.inMu.Lock()
		for _, conv := range t.convs {
			delete(db.inHeld, conv.Key)
		}
		db.inMu.Unlock()
	}()

	err := db.iw.write(ctx, "forget waiting messages", func(tx *bolt.Tx) (func() error, error) {
		return func() error {
			n, err := dropInboxOf(tx, t.addresses())
			out.Inbox = n
			return err
		}, nil
	})
	if err != nil {
		return bot.Erasure{}, err
	}
	inbox := out.Inbox
	err = db.write(ctx, "forget", func(tx *bolt.Tx) (func() error, error) {
		// Read again in the writer's transaction: a turn may have opened
		// a case or moved one into a Graph step since.
		again, err := findTarget(tx, r, db.pkey)
		if err != nil {
			return nil, err
		}
		for _, c := range again.cases {
			if bot.InFlight(c) {
				return nil, fmt.Errorf("storage: forget: case %s is in %s: %w; try again once it is settled", c.ID, c.State, bot.ErrInFlight)
			}
		}
		return func() error {
			out = bot.Erasure{Inbox: inbox}
			for _, conv := range again.convs {
				ids, rows, err := deleteConversation(tx, conv)
				if err != nil {
					return err
				}
				out.Conversations++
				out.ClientIDs += ids
				out.Outbox += rows
			}
			for _, c := range again.cases {
				if err := eraseCase(tx, c, r, &out); err != nil {
					return err
				}
			}
			return nil
		}, nil
	})
	if err != nil {
		return bot.Erasure{}, err
	}
	if _, err := db.Scrub(ctx); err != nil {
		return out, err
	}
	return out, nil
}

// target is what a ForgetRequest names.
type target struct {
	convs []bot.Conversation
	cases []bot.Case
}

// addresses are every id the target's clients are known by, which key
// their inbox and outbox rows.
func (t target) addresses() []string {
	var ids []string
	for _, c := range t.convs {
		for _, id := range []string{c.Key, c.Phone, c.UserID} {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// findTarget finds the client r names and their cases: the conversations
// of the number (or of the case's client), every case of those, and every
// case porting or written from the number, through cases_by_number. With
// pkey (the store has a seal key) it also finds the cases retention has
// already expired, which the index holds under the numbers' pseudonyms:
// the keyed hash is what lets the BSP recognise a returning client, so
// it is the client's too, and goes with the rest.
func findTarget(tx *bolt.Tx, r bot.ForgetRequest, pkey []byte) (target, error) {
	var t target
	convs, ids, cases := tx.Bucket(bucketConversations), tx.Bucket(bucketClientIDs), tx.Bucket(bucketCases)
	keys := map[string]bool{}
	addConv := func(id string) error {
		if id == "" {
			return nil
		}
		v := convs.Get([]byte(id))
		if v == nil {
			if k := ids.Get([]byte(id)); k != nil {
				v = convs.Get(k)
			}
		}
		if v == nil {
			return nil
		}
		var c bot.Conversation
		if err := decode(v, &c, "conversation"); err != nil {
			return err
		}
		if !keys[c.Key] {
			keys[c.Key] = true
			t.convs = append(t.convs, c)
		}
		return nil
	}
	numbers := map[string]bool{}
	if r.Number != "" {
		numbers[r.Number] = true
		if err := addConv(r.Number); err != nil {
			return t, err
		}
	}
	if r.CaseID != "" {
		k, ok := caseKey(r.CaseID)
		v := cases.Get(k)
		if !ok || v == nil {
			return t, fmt.Errorf("storage: forget: case %q: %w", r.CaseID, bot.ErrNotFound)
		}
		var c bot.Case
		if err := decode(v, &c, "case "+r.CaseID); err != nil {
			return t, err
		}
		if !c.Erased.IsZero() {
			return t, nil
		}
		if err := addConv(c.Client); err != nil {
			return t, err
		}
		for _, n := range []string{c.Client, c.ClientPhone} {
			// An expired case names its client by pseudonym: the
			// client's other expired cases carry the same one.
			if bot.IsPhoneID(n) || strings.HasPrefix(n, bot.PseudonymPrefix) {
				numbers[n] = true
			}
		}
		if len(t.convs) == 0 {
			t.cases = append(t.cases, c)
		}
	}
	seen := map[string]bool{}
	for _, c := range t.cases {
		seen[c.ID] = true
	}
	// The index answers by number key; each case it names is read and
	// matched as before, so an entry says where to look, never what to
	// erase.
	match := func(c bot.Case) bool {
		m := keys[c.Client]
		for n := range numbers {
			m = m || bot.Matches(c, n)
		}
		if pkey != nil {
			for n := range numbers {
				p := bot.Pseudonym(pkey, n)
				m = m || c.Client == p || c.ClientPhone == p || c.Phone == p
			}
			for k := range keys {
				m = m || c.Client == bot.Pseudonym(pkey, k)
			}
		}
		return m
	}
	var lookups []string
	for n := range numbers {
		lookups = append(lookups, n)
	}
	for k := range keys {
		lookups = append(lookups, k)
	}
	if pkey != nil {
		for _, n := range slices.Clone(lookups) {
			lookups = append(lookups, bot.Pseudonym(pkey, n))
		}
	}
	var found [][]byte
	idx := tx.Bucket(bucketCasesByNumber).Cursor()
	for _, n := range lookups {
		nk := bot.NumberKey(n)
		if nk == "" {
			continue
		}
		prefix := append([]byte(nk), 0)
		for k, _ := idx.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = idx.Next() {
			if len(k) == len(prefix)+caseKeyLen {
				found = append(found, bytes.Clone(k[len(prefix):]))
			}
		}
	}
	// In the order of the cases bucket, as a scan of it would find them.
	slices.SortFunc(found, bytes.Compare)
	found = slices.CompactFunc(found, bytes.Equal)
	for _, k := range found {
		c, err := storedCase(cases, k)
		if err != nil {
			return t, err
		}
		if c == nil || !c.Erased.IsZero() || seen[c.ID] || !match(*c) {
			continue
		}
		c.Thread = caseThread(tx, k)
		seen[c.ID] = true
		t.cases = append(t.cases, *c)
	}
	// The client of a case found by the number they port is the same
	// person: their conversation goes too.
	for _, c := range t.cases {
		if err := addConv(c.Client); err != nil {
			return t, err
		}
	}
	for i := range t.cases {
		if t.cases[i].Thread == "" {
			k, _ := caseKey(t.cases[i].ID)
			t.cases[i].Thread = caseThread(tx, k)
		}
	}
	return t, nil
}

// deleteConversation deletes conv, the client ids that point at it and
// its client's outbox rows. It returns how many client ids and outbox rows
// went. Every deletion of a conversation goes through it.
func deleteConversation(tx *bolt.Tx, conv bot.Conversation) (ids, rows int, err error) {
	key := []byte(conv.Key)
	if err := tx.Bucket(bucketConversations).Delete(key); err != nil {
		return 0, 0, fmt.Errorf("storage: delete conversation: %w", err)
	}
	cids := tx.Bucket(bucketClientIDs)
	for _, id := range []string{conv.Key, conv.Phone, conv.UserID} {
		if id != "" && bytes.Equal(cids.Get([]byte(id)), key) {
			if err := cids.Delete([]byte(id)); err != nil {
				return 0, 0, fmt.Errorf("storage: delete client id: %w", err)
			}
			ids++
		}
	}
	for _, addr := range []string{conv.Key, conv.Phone, conv.UserID} {
		if addr == "" {
			continue
		}
		n, err := deleteOutboxOf(tx, addr)
		if err != nil {
			return 0, 0, err
		}
		rows += n
	}
	return ids, rows, nil
}

// deleteOutboxOf deletes every outbox row to client, whatever its state,
// with its index entries, and the processed markers of the messages they
// answered.
func deleteOutboxOf(tx *bolt.Tx, client string) (int, error) {
	prefix := append([]byte(client), 0)
	var keys [][]byte
	c := tx.Bucket(bucketOutboxByClient).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	n := 0
	for _, ck := range keys {
		idk := ck[len(prefix):]
		from := tx.Bucket(bucketOutbox)
		data := from.Get(idk)
		if data == nil {
			from = tx.Bucket(bucketOutboxSent)
			data = from.Get(idk)
		}
		if data != nil {
			var row bot.Outbound
			if err := decode(data, &row, "outbox row "+outboundID(idk)); err != nil {
				return n, err
			}
			if err := from.Delete(idk); err != nil {
				return n, fmt.Errorf("storage: delete outbox row: %w", err)
			}
			if row.MetaID != "" {
				meta := tx.Bucket(bucketOutboxMeta)
				if bytes.Equal(meta.Get([]byte(row.MetaID)), idk) {
					if err := meta.Delete([]byte(row.MetaID)); err != nil {
						return n, fmt.Errorf("storage: delete outbox Meta id index: %w", err)
					}
				}
			}
			if err := addCount(tx.Bucket(bucketOutboxStats), row.State, -1); err != nil {
				return n, err
			}
			// The processed marker of the message the row answered: Meta's
			// message ids may carry the sender's number.
			if row.InReplyTo != "" {
				if err := tx.Bucket(bucketProcessed).Delete([]byte(row.InReplyTo)); err != nil {
					return n, fmt.Errorf("storage: delete processed marker: %w", err)
				}
			}
			n++
		}
		if err := tx.Bucket(bucketOutboxPending).Delete(ck); err != nil {
			return n, fmt.Errorf("storage: delete outbox pending index: %w", err)
		}
		if err := tx.Bucket(bucketOutboxByClient).Delete(ck); err != nil {
			return n, fmt.Errorf("storage: delete outbox client index: %w", err)
		}
	}
	if len(keys) > 0 {
		if err := moveDue(tx, client, nil); err != nil {
			return n, err
		}
	}
	return n, nil
}

// eraseCase replaces c by its tombstone, deletes its audit trail but for
// one "erased" event, its notices and its business token, and queues the
// notice that rewrites its Slack thread.
func eraseCase(tx *bolt.Tx, c bot.Case, r bot.ForgetRequest, out *bot.Erasure) error {
	key, ok := caseKey(c.ID)
	if !ok {
		return fmt.Errorf("storage: forget: case id %q", c.ID)
	}
	tomb := bot.Tombstone(c, r.At, r.Actor)
	if err := rewriteCase(tx, key, &c, &tomb); err != nil {
		return err
	}
	n, err := deletePrefix(tx.Bucket(bucketAudit), key)
	if err != nil {
		return fmt.Errorf("storage: forget audit of case %s: %w", c.ID, err)
	}
	out.AuditEvents += n
	if n, err = deleteNoticesOf(tx, key, c.ID); err != nil {
		return err
	}
	out.Notices += n
	tokens := tx.Bucket(bucketBusinessTokens)
	if tokens.Get(key) != nil {
		if err := tokens.Delete(key); err != nil {
			return fmt.Errorf("storage: forget business token of case %s: %w", c.ID, err)
		}
		out.Tokens++
	}
	if err := appendAudit(tx, key, bot.AuditEvent{CaseID: c.ID, At: r.At, Actor: r.Actor, Kind: "erased",
		Detail: "personal data erased"}); err != nil {
		return err
	}
	out.Cases = append(out.Cases, c.ID)
	if c.Thread == "" {
		// Never posted to agents (or Slack is not configured): there is no
		// thread to rewrite.
		return nil
	}
	return appendNotice(tx, key, bot.Notice{CaseID: c.ID, Kind: bot.NoticeErased,
		Text:    "Content erased on " + r.At.Format("2006-01-02 15:04 MST") + " by " + r.Actor + ".",
		Created: r.At, NextAttempt: r.At, State: bot.OutboundPending})
}

// rewriteCase replaces the record of case key, old, by c. Every change
// retention and erasure make to a case goes through it, so that whatever
// is kept about a case by its numbers follows.
func rewriteCase(tx *bolt.Tx, key []byte, old, c *bot.Case) error {
	_ = old
	return putCase(tx.Bucket(bucketCases), key, c)
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// deleteNoticesOf deletes every notice about case ck. Notices are kept by
// id alone, so this reads them all; erasure is rare, and retention prunes
// notices by age instead (pruneNotices).
func deleteNoticesOf(tx *bolt.Tx, ck []byte, id string) (int, error) {
	var keys [][]byte
	var states []bot.OutboundState
	err := tx.Bucket(bucketNotices).ForEach(func(k, v []byte) error {
		var n bot.Notice
		if err := decode(v, &n, "notice "+noticeID(k)); err != nil {
			return err
		}
		if n.CaseID == id {
			keys = append(keys, bytes.Clone(k))
			states = append(states, n.State)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		if err := deleteNotice(tx, ck, k, states[i]); err != nil {
			return 0, err
		}
	}
	if len(keys) > 0 {
		if err := refreshNoticeHead(tx, ck); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

func deleteNotice(tx *bolt.Tx, ck, idk []byte, state bot.OutboundState) error {
	if err := tx.Bucket(bucketNotices).Delete(idk); err != nil {
		return fmt.Errorf("storage: delete notice: %w", err)
	}
	if err := tx.Bucket(bucketNoticesPending).Delete(append(bytes.Clone(ck), idk...)); err != nil {
		return fmt.Errorf("storage: delete notice: %w", err)
	}
	return addCount(tx.Bucket(bucketNoticesStats), state, -1)
}

// dropInboxOf deletes the waiting messages of every client in ids; tx is
// a transaction of the inbox file.
func dropInboxOf(tx *bolt.Tx, ids []string) (int, error) {
	n := 0
	inbox, byID, convs := tx.Bucket(bucketInbox), tx.Bucket(bucketInboxIDs), tx.Bucket(bucketInboxConvs)
	var gone [][]byte
	for _, id := range ids {
		k, err := deletePrefix(inbox, append([]byte(id), 0))
		if err != nil {
			return n, fmt.Errorf("storage: forget waiting messages: %w", err)
		}
		n += k
		if k > 0 {
			if err := convs.Delete([]byte(id)); err != nil {
				return n, fmt.Errorf("storage: forget waiting messages: %w", err)
			}
			gone = append(gone, append([]byte(id), 0))
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	var stale [][]byte
	err := byID.ForEach(func(k, v []byte) error {
		for _, p := range gone {
			if bytes.HasPrefix(v, p) && len(v) == len(p)+inboxSeqLen-1 {
				stale = append(stale, bytes.Clone(k))
			}
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	for _, k := range stale {
		if err := byID.Delete(k); err != nil {
			return n, fmt.Errorf("storage: forget waiting messages: %w", err)
		}
	}
	return n, nil
}

// errNoPseudonymKey refuses retention without a seal key: numbers cannot
// be replaced by keyed hashes without a key.
var errNoPseudonymKey = errors.New("retention needs the seal key (PORTABOT_DB_KEY) to replace numbers by keyed hashes")
