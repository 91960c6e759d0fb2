package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"portabot/bot"
)

// testKey seals the inbox in tests. A fixed key would do; a random one per
// run makes sure no test passes by reading a value stored in the clear.
var testKey = func() []byte {
	k := make([]byte, KeySize)
	for i := range k {
		k[i] = byte(rand.Uint32())
	}
	return k
}()

func TestQueueContract(t *testing.T) {
	testQueueContract(t, func(t *testing.T) queueBackend {
		db := mustOpen(t, WithSealKey(testKey))
		t.Cleanup(func() { checkIndexes(t, db) })
		return db
	})
}

func TestSealRoundTrip(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	plain := []byte(`{"Text":"my code is 482913"}`)
	k1, k2 := inboxKey("5511987654321", 1), inboxKey("5511987654321", 2)
	sealed, err := db.seal(bucketInbox, k1, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("482913")) {
		t.Error("sealed value contains the plaintext")
	}
	if want := len(plain) + 12 + 16; len(sealed) != want {
		t.Errorf("sealed length = %d, want nonce + ciphertext + tag = %d", len(sealed), want)
	}
	again, _ := db.seal(bucketInbox, k1, plain)
	if bytes.Equal(sealed, again) || bytes.Equal(sealed[:12], again[:12]) {
		t.Error("two seals of the same value are identical: the nonce is not random")
	}
	got, err := db.unseal(bucketInbox, k1, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("unseal() = %q, %v; want the plaintext", got, err)
	}
	// The value is bound to its bucket and key, and to every bit of itself.
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, try := range map[string]func() ([]byte, error){
		"other key":    func() ([]byte, error) { return db.unseal(bucketInbox, k2, sealed) },
		"other bucket": func() ([]byte, error) { return db.unseal(bucketOutbox, k1, sealed) },
		"tampered":     func() ([]byte, error) { return db.unseal(bucketInbox, k1, tampered) },
		"truncated":    func() ([]byte, error) { return db.unseal(bucketInbox, k1, sealed[:10]) },
	} {
		if got, err := try(); err == nil || got != nil {
			t.Errorf("unseal(%s) = %q, %v; want an error", name, got, err)
		}
	}
}

func TestInboxSealedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	secrets := []string{"my code is 482913", "new PIN 135790"}
	db, err := Open(path, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []bot.Inbound
	for i, text := range secrets {
		m := inbound("5511987654321", i)
		m.Text, m.Choice, m.Unsupported = text, "", ""
		msgs = append(msgs, m)
	}
	mustEnqueue(t, db, msgs...)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{path, InboxPath(path)} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"482913", "135790", "my code", "PIN"} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s contains %q in the clear", file, s)
			}
		}
	}

	db = mustOpenPath(t, path, WithSealKey(testKey))
	key, got, release, ok, err := db.Claim(ctx)
	if err != nil || !ok || key != "5511987654321" {
		t.Fatalf("Claim() = %q, ok %v, %v", key, ok, err)
	}
	if diff := cmp.Diff(msgs, got); diff != "" {
		t.Errorf("Claim() after reopen (-want +got):\n%s", diff)
	}
	for _, m := range got {
		mustCommit(t, db, bot.Turn{MessageID: m.ID, Conversation: sampleConversation(key, "")})
	}
	release()
	// Processed: the sealed rows themselves are gone, not just skipped.
	wantDepth(t, db, 0)
	err = db.ibolt.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketInbox, bucketInboxIDs, bucketInboxConvs} {
			if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
				t.Errorf("bucket %s still has key %q after every message was committed", b, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInboxWithoutTheRightKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	m := inbound("5511987654321", 0)
	mustEnqueue(t, db, m)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// A wrong key is refused at Open, naming the inbox file, instead of
	// failing every claim of the client's messages.
	otherKey := bytes.Repeat([]byte{7}, KeySize)
	if _, err := Open(path, WithSealKey(otherKey)); err == nil || !strings.Contains(err.Error(), "PORTABOT_DB_KEY") ||
		!strings.Contains(err.Error(), InboxPath(path)) {
		t.Errorf("Open with the wrong key: %v, want a refusal naming PORTABOT_DB_KEY and %s", err, InboxPath(path))
	}
	for name, opts := range map[string][]Option{
		"no key": nil,
	} {
		t.Run(name, func(t *testing.T) {
			db := mustOpenPath(t, path, opts...)
			key, msgs, release, ok, err := db.Claim(ctx)
			if err == nil || ok || key != "" || msgs != nil {
				t.Fatalf("Claim() = %q, %v, ok %v, %v; want an error and nothing else", key, msgs, ok, err)
			}
			release()
			for _, want := range []string{"seal key", "PORTABOT_DB_KEY", "inbox row 1", "+55*******4321"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Claim() error = %q, want it to mention %q", err, want)
				}
			}
			for _, leak := range []string{m.Text, m.From, "482913"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("Claim() error = %q gives away %q", err, leak)
				}
			}
			// The other stores of the file still work.
			if _, err := db.Processed(ctx, m.ID); err != nil {
				t.Errorf("Processed() error = %v", err)
			}
			wantDepth(t, db, 1)
		})
	}

	db = mustOpenPath(t, path)
	n, err := db.Enqueue(ctx, []bot.Inbound{inbound("5511987654321", 3)})
	if err == nil || n != 0 || !strings.Contains(err.Error(), "no seal key") || !strings.Contains(err.Error(), "never stored in the clear") {
		t.Errorf("Enqueue(without a key) = %d, %v; want a refusal explaining why", n, err)
	}
	wantDepth(t, db, 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path, WithSealKey(testKey))
	if _, got, release, ok, err := db.Claim(ctx); err != nil || !ok || len(got) != 1 || got[0].Text != m.Text {
		t.Errorf("Claim() with the right key again = %v, ok %v, %v; want the message", got, ok, err)
	} else {
		release()
	}
}

func TestOpenRefusesBadSealKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portabot.db")
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		_, err := Open(path, WithSealKey(make([]byte, n)))
		want := fmt.Sprintf("seal key must be 32 bytes (AES-256), got %d", n)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%d-byte key) error = %v, want %q", n, err, want)
		}
	}
	mustOpenPath(t, path, WithSealKey(testKey))
}

func TestWithSealKeyCopiesTheKey(t *testing.T) {
	key := bytes.Clone(testKey)
	opt := WithSealKey(key)
	clear(key) // the caller wipes its copy, as it should
	db := mustOpen(t, opt)
	sealed, err := db.seal(bucketInbox, []byte("k"), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustOpen(t, WithSealKey(testKey)).unseal(bucketInbox, []byte("k"), sealed); err != nil {
		t.Errorf("the store sealed with the caller's cleared slice, not its own copy of the key: %v", err)
	}
}

func TestSealedRowsCannotSwapPlaces(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	mustEnqueue(t, db, inbound("5511987654321", 0), inbound("5521912345678", 0))
	// Someone with write access to the file, but not the key, moves one
	// client's message under another client's key.
	err := db.ibolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInbox)
		k1, k2 := inboxKey("5511987654321", 1), inboxKey("5521912345678", 2)
		v1, v2 := bytes.Clone(b.Get(k1)), bytes.Clone(b.Get(k2))
		if v1 == nil || v2 == nil {
			return fmt.Errorf("rows not where expected")
		}
		if err := b.Put(k1, v2); err != nil {
			return err
		}
		return b.Put(k2, v1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, msgs, _, ok, err := db.Claim(context.Background()); err == nil || ok {
		t.Errorf("Claim() of a moved row = %v, ok %v, %v; want an error", msgs, ok, err)
	}
}

func TestClaimSkipsProcessedRows(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	m1, m2 := inbound("5511987654321", 1), inbound("5511987654321", 2)
	other := inbound("5521912345678", 3)
	mustEnqueue(t, db, m1, m2, other)
	// A processed marker without the row's removal cannot come from
	// Commit; it stands for a file written by something else (a restore
	// mixing two backups, say). Claim must still never hand m1 out again.
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		p := tx.Bucket(bucketProcessed)
		if err := p.Put([]byte(m1.ID), []byte("2026-05-04T10:00:00Z")); err != nil {
			return err
		}
		return p.Put([]byte(other.ID), []byte("2026-05-04T10:00:00Z"))
	})
	if err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, db)
	want := map[string][]bot.Inbound{m2.From: {m2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claimed (-want +got):\n%s", diff)
	}
	wantDepth(t, db, 0)
	checkIndexes(t, db)
	if n, err := db.Enqueue(ctx, []bot.Inbound{m1}); err != nil || n != 0 {
		t.Errorf("Enqueue(processed) = %d, %v; want 0, nil", n, err)
	}
}

