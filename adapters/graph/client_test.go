package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"portabot/adapters/graph"
	"portabot/bot"
)

const token = "EAAG-test-token-5f3c9d"

// reply is one canned answer of the fake Graph server.
type reply struct {
	status int
	body   string
	header map[string]string
}

func ok(body string) reply { return reply{status: http.StatusOK, body: body} }

// seen is what the fake server recorded about one request.
type seen struct {
	Method string
	Path   string
	Auth   string
	Query  url.Values
	Form   url.Values     // for form-encoded bodies
	JSON   map[string]any // for JSON bodies
}

// fakeGraph answers with its replies in order, repeating the last one, and
// records every request.
type fakeGraph struct {
	t       testing.TB
	mu      sync.Mutex
	replies []reply
	reqs    []seen
}

func (f *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := seen{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Query: r.URL.Query()}
	body, _ := io.ReadAll(r.Body)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		s.Form, _ = url.ParseQuery(string(body))
	case "application/json":
		if err := json.Unmarshal(body, &s.JSON); err != nil {
			f.t.Errorf("request body is not JSON: %v", err)
		}
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, s)
	rep := f.replies[min(n, len(f.replies)-1)]
	f.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeGraph) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// logBuffer collects log output from concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newGraph starts a fake Graph server answering replies and a client
