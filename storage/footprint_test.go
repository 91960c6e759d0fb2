package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"portabot/bot"
	"portabot/fsm"
)

// A BSP's store keeps a conversation for every client who ever wrote, so
// its size is what many clients cost: one who asked a single question must
// not pay for fields they never used.
func TestNewClientsConversationIsSmall(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	conv := bot.Conversation{Key: "5511987650000", Lang: bot.Portuguese, State: fsm.Menu, Created: at, Updated: at, LastSeen: at}
	if err := db.Commit(ctx, bot.Turn{MessageID: "wamid.small", Conversation: conv}); err != nil {
		t.Fatal(err)
	}
	var size int
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		size = len(tx.Bucket(bucketConversations).Get([]byte(conv.Key)))
		return nil
	})
	if size == 0 || size > 180 {
		t.Errorf("a new client's conversation takes %d bytes, want at most 180", size)
	}
}

// Records written before empty fields were left out still read back whole.
func TestFullConversationRecordStillReads(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	old := `{"Key":"5511987650001","Lang":"es","LangChosen":true,"State":"await_code","Back":"menu",` +
		`"CaseID":"K7Q2","Step":"pin","PinHash":"h","Misses":2,"Created":"2026-11-01T10:00:00Z",` +
		`"Updated":"2026-11-02T10:00:00Z","LastSeen":"2026-11-02T10:00:00Z","Delivered":7}`
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketConversations).Put([]byte("5511987650001"), []byte(old))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Conversation(ctx, "5511987650001")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LangChosen || got.Back != "menu" || got.CaseID != "K7Q2" || got.Step != "pin" || got.PinHash != "h" ||
		got.Misses != 2 || got.Delivered != 7 || got.Lang != "es" || got.State != "await_code" {
		t.Errorf("an old full record read back as %+v", got)
	}
}

// Many clients writing at once, as in a burst, land in group commits that
// put many of their keys into the same pages; those pages must not end up
// half empty, or the store, and the memory that maps it, take twice the
// room their data needs.
func TestClientsPagesFilledUnderABurst(t *testing.T) {
	db := mustOpen(t, WithSealKey(testKey))
	ctx := context.Background()
	const clients = 4000
	burst := func(do func(client, id string) error) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		for i := range clients {
			client := fmt.Sprintf("55119%08d", i*7919%100_000_000)
			id := fmt.Sprintf("wamid.fill.%d", i)
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := do(client, id); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	fill := func(b *bolt.Bucket) (float64, bolt.BucketStats) {
		st := b.Stats()
		return float64(st.LeafInuse) / float64(st.LeafAlloc), st
	}
	check := func(file *bolt.DB, names ...[]byte) {
		_ = file.View(func(tx *bolt.Tx) error {
			for _, name := range names {
				f, st := fill(tx.Bucket(name))
				t.Logf("%s: %d keys in %d leaf pages, %.0f%% in use", name, st.KeyN, st.LeafPageN, 100*f)
				if st.KeyN < clients {
					t.Errorf("%s holds %d keys, want %d", name, st.KeyN, clients)
				}
				if f < 0.7 {
					t.Errorf("%s leaf pages %.0f%% in use after a burst, want at least 70%%", name, 100*f)
				}
			}
			return nil
		})
	}
	// The burst of webhooks waits in the inbox before any is processed.
	burst(func(client, id string) error {
		_, err := db.Enqueue(ctx, []bot.Inbound{{ID: id, From: client, Text: "how long does it take?", At: time.Now()}})
		return err
	})
	check(db.ibolt, bucketInbox, bucketInboxIDs)
	burst(func(client, id string) error {
		return db.Commit(ctx, bot.Turn{MessageID: id, Conversation: sampleConversation(client, "")})
	})
	check(db.bolt, bucketConversations, bucketProcessed)
}
