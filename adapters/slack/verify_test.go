package slack

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Slack's published example of a signed request
// (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = "1531420618"
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

func TestSlackSigningExample(t *testing.T) {
	// The fixture is genuine: our own HMAC of it gives Slack's signature.
	if got := sign(exampleSecret, exampleTimestamp, []byte(exampleBody)); got != exampleSignature {
		t.Fatalf("HMAC of Slack's example = %s, want %s", got, exampleSignature)
	}
	f := newFixture(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(exampleBody))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", exampleTimestamp)
	r.Header.Set("X-Slack-Signature", exampleSignature)
	w := httptest.NewRecorder()
	f.app.Commands().ServeHTTP(w, r)
	// Signed in 2018: far outside the 5-minute window.
	if w.Code != http.StatusUnauthorized {
		t.Errorf("Slack's 2018 example: status %d, want 401", w.Code)
	}
}

func TestSignedRequests(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		config func(*Config)
		edit   func(r *http.Request)
		body   string
		secret string
		at     time.Time
		want   int
	}{
		{name: "fresh example body", want: http.StatusOK},
		{name: "290 seconds old", at: now.Add(-290 * time.Second), want: http.StatusOK},
		{name: "tampered body", body: strings.Replace(exampleBody, "U2CERLKJA", "U0ATTACKR", 1), want: http.StatusUnauthorized},
		{name: "wrong secret", secret: "not-the-secret", want: http.StatusUnauthorized},
		{name: "6 minutes old", at: now.Add(-6 * time.Minute), want: http.StatusUnauthorized},
		{name: "6 minutes ahead", at: now.Add(6 * time.Minute), want: http.StatusUnauthorized},
		{name: "no signature", edit: func(r *http.Request) { r.Header.Del("X-Slack-Signature") }, want: http.StatusUnauthorized},
		{name: "no timestamp", edit: func(r *http.Request) { r.Header.Del("X-Slack-Request-Timestamp") }, want: http.StatusUnauthorized},
		{name: "signature without v0", edit: func(r *http.Request) {
			r.Header.Set("X-Slack-Signature", strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
		}, want: http.StatusUnauthorized},
		{name: "timestamp moved by a second", edit: func(r *http.Request) {
			ts, _ := strconv.ParseInt(r.Header.Get("X-Slack-Request-Timestamp"), 10, 64)
			r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts-1, 10))
		}, want: http.StatusUnauthorized},
		{name: "other team", config: func(c *Config) { c.TeamID = "T0THER" }, want: http.StatusForbidden},
		{name: "no team configured", config: func(c *Config) { c.TeamID = "" }, want: http.StatusForbidden},
		{name: "unsigned garbage", body: "%zz", edit: func(r *http.Request) { r.Header.Set("X-Slack-Signature", exampleSignature) }, want: http.StatusUnauthorized},
		{name: "signed garbage", body: "%zz", want: http.StatusBadRequest},
		{name: "too large", body: "text=" + strings.Repeat("a", maxBody), want: http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.config)
			body, secret, at := exampleBody, exampleSecret, now
			if tt.body != "" {
				body = tt.body
			}
			if tt.secret != "" {
				secret = tt.secret
			}
			if !tt.at.IsZero() {
				at = tt.at
			}
			stamp := strconv.FormatInt(at.Unix(), 10)
			// The signature covers what Slack sent: a tampered body keeps
			// the signature of the original.
			signed := exampleBody
			if !strings.HasPrefix(tt.name, "tampered") {
				signed = body
			}
			r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("X-Slack-Request-Timestamp", stamp)
			r.Header.Set("X-Slack-Signature", sign(secret, stamp, []byte(signed)))
			if tt.edit != nil {
				tt.edit(r)
			}
			w := httptest.NewRecorder()
			f.app.Commands().ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d (body %q)", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusOK && !strings.Contains(w.Body.String(), "/porta list") {
				t.Errorf("accepted request did not get the help: %s", w.Body)
			}
			if tt.want != http.StatusOK && strings.Contains(w.Body.String(), "/porta") {
				t.Errorf("refused request was answered: %s", w.Body)
			}
			if got := f.bot.got(); len(got) != 0 {
				t.Errorf("actions ran: %v", got)
			}
		})
	}
}

func TestInteractionsAreVerified(t *testing.T) {
	f := newFixture(t, nil)
	body := "payload=%7B%22type%22%3A%22block_actions%22%7D"
	w := post(f.app.Interactions(), "/slack/interactions", "wrong-secret", time.Now(), body)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("wrong secret: status %d, want 401", w.Code)
	}
	w = post(f.app.Interactions(), "/slack/interactions", testSecret, time.Now().Add(-6*time.Minute), body)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("6 minutes old: status %d, want 401", w.Code)
	}
	// Signed, but from a workspace we do not serve.
	w = post(f.app.Interactions(), "/slack/interactions", testSecret, time.Now(),
		"payload=%7B%22type%22%3A%22block_actions%22%2C%22team%22%3A%7B%22id%22%3A%22T0THER%22%7D%7D")
	if w.Code != http.StatusForbidden {
		t.Errorf("other team: status %d, want 403", w.Code)
	}
	w = post(f.app.Interactions(), "/slack/interactions", testSecret, time.Now(), "payload=")
	if w.Code != http.StatusBadRequest {
		t.Errorf("empty payload: status %d, want 400", w.Code)
	}
	f.noResponse(t)
}

func TestOnlyPost(t *testing.T) {
	f := newFixture(t, nil)
	w := httptest.NewRecorder()
	f.app.Commands().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/slack/commands", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d, want 405", w.Code)
	}
}
