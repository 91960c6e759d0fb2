package metahttp

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"portabot/bot"
)

func TestDecode(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   bot.GraphError
	}{
		{"migration error as a subcode", 400, nil,
			`{"error":{"message":"(#100) Invalid parameter","type":"OAuthException","code":100,"error_subcode":2388103,"error_user_title":"Cannot migrate phone number","error_user_msg":"Subscribe an app","fbtrace_id":"Az8or"}}`,
			bot.GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Type: "OAuthException", Message: "(#100) Invalid parameter",
				UserTitle: "Cannot migrate phone number", UserMsg: "Subscribe an app", TraceID: "Az8or"}},
		{"rate limit with Retry-After", 429, http.Header{"Retry-After": {"7"}},
			`{"error":{"message":"(#80007) Rate limit","code":80007,"error_data":{"details":"WABA limit"},"is_transient":true}}`,
			bot.GraphError{HTTPStatus: 429, Code: 80007, Message: "(#80007) Rate limit", Details: "WABA limit", Transient: true, RetryAfter: 7 * time.Second}},
		{"numbers as strings, error_data as a JSON string", 400, nil,
			`{"error":{"message":"m","code":"133016","error_subcode":"0","error_data":"{\"details\":\"blocked\"}","is_transient":"false"}}`,
			bot.GraphError{HTTPStatus: 400, Code: 133016, Message: "m", Details: "blocked"}},
		{"a proxy's HTML page", 502, nil, `<html>bad gateway</html>`,
			bot.GraphError{HTTPStatus: 502, Message: "HTTP 502 Bad Gateway", Transient: true}},
		{"HTTP-date Retry-After", 429, http.Header{"Retry-After": {now.Add(90 * time.Second).UTC().Format(http.TimeFormat)}}, `{}`,
			bot.GraphError{HTTPStatus: 429, Message: "HTTP 429 Too Many Requests", Transient: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := Decode(tt.status, h, []byte(tt.body))
			if tt.name == "HTTP-date Retry-After" {
				if got.RetryAfter < 80*time.Second || got.RetryAfter > 91*time.Second {
					t.Errorf("RetryAfter = %v, want about 90s", got.RetryAfter)
				}
				got.RetryAfter = 0
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Now()
	for v, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		now.Add(-time.Hour).UTC().Format(http.TimeFormat): 0} {
		if got := RetryAfter(v, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(400, `{"error":{"code":100,"error_subcode":2388012}}`)
	f.Add(500, `not json`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		ge := Decode(status, http.Header{"Retry-After": {"1"}}, []byte(body))
		if ge == nil || ge.HTTPStatus != status {
			t.Fatalf("Decode lost the status: %+v", ge)
		}
	})
}
