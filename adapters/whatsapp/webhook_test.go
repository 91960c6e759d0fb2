package whatsapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
)

const testSecret = "app-secret-for-tests"

// sign returns the X-Hub-Signature-256 value for body, computed here
// independently of SignBody so that a bug in one does not hide in the other.
func sign(t testing.TB, secret string, body []byte) string {
	t.Helper()
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// fakeSink records what the webhook hands over.
type fakeSink struct {
	mu         sync.Mutex
	enqueued   [][]bot.Inbound
	statuses   []string // "metaID status detail [ref=...]"
	receipts   []bot.Receipt
	metaErrors []string // "client text" of each error attached to a case
	notified   int
	enqueueErr error
	statusErr  error
	// seen makes Enqueue count only new ids, like the inbox.
	seen map[string]bool
}

func (s *fakeSink) Enqueue(_ context.Context, msgs []bot.Inbound) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enqueued = append(s.enqueued, msgs)
	if s.enqueueErr != nil {
		return 0, s.enqueueErr
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	n := 0
	for _, m := range msgs {
		if !s.seen[m.ID] {
			s.seen[m.ID] = true
			n++
		}
	}
	return n, nil
}

func (s *fakeSink) OutboundStatus(_ context.Context, r bot.Receipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := strings.TrimSpace(r.MetaID + " " + r.Status + " " + r.Detail)
	if r.Ref != "" {
		line += " ref=" + r.Ref
	}
	s.statuses = append(s.statuses, line)
	s.receipts = append(s.receipts, r)
	return s.statusErr
}

func (s *fakeSink) MetaError(_ context.Context, client, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metaErrors = append(s.metaErrors, client+" "+text)
	return nil
}

func (s *fakeSink) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notified++
}

func (s *fakeSink) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.enqueued) + len(s.statuses) + s.notified
}

func newTestWebhook(t testing.TB, sink Sink) *Webhook {
	t.Helper()
	return NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: "verify-me"}, sink,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func post(h http.Handler, body []byte, signature string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if signature != "" {
		r.Header.Set(SignatureHeader, signature)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestSignBodyKnownAnswer(t *testing.T) {
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	body := []byte("Hello, World!")
	if got := SignBody("It's a Secret to Everybody", body); got != want {
		t.Errorf("SignBody = %s, want %s", got, want)
	}
	if got := sign(t, "It's a Secret to Everybody", body); got != want {
		t.Errorf("sign = %s, want %s", got, want)
	}
	if !validSignature("It's a Secret to Everybody", want, body) {
		t.Error("validSignature refused the known answer")
	}
	if validSignature("It's a Secret to Everybody", strings.ToUpper(want[:7])+want[7:], body) {
		t.Error("validSignature accepted an upper-case algorithm name")
	}
}

func TestWebhookSignature(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	body := []byte("Hello, World!")
	good := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	flipped := bytes.Clone(body)
	flipped[0] ^= 0x01
	sha1mac := hmac.New(sha1.New, []byte(secret))
	sha1mac.Write(body)

	tests := []struct {
		name   string
		body   []byte
		header string
		want   int
	}{
		// The body is not a webhook, so a valid signature gets as far as
		// the decoder: 400, not 401.
		{"known answer accepted", body, good, http.StatusBadRequest},
		{"flipped body byte", flipped, good, http.StatusUnauthorized},
		{"flipped signature digit", body, good[:len(good)-1] + "f", http.StatusUnauthorized},
		{"missing header", body, "", http.StatusUnauthorized},
		{"sha1 header", body, "sha1=" + hex.EncodeToString(sha1mac.Sum(nil)), http.StatusUnauthorized},
		{"bad hex", body, "sha256=zz" + good[9:], http.StatusUnauthorized},
		{"truncated", body, good[:20], http.StatusUnauthorized},
		{"empty digest", body, "sha256=", http.StatusUnauthorized},
		{"other secret", body, sign(t, "another secret", body), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakeSink{}
			h := NewWebhook(WebhookConfig{AppSecret: secret}, sink, nil)
			w := post(h, tt.body, tt.header)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if n := sink.calls(); n != 0 {
				t.Errorf("sink called %d times, want 0", n)
			}
		})
	}
}

func TestWebhookEmptySecretRefusesAll(t *testing.T) {
	sink := &fakeSink{}
	h := NewWebhook(WebhookConfig{}, sink, nil)
	body := fixture(t, "text.json")
	if w := post(h, body, sign(t, "", body)); w.Code != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", w.Code)
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
}

func TestWebhookHandshake(t *testing.T) {
	tests := []struct {
		name       string
		configured string
		query      url.Values
		want       int
		wantBody   string
	}{
		{"right token", "verify-me", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1158201444"}},
			http.StatusOK, "1158201444"},
		{"wrong token", "verify-me", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-you"}, "hub.challenge": {"1158201444"}},
			http.StatusForbidden, ""},
		{"token prefix", "verify-me", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify"}, "hub.challenge": {"1"}},
			http.StatusForbidden, ""},
		{"wrong mode", "verify-me", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {"verify-me"}, "hub.challenge": {"1"}},
			http.StatusForbidden, ""},
		{"no parameters", "verify-me", url.Values{}, http.StatusForbidden, ""},
		{"empty configured token", "", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {""}, "hub.challenge": {"1"}},
			http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &fakeSink{}
			h := NewWebhook(WebhookConfig{AppSecret: testSecret, VerifyToken: tt.configured}, sink, nil)
			r := httptest.NewRequest(http.MethodGet, "/webhooks/whatsapp?"+tt.query.Encode(), nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if tt.want == http.StatusOK {
				if got := w.Body.String(); got != tt.wantBody {
					t.Errorf("body = %q, want %q", got, tt.wantBody)
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("Content-Type = %q, want text/plain", ct)
				}
			}
			if sink.calls() != 0 {
				t.Error("sink called on a handshake")
			}
		})
	}
}

