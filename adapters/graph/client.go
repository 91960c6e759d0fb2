// Package graph is portabot's client for the Meta Graph API: the endpoints
// that move a WhatsApp Business number from one WABA to another (add with
// migrate_phone_number, request and verify the ownership code, register,
// copy templates, read the number's status) and the messages endpoint the
// bot replies through.
//
// Calls whose repetition changes nothing (reading a number, verifying a code,
// copying templates) are retried on network errors and on the answers
// bot's error table calls worth a later try (429, 5xx, Meta's transient
// codes). Calls with a
// side effect a client would notice or a quota to protect (adding the number,
// requesting a code, which sends an SMS, registering, which Meta allows 10
// times in 72 hours, sending a message) are made exactly once; the caller
// decides what to do next.
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"portabot/adapters/metahttp"
	"portabot/bot"
)

// Defaults for Config fields left zero.
const (
	DefaultBaseURL = metahttp.DefaultBaseURL
	DefaultVersion = metahttp.DefaultVersion
	// DefaultTimeout bounds one attempt. Meta cuts template copies off at
	// about 30 s, so a shorter timeout would abandon calls Meta still runs.
	DefaultTimeout      = 40 * time.Second
	DefaultRetryWait    = 500 * time.Millisecond
	DefaultRetryMaxWait = 5 * time.Second
	// DefaultTemplateSlowPage is where Meta cuts a template copy off
	// (Meta: templates/template-migration).
	DefaultTemplateSlowPage = 30 * time.Second
)

// retries is how many times a repeatable call is tried again: enough to ride
// over a blip, few enough that a real outage surfaces within seconds.
const retries = 3

// Config configures a Client.
type Config struct {
	// BaseURL is Graph's origin; DefaultBaseURL when empty.
	BaseURL string
	// Version is the Graph API version in the path ("v25.0").
	Version string
	// Token is the system-user access token. It travels only in the
	// Authorization header.
	Token string
	// Timeout bounds each attempt; the caller's context bounds the whole call.
	Timeout time.Duration
	// HTTPClient, when set, supplies the transport. It is copied, not
	// modified.
	HTTPClient *http.Client
	// Logger receives debug lines about calls; nothing when nil.
	Logger *slog.Logger
	// RetryWait and RetryMaxWait bound the pause between attempts of a
	// repeatable call. A Retry-After longer than RetryMaxWait is not waited
	// for: the error is returned with GraphError.RetryAfter set instead.
	RetryWait    time.Duration
	RetryMaxWait time.Duration
	// TemplateCount is how many templates the first page of a template
	// copy asks for; Meta takes at most 500, the default. It is rounded
	// down to one of the sizes a copy steps down through (500, 250, 125,
	// 25, 5, 1).
	TemplateCount int
	// TemplateSlowPage is how long a template page may take before the
	// next asks for fewer; Meta cuts a copy off past 30 s, the default.
	TemplateSlowPage time.Duration
	// Observe, when set, is told of every call that reached the network:
	// the endpoint (the op names the errors use, such as "request_code"),
	// the outcome ("ok"; "meta_error" when Meta refused the call or its
	// answer was unreadable; "unavailable" when Meta could not be reached
	// or answered 429 or 5xx) and how long the call took, retries
	// included. A migration stalls on Meta more often than on portabot,
	// and this is where that shows. It must not block.
	Observe func(endpoint, outcome string, d time.Duration)
	// AppID, when set, is our Meta app: the pre-flight counts only its
	// subscription to a WABA's webhooks, not another app's.
	AppID string
}

// Client calls Meta's Graph API. It is safe for concurrent use.
type Client struct {
	// once makes a single attempt; retry repeats on transport errors and on
	// answers bot's table calls worth a later try. Two resty clients because resty's retry count is per client.
	once    *resty.Client
	retry   *resty.Client
	version string
	wait    time.Duration
	maxWait time.Duration
	// tplCount and tplSlow shape template copies (Config.TemplateCount,
	// Config.TemplateSlowPage).
	tplCount int
	tplSlow  time.Duration
	log      *slog.Logger
	observe  func(endpoint, outcome string, d time.Duration)
	appID    string
}

var _ bot.Graph = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) *Client {
	mc := metahttp.ClientConfig{BaseURL: cfg.BaseURL, Version: cfg.Version, Token: cfg.Token, Timeout: cfg.Timeout,
		MaxBody: maxBody, HTTPClient: cfg.HTTPClient, Log: cfg.Logger, Name: "graph http client"}.WithDefaults(DefaultTimeout)
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = DefaultRetryWait
	}
	if cfg.RetryMaxWait <= 0 {
		cfg.RetryMaxWait = DefaultRetryMaxWait
	}
	if cfg.TemplateCount <= 0 || cfg.TemplateCount > templatePage {
		cfg.TemplateCount = templatePage
	}
	if !slices.Contains(templateCounts, cfg.TemplateCount) {
		cfg.TemplateCount = smaller(cfg.TemplateCount)
	}
	if cfg.TemplateSlowPage <= 0 {
		cfg.TemplateSlowPage = DefaultTemplateSlowPage
	}
	if cfg.RetryMaxWait < cfg.RetryWait {
		cfg.RetryMaxWait = cfg.RetryWait
	}
	log := mc.Log
	c := &Client{
		version:  mc.Version,
		wait:     cfg.RetryWait,
		maxWait:  cfg.RetryMaxWait,
		tplCount: cfg.TemplateCount,
		tplSlow:  cfg.TemplateSlowPage,
		log:      log,
		observe:  cfg.Observe,
		appID:    cfg.AppID,
	}
	base := func() *resty.Client {
		return metahttp.NewClient(mc)
	}
	c.once = base()
	c.retry = base().
		SetRetryCount(retries).
		SetRetryWaitTime(cfg.RetryWait).
		SetRetryMaxWaitTime(cfg.RetryMaxWait).
		// A condition replaces resty's built-in "retry on transport error"
		// rule, so err != nil has to be part of it.
		AddRetryCondition(func(r *resty.Response, err error) bool {
			if err != nil {
				return true
			}
			if r.StatusCode() < 400 {
				return false
			}
			// bot's table says which answers are worth the same call again.
			return metahttp.Decode(r.StatusCode(), r.Header(), r.Body()).Kind().Later()
		}).
		SetRetryAfter(c.retryAfter)
	return c
}

