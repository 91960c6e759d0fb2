package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"portabot/bot"
)

// eventLog sums what an Observe hook was told, by event.
type eventLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *eventLog) observe(event string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[event] += n
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.n)
}

func TestWebhookObserve(t *testing.T) {
	var got eventLog
	newHook := func(sink Sink) *Webhook {
		return NewWebhook(WebhookConfig{AppSecret: testSecret, Observe: got.observe}, sink,
			slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	h := newHook(&fakeSink{})
	text := fixture(t, "text.json")
	dup := fixture(t, "duplicate.json") // one message, twice in one delivery
	for _, body := range [][]byte{text, text, dup} {
		if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200", w.Code)
		}
	}
	if w := post(h, text, sign(t, "wrong secret", text)); w.Code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status = %d, want 401", w.Code)
	}
	large := bytes.Repeat([]byte(" "), DefaultMaxBody+1)
	if w := post(h, large, sign(t, testSecret, large)); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("too large: status = %d, want 413", w.Code)
	}
	bad := []byte(`{"object":"whatsapp_business_account","entry":[`)
	if w := post(h, bad, sign(t, testSecret, bad)); w.Code != http.StatusBadRequest {
		t.Fatalf("malformed: status = %d, want 400", w.Code)
	}
	down := newHook(&fakeSink{enqueueErr: errors.New("database is locked")})
	if w := post(down, text, sign(t, testSecret, text)); w.Code != http.StatusInternalServerError {
		t.Fatalf("store down: status = %d, want 500", w.Code)
	}

	want := fmt.Sprint(map[string]int{
		EventReceived:          3,
		EventMessages:          4, // 1 + 1 + 2
		EventDuplicates:        2, // the redelivered text, the repeat within duplicate.json
		EventRefusedSignature:  1,
		EventRefusedTooLarge:   1,
		EventRefusedBadJSON:    1,
		EventRefusedStoreError: 1,
	})
	if got.String() != want {
		t.Errorf("observed %s\nwant     %s", got.String(), want)
	}
}

func TestSenderObserve(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var total time.Duration
	g := &fakeGraph{}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	s := NewSender(SenderConfig{BaseURL: srv.URL, Token: testToken, PhoneNumberID: testPhoneID, Timeout: 2 * time.Second,
		Observe: func(endpoint, outcome string, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, endpoint+" "+outcome)
			total += d
		}})
	ctx := context.Background()
	if _, err := sendReply(ctx, s, "16505551234", bot.Reply{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, "wamid.in.1"); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	g.respond = func(w http.ResponseWriter, n int) {
		if n == 3 {
			metaError(400, "", `{"error":{"message":"bad number","code":131030}}`)(w, n)
			return
		}
		metaError(503, "", `{"error":{"message":"try later","code":2}}`)(w, n)
	}
	g.mu.Unlock()
	if _, err := sendReply(ctx, s, "16505551234", bot.Reply{Text: "hello"}); err == nil {
		t.Fatal("no error for a refused send")
	}
	if _, err := sendReply(ctx, s, "16505551234", bot.Reply{Text: "hello"}); !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("a 503: %v, want ErrUnavailable", err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := fmt.Sprint([]string{"messages ok", "read ok", "messages meta_error", "messages unavailable"})
	if fmt.Sprint(got) != want {
		t.Errorf("observed %v, want %s", got, want)
	}
	if total <= 0 {
		t.Error("no call reported a duration")
	}
}