func TestWebhookMethodNotAllowed(t *testing.T) {
	h := newTestWebhook(t, &fakeSink{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPut, "/webhooks/whatsapp", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, POST" {
		t.Errorf("PUT = %d Allow %q, want 405 Allow \"GET, POST\"", w.Code, w.Header().Get("Allow"))
	}
}

func TestWebhookMessage(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := fixture(t, "text.json")
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	want := [][]bot.Inbound{{{
		ID: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZCRjA0NDI4NjA0QjY0QzhDNQA=", From: "16505551234",
		Text: "I want to move my number", At: unix(1714510003),
	}}}
	if diff := cmp.Diff(want, sink.enqueued); diff != "" {
		t.Errorf("Enqueue calls mismatch (-want +got):\n%s", diff)
	}
	if sink.notified != 1 {
		t.Errorf("Notify called %d times, want 1", sink.notified)
	}
}

func TestWebhookOneEnqueuePerDelivery(t *testing.T) {
	for _, file := range []string{"two_entries.json", "duplicate.json", "unsupported.json"} {
		t.Run(file, func(t *testing.T) {
			sink := &fakeSink{}
			h := newTestWebhook(t, sink)
			body := fixture(t, file)
			want, err := Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			if len(sink.enqueued) != 1 {
				t.Fatalf("Enqueue called %d times, want 1", len(sink.enqueued))
			}
			if diff := cmp.Diff(want.Messages, sink.enqueued[0]); diff != "" {
				t.Errorf("enqueued mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookRedelivery(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := fixture(t, "button_reply.json")
	for range 2 {
		if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200", w.Code)
		}
	}
	// Both deliveries reach the inbox, which drops the second; only news
	// wakes the runner.
	if len(sink.enqueued) != 2 || sink.notified != 1 {
		t.Errorf("Enqueue %d, Notify %d; want 2, 1", len(sink.enqueued), sink.notified)
	}
}

func TestWebhookStatuses(t *testing.T) {
	for _, statusErr := range []error{nil, fmt.Errorf("outbox: %w", bot.ErrNotFound), errors.New("disk full")} {
		t.Run(fmt.Sprint(statusErr), func(t *testing.T) {
			sink := &fakeSink{statusErr: statusErr}
			h := newTestWebhook(t, sink)
			body := fixture(t, "statuses.json")
			if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200", w.Code)
			}
			want := []string{
				"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA sent",
				"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA delivered",
				"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA read",
				"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBIzQUI3MjM0RDlCNjEzQTBDRTUA failed 131047: Re-engagement message " +
					"(Message failed to send because more than 24 hours have passed since the customer last replied to this number.)",
			}
			if diff := cmp.Diff(want, sink.statuses); diff != "" {
				t.Errorf("OutboundStatus calls mismatch (-want +got):\n%s", diff)
			}
			if len(sink.enqueued) != 0 || sink.notified != 0 {
				t.Errorf("Enqueue %d, Notify %d; want 0, 0", len(sink.enqueued), sink.notified)
			}
		})
	}
}

// statusBody is a delivery of one status of a message the bot sent with
// callback data ref, as Meta posts it.
func statusBody(metaID, status, recipient, ref string) []byte {
	return []byte(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages",`+
		`"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},`+
		`"statuses":[{"id":%q,"status":%q,"timestamp":"1750030073","recipient_id":%q,"biz_opaque_callback_data":%q}]}}]}]}`,
		metaID, status, recipient, ref))
}

func TestWebhookStatusCarriesReference(t *testing.T) {
	ref := bot.OutboundRef("000000000000002a", 1, 1)
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := statusBody("wamid.ref.1", "sent", "16505551234", ref)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	want := []bot.Receipt{{MetaID: "wamid.ref.1", Status: "sent", Recipient: "16505551234", Ref: ref}}
	if diff := cmp.Diff(want, sink.receipts); diff != "" {
		t.Errorf("OutboundStatus mismatch (-want +got):\n%s", diff)
	}
}

// A status that may settle a reply in doubt is worth Meta's redelivery
// when it cannot be recorded; one that names no row of the bot's is not.
func TestWebhookStatusNotRecorded(t *testing.T) {
	for _, c := range []struct {
		name, ref string
		err       error
		want      int
	}{
		{"our reference, store failing", bot.OutboundRef("000000000000002a", 1, 1), errors.New("disk full"), http.StatusInternalServerError},
		{"our reference, unknown row", bot.OutboundRef("000000000000002a", 1, 1), fmt.Errorf("outbox: %w", bot.ErrNotFound), http.StatusOK},
		{"another system's data, store failing", "campaign-42", errors.New("disk full"), http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &fakeSink{statusErr: c.err}
			var events []string
			h := NewWebhook(WebhookConfig{AppSecret: testSecret, Observe: func(e string, n int) { events = append(events, e) }},
				sink, slog.New(slog.DiscardHandler))
			body := statusBody("wamid.ref.2", "delivered", "16505551234", c.ref)
			if w := post(h, body, sign(t, testSecret, body)); w.Code != c.want {
				t.Errorf("status = %d, want %d", w.Code, c.want)
			}
			if refused := slices.Contains(events, EventRefusedStoreError); refused != (c.want != http.StatusOK) {
				t.Errorf("events %v: refused_store_error reported %v, want %v", events, refused, c.want != http.StatusOK)
			}
		})
	}
}

func TestWebhookSecurity(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := fixture(t, "security.json")
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	// Queued like a message, under its number, with an id Meta's
	// redelivery repeats: handling it may call Meta, which the webhook
	// must not wait for.
	want := []bot.Inbound{{ID: "security.15550783881.PIN_CHANGED.1714510600", From: "15550783881",
		Security: "PIN_CHANGED", At: unix(1714510600)}}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.enqueued) != 1 {
		t.Fatalf("%d enqueues, want the event's", len(sink.enqueued))
	}
	if diff := cmp.Diff(want, sink.enqueued[0]); diff != "" {
		t.Errorf("enqueued mismatch (-want +got):\n%s", diff)
	}
}

func TestWebhookEnqueueFails(t *testing.T) {
	sink := &fakeSink{enqueueErr: errors.New("database is locked")}
	h := newTestWebhook(t, sink)
	body := fixture(t, "text.json")
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", w.Code)
	}
	if sink.notified != 0 {
		t.Error("Notify called after a failed Enqueue")
	}
}

