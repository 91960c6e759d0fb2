package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"portabot/adapters/graph"
	"portabot/bot"
)

// observed is one call Config.Observe was told of.
type observed struct{ endpoint, outcome string }

func TestObserveReportsEachCall(t *testing.T) {
	var mu sync.Mutex
	var got []observed
	var total time.Duration
	replies := []reply{
		ok(`{"success":true}`), // request_code
		graphError(400, `"message":"wrong code","type":"OAuthException","code":136025`), // verify_code
		{status: http.StatusServiceUnavailable, body: `{}`},                             // phone_number, all four attempts
	}
	f := &fakeGraph{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, Timeout: 5 * time.Second,
		RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond,
		Observe: func(endpoint, outcome string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, observed{endpoint, outcome})
			total += d
		}})
	ctx := context.Background()
	const phoneID = "106540352242922"
	if err := c.RequestCode(ctx, phoneID, "SMS", bot.English); err != nil {
		t.Fatalf("request_code: %v", err)
	}
	if err := c.VerifyCode(ctx, phoneID, "111111"); err == nil {
		t.Fatal("verify_code: no error for a refused code")
	}
	if _, err := c.PhoneNumber(ctx, phoneID); err == nil {
		t.Fatal("phone_number: no error from a failing Meta")
	}
	// Refused before any request is made: nothing to observe.
	if err := c.VerifyCode(ctx, "not-an-id", "111111"); err == nil {
		t.Fatal("verify_code with a bad id: no error")
	}

	mu.Lock()
	defer mu.Unlock()
	want := []observed{{"request_code", "ok"}, {"verify_code", "meta_error"}, {"phone_number", "unavailable"}}
	if len(got) != len(want) {
		t.Fatalf("observed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d observed as %v, want %v", i+1, got[i], want[i])
		}
	}
	if total <= 0 {
		t.Error("no call reported a duration")
	}
	// The retried call is observed once, with its retries inside.
	if n := len(f.requests()); n != 2+4 {
		t.Errorf("the fake saw %d requests, want 6 (phone_number tried 4 times)", n)
	}
}
