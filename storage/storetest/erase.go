package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
	"portabot/fsm"
)

// EraserBackend is a store that forgets clients and expires closed cases.
type EraserBackend interface {
	bot.Store
	bot.Eraser
}

// RunEraser is what every backend's erasure and retention must do. open
// returns an empty store that lives until the end of t; pseudonymKey is
// the key its pseudonyms are made with (bot.PseudonymKey of its seal key).
// A backend that also keeps notices (bot.Notices) must queue the erased
// case's NoticeErased.
func RunEraser(t *testing.T, pseudonymKey []byte, open func(t *testing.T) EraserBackend) {
	const gone, kept, ported = "5511987654321", "5521912345678", "+5531988887777"
	// seed writes a closed case of client porting number, with audit
	// that carries what the client wrote.
	seed := func(t *testing.T, s EraserBackend, client, number string, state fsm.State) string {
		t.Helper()
		id := MustNewCaseID(t, s)
		c := SampleCase(id, client)
		c.ClientPhone, c.Phone, c.National, c.InFlight, c.State = client, number, number[3:], "", state
		c.Username = "@padaria"
		if _, closed := bot.Closed(c); closed {
			c.Closed = At(10)
		}
		conv := SampleConversation(client, id)
		conv.State, conv.Back, conv.LastSeen, conv.Updated = state, "", At(10), At(10)
		MustCommit(t, s, bot.Turn{MessageID: "wamid.m." + id, Conversation: conv, Case: &c, Audit: []bot.AuditEvent{
			{At: At(1), Actor: "client", Kind: "stale_button", Detail: "my dog is called Biscuit"},
			{At: At(2), Actor: "bot", Kind: "transition", From: fsm.AskPin, To: fsm.Registering, Detail: "register"},
			{At: At(3), Actor: "graph", Kind: "register", Detail: "ok"},
		}})
		return id
	}

	t.Run("ForgetByNumber", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := seed(t, s, gone, "+"+gone, fsm.AwaitCode)
		keptID := seed(t, s, kept, "+"+kept, fsm.Done)
		n, withNotices := s.(bot.Notices)
		if withNotices {
			if err := n.SetThread(ctx, id, "1773144000.000100"); err != nil {
				t.Fatal(err)
			}
		}
		before := SnapshotOf(t, s, []string{kept}, []string{keptID})
		got, err := s.Forget(ctx, bot.ForgetRequest{Number: gone, Actor: "U0DPO", At: At(100)})
		if err != nil {
			t.Fatalf("Forget() error = %v", err)
		}
		if len(got.Cases) != 1 || got.Cases[0] != id || got.Conversations != 1 || got.AuditEvents != 3 {
			t.Errorf("Forget() = %+v; want case %s, 1 conversation, 3 audit events", got, id)
		}
		if _, err := s.Conversation(ctx, gone); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Conversation() after Forget error = %v, want bot.ErrNotFound", err)
		}
		c, err := s.Case(ctx, id)
		if err != nil {
			t.Fatalf("Case(%s) after Forget error = %v; want its tombstone", id, err)
		}
		want := bot.Case{ID: id, Lang: bot.Spanish, State: fsm.Cancelled, Created: At(0), Updated: At(100), Closed: At(100),
			Erased: At(100), ErasedBy: "U0DPO"}
		if withNotices {
			want.Thread = "1773144000.000100"
		}
		if diff := cmp.Diff(want, c, CmpEmpty); diff != "" {
			t.Errorf("the tombstone (-want +got):\n%s", diff)
		}
		audit, err := s.Audit(ctx, id)
		if err != nil || len(audit) != 1 || audit[0].Kind != "erased" || audit[0].Actor != "U0DPO" || !audit[0].At.Equal(At(100)) {
			t.Errorf("Audit() after Forget = %+v, %v; want one erased event by U0DPO", audit, err)
		}
		after := SnapshotOf(t, s, []string{kept}, []string{keptID})
		before.AllCases, after.AllCases = nil, nil
		if diff := cmp.Diff(before, after, CmpEmpty); diff != "" {
			t.Errorf("the other client changed (-before +after):\n%s", diff)
		}
		if withNotices {
			rows, release, err := n.ClaimNotices(ctx, At(200), 10)
			if err != nil {
				t.Fatal(err)
			}
			release()
			if len(rows) != 1 || rows[0].Kind != bot.NoticeErased || rows[0].CaseID != id {
				t.Errorf("notices after Forget = %+v; want the one asking to erase case %s's thread", rows, id)
			}
		}
		again, err := s.Forget(ctx, bot.ForgetRequest{Number: gone, Actor: "U0DPO", At: At(101)})
		if err != nil || !again.Empty() {
			t.Errorf("Forget() again = %+v, %v; want nothing left to erase", again, err)
		}
	})

	t.Run("ForgetByPortedNumberOrCase", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := seed(t, s, gone, ported, fsm.Failed)
		got, err := s.Forget(ctx, bot.ForgetRequest{Number: ported[1:], Actor: "ops"})
		if err != nil || len(got.Cases) != 1 || got.Conversations != 1 {
			t.Errorf("Forget(the ported number) = %+v, %v; want the case and its client's conversation", got, err)
		}
		id2 := seed(t, s, kept, "+"+kept, fsm.Done)
		got, err = s.Forget(ctx, bot.ForgetRequest{CaseID: id2, Actor: "ops"})
		if err != nil || len(got.Cases) != 1 || got.Cases[0] != id2 || got.Conversations != 1 {
			t.Errorf("Forget(case %s) = %+v, %v; want it and its client's conversation", id2, got, err)
		}
		if _, err := s.Conversation(ctx, kept); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Conversation(%s) after Forget(case) error = %v, want bot.ErrNotFound", kept, err)
		}
		if _, err := s.Forget(ctx, bot.ForgetRequest{CaseID: "999", Actor: "ops"}); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Forget(unknown case) error = %v, want bot.ErrNotFound", err)
		}
		if got, err := s.Forget(ctx, bot.ForgetRequest{Number: "5599999999999", Actor: "ops"}); err != nil || !got.Empty() {
			t.Errorf("Forget(unknown number) = %+v, %v; want nothing erased", got, err)
		}
		if c, _ := s.Case(ctx, id); c.Erased.IsZero() {
			t.Errorf("case %s is not a tombstone: %+v", id, c)
		}
	})

	t.Run("ForgetRefusedInFlight", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		id := seed(t, s, gone, "+"+gone, fsm.Registering)
		c, _ := s.Case(ctx, id)
		c.InFlight = "register"
		conv, _ := s.Conversation(ctx, gone)
		MustCommit(t, s, bot.Turn{Conversation: conv, Case: &c})
		before := SnapshotOf(t, s, []string{gone}, []string{id})
		if _, err := s.Forget(ctx, bot.ForgetRequest{Number: gone, Actor: "ops"}); !errors.Is(err, bot.ErrInFlight) {
			t.Errorf("Forget() with a Graph step in flight error = %v, want bot.ErrInFlight", err)
		}
		if diff := cmp.Diff(before, SnapshotOf(t, s, []string{gone}, []string{id}), CmpEmpty); diff != "" {
			t.Errorf("a refused Forget changed the store (-before +after):\n%s", diff)
		}
	})

	t.Run("Expire", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		done := seed(t, s, gone, ported, fsm.Done)
		open := seed(t, s, kept, "+"+kept, fsm.AwaitCode)
		// The cutoff: everything closed before minute 50 is due.
		total := 0
		for {
			n, err := s.Expire(ctx, At(50), 1)
			if err != nil {
				t.Fatalf("Expire() error = %v", err)
			}
			total += n
			if n < 1 {
				break
			}
		}
		if total != 2 {
			t.Errorf("Expire() expired %d, want 2: the closed case and its idle conversation", total)
		}
		c, err := s.Case(ctx, done)
		if err != nil {
			t.Fatal(err)
		}
		if c.Phone != bot.Pseudonym(pseudonymKey, ported) || c.ClientPhone != bot.Pseudonym(pseudonymKey, gone) ||
			c.Client != bot.Pseudonym(pseudonymKey, gone) || c.Username != "" || c.National != "" || !c.Expired.After(At(50)) {
			t.Errorf("the expired case = %+v; want its numbers replaced by keyed hashes, no username, no national number", c)
		}
		if c.State != fsm.Done || c.WABA != "104996122399160" || c.TraceID != "AbCdEf123" {
			t.Errorf("the expired case lost what names nobody: %+v", c)
		}
		audit, _ := s.Audit(ctx, done)
		details := []string{}
		for _, e := range audit {
			details = append(details, e.Detail)
		}
		if diff := cmp.Diff([]string{"", "register", "ok"}, details); diff != "" {
			t.Errorf("the expired audit's details (-want +got):\n%s", diff)
		}
		if _, err := s.Conversation(ctx, gone); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("the idle conversation of the closed case: %v, want it gone", err)
		}
		if c, _ := s.Case(ctx, open); c.Phone != "+"+kept || !c.Expired.IsZero() {
			t.Errorf("the open case changed: %+v", c)
		}
		if _, err := s.Conversation(ctx, kept); err != nil {
			t.Errorf("the open case's conversation: %v, want it kept", err)
		}
		// A closed case newer than the cutoff waits.
		newer := seed(t, s, "5541977776666", "+5541977776666", fsm.Cancelled)
		if n, err := s.Expire(ctx, At(5), 10); err != nil || n != 0 {
			t.Errorf("Expire(before the cases closed) = %d, %v; want 0", n, err)
		}
		if c, _ := s.Case(ctx, newer); !c.Expired.IsZero() {
			t.Errorf("a case closed after the cutoff was expired: %+v", c)
		}
	})

	// Past retention a case holds only its numbers' keyed hashes; a
	// client who asks to be forgotten by number takes those cases too,
	// whichever of their numbers they name.
	t.Run("ForgetFindsExpiredCases", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		byClient := seed(t, s, gone, ported, fsm.Done)
		byPorted := seed(t, s, "5541977776666", ported, fsm.Cancelled)
		keptID := seed(t, s, kept, "+"+kept, fsm.Done)
		for {
			n, err := s.Expire(ctx, At(50), 10)
			if err != nil {
				t.Fatalf("Expire() error = %v", err)
			}
			if n < 10 {
				break
			}
		}
		got, err := s.Forget(ctx, bot.ForgetRequest{Number: ported[1:], Actor: "U0DPO", At: At(100)})
		if err != nil {
			t.Fatalf("Forget() error = %v", err)
		}
		if diff := cmp.Diff([]string{byClient, byPorted}, got.Cases); diff != "" {
			t.Errorf("Forget(the ported number) after retention erased (-want +got):\n%s", diff)
		}
		for _, id := range []string{byClient, byPorted} {
			if c, _ := s.Case(ctx, id); c.Erased.IsZero() || c.Phone != "" || c.Client != "" {
				t.Errorf("case %s after forget = %+v; want its tombstone", id, c)
			}
		}
		if c, _ := s.Case(ctx, keptID); !c.Erased.IsZero() || c.Client != bot.Pseudonym(pseudonymKey, kept) {
			t.Errorf("another client's expired case = %+v; want it kept with its pseudonym", c)
		}
	})

	t.Run("PruneProcessed", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		seed(t, s, gone, "+"+gone, fsm.Done)
		id := seed(t, s, kept, "+"+kept, fsm.Done)
		if n, err := s.PruneProcessed(ctx, time.Now().Add(-time.Hour), 10); err != nil || n != 0 {
			t.Errorf("PruneProcessed(an hour ago) = %d, %v; want 0: the markers are newer", n, err)
		}
		total := 0
		for {
			n, err := s.PruneProcessed(ctx, time.Now().Add(time.Hour), 1)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			total += n
		}
		if total != 2 {
			t.Errorf("PruneProcessed() pruned %d markers, want 2", total)
		}
		if ok, err := s.Processed(ctx, "wamid.m."+id); err != nil || ok {
			t.Errorf("Processed() after pruning = %v, %v; want false", ok, err)
		}
	})
}
