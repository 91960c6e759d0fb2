package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"portabot/adapters/metasim"
	"portabot/bot"
)

const (
	testToken   = "EAAtestTOKEN0123456789"
	testPhoneID = "106540352242922"
)

// request is one call the fake Graph server received.
type request struct {
	Method, Path, Auth string
	Body               map[string]any
}

// fakeGraph answers the messages endpoint; respond decides each answer
// (n counts calls from 1) and defaults to a success with wamid.n.
type fakeGraph struct {
	mu      sync.Mutex
	reqs    []request
	respond func(w http.ResponseWriter, n int)
}

func (g *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	g.mu.Lock()
	g.reqs = append(g.reqs, request{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body})
	n := len(g.reqs)
	respond := g.respond
	g.mu.Unlock()
	if respond != nil {
		respond(w, n)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.%d"}]}`, n)
}

func (g *fakeGraph) requests() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]request(nil), g.reqs...)
}

func newTestSender(t testing.TB, g http.Handler, log *slog.Logger) *Sender {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return NewSender(SenderConfig{BaseURL: srv.URL, Token: testToken, PhoneNumberID: testPhoneID,
		Timeout: 2 * time.Second, Logger: log})
}

// jsonOf turns v into the generic form the fake server decodes bodies to.
func jsonOf(t testing.TB, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func textBodyJSON(to, body string) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text",
		"text": map[string]any{"preview_url": false, "body": body}}
}