// A row whose send was in progress when the process stopped comes back in
// doubt after a reopen, and Meta's status settles it in the new process.
func TestRowInDoubtAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	db := mustOpenPath(t, path, WithSealKey(testKey))
	a := "5511987654321"
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(a, ""), Outbox: []bot.Outbound{outbound(a, "a1"), outbound(a, "a2")}})
	rows, _ := mustClaimOutbound(t, db, at(10), 5)
	r := rows[0]
	r.Attempts, r.Sending = 1, at(10)
	if err := db.MarkSending(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path, WithSealKey(testKey))
	rows, release := mustClaimOutbound(t, db, at(11), 5)
	if len(rows) != 1 || rows[0].ID != r.ID || !rows[0].InDoubt() || !rows[0].Sending.Equal(at(10)) {
		t.Fatalf("ClaimOutbound() after reopen = %+v, want a1 in doubt since minute 10", rows)
	}
	release()
	if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: "wamid.after", Status: "delivered", Recipient: a,
		Ref: bot.OutboundRef(r.ID, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	rows, release = mustClaimOutbound(t, db, at(11), 5)
	if len(rows) != 1 || rows[0].Reply.Text != "a2" {
		t.Errorf("ClaimOutbound() after the status = %v, want [a2]", texts(rows))
	}
	release()
	wantStats(t, db, 1, 1, 0, 0)
	checkIndexes(t, db)
}

func TestQueuesPersistAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "portabot.db")
	db, err := Open(path, WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	a, b := "5511987654321", "5521912345678"
	msgs := []bot.Inbound{inbound(a, 1), inbound(b, 2), inbound(a, 3)}
	mustEnqueue(t, db, msgs...)
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(a, ""), Outbox: []bot.Outbound{outbound(a, "a1"), outbound(a, "a2")}})
	// Held when the process stops, never released.
	if _, _, _, ok, err := db.Claim(ctx); !ok || err != nil {
		t.Fatalf("Claim() = ok %v, %v", ok, err)
	}
	if _, _, _, ok, err := db.Claim(ctx); !ok || err != nil {
		t.Fatalf("Claim() = ok %v, %v", ok, err)
	}
	rows, _ := mustClaimOutbound(t, db, at(10), 5)
	if len(rows) != 1 {
		t.Fatalf("ClaimOutbound() = %d rows, want 1", len(rows))
	}
	firstID := rows[0].ID
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path, WithSealKey(testKey))
	wantDepth(t, db, 3)
	wantStats(t, db, 2, 0, 0, 0)
	rows, release := mustClaimOutbound(t, db, at(10), 5)
	if len(rows) != 1 || rows[0].ID != firstID || rows[0].Reply.Text != "a1" {
		t.Errorf("ClaimOutbound() after reopen = %v, want a1 again: holds do not survive a restart", texts(rows))
	}
	release()
	mustCommit(t, db, bot.Turn{Conversation: sampleConversation(b, ""), Outbox: []bot.Outbound{outbound(b, "b1")}})
	all, err := db.OutboundRows(ctx, b)
	if err != nil || len(all) != 1 || all[0].ID <= firstID {
		t.Errorf("row written after reopen = %+v, %v; want an id after %s", all, err, firstID)
	}
	mustEnqueue(t, db, inbound(a, 4))
	got := claimAll(t, db)
	want := map[string][]bot.Inbound{a: {msgs[0], msgs[2], inbound(a, 4)}, b: {msgs[1]}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claimed after reopen (-want +got):\n%s", diff)
	}
	checkIndexes(t, db)
}

