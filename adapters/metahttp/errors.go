// Package metahttp is what the Graph client (migration endpoints) and the
// WhatsApp sender (messages endpoint) share on the wire to
// graph.facebook.com: one resty client setup with its defaults (origin,
// API version, timeout), one reading of Meta's error envelope into
// *bot.GraphError, of Retry-After and the usage headers, and a log sink for
// resty that keeps URLs and the token out of the logs.
package metahttp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"portabot/bot"
)

// envelope is Meta's error body. Fields Meta has been seen to send with
// other JSON types (numbers as strings, error_data as a string) are read
// leniently, so one odd field does not lose the rest of the error.
type envelope struct {
	Error *struct {
		Message   string          `json:"message"`
		Type      string          `json:"type"`
		Code      flexInt         `json:"code"`
		Subcode   flexInt         `json:"error_subcode"`
		UserTitle string          `json:"error_user_title"`
		UserMsg   string          `json:"error_user_msg"`
		Data      json.RawMessage `json:"error_data"`
		Transient flexBool        `json:"is_transient"`
		TraceID   string          `json:"fbtrace_id"`
	} `json:"error"`
}

// Decode turns an error answer into a *bot.GraphError. It never fails: a
// body that is not Meta's envelope (a proxy's HTML page) still yields the
// HTTP status.
func Decode(status int, h http.Header, body []byte) *bot.GraphError {
	ge := &bot.GraphError{HTTPStatus: status}
	var env envelope
	if err := json.Unmarshal(body, &env); err == nil && env.Error != nil {
		e := env.Error
		ge.Code = int(e.Code)
		ge.Subcode = int(e.Subcode)
		ge.Type = e.Type
		ge.Message = e.Message
		ge.UserTitle = e.UserTitle
		ge.UserMsg = e.UserMsg
		ge.Details = detailsOf(e.Data)
		ge.Transient = bool(e.Transient)
		ge.TraceID = e.TraceID
	} else {
		// An error page from a proxy or load balancer: its text helps
		// nobody, the status says what happened.
		ge.Message = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		ge.Transient = Unavailable(status)
	}
	// Which errors carry a wait is bot's table's call. Retry-After is
	// plain HTTP; Meta's own word is the usage headers' estimate (Meta:
	// graph-api/overview/rate-limiting), so a rate limit waits for the
	// longer of the two.
	switch ge.Kind() {
	case bot.KindRateLimited:
		ge.RetryAfter = max(RetryAfter(h.Get("Retry-After"), time.Now()), ReadUsage(h).RegainAccess())
	case bot.KindRetryLater:
		ge.RetryAfter = RetryAfter(h.Get("Retry-After"), time.Now())
	}
	return ge
}

// Unavailable reports whether an HTTP status means "Meta cannot take this
// now" rather than "Meta refuses this".
func Unavailable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// RetryAfter reads a Retry-After value in seconds or as an HTTP date.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}

// details reads error_data.details. error_data is usually an object, but
// older answers carry it as a string, sometimes holding JSON itself.
func detailsOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var obj struct {
		Details string `json:"details"`
	}
	if raw[0] == '{' {
		if json.Unmarshal(raw, &obj) == nil {
			return obj.Details
		}
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	if json.Unmarshal([]byte(s), &obj) == nil {
		return obj.Details
	}
	return s
}

// flexInt accepts 100 and "100".
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	v, err := strconv.Atoi(string(b))
	if err != nil {
		return nil // unreadable: leave zero rather than lose the envelope
	}
	*n = flexInt(v)
	return nil
}

// flexBool accepts true and "true".
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	*v = string(bytes.Trim(b, `"`)) == "true"
	return nil
}
