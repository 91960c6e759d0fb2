package bot_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"portabot/adapters/metasim"
	"portabot/bot"
	"portabot/fsm"
)

// addClosedCases commits n done cases of other clients, then, with the
// store closed, overwrites each one's record with bytes no decoder reads:
// the years of history a path must not touch. Reading any of them fails.
func (h *harness) addClosedCases(n int) {
	h.t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		id, err := h.db.NewCaseID(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		key := fmt.Sprintf("5531900%06d", i)
		c := bot.Case{ID: id, Client: key, ClientPhone: key, State: fsm.Done, Phone: "+5541900" + fmt.Sprintf("%06d", i),
			Created: h.clock.Now(), Updated: h.clock.Now(), Closed: h.clock.Now()}
		conv := bot.Conversation{Key: key, State: fsm.Done, CaseID: id, Created: h.clock.Now()}
		if err := h.db.Commit(ctx, bot.Turn{Conversation: conv, Case: &c}); err != nil {
			h.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := h.db.Close(); err != nil {
		h.t.Fatal(err)
	}
	raw, err := bolt.Open(h.path, 0o600, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	err = raw.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			num, _ := strconv.ParseUint(id, 10, 64)
			if err := tx.Bucket([]byte("cases")).Put(binary.BigEndian.AppendUint64(nil, num), []byte("{damaged")); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := raw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		h.t.Fatal(err)
	}
	h.open()
}

// Recovery reads the cases in a transient state and nothing else: closed
// cases that no read survives do not stop a restart from settling the one
// step left in flight.
func TestRecoverReadsOnlyTransientCases(t *testing.T) {
	h := reach(t, fsm.AwaitCode, bot.English)
	h.crashAt(fsm.RequestingCode, "request_code")
	h.addClosedCases(50)
	// A scan of every case would fail on the first damaged record.
	if _, err := h.db.Cases(context.Background()); err == nil {
		t.Fatal("Cases() read the damaged records without an error: the fixture does not damage them")
	}
	r := h.recover()
	h.wantState(fsm.AwaitCode)
	says(t, r, "interrupted while asking Meta for your code")
	if got := h.calls(metasim.EndpointRequestCode); got != 1 {
		t.Errorf("request_code called %d times, want 1", got)
	}
}

// A security webhook finds the cases of its number through the index: the
// damaged closed cases of other numbers are never read, and the blocked
// case goes on.
func TestSecurityEventFindsCasesByNumber(t *testing.T) {
	h := newAgentHarness(t, options{phone: metasim.TwoStepOffLater, typed: metasim.TwoStepOffLater})
	h.driveTo(fsm.AskPhone)
	h.send(metasim.TwoStepOffLater)
	h.send("skip")
	h.wantState(fsm.Blocked)
	h.addClosedCases(50)
	if err := h.bot.Recheck(context.Background(), strings.TrimPrefix(metasim.TwoStepOffLater, "+")); err != nil {
		t.Fatalf("Recheck() error = %v: it read a case of another number", err)
	}
	h.wantState(fsm.ChooseMethod)
	if n := h.calls(metasim.EndpointAddNumber); n != 2 {
		t.Errorf("the number was added %d times, want 2 (the refused try and the recheck)", n)
	}
}