// pointed at it that logs at debug level into the returned buffer.
func newGraph(t testing.TB, replies ...reply) (*fakeGraph, *graph.Client, *logBuffer) {
	t.Helper()
	f := &fakeGraph{t: t, replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	logs := &logBuffer{}
	c := graph.New(graph.Config{
		BaseURL:      srv.URL,
		Token:        token,
		Timeout:      5 * time.Second,
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		RetryWait:    time.Millisecond,
		RetryMaxWait: 2 * time.Second,
	})
	return f, c, logs
}

func TestCallsSendWhatMetaDocuments(t *testing.T) {
	tests := []struct {
		name  string
		reply reply
		call  func(context.Context, *graph.Client) (any, error)
		want  any
		seen  seen
	}{
		{
			name:  "add phone number for migration",
			reply: ok(`{"id":"106540352242922"}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.AddPhoneNumber(ctx, "102290129340398", "55", "11987654321")
			},
			want: "106540352242922",
			seen: seen{Method: "POST", Path: "/v25.0/102290129340398/phone_numbers",
				Form: url.Values{"cc": {"55"}, "phone_number": {"11987654321"}, "migrate_phone_number": {"true"}}},
		},
		{
			name:  "request code by SMS in Portuguese",
			reply: ok(`{"success":true}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return nil, c.RequestCode(ctx, "106540352242922", "sms", bot.Portuguese)
			},
			seen: seen{Method: "POST", Path: "/v25.0/106540352242922/request_code",
				Form: url.Values{"code_method": {"SMS"}, "language": {"pt_BR"}}},
		},
		{
			name:  "request code by voice in Spanish",
			reply: ok(`{"success":true}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return nil, c.RequestCode(ctx, "106540352242922", "VOICE", bot.Spanish)
			},
			seen: seen{Method: "POST", Path: "/v25.0/106540352242922/request_code",
				Form: url.Values{"code_method": {"VOICE"}, "language": {"es_ES"}}},
		},
		{
			name:  "verify code",
			reply: ok(`{"success":true}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return nil, c.VerifyCode(ctx, "106540352242922", " 123456 ")
			},
			seen: seen{Method: "POST", Path: "/v25.0/106540352242922/verify_code",
				Form: url.Values{"code": {"123456"}}},
		},
		{
			name:  "register",
			reply: ok(`{"success":true}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return nil, c.Register(ctx, "106540352242922", "150954")
			},
			seen: seen{Method: "POST", Path: "/v25.0/106540352242922/register",
				JSON: map[string]any{"messaging_product": "whatsapp", "pin": "150954"}},
		},
		{
			name: "migrate templates",
			reply: ok(`{"migrated_templates":["1473688840035974","6162904357082268"],
				"failed_templates":{"1019496902803242":"Incorrect category"}}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.MigrateTemplates(ctx, "102290129340398", "887766554433221")
			},
			want: bot.TemplateResult{
				Migrated: []string{"1473688840035974", "6162904357082268"},
				Failed:   map[string]string{"1019496902803242": "Incorrect category"},
			},
			seen: seen{Method: "POST", Path: "/v25.0/102290129340398/migrate_message_templates",
				JSON: map[string]any{"source_waba_id": "887766554433221", "page_number": 0.0, "count": 500.0}},
		},
		{
			name: "read phone number",
			reply: ok(`{"id":"106540352242922","display_phone_number":"+55 11 98765-4321",
				"verified_name":"Padaria Central","name_status":"APPROVED","code_verification_status":"VERIFIED",
				"status":"CONNECTED","quality_rating":"GREEN","platform_type":"CLOUD_API",
				"whatsapp_business_manager_messaging_limit":"TIER_1K","is_official_business_account":true,"account_mode":"LIVE"}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.PhoneNumber(ctx, "106540352242922")
			},
			want: bot.PhoneNumber{ID: "106540352242922", DisplayPhoneNumber: "+55 11 98765-4321",
				VerifiedName: "Padaria Central", NameStatus: "APPROVED", CodeVerificationStatus: "VERIFIED",
				Status: "CONNECTED", QualityRating: "GREEN", PlatformType: "CLOUD_API",
				MessagingLimit: "TIER_1K", OfficialBusiness: true, AccountMode: "LIVE"},
			seen: seen{Method: "GET", Path: "/v25.0/106540352242922", Query: url.Values{"fields": {
				"id,display_phone_number,verified_name,name_status,code_verification_status,status," +
					"quality_rating,platform_type,whatsapp_business_manager_messaging_limit,is_official_business_account,account_mode"}}},
		},
		{
			name:  "list phone numbers of a WABA",
			reply: ok(`{"data":[{"id":"106540352242922","display_phone_number":"+55 11 98765-4321"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.PhoneNumbers(ctx, "102290129340398")
			},
			want: []bot.PhoneNumber{{ID: "106540352242922", DisplayPhoneNumber: "+55 11 98765-4321"}},
			seen: seen{Method: "GET", Path: "/v25.0/102290129340398/phone_numbers", Query: url.Values{
				"limit": {"100"},
				"fields": {"id,display_phone_number,verified_name,name_status,code_verification_status,status," +
					"quality_rating,platform_type,whatsapp_business_manager_messaging_limit,is_official_business_account,account_mode"}}},
		},
		{
			name: "send text",
			reply: ok(`{"messaging_product":"whatsapp","contacts":[{"input":"+5511987654321","wa_id":"5511987654321"}],
				"messages":[{"id":"wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"}]}`),
			call: func(ctx context.Context, c *graph.Client) (any, error) {
				return c.SendText(ctx, "106540352242922", "5511987654321", "Olá! Vamos mover o seu número?")
			},
			want: "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA",
			seen: seen{Method: "POST", Path: "/v25.0/106540352242922/messages", JSON: map[string]any{
				"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5511987654321",
				"type": "text", "text": map[string]any{"preview_url": false, "body": "Olá! Vamos mover o seu número?"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, _ := newGraph(t, tt.reply)
			got, err := tt.call(t.Context(), c)
			if err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("result mismatch (-want +got):\n%s", diff)
				}
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1", len(reqs))
			}
			want := tt.seen
			want.Auth = "Bearer " + token
			if want.Query == nil {
				want.Query = url.Values{}
			}
			if diff := cmp.Diff(want, reqs[0], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("request mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMigrateTemplatesFollowsFullPages(t *testing.T) {
	var page0 []string
	for i := range 499 {
		page0 = append(page0, fmt.Sprint(1000+i))
	}
	ids, _ := json.Marshal(page0)
	f, c, _ := newGraph(t,
		ok(`{"migrated_templates":`+string(ids)+`,"failed_templates":{"9001":"Incorrect category"}}`),
		ok(`{"migrated_templates":["2000","2001"],"failed_templates":{"9002":"Formatting error - dangling parameter"}}`),
	)
	got, err := c.MigrateTemplates(t.Context(), "102290129340398", "887766554433221")
	if err != nil {
		t.Fatal(err)
	}
	want := bot.TemplateResult{
		Migrated: append(page0, "2000", "2001"),
		Failed:   map[string]string{"9001": "Incorrect category", "9002": "Formatting error - dangling parameter"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged result mismatch (-want +got):\n%s", diff)
	}
	var pages []any
	for _, r := range f.requests() {
		pages = append(pages, r.JSON["page_number"])
	}
	if diff := cmp.Diff([]any{0.0, 1.0}, pages); diff != "" {
		t.Errorf("pages requested mismatch (-want +got):\n%s", diff)
	}
}

// graphError builds Meta's error body.
func graphError(status int, fields string) reply {
	return reply{status: status, body: `{"error":{` + fields + `}}`}
}

func TestMetaErrorsBecomeGraphErrors(t *testing.T) {
	register := func(ctx context.Context, c *graph.Client) error { return c.Register(ctx, "106540352242922", "150954") }
	add := func(ctx context.Context, c *graph.Client) error {
		_, err := c.AddPhoneNumber(ctx, "102290129340398", "55", "11987654321")
		return err
	}
	requestCode := func(ctx context.Context, c *graph.Client) error {
		return c.RequestCode(ctx, "106540352242922", "SMS", bot.English)
	}
	verify := func(ctx context.Context, c *graph.Client) error {
		return c.VerifyCode(ctx, "106540352242922", "111111")
	}

	tests := []struct {
		name            string
		call            func(context.Context, *graph.Client) error
		reply           reply
		want            bot.GraphError
		wantUnavailable bool
		wantText        string // part of err.Error() a person would read
	}{
		{
			name: "two-step verification still on",
			call: add,
			reply: graphError(400, `"message":"(#100) Two-step authentication must be disabled for this phone number.",
				"type":"OAuthException","code":100,"fbtrace_id":"AbC1"`),
			want: bot.GraphError{HTTPStatus: 400, Code: 100, Type: "OAuthException",
				Message: "(#100) Two-step authentication must be disabled for this phone number.", TraceID: "AbC1"},
			wantText: "graph: phone_numbers: code 100: (#100) Two-step authentication must be disabled",
		},
		{
			name: "display name not approved",
			call: add,
			reply: graphError(400, `"message":"Invalid parameter","type":"OAuthException","code":100,
				"error_subcode":2388103,"error_user_title":"Registered name not approved",
				"error_user_msg":"Registered name should be present and approved","fbtrace_id":"AbC2"`),
			want: bot.GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Type: "OAuthException",
				Message: "Invalid parameter", UserTitle: "Registered name not approved",
				UserMsg: "Registered name should be present and approved", TraceID: "AbC2"},
			wantText: "code 100/2388103",
		},
		{
			name: "destination WABA without webhooks",
			call: add,
			reply: graphError(400, `"message":"Invalid parameter","type":"OAuthException","code":100,
				"error_subcode":2388103,"error_user_title":"Cannot migrate phone number",
				"error_user_msg":"Cannot migrate phone number","error_data":{"messaging_product":"whatsapp",
				"details":"No app is subscribed to the destination account's webhooks."}`),
			want: bot.GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Type: "OAuthException",
				Message: "Invalid parameter", UserTitle: "Cannot migrate phone number", UserMsg: "Cannot migrate phone number",
				Details: "No app is subscribed to the destination account's webhooks."},
		},
		{
			name: "source and destination in different businesses",
			call: add,
			reply: graphError(400, `"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":"2388103",
				"error_user_msg":"This phone number belongs to a different Business Manager account"`),
			want: bot.GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Type: "OAuthException",
				Message: "Invalid parameter", UserMsg: "This phone number belongs to a different Business Manager account"},
		},
		{
			name: "number already in the WABA",
			call: add,
			reply: graphError(400, `"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388012,
				"error_user_msg":"This phone number is already in this WhatsApp Business Account"`),
			want: bot.GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388012, Type: "OAuthException",
				Message: "Invalid parameter", UserMsg: "This phone number is already in this WhatsApp Business Account"},
		},
		{
			name: "register limit reached",
			call: register,
			reply: graphError(400, `"message":"(#133016) Account register deregister rate limit exceeded",
				"type":"OAuthException","code":133016,"error_data":{"messaging_product":"whatsapp",
				"details":"Registration is blocked for this number for the next 72 hours."},"fbtrace_id":"AbC3"`),
			want: bot.GraphError{HTTPStatus: 400, Code: 133016, Type: "OAuthException",
				Message: "(#133016) Account register deregister rate limit exceeded",
				Details: "Registration is blocked for this number for the next 72 hours.", TraceID: "AbC3"},
			wantText: "graph: register: code 133016: (#133016) Account register deregister rate limit exceeded (fbtrace_id AbC3)",
		},
		{
			name: "code requested for a verified number",
			call: requestCode,
			reply: graphError(400, `"message":"(#136024) Phone number already verified","type":"OAuthException",
				"code":136024,"is_transient":false`),
			want: bot.GraphError{HTTPStatus: 400, Code: 136024, Type: "OAuthException",
				Message: "(#136024) Phone number already verified"},
		},
		{
			name: "wrong code",
			call: verify,
			reply: graphError(400, `"message":"(#136025) Code couldn't be verified","type":"OAuthException",
				"code":136025,"error_data":"The code entered is incorrect."`),
			want: bot.GraphError{HTTPStatus: 400, Code: 136025, Type: "OAuthException",
				Message: "(#136025) Code couldn't be verified", Details: "The code entered is incorrect."},
		},
		{
			name: "invalid parameter with error_data as a JSON string",
			call: register,
			reply: graphError(400, `"message":"(#100) Invalid parameter","type":"OAuthException","code":100,
				"error_data":"{\"details\":\"pin must be 6 digits\"}"`),
			want: bot.GraphError{HTTPStatus: 400, Code: 100, Type: "OAuthException",
				Message: "(#100) Invalid parameter", Details: "pin must be 6 digits"},
		},
		{
			name: "expired token",
			call: verify,
			reply: graphError(401, `"message":"Error validating access token: Session has expired","type":"OAuthException",
				"code":190,"error_subcode":463,"fbtrace_id":"AbC4"`),
			want: bot.GraphError{HTTPStatus: 401, Code: 190, Subcode: 463, Type: "OAuthException",
				Message: "Error validating access token: Session has expired", TraceID: "AbC4"},
		},
		{
			name:            "server error with an HTML body",
			call:            register,
			reply:           reply{status: 500, body: "<html><body>Sorry, something went wrong.</body></html>", header: map[string]string{"Content-Type": "text/html"}},
			want:            bot.GraphError{HTTPStatus: 500, Message: "HTTP 500 Internal Server Error", Transient: true},
			wantUnavailable: true,
			wantText:        "graph: register: meta unavailable: code 0: HTTP 500 Internal Server Error",
		},
		{
			name: "rate limited code request",
			call: requestCode,
			reply: reply{status: 429, header: map[string]string{"Retry-After": "7"},
				body: `{"error":{"message":"(#80007) Rate limit issues","type":"OAuthException","code":80007,"is_transient":true}}`},
			want: bot.GraphError{HTTPStatus: 429, Code: 80007, Type: "OAuthException",
				Message: "(#80007) Rate limit issues", Transient: true, RetryAfter: 7 * time.Second},
			wantUnavailable: true,
		},
		{
			name: "app rate limit answered with 400",
			call: add,
			reply: reply{status: 400, header: map[string]string{"Retry-After": "60"},
				body: `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4,"is_transient":true}}`},
			want: bot.GraphError{HTTPStatus: 400, Code: 4, Type: "OAuthException",
				Message: "(#4) Application request limit reached", Transient: true, RetryAfter: time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c, _ := newGraph(t, tt.reply)
			err := tt.call(t.Context(), c)
			var ge *bot.GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("error %v is not a *bot.GraphError", err)
			}
			if diff := cmp.Diff(tt.want, *ge); diff != "" {
				t.Errorf("GraphError mismatch (-want +got):\n%s", diff)
			}
			if got := errors.Is(err, bot.ErrUnavailable); got != tt.wantUnavailable {
				t.Errorf("errors.Is(err, bot.ErrUnavailable) = %v, want %v", got, tt.wantUnavailable)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error text %q does not contain %q", err, tt.wantText)
			}
		})
	}
}

func TestPhoneNumberWaitsForRetryAfter(t *testing.T) {
	f, c, _ := newGraph(t,
		reply{status: 429, header: map[string]string{"Retry-After": "1"},
			body: `{"error":{"message":"(#80007) Rate limit issues","type":"OAuthException","code":80007}}`},
		ok(`{"id":"106540352242922","status":"CONNECTED"}`),
	)
	start := time.Now()
	pn, err := c.PhoneNumber(t.Context(), "106540352242922")
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("PhoneNumber after a 429: %v", err)
	}
	if pn.Status != "CONNECTED" {
		t.Errorf("status = %q, want CONNECTED", pn.Status)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("got %d requests, want 2", n)
	}
	// A busy machine only makes the wait longer: it is never shorter than
	// what Meta asked.
	if elapsed < 900*time.Millisecond {
		t.Errorf("retried after %v, before the 1s Meta asked for", elapsed)
	}
}

func TestLongRetryAfterIsReportedNotSlept(t *testing.T) {
	f, c, _ := newGraph(t, reply{status: 429, header: map[string]string{"Retry-After": "120"},
		body: `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4}}`})
	// Had the client slept the 2 minutes Meta asked, this deadline would end
	// the call with no GraphError to read.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := c.PhoneNumber(ctx, "106540352242922")
	var ge *bot.GraphError
	if !errors.As(err, &ge) || ge.RetryAfter != 2*time.Minute {
		t.Fatalf("got %v, want a GraphError asking to wait 2m", err)
	}
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Errorf("a 429 should wrap bot.ErrUnavailable: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("got %d requests, want 1", n)
	}
}

func TestRepeatableCallsRetryServerErrors(t *testing.T) {
	unavailable := reply{status: 503, body: `{"error":{"message":"(#2) Service temporarily unavailable","type":"OAuthException","code":2,"is_transient":true}}`}
	tests := []struct {
		name string
		call func(context.Context, *graph.Client) error
		ok   reply
	}{
		{"verify code", func(ctx context.Context, c *graph.Client) error {
			return c.VerifyCode(ctx, "106540352242922", "123456")
		}, ok(`{"success":true}`)},
		{"migrate templates", func(ctx context.Context, c *graph.Client) error {
			_, err := c.MigrateTemplates(ctx, "102290129340398", "887766554433221")
			return err
		}, ok(`{"migrated_templates":["1"],"failed_templates":{}}`)},
		{"read phone number", func(ctx context.Context, c *graph.Client) error {
			_, err := c.PhoneNumber(ctx, "106540352242922")
			return err
		}, ok(`{"id":"106540352242922"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, _ := newGraph(t, unavailable, unavailable, tt.ok)
			if err := tt.call(t.Context(), c); err != nil {
				t.Fatalf("call failed after transient errors: %v", err)
			}
			if n := len(f.requests()); n != 3 {
				t.Errorf("got %d requests, want 3", n)
			}
		})
	}
}

func TestCallsWithSideEffectsAreSentOnce(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, *graph.Client) error
	}{
		{"register", func(ctx context.Context, c *graph.Client) error {
			return c.Register(ctx, "106540352242922", "150954")
		}},
		{"request code", func(ctx context.Context, c *graph.Client) error {
			return c.RequestCode(ctx, "106540352242922", "SMS", bot.English)
		}},
		{"add phone number", func(ctx context.Context, c *graph.Client) error {
			_, err := c.AddPhoneNumber(ctx, "102290129340398", "55", "11987654321")
			return err
		}},
		{"send text", func(ctx context.Context, c *graph.Client) error {
			_, err := c.SendText(ctx, "106540352242922", "+5511987654321", "hello")
			return err
		}},
	}
	for _, tt := range tests {
		for _, status := range []int{500, 503, 429} {
			t.Run(fmt.Sprintf("%s %d", tt.name, status), func(t *testing.T) {
				f, c, _ := newGraph(t, reply{status: status, body: `{"error":{"message":"(#1) An unknown error occurred","code":1}}`})
				err := tt.call(t.Context(), c)
				if !errors.Is(err, bot.ErrUnavailable) {
					t.Errorf("got %v, want bot.ErrUnavailable", err)
				}
				var ge *bot.GraphError
				if !errors.As(err, &ge) || ge.HTTPStatus != status {
					t.Errorf("got %v, want the GraphError Meta sent", err)
				}
				if n := len(f.requests()); n != 1 {
					t.Errorf("sent %d times, want exactly once", n)
				}
			})
		}
	}
}

// dropper closes every connection without answering, and counts them.
type dropper struct {
	mu sync.Mutex
	n  int
}

func (d *dropper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.n++
	d.mu.Unlock()
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestNetworkErrors(t *testing.T) {
	d := &dropper{}
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond})

	_, err := c.PhoneNumber(t.Context(), "106540352242922")
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Errorf("PhoneNumber: got %v, want bot.ErrUnavailable", err)
	}
	var ge *bot.GraphError
	if errors.As(err, &ge) {
		t.Errorf("PhoneNumber: a dropped connection is not an answer from Meta, got %v", ge)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error repeats the request URL: %v", err)
	}
	d.mu.Lock()
	reads := d.n
	d.n = 0
	d.mu.Unlock()
	if reads != 4 {
		t.Errorf("PhoneNumber tried %d times on a dropped connection, want 4", reads)
	}

	err = c.Register(t.Context(), "106540352242922", "150954")
	if !errors.Is(err, bot.ErrUnavailable) {
		t.Errorf("Register: got %v, want bot.ErrUnavailable", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n != 1 {
		t.Errorf("Register tried %d times on a dropped connection, want 1", d.n)
	}
}

func TestContext(t *testing.T) {
	t.Run("cancelled before the call", func(t *testing.T) {
		f, c, _ := newGraph(t, ok(`{"success":true}`))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := c.RequestCode(ctx, "106540352242922", "SMS", bot.English)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("a cancelled call reached Meta %d times", n)
		}
	})
	t.Run("deadline while Meta is slow", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond})
		ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
		defer cancel()
		// The server answers only once the test ends: the call returns
		// by the deadline or not at all.
		_, err := c.PhoneNumber(ctx, "106540352242922")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, bot.ErrUnavailable) {
			t.Errorf("got %v, want a deadline error wrapping bot.ErrUnavailable", err)
		}
	})
}

func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	const code, pin = "482913", "736151"
	calls := []func(context.Context, *graph.Client) error{
		func(ctx context.Context, c *graph.Client) error { return c.VerifyCode(ctx, "106540352242922", code) },
		func(ctx context.Context, c *graph.Client) error { return c.Register(ctx, "106540352242922", pin) },
		func(ctx context.Context, c *graph.Client) error {
			_, err := c.PhoneNumber(ctx, "106540352242922")
			return err
		},
	}
	answers := map[string]reply{
		"token rejected": graphError(401, `"message":"Invalid OAuth access token - Cannot parse access token","type":"OAuthException","code":190`),
		"server error":   {status: 502, body: "Bad Gateway"},
		"wrong input":    graphError(400, `"message":"(#136025) Code couldn't be verified","code":136025`),
	}
	for name, rep := range answers {
		t.Run(name, func(t *testing.T) {
			_, c, logs := newGraph(t, rep)
			for _, call := range calls {
				err := call(t.Context(), c)
				if err == nil {
					t.Fatal("call succeeded, want an error")
				}
				for _, secret := range []string{token, code, pin} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a secret", err)
					}
				}
			}
			if logs.String() == "" {
				t.Fatal("nothing was logged at debug level; the check below would prove nothing")
			}
			for _, secret := range []string{token, code, pin} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs contain a secret:\n%s", logs)
				}
			}
		})
	}
	t.Run("network error", func(t *testing.T) {
		srv := httptest.NewServer(&dropper{})
		t.Cleanup(srv.Close)
		logs := &logBuffer{}
		c := graph.New(graph.Config{BaseURL: srv.URL, Token: token, RetryWait: time.Millisecond, RetryMaxWait: 5 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		for _, call := range calls {
			if err := call(t.Context(), c); err == nil || strings.Contains(err.Error(), token) {
				t.Errorf("got %v, want an error without the token", err)
			}
		}
		if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), srv.URL) {
			t.Errorf("logs contain the token or a URL:\n%s", logs)
		}
	})
}

func TestRefusesBadInputWithoutCallingMeta(t *testing.T) {
	f, c, _ := newGraph(t, ok(`{"success":true}`))
	ctx := t.Context()
	checks := map[string]error{
		"register with a short PIN":    c.Register(ctx, "106540352242922", "1234"),
		"code by fax":                  c.RequestCode(ctx, "106540352242922", "FAX", bot.English),
		"phone id with a path":         c.VerifyCode(ctx, "1065/../../me", "123456"),
		"empty phone id":               c.RequestCode(ctx, "", "SMS", bot.English),
		"country code with a plus":     func() error { _, err := c.AddPhoneNumber(ctx, "102290129340398", "+55", "11987654321"); return err }(),
		"text to a name":               func() error { _, err := c.SendText(ctx, "106540352242922", "maria", "hi"); return err }(),
		"templates from an empty WABA": func() error { _, err := c.MigrateTemplates(ctx, "102290129340398", ""); return err }(),
	}
	for name, err := range checks {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if errors.Is(err, bot.ErrUnavailable) {
			t.Errorf("%s: bad input reported as Meta being unavailable: %v", name, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("bad input reached Meta %d times", n)
	}
}
