package metahttp

import (
	"net/http"
	"testing"
	"time"
)

func TestReadUsage(t *testing.T) {
	h := http.Header{}
	h.Set("X-App-Usage", `{"call_count":28,"total_time":25,"total_cputime":"25"}`)
	h.Set("X-Business-Use-Case-Usage", `{"102290129340398":[{"type":"whatsapp_business_management","call_count":100,
		"total_cputime":12,"total_time":40,"estimated_time_to_regain_access":7},
		{"type":"messenger","call_count":5,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}`)
	u := ReadUsage(h)
	if u.App != (AppUsage{CallCount: 28, TotalCPUTime: 25, TotalTime: 25}) {
		t.Errorf("app usage = %+v", u.App)
	}
	got := u.Business["102290129340398"]
	if len(got) != 2 || got[0].Type != "whatsapp_business_management" || got[0].CallCount != 100 || got[0].TotalTime != 40 {
		t.Errorf("business usage = %+v", got)
	}
	// Meta gives the estimate in minutes.
	if d := u.RegainAccess(); d != 7*time.Minute {
		t.Errorf("RegainAccess() = %v, want 7m", d)
	}
	if d := ReadUsage(http.Header{"X-Business-Use-Case-Usage": {`{"1":[{"estimated_time_to_regain_access":1e12}]}`}}).RegainAccess(); d != 0 {
		t.Errorf("an absurd estimate reads as %v, want none", d)
	}
	if u := ReadUsage(http.Header{"X-App-Usage": {"{not json"}, "X-Business-Use-Case-Usage": {`{"1":"x"}`}}); u.App != (AppUsage{}) || u.Business != nil {
		t.Errorf("unreadable headers read as %+v, want nothing", u)
	}
}

// A rate-limited answer waits for the longer of Retry-After and Meta's
// estimate; an error that is not a rate limit ignores the estimate.
func TestDecodeWaitsForTheUsageEstimate(t *testing.T) {
	usage := `{"102290129340398":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":3}]}`
	body := []byte(`{"error":{"message":"(#80007) Rate limit issues","code":80007}}`)
	for _, tt := range []struct {
		name       string
		retryAfter string
		body       []byte
		want       time.Duration
	}{
		{"estimate longer", "10", body, 3 * time.Minute},
		{"Retry-After longer", "600", body, 10 * time.Minute},
		{"not a rate limit", "600", []byte(`{"error":{"message":"(#100) Invalid parameter","code":100}}`), 0},
	} {
		h := http.Header{"Retry-After": {tt.retryAfter}, "X-Business-Use-Case-Usage": {usage}}
		if got := Decode(400, h, tt.body).RetryAfter; got != tt.want {
			t.Errorf("%s: RetryAfter = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func FuzzUsage(f *testing.F) {
	f.Add(`{"call_count":28,"total_time":25,"total_cputime":25}`,
		`{"1":[{"type":"whatsapp_business_management","call_count":100,"estimated_time_to_regain_access":7}]}`)
	f.Add(`null`, `{"1":null}`)
	f.Add(`{"call_count":"x"}`, `{"1":[null,{"estimated_time_to_regain_access":-5}]}`)
	f.Fuzz(func(t *testing.T, app, business string) {
		u := ReadUsage(http.Header{"X-App-Usage": {app}, "X-Business-Use-Case-Usage": {business}})
		if d := u.RegainAccess(); d < 0 || d > maxRegainMinutes*time.Minute {
			t.Fatalf("RegainAccess() = %v out of range", d)
		}
	})
}
