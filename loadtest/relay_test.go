package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portabot/adapters/whatsapp"
	"portabot/bot"
	"portabot/internal/eventually"
)

func newRelay(t *testing.T, graphURL, token string) *RelayServer {
	t.Helper()
	r, err := NewRelay(RelayConfig{Secret: testSecret, GraphURL: graphURL, Token: token, PhoneNumberID: benchPhoneID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// relayRun posts n webhooks, one client each, through 8 connections to a
// relay that sends to g, and waits until the fake Graph has every answer.
func relayRun(t *testing.T, g *FakeGraph, r *RelayServer, n int) (*Tracker, Result) {
	t.Helper()
	srv := httptest.NewServer(referenceMux(r))
	t.Cleanup(srv.Close)
	m := NewMessages(testSecret, benchPhoneID, []string{"olá, como funciona?"}, 0, 0, 0)
	tr := NewTracker(m, n)
	g.Track(tr)
	gen := NewGenerator(srv.URL+"/webhooks/whatsapp", 8)
	defer gen.Close()
	res, err := gen.Run(t.Context(), m, n, 0)
	if err != nil || res.Acks != n {
		t.Fatalf("acks = %d, %v; want %d (%s)", res.Acks, err, n, res.FirstError)
	}
	g.Expect(tr, res.Acked)
	select {
	case <-tr.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("not every message answered: %+v, relay %+v", g.Outcome(tr), r.Stats())
	}
	return tr, res
}

func TestRelayAnswersEachMessageWithOneReceiptAndOneReply(t *testing.T) {
	g, err := StartFakeGraph("tok", benchPhoneID)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	r := newRelay(t, g.URL, "tok")
	const n = 300 // more than the senders, so the queue fills
	tr, _ := relayRun(t, g, r, n)
	// Closed, so any send still to come has come.
	r.Close()
	o := g.Outcome(tr)
	if o.Answered != n || o.ReadReceipts != n || o.Replies != n || o.Duplicates != 0 || o.ExtraReplies != 0 {
		t.Errorf("outcome %+v", o)
	}
	if s := r.Stats(); s != (RelayStats{Queued: n, Receipts: n, Replies: n}) {
		t.Errorf("stats %+v", s)
	}
	if st := g.Stray(); st != (GraphCounts{}) {
		t.Errorf("stray calls at the Graph: %+v", st)
	}
}

// The relay does the HTTP work serve's sender does: same endpoint, same
// headers, the same fields in the bodies.
func TestRelayPostsWhatServesSenderPosts(t *testing.T) {
	type call struct {
		path, auth, contentType string
		body                    map[string]any
	}
	var mu sync.Mutex
	var calls []call
	graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
		mu.Lock()
		calls = append(calls, call{req.Method + " " + req.URL.Path, req.Header.Get("Authorization"), req.Header.Get("Content-Type"), body})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"messages":[{"id":"wamid.x"}]}`)
	}))
	defer graph.Close()
	take := func(want int) []call {
		t.Helper()
		var got []call
		eventually.Until(t, 5*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			got = calls
			if len(got) < want {
				return false
			}
			calls = nil
			return true
		}, func() string { return fmt.Sprintf("%d calls, want %d", len(got), want) })
		if len(got) > want {
			t.Fatalf("%d calls, want %d", len(got), want)
		}
		return got
	}

	const from, id = "5511900000001", "wamid.in1"
	s := whatsapp.NewSender(whatsapp.SenderConfig{BaseURL: graph.URL, Token: "tok", PhoneNumberID: benchPhoneID})
	if err := s.MarkRead(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(t.Context(), bot.Outbound{To: from, Reply: bot.Reply{Text: RelayAnswer}}); err != nil {
		t.Fatal(err)
	}
	serve := take(2)

	r := newRelay(t, graph.URL, "tok")
	body := webhook(id)
	if got := post(t, r, body, whatsapp.SignBody(testSecret, body)); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
	relay := take(2)

	for i, what := range []string{"read receipt", "reply"} {
		sv, rl := serve[i], relay[i]
		if rl.path != sv.path || rl.auth != sv.auth || rl.contentType != sv.contentType {
			t.Errorf("%s: relay %s %q %q, serve %s %q %q", what, rl.path, rl.auth, rl.contentType, sv.path, sv.auth, sv.contentType)
		}
		// preview_url false is Meta's default: sending it or not is the
		// same request.
		if text, ok := sv.body["text"].(map[string]any); ok {
			delete(text, "preview_url")
		}
		if a, b := mustJSON(t, rl.body), mustJSON(t, sv.body); a != b {
			t.Errorf("%s: relay sent %s, serve %s", what, a, b)
		}
	}
	if n := len(RelayAnswer); n < 250 || n > 350 {
		t.Errorf("the relay's answer has %d bytes, want about 300", n)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRelayRefusesBadSignatureAndSendsNothing(t *testing.T) {
	g, err := StartFakeGraph("tok", benchPhoneID)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	r := newRelay(t, g.URL, "tok")
	body := webhook("wamid.forged")
	if got := post(t, r, body, whatsapp.SignBody("not the secret", body)); got != http.StatusUnauthorized {
		t.Errorf("forged signature: status %d, want 401", got)
	}
	refusals(t, r)
	r.Close()
	if s := r.Stats(); s != (RelayStats{}) {
		t.Errorf("stats after refusals only: %+v", s)
	}
	if st := g.Stray(); st != (GraphCounts{}) {
		t.Errorf("calls at the Graph: %+v", st)
	}
}

// A Graph briefly unavailable costs retries, not answers.
func TestRelayRetriesTransientErrors(t *testing.T) {
	g, err := StartFakeGraph("tok", benchPhoneID)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	target, _ := url.Parse(g.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var refused atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if refused.Add(1) <= 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, req)
	}))
	defer front.Close()
	r := newRelay(t, front.URL, "tok")
	const n = 20
	tr, _ := relayRun(t, g, r, n)
	r.Close()
	if o := g.Outcome(tr); o.Answered != n || o.ReadReceipts != n || o.Replies != n {
		t.Errorf("outcome %+v", o)
	}
	if s := r.Stats(); s.Retries != 3 || s.Failed != 0 || s.Receipts != n || s.Replies != n {
		t.Errorf("stats %+v", s)
	}
}

// A call the Graph refuses is counted and not repeated: it would be
// refused again.
func TestRelayCountsRefusedSends(t *testing.T) {
	g, err := StartFakeGraph("tok", benchPhoneID)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	r := newRelay(t, g.URL, "wrong")
	for _, id := range []string{"wamid.1", "wamid.2"} {
		body := webhook(id)
		if got := post(t, r, body, whatsapp.SignBody(testSecret, body)); got != http.StatusOK {
			t.Fatalf("status %d, want 200", got)
		}
	}
	eventually.Within(t, 5*time.Second, "four failed relays", func() bool { return r.Stats().Failed >= 4 })
	r.Close()
	if s := r.Stats(); s != (RelayStats{Queued: 2, Failed: 4}) {
		t.Errorf("stats %+v", s)
	}
	if st := g.Stray(); st.Unauthorized != 4 {
		t.Errorf("graph saw %+v, want 4 unauthorized calls", st)
	}
}
