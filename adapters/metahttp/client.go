package metahttp

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Defaults for ClientConfig fields left zero, shared by every caller so
// that the Graph client and the sender cannot drift to different versions
// or origins.
const (
	DefaultBaseURL = "https://graph.facebook.com"
	DefaultVersion = "v25.0"
)

// ClientConfig is what a resty client talking to Graph needs.
type ClientConfig struct {
	// BaseURL is Graph's origin; DefaultBaseURL when empty.
	BaseURL string
	// Version is the Graph API version in the path; DefaultVersion when
	// empty. NewClient does not use it: the caller builds its paths.
	Version string
	Token   string
	Timeout time.Duration
	// MaxBody caps a response body.
	MaxBody int
	// HTTPClient is copied, never changed; nil uses a plain one.
	HTTPClient *http.Client
	Log        *slog.Logger
	// Name says which client logged, e.g. "graph http client".
	Name string
}

// WithDefaults returns cfg with its zero fields filled: DefaultBaseURL,
// DefaultVersion (its slashes trimmed, for joining into paths), timeout, the
// caller's own bound for one call, and a logger that discards.
func (cfg ClientConfig) WithDefaults(timeout time.Duration) ClientConfig {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	cfg.Version = strings.Trim(cfg.Version, "/")
	if cfg.Timeout <= 0 {
		cfg.Timeout = timeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// NewClient returns a resty client for Graph with the token, timeout and
// body limit set, and resty's own logging redacted.
func NewClient(cfg ClientConfig) *resty.Client {
	// A private copy: resty's SetTimeout writes into the http.Client, and
	// the caller's client must not change under it. No cookie jar: Meta
	// sets none worth keeping.
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		*hc = *cfg.HTTPClient
		hc.Jar = nil
	}
	return resty.NewWithClient(hc).
		SetBaseURL(strings.TrimRight(cfg.BaseURL, "/")).
		SetAuthToken(cfg.Token).
		SetTimeout(cfg.Timeout).
		SetHeader("Accept", "application/json").
		SetResponseBodyLimit(cfg.MaxBody).
		// resty's own logger prints whole URLs on every failed attempt.
		SetLogger(Logger{Log: cfg.Log, Token: cfg.Token, Name: cfg.Name}).
		SetDebug(false)
}
