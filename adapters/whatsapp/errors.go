package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"portabot/bot"
)

// envelope is Meta's error body. Numbers that arrive as strings and an
// error_data that is a string are read leniently, so one odd field does
// not lose the rest of the error.
type envelope struct {
	Error *struct {
		Message   string          `json:"message"`
		Type      string          `json:"type"`
		Code      flexString      `json:"code"`
		Subcode   flexString      `json:"error_subcode"`
		UserTitle string          `json:"error_user_title"`
		UserMsg   string          `json:"error_user_msg"`
		Data      json.RawMessage `json:"error_data"`
		Transient json.RawMessage `json:"is_transient"`
		TraceID   string          `json:"fbtrace_id"`
	} `json:"error"`
}

// rateLimited are the codes Meta uses for "slow down": app (4), user (17),
// application (341), WABA (80007), Cloud API throughput (130429) and too
// many messages to one user (131056).
var rateLimited = map[int]bool{4: true, 17: true, 341: true, 80007: true, 130429: true, 131056: true}

// decodeError turns an error answer into a *bot.GraphError. It never fails:
// a body that is not Meta's envelope (a proxy's HTML page) still yields the
// HTTP status.
func decodeError(status int, h http.Header, body []byte) *bot.GraphError {
	ge := &bot.GraphError{HTTPStatus: status}
	var env envelope
	if err := json.Unmarshal(body, &env); err == nil && env.Error != nil {
		e := env.Error
		ge.Code, _ = strconv.Atoi(string(e.Code))
		ge.Subcode, _ = strconv.Atoi(string(e.Subcode))
		ge.Type = e.Type
		ge.Message = e.Message
		ge.UserTitle = e.UserTitle
		ge.UserMsg = e.UserMsg
		ge.Details = details(e.Data)
		ge.Transient = string(bytes.Trim(e.Transient, `"`)) == "true"
		ge.TraceID = e.TraceID
	} else {
		ge.Message = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		ge.Transient = unavailable(status)
	}
	if status == http.StatusTooManyRequests || rateLimited[ge.Code] {
		ge.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	}
	return ge
}

// unavailable reports whether an HTTP status means "Meta cannot take this
// now" rather than "Meta refuses this".
func unavailable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// details reads error_data.details. error_data is usually an object, but
// older answers carry it as a string, sometimes holding JSON itself.
func details(raw json.RawMessage) string {
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

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
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

// transportCause drops the *url.Error wrapper, whose text repeats the
// request URL, and keeps what went wrong.
func transportCause(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
