package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"portabot/bot"
	"portabot/storage"
	"portabot/storage/storetest"
)

// queryCounter counts the statements a store sends on their own; a batch
// of them is one round trip and is not counted. So it counts round trips
// to the server (but for the batch's), whatever the machine.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// messageStore is what one message's way through serve touches.
type messageStore interface {
	bot.Store
	bot.Inbox
	bot.Outbox
}

// oneMessage is the store's part of one message, as serve does it: the
// webhook enqueues it, a worker claims and commits its turn with one reply,
// the sender claims the reply, records the attempt and marks it sent.
func oneMessage(b *testing.B, s messageStore, i int) {
	ctx := context.Background()
	from := fmt.Sprintf("55119%08d", i%64)
	m := bot.Inbound{ID: fmt.Sprintf("wamid.bench.%d", i), From: from, Text: "how long does it take?", At: storetest.At(0)}
	if _, err := s.Enqueue(ctx, []bot.Inbound{m}); err != nil {
		b.Fatal(err)
	}
	key, msgs, release, ok, err := s.Claim(ctx)
	if err != nil || !ok {
		b.Fatalf("Claim() = %v, %v", ok, err)
	}
	for _, m := range msgs {
		conv := storetest.SampleConversation(key, "")
		if err := s.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: conv,
			Outbox: []bot.Outbound{storetest.Outbound(key, "about a day")}}); err != nil {
			b.Fatal(err)
		}
	}
	release()
	rows, releaseRows, err := s.ClaimOutbound(ctx, storetest.At(60), 8)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range rows {
		r.Attempts, r.Sending = 1, storetest.At(60)
		if err := s.MarkSending(ctx, r); err != nil {
			b.Fatal(err)
		}
		r.State, r.Sending, r.MetaID = bot.OutboundSent, time.Time{}, "wamid.out."+r.ID
		if err := s.MarkOutbound(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	releaseRows()
}

// BenchmarkMessage is the store's cost of one message on each backend, run
// one message at a time: latency and round trips, not throughput.
func BenchmarkMessage(b *testing.B) {
	b.Run("bbolt", func(b *testing.B) {
		db, err := storage.Open(filepath.Join(b.TempDir(), "portabot.db"), storage.WithSealKey(testKey))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		for i := 0; b.Loop(); i++ {
			oneMessage(b, db, i)
		}
	})
	b.Run("postgres", func(b *testing.B) {
		q := &queryCounter{}
		db := mustOpen(b, freshDatabase(b), func(o *options) { o.tracer = q })
		// What PostgreSQL does for a message, whatever its speed here:
		// the WAL it writes, and the write transactions it commits (each
		// one a WAL flush, the disk's share of the cost).
		var wal0, xid0, wal1, xid1 int64
		server := `SELECT pg_current_wal_lsn() - '0/0', pg_snapshot_xmax(pg_current_snapshot())::text::bigint`
		if err := db.pool.QueryRow(b.Context(), server).Scan(&wal0, &xid0); err != nil {
			b.Fatal(err)
		}
		q.n.Store(0)
		n := 0
		for i := 0; b.Loop(); i++ {
			oneMessage(b, db, i)
			n++
		}
		queries := q.n.Load()
		if err := db.pool.QueryRow(b.Context(), server).Scan(&wal1, &xid1); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(queries)/float64(n), "roundtrips/msg")
		b.ReportMetric(float64(wal1-wal0)/float64(n), "walbytes/msg")
		b.ReportMetric(float64(xid1-xid0)/float64(n), "writetx/msg")
	})
}