func TestSendText(t *testing.T) {
	g := &fakeGraph{}
	s := newTestSender(t, g, nil)
	id, err := sendReply(context.Background(), s, "16505551234", bot.Reply{Text: "Hi! Ready to move your number?"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "wamid.1" {
		t.Errorf("id = %q, want wamid.1", id)
	}
	want := []request{{Method: "POST", Path: "/v25.0/" + testPhoneID + "/messages", Auth: "Bearer " + testToken,
		Body: textBodyJSON("+16505551234", "Hi! Ready to move your number?")}}
	if diff := cmp.Diff(want, g.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

func TestSendButtons(t *testing.T) {
	g := &fakeGraph{}
	s := newTestSender(t, g, nil)
	reply := bot.Reply{Text: "Is two-step verification turned off?", Buttons: []bot.Button{
		{ID: "2fa_off", Title: "Yes, it's off"},
		{ID: "2fa_help", Title: "Show me how to turn it off"},
		{ID: "2fa_help2", Title: "Show me how to turn it off, please"},
	}}
	if _, err := sendReply(context.Background(), s, "+16505551234", reply); err != nil {
		t.Fatal(err)
	}
	want := jsonOf(t, map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+16505551234", "type": "interactive",
		"interactive": map[string]any{
			"type": "button",
			"body": map[string]any{"text": "Is two-step verification turned off?"},
			"action": map[string]any{"buttons": []any{
				map[string]any{"type": "reply", "reply": map[string]any{"id": "2fa_off", "title": "Yes, it's off"}},
				map[string]any{"type": "reply", "reply": map[string]any{"id": "2fa_help", "title": "Show me how to turn…"}},
				map[string]any{"type": "reply", "reply": map[string]any{"id": "2fa_help2", "title": "Show me how to… (2)"}},
			}},
		},
	})
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if diff := cmp.Diff(want, reqs[0].Body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestSendList(t *testing.T) {
	g := &fakeGraph{}
	s := newTestSender(t, g, nil)
	var buttons []bot.Button
	for i := range 12 {
		buttons = append(buttons, bot.Button{ID: fmt.Sprintf("opt%d", i), Title: fmt.Sprintf("Option %d", i)})
	}
	buttons[1].Title = "Tirar uma dúvida sobre a portabilidade"
	reply := bot.Reply{Text: "O que você gostaria de fazer?", Buttons: buttons}
	if _, err := sendReply(context.Background(), s, "5511987654321", reply); err != nil {
		t.Fatal(err)
	}
	var rows []any
	for i := range 10 {
		r := map[string]any{"id": fmt.Sprintf("opt%d", i), "title": fmt.Sprintf("Option %d", i)}
		if i == 1 {
			r = map[string]any{"id": "opt1", "title": "Tirar uma dúvida sobre…", "description": "Tirar uma dúvida sobre a portabilidade"}
		}
		rows = append(rows, r)
	}
	want := jsonOf(t, map[string]any{
		"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5511987654321", "type": "interactive",
		"interactive": map[string]any{
			"type":   "list",
			"body":   map[string]any{"text": "O que você gostaria de fazer?"},
			"action": map[string]any{"button": "Opções", "sections": []any{map[string]any{"rows": rows}}},
		},
	})
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	if diff := cmp.Diff(want, reqs[0].Body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestSendListLabelConfigured(t *testing.T) {
	g := &fakeGraph{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	s := NewSender(SenderConfig{BaseURL: srv.URL, Token: testToken, PhoneNumberID: testPhoneID,
		ListLabel: func(bot.Reply) string { return "Choose one of the following" }})
	reply := bot.Reply{Text: "Pick", Buttons: []bot.Button{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}, {ID: "c", Title: "C"}, {ID: "d", Title: "D"}}}
	if _, err := sendReply(context.Background(), s, "16505551234", reply); err != nil {
		t.Fatal(err)
	}
	got := g.requests()[0].Body["interactive"].(map[string]any)["action"].(map[string]any)["button"]
	if got != "Choose one of the f…" {
		t.Errorf("list label = %q, want the configured one cut to 20 characters", got)
	}
}

func TestSendSplitsLongText(t *testing.T) {
	g := &fakeGraph{}
	s := newTestSender(t, g, nil)
	para := strings.TrimSpace(strings.Repeat("Two-step verification must be off before the move. ", 30)) // ~1,530 characters
	text := strings.TrimSpace(strings.Repeat(para+"\n\n", 6))
	id, err := sendReply(context.Background(), s, "16505551234", bot.Reply{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if id != "wamid.1" {
		t.Errorf("id = %q, want the first part's wamid.1", id)
	}
	reqs := g.requests()
	if len(reqs) < 3 {
		t.Fatalf("%d requests, want at least 3", len(reqs))
	}
	var parts []string
	for _, r := range reqs {
		body := r.Body["text"].(map[string]any)["body"].(string)
		if n := utf8.RuneCountInString(body); n > maxText {
			t.Errorf("part of %d characters, over %d", n, maxText)
		}
		if strings.HasPrefix(body, " ") || strings.HasSuffix(body, " ") || strings.HasSuffix(body, "\n") {
			t.Errorf("part not cut at a boundary: %q…%q", body[:10], body[len(body)-10:])
		}
		parts = append(parts, body)
	}
	if got := strings.Join(parts, "\n\n"); got != text {
		t.Error("parts joined at paragraph breaks differ from the text")
	}
}

func TestSendLongTextWithButtons(t *testing.T) {
	g := &fakeGraph{}
	s := newTestSender(t, g, nil)
	intro := strings.TrimSpace(strings.Repeat("Here is what happens during the move. ", 40)) // ~1,500 characters
	question := "Is two-step verification turned off?"
	reply := bot.Reply{Text: intro + "\n\n" + question, Buttons: []bot.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}}
	if _, err := sendReply(context.Background(), s, "16505551234", reply); err != nil {
		t.Fatal(err)
	}
	reqs := g.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (text, then buttons)", len(reqs))
	}
	if got := reqs[0].Body["text"].(map[string]any)["body"]; got != intro {
		t.Errorf("first message = %.40q…, want the intro", got)
	}
	in := reqs[1].Body["interactive"].(map[string]any)
	if got := in["body"].(map[string]any)["text"]; got != question {
		t.Errorf("button body = %q, want %q", got, question)
	}
}

func TestMarkRead(t *testing.T) {
	g := &fakeGraph{respond: func(w http.ResponseWriter, _ int) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"success":true}`)
	}}
	s := newTestSender(t, g, nil)
	if err := s.MarkRead(context.Background(), "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZCRjA0NDI4NjA0QjY0QzhDNQA="); err != nil {
		t.Fatal(err)
	}
	want := []request{{Method: "POST", Path: "/v25.0/" + testPhoneID + "/messages", Auth: "Bearer " + testToken,
		Body: map[string]any{"messaging_product": "whatsapp", "status": "read",
			"message_id": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUZCRjA0NDI4NjA0QjY0QzhDNQA="}}}
	if diff := cmp.Diff(want, g.requests()); diff != "" {
		t.Errorf("requests mismatch (-want +got):\n%s", diff)
	}
}

func metaError(status int, retryAfter, body string) func(http.ResponseWriter, int) {
	return func(w http.ResponseWriter, _ int) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(http.ResponseWriter, int)
		unavailable bool
		want        *bot.GraphError // nil: no GraphError expected
	}{
		{"429 with Retry-After", metaError(429, "7",
			`{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`),
			true, &bot.GraphError{HTTPStatus: 429, Code: 130429, Type: "OAuthException", Message: "(#130429) Rate limit hit",
				Details: "Cloud API message throughput has been reached.", TraceID: "Az8or2yhqkZfEZ-_4Qn_Bam", RetryAfter: 7 * time.Second}},
		{"500 envelope", metaError(500, "",
			`{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"is_transient":true,"fbtrace_id":"AbC"}}`),
			true, &bot.GraphError{HTTPStatus: 500, Code: 1, Type: "OAuthException", Message: "An unknown error occurred", Transient: true, TraceID: "AbC"}},
		{"502 from a proxy", func(w http.ResponseWriter, _ int) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html>Bad Gateway</html>")
		}, true, &bot.GraphError{HTTPStatus: 502, Message: "HTTP 502 Bad Gateway", Transient: true}},
		{"400 outside the 24-hour window", metaError(400, "",
			`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_subcode":2494010,"error_user_title":"Re-engagement message","error_user_msg":"More than 24 hours have passed","error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"A1"}}`),
			false, &bot.GraphError{HTTPStatus: 400, Code: 131047, Subcode: 2494010, Type: "OAuthException", Message: "(#131047) Re-engagement message",
				UserTitle: "Re-engagement message", UserMsg: "More than 24 hours have passed",
				Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number.", TraceID: "A1"}},
		{"401 expired token", metaError(401, "",
			`{"error":{"message":"Error validating access token","type":"OAuthException","code":"190","error_data":"{\"details\":\"Session has expired\"}"}}`),
			false, &bot.GraphError{HTTPStatus: 401, Code: 190, Type: "OAuthException", Message: "Error validating access token", Details: "Session has expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGraph{respond: tt.respond}
			s := newTestSender(t, g, nil)
			_, err := sendReply(context.Background(), s, "16505551234", bot.Reply{Text: "hi"})
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := errors.Is(err, bot.ErrUnavailable); got != tt.unavailable {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v, want %v (err: %v)", got, tt.unavailable, err)
			}
			ge, ok := errors.AsType[*bot.GraphError](err)
			if !ok {
				t.Fatalf("no *bot.GraphError in %v", err)
			}
			if diff := cmp.Diff(tt.want, ge); diff != "" {
				t.Errorf("GraphError mismatch (-want +got):\n%s", diff)
			}
			if n := len(g.requests()); n != 1 {
				t.Errorf("%d attempts, want exactly 1: retries are the dispatcher's", n)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("error text holds the token: %v", err)
			}
		})
	}
}

func TestSendUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var logs bytes.Buffer
	s := NewSender(SenderConfig{BaseURL: url, Token: testToken, PhoneNumberID: testPhoneID,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	_, err := sendReply(context.Background(), s, "16505551234", bot.Reply{Text: "hi"})
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if _, ok := errors.AsType[*bot.GraphError](err); ok {
		t.Error("a transport failure carries a GraphError")
	}
	for _, leak := range []string{testToken, url, testPhoneID} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error text holds %q: %v", leak, err)
		}
		if strings.Contains(logs.String(), leak) {
			t.Errorf("log holds %q:\n%s", leak, logs.String())
		}
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	g := &fakeGraph{respond: func(w http.ResponseWriter, _ int) { <-release }}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	s := NewSender(SenderConfig{BaseURL: srv.URL, Token: testToken, PhoneNumberID: testPhoneID, Timeout: 50 * time.Millisecond})
	// The server answers only once the test ends: Send returns by its
	// timeout or not at all.
	_, err := sendReply(context.Background(), s, "16505551234", bot.Reply{Text: "hi"})
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestSendResumesAfterPartFails(t *testing.T) {
	g := &fakeGraph{}
	g.respond = func(w http.ResponseWriter, n int) {
		if n == 2 {
			metaError(503, "", `{"error":{"message":"Service temporarily unavailable","code":2,"is_transient":true}}`)(w, n)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"messages":[{"id":"wamid.%d"}]}`, n)
	}
	s := newTestSender(t, g, nil)
	text := strings.Repeat("a", maxText) + "\n\n" + strings.Repeat("b", maxText) + "\n\n" + strings.Repeat("c", 10)
	row := bot.Outbound{ID: "000000000000002a", To: "16505551234", Reply: bot.Reply{Text: text}}
	res, err := s.Send(context.Background(), row)
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Fatalf("first Send err = %v, want ErrUnavailable", err)
	}
	if res.Parts != 1 || res.MetaID != "wamid.1" {
		t.Fatalf("first Send result = %+v, want 1 part accepted, the first as wamid.1", res)
	}
	// The dispatcher stores what Meta accepted; the next attempt resumes
	// after it, whichever process makes it.
	row.PartsSent = res.Parts
	res, err = s.Send(context.Background(), row)
	if err != nil {
		t.Fatal(err)
	}
	if res.Parts != 3 || res.MetaID != "" {
		t.Errorf("second Send result = %+v, want 3 parts and no first-part id (sent before)", res)
	}
	var firsts, refs []string
	for _, r := range g.requests() {
		firsts = append(firsts, r.Body["text"].(map[string]any)["body"].(string)[:1])
		refs = append(refs, r.Body["biz_opaque_callback_data"].(string))
	}
	if diff := cmp.Diff([]string{"a", "b", "b", "c"}, firsts); diff != "" {
		t.Errorf("parts sent mismatch (-want +got):\n%s", diff)
	}
	want := []string{bot.OutboundRef(row.ID, 1, 3), bot.OutboundRef(row.ID, 2, 3), bot.OutboundRef(row.ID, 2, 3), bot.OutboundRef(row.ID, 3, 3)}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("callback data mismatch (-want +got):\n%s", diff)
	}
	// Every part accepted: nothing is left to send.
	row.PartsSent = 3
	if res, err := s.Send(context.Background(), row); err != nil || res.Parts != 3 {
		t.Errorf("Send of a complete reply = %+v, %v; want 3 parts, no error", res, err)
	}
	if n := len(g.requests()); n != 4 {
		t.Errorf("%d requests in all, want 4", n)
	}
}

func TestSendTagsEveryMessageWithItsRow(t *testing.T) {
	g := &fakeGraph{}
	s := newTestSender(t, g, nil)
	ctx := context.Background()
	// A long text before buttons goes as a text message, then the buttons.
	long := bot.Outbound{ID: "0000000000000007", To: "16505551234", Reply: bot.Reply{
		Text:    strings.Repeat("word ", 300) + "\n\nPick one:",
		Buttons: []bot.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}},
	}}
	if _, err := s.Send(ctx, long); err != nil {
		t.Fatal(err)
	}
	// A reply outside the outbox carries nothing.
	if _, err := sendReply(ctx, s, "16505551234", bot.Reply{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range g.requests() {
		v, _ := r.Body["biz_opaque_callback_data"].(string)
		got = append(got, v)
	}
	want := []string{bot.OutboundRef(long.ID, 1, 2), bot.OutboundRef(long.ID, 2, 2), ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("biz_opaque_callback_data mismatch (-want +got):\n%s", diff)
	}
	for _, ref := range want[:2] {
		if id, _, _, ok := bot.ParseOutboundRef(ref); !ok || id != long.ID || len(ref) > 512 {
			t.Errorf("reference %q does not name row %s within Meta's 512 characters", ref, long.ID)
		}
	}
}

func TestSendThroughSimulator(t *testing.T) {
	sim, err := metasim.New(metasim.Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestSender(t, sim, nil)
	ctx := context.Background()
	id1, err := sendReply(ctx, s, "5511987654321", bot.Reply{Text: "Olá! Vamos começar?"})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := sendReply(ctx, s, "+5511987654321", bot.Reply{Text: "Two-step verification is off?",
		Buttons: []bot.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}})
	if err != nil {
		t.Fatal(err)
	}
	id3, err := sendReply(ctx, s, "5511987654321", bot.Reply{Text: "What would you like to do?", Buttons: []bot.Button{
		{ID: "start", Title: "Start the port"}, {ID: "continue", Title: "Continue my port"},
		{ID: "question", Title: "Ask a question"}, {ID: "person", Title: "Talk to a person"}}})
	if err != nil {
		t.Fatal(err)
	}
	sent := sim.Sent()
	if len(sent) != 3 {
		t.Fatalf("simulator has %d messages, want 3", len(sent))
	}
	want := []metasim.Message{
		{ID: id1, From: testPhoneID, To: "+5511987654321", Type: "text", Text: "Olá! Vamos começar?"},
		{ID: id2, From: testPhoneID, To: "+5511987654321", Type: "interactive", Text: "Two-step verification is off?",
			Choices: []metasim.Choice{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}},
		{ID: id3, From: testPhoneID, To: "+5511987654321", Type: "interactive", Text: "What would you like to do?",
			Choices: []metasim.Choice{{ID: "start", Title: "Start the port"}, {ID: "continue", Title: "Continue my port"},
				{ID: "question", Title: "Ask a question"}, {ID: "person", Title: "Talk to a person"}}},
	}
	for i := range sent {
		sent[i].At = time.Time{}
	}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("simulator messages mismatch (-want +got):\n%s", diff)
	}

	bad := NewSender(SenderConfig{BaseURL: s.rc.BaseURL, Token: "wrong", PhoneNumberID: testPhoneID})
	_, err = sendReply(ctx, bad, "5511987654321", bot.Reply{Text: "hi"})
	if ge, ok := errors.AsType[*bot.GraphError](err); !ok || ge.Code != 190 || errors.Is(err, bot.ErrUnavailable) {
		t.Errorf("wrong token: err = %v, want GraphError code 190 without ErrUnavailable", err)
	}
}

func TestSenderLogsNoToken(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := &fakeGraph{}
	s := newTestSender(t, g, log)
	if _, err := sendReply(context.Background(), s, "16505551234", bot.Reply{Text: "secret plan"}); err != nil {
		t.Fatal(err)
	}
	g.respond = metaError(500, "", `{"error":{"message":"boom","code":1}}`)
	_, _ = sendReply(context.Background(), s, "16505551234", bot.Reply{Text: "secret plan"})
	for _, leak := range []string{testToken, "16505551234", "secret plan"} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("log holds %q:\n%s", leak, logs.String())
		}
	}
}

// sendReply sends a reply that belongs to no outbox row and returns Meta's
// id for its first message.
func sendReply(ctx context.Context, s *Sender, to string, r bot.Reply) (string, error) {
	res, err := s.Send(ctx, bot.Outbound{To: to, Reply: r})
	return res.MetaID, err
}