func TestWebhookTooLarge(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := bytes.Repeat([]byte(" "), DefaultMaxBody+1)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", w.Code)
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
	// Exactly at the limit is read (and is not JSON).
	body = bytes.Repeat([]byte(" "), DefaultMaxBody)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusBadRequest {
		t.Fatalf("status at the limit = %d, want 400", w.Code)
	}
}

func TestWebhookMalformed(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := []byte(`{"object":"whatsapp_business_account","entry":[`)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", w.Code)
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
}

func TestWebhookReceiptTime(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.now = func() time.Time { return now }
	body := []byte(`{"entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"5511987654321","id":"x1","type":"text","text":{"body":"oi"}}]}}]}]}`)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	if got := sink.enqueued[0][0].At; !got.Equal(now) {
		t.Errorf("At = %v, want the receipt time %v", got, now)
	}
}

func TestWebhookOtherNumber(t *testing.T) {
	sink := &fakeSink{}
	h := NewWebhook(WebhookConfig{AppSecret: testSecret, PhoneNumberID: "999999"}, sink, nil)
	body := fixture(t, "text.json")
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	if sink.calls() != 0 {
		t.Error("a message for another business number reached the sink")
	}
}

// TestWebhookLogs checks that even at debug level the log holds neither
// the text a client typed nor a whole phone number.
func TestWebhookLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, sink := range []*fakeSink{{}, {enqueueErr: errors.New("boom")}} {
		h := NewWebhook(WebhookConfig{AppSecret: testSecret}, sink, log)
		for _, file := range []string{"text.json", "text_unicode.json", "button_reply.json", "security.json"} {
			body := fixture(t, file)
			post(h, body, sign(t, testSecret, body))
		}
	}
	out := buf.String()
	for _, secret := range []string{"16505551234", "5511987654321", "15550783881", "I want to move", "Quero portar", "Yes, it's off", testSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "+16*****1234") {
		t.Errorf("log lacks the masked number:\n%s", out)
	}
}

