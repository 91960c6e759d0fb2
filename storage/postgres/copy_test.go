package postgres

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"portabot/bot"
	"portabot/storage"
	"portabot/storage/storetest"
)

// A deployment moved from its bbolt file to PostgreSQL holds the same
// things afterwards, and goes on where it stopped: the waiting message is
// claimed, the parked reply still waits, new ids follow the old ones.
func TestCopyFromBolt(t *testing.T) {
	ctx := t.Context()
	src, err := storage.Open(filepath.Join(t.TempDir(), "portabot.db"), storage.WithSealKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })

	const bsuid, phone = "BR.1502576394655843", "5511987654321"
	id := storetest.MustNewCaseID(t, src)
	conv := storetest.SampleConversation(bsuid, id)
	conv.Phone = phone
	c := storetest.SampleCase(id, bsuid)
	parked := storetest.Outbound(bsuid, "waits for the window")
	parked.State = bot.OutboundParked
	storetest.MustCommit(t, src, bot.Turn{MessageID: "wamid.1", Conversation: conv, Case: &c,
		Audit:   []bot.AuditEvent{{At: storetest.At(1), Actor: "client", Kind: "started"}},
		Outbox:  []bot.Outbound{storetest.Outbound(bsuid, "first"), parked},
		Notices: []bot.Notice{storetest.Notice(id, "started")}})
	if err := src.SetThread(ctx, id, "1715000000.000100"); err != nil {
		t.Fatal(err)
	}
	rows, release := storetest.MustClaimOutbound(t, src, storetest.At(60), 1)
	storetest.MarkSent(t, src, rows[0], "wamid.out.1")
	release()
	waiting := storetest.Inbound(phone, 2)
	waiting.Text = "my code is 482913"
	storetest.MustEnqueue(t, src, waiting)

	want, err := src.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := freshDatabase(t)
	dst := mustOpen(t, url)
	if err := dst.Import(ctx, want); err != nil {
		t.Fatalf("Import() error = %v", err)
	}
	got, err := dst.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Sums(), got.Sums()); diff != "" {
		t.Errorf("sums differ after the copy (-bolt +postgres):\n%s", diff)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("dumps differ after the copy (-bolt +postgres):\n%s", diff)
	}

	if err := dst.Import(ctx, want); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("second Import() error = %v, want ErrNotEmpty", err)
	}
	if next := storetest.MustNewCaseID(t, dst); next == id {
		t.Errorf("NewCaseID() after the copy = %s, which the old store issued", next)
	}
	if got, err := dst.Conversation(ctx, phone); err != nil || got.Key != bsuid {
		t.Errorf("Conversation(phone) after the copy = %q, %v; want %s", got.Key, err, bsuid)
	}
	key, msgs, release2, ok, err := dst.Claim(ctx)
	if err != nil || !ok || key != phone || len(msgs) != 1 || msgs[0].Text != waiting.Text {
		t.Fatalf("Claim() after the copy = %q, %v, %v, %v; want the waiting message", key, msgs, ok, err)
	}
	release2()
	conv.LastSeen, conv.Updated = storetest.At(90), storetest.At(90)
	storetest.MustCommit(t, dst, bot.Turn{MessageID: waiting.ID, Conversation: conv, Unpark: true,
		Outbox: []bot.Outbound{storetest.Outbound(bsuid, "new")}})
	all, err := dst.OutboundRows(ctx, bsuid)
	if err != nil {
		t.Fatal(err)
	}
	if texts := storetest.Texts(all); !cmp.Equal(texts, []string{"", "waits for the window", "new"}) {
		t.Errorf("rows after the copy and a new turn = %q, want the sent one, the parked one, the new one", texts)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Errorf("row ids %s then %s: not in the order written", all[i-1].ID, all[i].ID)
		}
	}
	if all[1].State != bot.OutboundPending {
		t.Errorf("parked row after the client wrote = %s, want pending", all[1].State)
	}
}
