package loadtest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"portabot/adapters/whatsapp"
	"portabot/bot"
)

// The fake Graph is driven by serve's real sender, so paths, token and
// bodies are the ones serve uses.
func TestFakeGraphTracksAnswers(t *testing.T) {
	g, err := StartFakeGraph("tok", benchPhoneID)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	s := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: g.URL, Token: "tok", PhoneNumberID: benchPhoneID})
	ctx := t.Context()

	// Two clients, two messages each: client 0 sends j=0 and j=2, client 1
	// sends j=1 and j=3.
	m := NewMessages(testSecret, benchPhoneID, []string{"hi"}, 700, 2, 100)
	id := func(j int64) string { return idPrefix + strconv.FormatInt(100+j, 10) }
	tr := NewTracker(m, 4)
	g.Track(tr)
	read := func(j int64) {
		t.Helper()
		if err := s.MarkRead(ctx, id(j)); err != nil {
			t.Fatal(err)
		}
	}
	reply := func(client int64, text string) {
		t.Helper()
		res, err := s.Send(ctx, bot.Outbound{To: "+" + m.Phone(client), Reply: bot.Reply{Text: text}})
		if err != nil || !strings.HasPrefix(res.MetaID, "wamid.") {
			t.Fatalf("send: %q, %v", res.MetaID, err)
		}
	}

	read(0)
	reply(0, "a") // before the generator knows what was acknowledged
	g.Expect(tr, []int64{0, 1, 2, 3})
	if o := g.Outcome(tr); o.Answered != 1 || o.Expected != 4 {
		t.Fatalf("after one answer: %+v", o)
	}
	reply(0, "b")
	read(2)
	read(1)
	reply(1, "x")
	reply(1, "x") // the same reply again: a duplicate
	select {
	case <-tr.Done():
		t.Fatal("done before message 3 was read")
	default:
	}
	before := time.Now()
	read(3)
	select {
	case <-tr.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("not done after every message was read and answered")
	}
	o := g.Outcome(tr)
	if o.Answered != 4 || o.Replies != 4 || o.ReadReceipts != 4 || o.Duplicates != 1 || o.ExtraReplies != 0 || o.DoneAt.Before(before) {
		t.Errorf("outcome %+v", o)
	}

	// What no tracker owns is counted apart.
	g.Track(nil)
	reply(0, "late")
	if _, err := s.Send(ctx, bot.Outbound{To: "+5521999999999", Reply: bot.Reply{Text: "stranger"}}); err != nil {
		t.Fatal(err)
	}
	bad := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: g.URL, Token: "wrong", PhoneNumberID: benchPhoneID})
	if _, err := bad.Send(ctx, bot.Outbound{To: "+" + m.Phone(0), Reply: bot.Reply{Text: "x"}}); err == nil {
		t.Error("a wrong token was accepted")
	}
	resp, err := http.Post(g.URL+"/v25.0/"+benchPhoneID+"/register", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := g.Stray(); st.Replies != 2 || st.Unauthorized != 1 || st.Other != 1 {
		t.Errorf("stray %+v", st)
	}
}

func TestTrackerDoneWhenAnsweredBeforeExpect(t *testing.T) {
	g, err := StartFakeGraph("tok", benchPhoneID)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	m := NewMessages(testSecret, benchPhoneID, []string{"hi"}, 0, 0, 0)
	tr := NewTracker(m, 2)
	g.Track(tr)
	at := time.Now()
	g.mu.Lock()
	tr.receipt(0, at)
	tr.reply(0, []byte("r0"), at)
	tr.receipt(1, at.Add(time.Millisecond))
	tr.reply(1, []byte("r1"), at.Add(2*time.Millisecond))
	if tr.reply(2, []byte("not mine"), at) || tr.receipt(5, at) {
		t.Error("client 2 and message 5 are outside a run of two")
	}
	g.mu.Unlock()
	g.Expect(tr, []int64{0, 1})
	select {
	case <-tr.Done():
	default:
		t.Fatal("not done")
	}
	if o := g.Outcome(tr); o.Answered != 2 || !o.DoneAt.Equal(at.Add(2*time.Millisecond)) {
		t.Errorf("outcome %+v", o)
	}
}