// TestQueueIndexesStayConsistent drives the inbox and outbox through many
// random operations and checks every index against the rows after each one.
func TestQueueIndexesStayConsistent(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t, WithSealKey(testKey))
	r := rand.New(rand.NewPCG(1, 2))
	clients := []string{"55119", "551190", "5511900", "5521912345678"}
	states := []bot.OutboundState{bot.OutboundPending, bot.OutboundSent, bot.OutboundParked, bot.OutboundFailed}
	next := 0
	for step := range 400 {
		switch op := r.IntN(6); op {
		case 0:
			var batch []bot.Inbound
			for range 1 + r.IntN(3) {
				next++
				batch = append(batch, inbound(clients[r.IntN(len(clients))], r.IntN(next)))
			}
			mustEnqueue(t, db, batch...)
		case 1:
			key, msgs, release, ok, err := db.Claim(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				for _, m := range msgs[:r.IntN(len(msgs)+1)] {
					mustCommit(t, db, bot.Turn{MessageID: m.ID, Conversation: sampleConversation(key, "")})
				}
				release()
			}
		case 2:
			c := clients[r.IntN(len(clients))]
			var out []bot.Outbound
			for i := range r.IntN(3) {
				o := outbound(c, fmt.Sprintf("s%d.%d", step, i))
				o.NextAttempt = at(r.IntN(20))
				out = append(out, o)
			}
			mustCommit(t, db, bot.Turn{Conversation: sampleConversation(c, ""), Outbox: out})
		case 3, 4:
			rows, release := mustClaimOutbound(t, db, at(r.IntN(20)), 1+r.IntN(3))
			for _, row := range rows {
				row.Attempts++
				row.State = states[r.IntN(len(states))]
				row.NextAttempt = at(r.IntN(20))
				if row.State == bot.OutboundSent && row.MetaID == "" {
					// A row whose first part Meta reported keeps that id.
					row.MetaID = fmt.Sprintf("wamid.out.%d.%s", step, row.ID)
				}
				if err := db.MarkOutbound(ctx, row); err != nil {
					t.Fatal(err)
				}
				if row.MetaID != "" && r.IntN(2) == 0 {
					if err := db.OutboundStatus(ctx, bot.Receipt{MetaID: row.MetaID, Status: "delivered"}); err != nil {
						t.Fatal(err)
					}
				}
			}
			release()
		case 5:
			// Attempts cut off, settled (or not) by Meta's statuses.
			rows, release := mustClaimOutbound(t, db, at(r.IntN(20)), 1+r.IntN(3))
			for _, row := range rows {
				row.Attempts++
				row.Sending = at(r.IntN(20))
				if err := db.MarkSending(ctx, row); err != nil {
					t.Fatal(err)
				}
				parts := 1 + r.IntN(3)
				for part := 1; part <= parts; part++ {
					if r.IntN(3) == 0 {
						continue // this part's status never came
					}
					rc := bot.Receipt{MetaID: fmt.Sprintf("wamid.doubt.%d.%s.%d", step, row.ID, part), Status: "sent",
						Recipient: row.To, Ref: bot.OutboundRef(row.ID, part, parts)}
					if err := db.OutboundStatus(ctx, rc); err != nil {
						t.Fatal(err)
					}
				}
			}
			release()
		}
		checkIndexes(t, db)
		if t.Failed() {
			t.Fatalf("indexes broke at step %d", step)
		}
	}
}

