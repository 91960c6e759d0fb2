package postgres

import (
	"errors"
	"testing"
	"time"

	"portabot/bot"
	"portabot/storage/storetest"
)

// A replica that was cut off past its lease's TTL, while another took its
// conversation over, cannot commit a turn over the newer one's: neither the
// message's own turn nor a later write of the same turn (the state after a
// Graph call), which would roll back what the other replica wrote.
func TestReplicaThatLostItsLeaseCannotCommit(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := t.Context()
	const client = "5511900000001"
	m := storetest.Inbound(client, 1)
	storetest.MustEnqueue(t, a, m)

	keyA, _, releaseA, ok, err := a.Claim(ctx)
	if err != nil || !ok || keyA != client {
		t.Fatalf("a.Claim() = %q, %v, %v; want the client's conversation", keyA, ok, err)
	}
	expireLeases(t, url, a)
	keyB, msgs, releaseB, ok, err := b.Claim(ctx)
	if err != nil || !ok || keyB != client || len(msgs) != 1 {
		t.Fatalf("b.Claim() = %q, %d messages, %v, %v; want the expired conversation", keyB, len(msgs), ok, err)
	}

	newer := storetest.SampleConversation(client, "")
	newer.State = "menu"
	if err := b.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: newer}); err != nil {
		t.Fatalf("b.Commit() error = %v", err)
	}
	stale := storetest.SampleConversation(client, "")
	stale.State = "check_2fa"
	if err := a.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: stale}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("a.Commit() of the message b committed: error = %v, want ErrLeaseLost", err)
	}
	if err := a.Commit(ctx, bot.Turn{Conversation: stale}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("a.Commit() of a later write of its turn: error = %v, want ErrLeaseLost", err)
	}
	got, err := b.Conversation(ctx, client)
	if err != nil || got.State != "menu" {
		t.Errorf("conversation stands at %q (%v), want b's %q", got.State, err, "menu")
	}
	releaseA()
	// a's late release must not end b's lease.
	if other, _, rel, ok, err := a.Claim(ctx); err != nil || ok {
		rel()
		t.Errorf("a.Claim() after its late release = %q, %v, %v; want nothing, b holds the conversation", other, ok, err)
	}
	releaseB()
}

// A lease that ran out but that nobody took is still its replica's: the
// claim's writes go through, and nothing is lost by a slow turn.
func TestExpiredLeaseNobodyTookStillCommits(t *testing.T) {
	url := freshDatabase(t)
	a := mustOpen(t, url)
	ctx := t.Context()
	const client = "5511900000002"
	m := storetest.Inbound(client, 1)
	storetest.MustEnqueue(t, a, m)
	_, _, release, ok, err := a.Claim(ctx)
	if err != nil || !ok {
		t.Fatalf("Claim() = %v, %v", ok, err)
	}
	defer release()
	expireLeases(t, url, a)
	if err := a.Commit(ctx, bot.Turn{MessageID: m.ID, Conversation: storetest.SampleConversation(client, "")}); err != nil {
		t.Errorf("Commit() under an expired lease nobody took: error = %v, want nil", err)
	}
	storetest.WantDepth(t, a, 0)
}

// A replica that claimed a reply and was cut off past its lease's TTL cannot
// record an attempt once another replica claimed the reply: it never sends
// it, and the client gets it once, from the replica that holds it.
func TestReplicaThatLostItsLeaseCannotSend(t *testing.T) {
	url := freshDatabase(t)
	a, b := mustOpen(t, url), mustOpen(t, url)
	ctx := t.Context()
	const client = "5511900000003"
	conv := storetest.SampleConversation(client, "")
	storetest.MustCommit(t, a, bot.Turn{Conversation: conv, Outbox: []bot.Outbound{storetest.Outbound(client, "hello")}})

	rowsA, releaseA := storetest.MustClaimOutbound(t, a, storetest.At(60), 1)
	if len(rowsA) != 1 {
		t.Fatalf("a claimed %d rows, want 1", len(rowsA))
	}
	expireLeases(t, url, a)
	rowsB, releaseB := storetest.MustClaimOutbound(t, b, storetest.At(60), 1)
	if len(rowsB) != 1 || rowsB[0].ID != rowsA[0].ID {
		t.Fatalf("b claimed %v, want a's expired row %s", rowsB, rowsA[0].ID)
	}
	attempt := func(row bot.Outbound) bot.Outbound {
		row.Attempts++
		row.Sending = storetest.At(61)
		return row
	}
	if err := b.MarkSending(ctx, attempt(rowsB[0])); err != nil {
		t.Fatalf("b.MarkSending() error = %v", err)
	}
	if err := a.MarkSending(ctx, attempt(rowsA[0])); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("a.MarkSending() after b took the row: error = %v, want ErrLeaseLost", err)
	}
	sent := attempt(rowsB[0])
	sent.State, sent.MetaID, sent.Sending = bot.OutboundSent, "wamid.b", time.Time{}
	if err := b.MarkOutbound(ctx, sent); err != nil {
		t.Fatalf("b.MarkOutbound() error = %v", err)
	}
	got, err := b.Outbound(ctx, rowsB[0].ID)
	if err != nil || got.State != bot.OutboundSent || got.Attempts != 1 {
		t.Errorf("row = %s after %d attempts (%v), want sent after b's one attempt", got.State, got.Attempts, err)
	}
	releaseA()
	releaseB()
}
