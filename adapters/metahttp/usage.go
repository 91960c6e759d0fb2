package metahttp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Usage is what Meta's usage headers say about the budget a call spent
// (Meta: graph-api/overview/rate-limiting). Percentages are of the hourly
// budget; a header Meta did not send leaves its part zero, which is not
// "nothing used".
type Usage struct {
	// App is X-App-Usage.
	App AppUsage
	// Business is X-Business-Use-Case-Usage: per business (or object) id,
	// one entry per use case.
	Business map[string][]BusinessUsage
}

// AppUsage is the app's share of its hourly budget, in percent.
type AppUsage struct {
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
}

// BusinessUsage is one use case's share of a business's budget.
type BusinessUsage struct {
	Type         string  `json:"type"`
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
	// RegainAccess is estimated_time_to_regain_access, which Meta gives in
	// minutes.
	RegainAccess time.Duration `json:"-"`
}

// ReadUsage reads the usage headers of an answer. Unreadable headers read
// as absent: they inform a wait, they never fail a call.
func ReadUsage(h http.Header) Usage {
	var u Usage
	if v := h.Get("X-App-Usage"); v != "" {
		var raw map[string]json.RawMessage
		if json.Unmarshal([]byte(v), &raw) == nil {
			u.App = AppUsage{CallCount: number(raw["call_count"]), TotalCPUTime: number(raw["total_cputime"]),
				TotalTime: number(raw["total_time"])}
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var raw map[string][]map[string]json.RawMessage
		if json.Unmarshal([]byte(v), &raw) == nil {
			for id, entries := range raw {
				for _, e := range entries {
					if e == nil {
						continue
					}
					var typ string
					_ = json.Unmarshal(e["type"], &typ)
					b := BusinessUsage{Type: typ, CallCount: number(e["call_count"]),
						TotalCPUTime: number(e["total_cputime"]), TotalTime: number(e["total_time"])}
					if m := number(e["estimated_time_to_regain_access"]); m > 0 && m < maxRegainMinutes {
						b.RegainAccess = time.Duration(m * float64(time.Minute))
					}
					if u.Business == nil {
						u.Business = map[string][]BusinessUsage{}
					}
					u.Business[id] = append(u.Business[id], b)
				}
			}
		}
	}
	return u
}

// maxRegainMinutes ignores estimates past a week: Meta's budgets are
// hourly and daily, and a larger number is a broken header, not a wait.
const maxRegainMinutes = 7 * 24 * 60

// RegainAccess is the longest wait any use case in u names.
func (u Usage) RegainAccess() time.Duration {
	var d time.Duration
	for _, entries := range u.Business {
		for _, e := range entries {
			d = max(d, e.RegainAccess)
		}
	}
	return d
}

// number reads a JSON number, also when Meta sends it as a string.
func number(raw json.RawMessage) float64 {
	if len(raw) == 0 {
		return 0
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return 0
}
