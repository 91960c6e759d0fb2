package bot_test

import (
	"context"
	"strings"
	"testing"

	"portabot/bot"
	"portabot/fsm"
)

// BSUIDs as Meta formats them (Meta: business-scoped-user-ids).
const (
	bsuid      = "BR.1502576394655843"
	bsuidNew   = "BR.7000000000000001"
	username   = "@analima"
	newNumber  = "5511955550000"
	otherBSUID = "BR.8800000000000002"
)

func TestClientKnownOnlyByBSUID(t *testing.T) {
	h := newAgentHarness(t, options{})
	h.who = bot.Inbound{UserID: bsuid, Username: username}
	h.driveTo(fsm.CheckBMAccess)

	conv := h.conv()
	if conv.Key != bsuid || conv.Phone != "" {
		t.Errorf("conversation key %q, phone %q; want the BSUID and no number", conv.Key, conv.Phone)
	}
	rows, err := h.db.OutboundRows(h.t.Context(), bsuid)
	if err != nil || len(rows) == 0 {
		t.Fatalf("no replies queued for the client known by BSUID: %v", err)
	}
	for _, r := range rows {
		if phone, user := r.Address(); phone != "" || user != bsuid {
			t.Errorf("reply %s goes to phone %q, BSUID %q; want the BSUID alone", r.ID, phone, user)
		}
	}
	c := h.kase()
	if c.Client != bsuid || c.Who() != username {
		t.Errorf("case client %q shown as %q; want the BSUID, shown as %s", c.Client, c.Who(), username)
	}
	for _, n := range h.takeNotices() {
		if strings.Contains(n.Text, bsuid) {
			t.Errorf("a notice shows agents the bare BSUID: %q", n.Text)
		}
	}
}

func TestClientWhoAdoptsAUsernameKeepsTheirCase(t *testing.T) {
	h := newAgentHarness(t, options{})
	h.who = bot.Inbound{From: client, UserID: bsuid}
	h.driveTo(fsm.Check2FA)
	before := h.kase()

	// Meta stops sharing the number: the BSUID alone names the client.
	h.who = bot.Inbound{UserID: bsuid, Username: username}
	h.tap("yes")
	h.wantState(fsm.CheckReception)
	if c := h.kase(); c.ID != before.ID || c.Username != username {
		t.Errorf("case %s (%q) after the switch; want case %s with the username", c.ID, c.Username, before.ID)
	}
	// Replies still go to the number the bot learnt.
	rows, err := h.db.OutboundRows(h.t.Context(), h.conv().Key)
	if err != nil {
		t.Fatal(err)
	}
	if phone, _ := rows[len(rows)-1].Address(); phone != client {
		t.Errorf("the last reply goes to %q; want the number the client wrote from, %s", phone, client)
	}
	// And a message with the number alone, as before BSUIDs, finds them too.
	h.who = bot.Inbound{From: client}
	h.tap("yes")
	h.wantState(fsm.CheckDisplayName)
	if c := h.kase(); c.ID != before.ID {
		t.Errorf("a message by number alone opened case %s; want %s", c.ID, before.ID)
	}
}

func TestSystemMessageMovesTheConversation(t *testing.T) {
	h := newAgentHarness(t, options{})
	h.who = bot.Inbound{From: client, UserID: bsuid}
	h.driveTo(fsm.CheckReception)
	before := h.kase()

	r := h.deliver(bot.Inbound{From: client, UserID: bsuid, Moved: &bot.Move{Phone: newNumber, UserID: bsuidNew}})
	if len(r) != 0 {
		t.Errorf("the system message was answered: %q", text(r))
	}
	h.who = bot.Inbound{From: newNumber, UserID: bsuidNew}
	h.tap("yes")
	h.wantState(fsm.CheckDisplayName)
	c := h.kase()
	if c.ID != before.ID || c.ClientPhone != newNumber {
		t.Errorf("after the move: case %s, client number %q; want case %s at %s", c.ID, c.ClientPhone, before.ID, newNumber)
	}
	rows, err := h.db.OutboundRows(h.t.Context(), h.conv().Key)
	if err != nil {
		t.Fatal(err)
	}
	if phone, _ := rows[len(rows)-1].Address(); phone != newNumber {
		t.Errorf("the reply after the move goes to %q; want the new number %s", phone, newNumber)
	}
	// Whoever writes from the old number next is someone else.
	if _, err := h.db.Conversation(context.Background(), client); err == nil && client != h.conv().Key {
		t.Errorf("the old number still finds the moved conversation")
	}
	h.deliver(bot.Inbound{From: client, UserID: otherBSUID, Text: "hi"})
	other, err := h.db.Conversation(context.Background(), otherBSUID)
	if err != nil {
		t.Fatal(err)
	}
	if other.CaseID == before.ID {
		t.Errorf("a new client on the old number took over case %s", before.ID)
	}
	var moved bool
	for _, n := range h.takeNotices() {
		if n.Kind == bot.NoticeMoved {
			moved = true
			if strings.Contains(n.Text, newNumber) {
				t.Errorf("the move notice shows the new number in clear: %q", n.Text)
			}
		}
	}
	if !moved {
		t.Error("agents were not told the client moved")
	}
}

func TestTapOnAnOlderQuestionIsStale(t *testing.T) {
	h := reach(t, fsm.CheckBMAccess, bot.English)
	old := h.last
	h.tap("yes")
	h.wantState(fsm.Check2FA)
	// The client scrolls up and taps "No" on the first check.
	var stale string
	for _, r := range old {
		for _, b := range r.Buttons {
			if choiceOf(b.ID) == "no" {
				stale = b.ID
			}
		}
	}
	if stale == "" {
		t.Fatal("the first check offered no No button")
	}
	r := h.deliver(bot.Inbound{Text: "No", Choice: stale})
	says(t, r, "earlier step", "Check 2/4")
	h.wantState(fsm.Check2FA)
	if c := h.kase(); c.Blocked != "" {
		t.Errorf("a stale No blocked the case on %s", c.Blocked)
	}
	// Asking for a person is never stale.
	var person string
	for _, r := range old {
		for _, b := range r.Buttons {
			if choiceOf(b.ID) == "agent" {
				person = b.ID
			}
		}
	}
	if person != "" {
		h.deliver(bot.Inbound{Text: "Talk to a person", Choice: person})
		h.wantState(fsm.Handoff)
	}
}

func TestReactionsAndMediaKeepThePlace(t *testing.T) {
	h := reach(t, fsm.Check2FA, bot.English)
	if r := h.deliver(bot.Inbound{Unsupported: "reaction"}); len(r) != 0 {
		t.Errorf("a reaction was answered: %q", text(r))
	}
	h.wantState(fsm.Check2FA)
	r := h.deliver(bot.Inbound{Unsupported: "image"})
	says(t, r, "I can read text and buttons only", "Check 2/4")
	h.wantState(fsm.Check2FA)

	m := reach(t, fsm.Menu, bot.Portuguese)
	r = m.deliver(bot.Inbound{Unsupported: "sticker"})
	if len(r) != 1 || len(r[0].Buttons) != 0 || !strings.Contains(r[0].Text, "texto e botões") {
		t.Errorf("a sticker at the menu got %+v; want one line in Portuguese and no menu", r)
	}
}