// maxBody caps a response: the largest legitimate one, a page of 500
// template ids, is a few tens of kilobytes.
const maxBody = 4 << 20

// errWaitTooLong stops resty's retries when Meta asks for a longer pause than
// the client will sleep through; the response is then reported as is.
var errWaitTooLong = errors.New("graph: retry-after exceeds the retry budget")

func (c *Client) retryAfter(_ *resty.Client, r *resty.Response) (time.Duration, error) {
	// Decode's wait is Retry-After and, for a rate limit, Meta's usage
	// estimate: the same wait the caller sees when the retries run out.
	d := metahttp.Decode(r.StatusCode(), r.Header(), r.Body()).RetryAfter
	if d > c.maxWait {
		return 0, errWaitTooLong
	}
	// Zero lets resty fall back to its jittered backoff.
	return d, nil
}

// request describes one Graph call.
type request struct {
	op     string // names the call in errors and logs: "request_code"
	method string
	path   string // below the version: "/{id}/request_code"
	ids    map[string]string
	query  map[string]string
	form   map[string]string
	json   any // marshalled again on every attempt, unlike an io.Reader
	out    any // decoded from a 2xx body
	retry  bool
	// token replaces the system-user token for this call: a business
	// token for the calls Meta makes on the client's behalf.
	token string
}

func (c *Client) do(ctx context.Context, q request) (err error) {
	for name, id := range q.ids {
		if !bot.AllDigits(id, 1, 32) {
			return fmt.Errorf("graph: %s: %s %q is not a Graph id", q.op, name, id)
		}
	}
	if c.observe != nil {
		began := time.Now()
		defer func() { c.observe(q.op, outcome(err), time.Since(began)) }()
	}
	rc := c.once
	if q.retry {
		rc = c.retry
	}
	req := rc.R().SetContext(ctx).SetPathParams(q.ids).SetQueryParams(q.query)
	if q.token == "" {
		q.token = bot.AccessToken(ctx)
	}
	if q.token != "" {
		req.SetAuthToken(q.token)
	}
	switch {
	case q.form != nil:
		req.SetFormData(q.form)
	case q.json != nil:
		req.SetHeader("Content-Type", "application/json").SetBody(q.json)
	}
	start := time.Now()
	resp, err := req.Execute(q.method, "/"+c.version+q.path)
	answered := resp != nil && resp.RawResponse != nil
	if err != nil && !(errors.Is(err, errWaitTooLong) && answered) {
		c.log.DebugContext(ctx, "graph call failed", "op", q.op, "attempts", attempts(resp), "error", metahttp.Redact(err.Error(), ""))
		return &opError{op: q.op, unavailable: true, err: transportCause(err)}
	}
	c.log.DebugContext(ctx, "graph call", "op", q.op, "status", resp.StatusCode(),
		"attempts", attempts(resp), "elapsed", time.Since(start).Round(time.Millisecond))
	if resp.StatusCode() >= 400 {
		ge := metahttp.Decode(resp.StatusCode(), resp.Header(), resp.Body())
		unavailable := ge.HTTPStatus == http.StatusTooManyRequests || ge.HTTPStatus >= 500
		return &opError{op: q.op, unavailable: unavailable, err: ge}
	}
	if q.out != nil {
		// Decoded by hand rather than with resty's SetResult: Graph has been
		// known to label JSON as text/javascript, which resty would skip.
		if err := json.Unmarshal(resp.Body(), q.out); err != nil {
			return fmt.Errorf("graph: %s: decode response: %w", q.op, err)
		}
	}
	return nil
}

// outcome classifies a call's result for Config.Observe.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, bot.ErrUnavailable):
		return "unavailable"
	default:
		return "meta_error"
	}
}

func attempts(resp *resty.Response) int {
	if resp == nil || resp.Request == nil {
		return 0
	}
	return resp.Request.Attempt
}

// transportCause drops the *url.Error wrapper, whose text repeats the whole
// request URL, and keeps what went wrong.
func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// opError is what every call returns on failure. It unwraps to the
// *bot.GraphError when Meta answered, and to bot.ErrUnavailable when Meta
// could not be reached or is failing (429, 5xx).
type opError struct {
	op          string
	unavailable bool
	err         error
}

func (e *opError) Error() string {
	// GraphError's own text starts with "graph: "; don't say it twice.
	msg := strings.TrimPrefix(e.err.Error(), "graph: ")
	if e.unavailable {
		return "graph: " + e.op + ": " + bot.ErrUnavailable.Error() + ": " + msg
	}
	return "graph: " + e.op + ": " + msg
}

func (e *opError) Unwrap() []error {
	if e.unavailable {
		return []error{bot.ErrUnavailable, e.err}
	}
	return []error{e.err}
}