// checkIndexes compares every inbox and outbox index with the rows it is
// derived from.
func checkIndexes(tb testing.TB, db *DB) {
	tb.Helper()
	err := db.ibolt.View(func(tx *bolt.Tx) error {
		// Inbox: every row indexed by its message id, and counted under its
		// conversation.
		counts := map[string]uint64{}
		ids := map[string]string{}
		err := tx.Bucket(bucketInbox).ForEach(func(k, v []byte) error {
			conv := string(k[:len(k)-inboxSeqLen])
			counts[conv]++
			m, err := db.openInbound(k, v)
			if err != nil {
				return err
			}
			ids[m.ID] = string(k)
			return nil
		})
		if err != nil {
			return err
		}
		gotIDs := map[string]string{}
		tx.Bucket(bucketInboxIDs).ForEach(func(k, v []byte) error { gotIDs[string(k)] = string(v); return nil })
		if diff := cmp.Diff(ids, gotIDs); diff != "" {
			tb.Errorf("inbox_ids out of line with inbox (-rows +index):\n%s", diff)
		}
		gotCounts := map[string]uint64{}
		tx.Bucket(bucketInboxConvs).ForEach(func(k, v []byte) error {
			gotCounts[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
		if diff := cmp.Diff(counts, gotCounts); diff != "" {
			tb.Errorf("inbox_convs out of line with inbox (-rows +index):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("checkIndexes: %v", err)
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		// Outbox.
		byClient, pending, heads, due, meta := map[string]bool{}, map[string]bool{}, map[string]string{}, map[string]string{}, map[string]string{}
		stats := map[string]uint64{}
		// Rows still owed first, then sent ones: the pending rows, all in
		// the first, come in id order.
		err = forEachOutbound(tx, func(k, v []byte, sentBucket bool) error {
			var row bot.Outbound
			if err := decode(v, &row, "outbox row"); err != nil {
				return err
			}
			if row.ID != outboundID(k) {
				tb.Errorf("row under %x has id %q", k, row.ID)
			}
			if sent := row.State == bot.OutboundSent; sent != sentBucket {
				tb.Errorf("row %s is %s, and stored in outbox_sent: %v", row.ID, row.State, sentBucket)
			}
			if sentBucket && (row.Reply.Text != "" || row.Reply.Buttons != nil) {
				tb.Errorf("sent row %s still holds its reply", row.ID)
			}
			ck := string(clientRowKey(row.To, k))
			byClient[ck] = true
			stats[string(row.State)]++
			if row.MetaID != "" {
				meta[row.MetaID] = string(k)
			}
			if row.State == bot.OutboundPending {
				pending[ck] = true
				if _, ok := heads[row.To]; !ok { // rows come in id order: the first is the head
					d := string(dueKey(row.NextAttempt, k))
					heads[row.To], due[d] = d, row.To
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, ix := range []struct {
			bucket []byte
			want   any
			read   func(k, v []byte, into any)
		}{
			{bucketOutboxByClient, byClient, func(k, _ []byte, m any) { m.(map[string]bool)[string(k)] = true }},
			{bucketOutboxPending, pending, func(k, _ []byte, m any) { m.(map[string]bool)[string(k)] = true }},
			{bucketOutboxHeads, heads, func(k, v []byte, m any) { m.(map[string]string)[string(k)] = string(v) }},
			{bucketOutboxDue, due, func(k, v []byte, m any) { m.(map[string]string)[string(k)] = string(v) }},
			{bucketOutboxMeta, meta, func(k, v []byte, m any) { m.(map[string]string)[string(k)] = string(v) }},
		} {
			var got any
			switch ix.want.(type) {
			case map[string]bool:
				got = map[string]bool{}
			default:
				got = map[string]string{}
			}
			tx.Bucket(ix.bucket).ForEach(func(k, v []byte) error { ix.read(k, v, got); return nil })
			if diff := cmp.Diff(ix.want, got); diff != "" {
				tb.Errorf("%s out of line with outbox (-rows +index):\n%s", ix.bucket, diff)
			}
		}
		gotStats := map[string]uint64{}
		tx.Bucket(bucketOutboxStats).ForEach(func(k, v []byte) error {
			if n := binary.BigEndian.Uint64(v); n > 0 {
				gotStats[string(k)] = n
			}
			return nil
		})
		if diff := cmp.Diff(stats, gotStats); diff != "" {
			tb.Errorf("outbox_stats out of line with outbox (-rows +counts):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("checkIndexes: %v", err)
	}
}

// forEachOutbound calls fn with every stored outbox row, those in outbox
// first, then those in outbox_sent.
func forEachOutbound(tx *bolt.Tx, fn func(k, v []byte, sent bool) error) error {
	if err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error { return fn(k, v, false) }); err != nil {
		return err
	}
	return tx.Bucket(bucketOutboxSent).ForEach(func(k, v []byte) error { return fn(k, v, true) })
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "portabot.key")
	key, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("LoadOrCreateKey(new) error = %v", err)
	}
	if len(key) != KeySize || bytes.Equal(key, make([]byte, KeySize)) {
		t.Errorf("new key = %d bytes %x, want %d random bytes", len(key), key, KeySize)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("key file mode = %v, want -rw-------", mode)
	}
	data, _ := os.ReadFile(path)
	if got, err := ParseKey(string(data)); err != nil || !bytes.Equal(got, key) {
		t.Errorf("key file holds %q, want the key in base64", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory has %d entries after creating the key, want just the key file", len(entries))
	}
	again, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Errorf("LoadOrCreateKey(existing) = %x, %v; want the same key", again, err)
	}
	// The key opens a store, which then seals with it.
	db := mustOpen(t, WithSealKey(key))
	mustEnqueue(t, db, inbound("5511987654321", 0))

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadOrCreateKey(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("LoadOrCreateKey(0644 file) error = %v, want a refusal naming the file and the fix", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Error("LoadOrCreateKey(0640 file) succeeded, want a refusal")
	}

	for name, content := range map[string]string{
		"not base64":  "this is not a key at all",
		"short key":   base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"empty":       "",
		"two keys":    base64.StdEncoding.EncodeToString(key) + "\n" + base64.StdEncoding.EncodeToString(key),
		"binary junk": string(key),
	} {
		bad := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".key")
		if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadOrCreateKey(bad)
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "does not hold a usable key") {
			t.Errorf("LoadOrCreateKey(%s) error = %v, want a refusal naming the file", name, err)
		} else if content != "" && strings.Contains(err.Error(), content) {
			t.Errorf("LoadOrCreateKey(%s) error repeats the file's content", name)
		}
	}

	if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadOrCreateKey(directory) error = %v, want a refusal", err)
	}
	missing := filepath.Join(dir, "no", "such", "portabot.key")
	if _, err := LoadOrCreateKey(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadOrCreateKey(in a missing directory) error = %v, want one naming the file", err)
	}
}

func TestParseKey(t *testing.T) {
	// Bytes whose base64 uses the characters where the alphabets differ
	// (+/ against -_) and needs padding: 32 bytes encode to 43 characters
	// plus one "=".
	key := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:KeySize]
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s := enc.EncodeToString(key)
		for _, in := range []string{s, "  " + s + "\n"} {
			got, err := ParseKey(in)
			if err != nil || !bytes.Equal(got, key) {
				t.Errorf("ParseKey(%q) = %x, %v; want the key", in, got, err)
			}
		}
	}
	short := base64.StdEncoding.EncodeToString(key[:16])
	long := base64.StdEncoding.EncodeToString(append(bytes.Clone(key), 1))
	for in, want := range map[string]string{
		"":                  "seal key is empty",
		"   \n":             "seal key is empty",
		"not base64 at all": "not valid base64",
		"+_mixed/alphabets": "not valid base64",
		short:               "decodes to 16 bytes, want 32",
		long:                "decodes to 33 bytes, want 32",
	} {
		_, err := ParseKey(in)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "storage: ") {
			t.Errorf("ParseKey(%q) error = %v, want one saying %q", in, err, want)
			continue
		}
		if strings.TrimSpace(in) != "" && strings.Contains(err.Error(), strings.TrimSpace(in)) {
			t.Errorf("ParseKey(%q) error %q repeats the key", in, err)
		}
	}
}

// BenchmarkEnqueue measures what a webhook waits for before Meta gets its
// 200: one message sealed and made durable (one bbolt commit, two
// fdatasyncs).
func BenchmarkEnqueue(b *testing.B) {
	db := mustOpen(b, WithSealKey(testKey))
	ctx := context.Background()
	m := inbound("5511987654321", 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		m.ID = fmt.Sprintf("wamid.bench.%d", i)
		if n, err := db.Enqueue(ctx, []bot.Inbound{m}); err != nil || n != 1 {
			b.Fatalf("Enqueue() = %d, %v", n, err)
		}
	}
	b.StopTimer()
	if n, err := db.InboxDepth(ctx); err != nil || n != i {
		b.Fatalf("InboxDepth() = %d, %v; want %d", n, err, i)
	}
}