func TestWebhookAttachesMetaErrorsToTheClient(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
		"contacts":[{"user_id":"BR.1502576394655843"}],
		"messages":[{"from_user_id":"BR.1502576394655843","id":"wamid.x","timestamp":"1776944344","type":"unsupported",
			"errors":[{"code":131051,"title":"Message type unknown","error_data":{"details":"Message type is not currently supported"}}]}],
		"errors":[{"code":131000,"title":"Something went wrong"}]}}]}]}`)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.metaErrors) != 1 || !strings.HasPrefix(sink.metaErrors[0], "BR.1502576394655843 ") ||
		!strings.Contains(sink.metaErrors[0], "131051") {
		t.Errorf("errors attached: %q; want the message's error on its client's case (the other names no client)", sink.metaErrors)
	}
	if len(sink.enqueued) != 1 || len(sink.enqueued[0]) != 1 || sink.enqueued[0][0].Unsupported != "unsupported" {
		t.Errorf("enqueued %+v; want the message, as content the bot cannot read", sink.enqueued)
	}
}

// A post announcing 100 MB used to be read until the limit or the read
// timeout; it is refused from its headers, without reading the body.
func TestWebhookRefusesAnnouncedLengthUnread(t *testing.T) {
	sink := &fakeSink{}
	h := newTestWebhook(t, sink)
	body := &countingReader{}
	r := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", body)
	r.ContentLength = 100 << 20
	r.Header.Set(SignatureHeader, "sha256=00")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", w.Code)
	}
	if body.n != 0 {
		t.Errorf("%d bytes of the body were read before refusing it", body.n)
	}
	if sink.calls() != 0 {
		t.Error("sink called")
	}
}

// countingReader is an endless body that counts what is read from it.
type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}

// A post without a well-formed signature cannot match any body: it is
// refused before a byte of its body is read or held.
func TestWebhookMissingSignatureRefusedUnread(t *testing.T) {
	for _, header := range []string{"", "sha1=abc", "sha256=zz"} {
		sink := &fakeSink{}
		h := newTestWebhook(t, sink)
		body := &countingReader{}
		r := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", io.LimitReader(body, 1<<20))
		r.ContentLength = 1 << 20
		if header != "" {
			r.Header.Set(SignatureHeader, header)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("signature %q: status = %d, want 401", header, w.Code)
		}
		if body.n != 0 {
			t.Errorf("signature %q: %d bytes of the body were read before refusing it", header, body.n)
		}
	}
}

// One message with an id no real Meta message has is left out and counted;
// the rest of the delivery is taken and Meta gets its 200 (a 500 would make
// Meta deliver it again for days).
func TestWebhookSkipsAnOversizedIdAndCountsIt(t *testing.T) {
	sink := &fakeSink{}
	events := map[string]int{}
	h := NewWebhook(WebhookConfig{AppSecret: testSecret, Observe: func(e string, n int) { events[e] += n }}, sink,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	huge := strings.Repeat("A", 10_000)
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
		"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
		"messages":[{"from":"5511987654321","id":"wamid.` + huge + `","timestamp":"1776944344","type":"text","text":{"body":"hi"}},
			{"from":"5511987654321","id":"wamid.ok","timestamp":"1776944345","type":"text","text":{"body":"hello"}}]}}]}]}`)
	if w := post(h, body, sign(t, testSecret, body)); w.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", w.Code)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.enqueued) != 1 || len(sink.enqueued[0]) != 1 || sink.enqueued[0][0].ID != "wamid.ok" {
		t.Errorf("enqueued %+v; want the well-formed message alone", sink.enqueued)
	}
	if events[EventIgnored] != 1 {
		t.Errorf("ignored items reported: %d, want 1", events[EventIgnored])
	}
}
