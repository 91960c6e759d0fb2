// Package onboard serves the page a client opens from the Embedded Signup
// link the bot sends: it starts Meta's signup with the JS SDK and reports
// how it ended to the bot (Meta: embedded-signup/implementation).
package onboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"portabot/bot"
)

// Bot is what the page needs from the engine.
type Bot interface {
	SignupPage(ctx context.Context, token string) (bot.SignupView, error)
	CompleteSignup(ctx context.Context, token string, ev bot.SignupEvent) (bot.SignupView, error)
}

// DefaultSDK is Meta's JavaScript SDK (Meta: javascript/quickstart).
const DefaultSDK = "https://connect.facebook.net/en_US/sdk.js"

// DefaultOrigins returns the origins Meta's signup window posts its message
// events from (Meta: embedded-signup/implementation checks
// event.origin against facebook.com), in a new slice each time: a page's
// Config keeps it.
func DefaultOrigins() []string {
	return []string{"https://www.facebook.com", "https://web.facebook.com"}
}

// Config configures the page.
type Config struct {
	// AppID is the Meta app; ConfigID its Embedded Signup configuration.
	AppID    string
	ConfigID string
	// GraphVersion is given to FB.init ("v25.0").
	GraphVersion string
	// SDK is the URL of the JS SDK; DefaultSDK when empty.
	SDK string
	// Origins are the only origins whose message events are read;
	// DefaultOrigins when empty.
	Origins []string
	// Changed, when set, is called after a completion stored news for the
	// client or the agents, to wake whoever sends them.
	Changed func()
	Logger  *slog.Logger
}

// Limits on what a request may bring.
const (
	maxToken = 128
	maxBody  = 8 << 10
)

// Handler serves GET /onboard/{token} and POST /onboard/{token}/complete.
type Handler struct {
	cfg   Config
	bot   Bot
	log   *slog.Logger
	pages map[bot.Lang]*template.Template
	csp   string // without the nonce
}

//go:embed page
var pageFS embed.FS

// New returns the handler. The SDK URL must be absolute.
func New(cfg Config, b Bot) (*Handler, error) {
	if cfg.SDK == "" {
		cfg.SDK = DefaultSDK
	}
	if len(cfg.Origins) == 0 {
		cfg.Origins = DefaultOrigins()
	}
	sdk, err := url.Parse(cfg.SDK)
	if err != nil || sdk.Host == "" || (sdk.Scheme != "https" && sdk.Scheme != "http") {
		return nil, fmt.Errorf("onboard: the SDK URL %q is not an absolute http(s) URL", cfg.SDK)
	}
	h := &Handler{cfg: cfg, bot: b, log: cfg.Logger, pages: map[bot.Lang]*template.Template{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, l := range []bot.Lang{bot.English, bot.Portuguese, bot.Spanish} {
		t, err := template.ParseFS(pageFS, "page/layout.html", "page/"+string(l)+".html")
		if err != nil {
			return nil, fmt.Errorf("onboard: page %s: %w", l, err)
		}
		h.pages[l] = t
	}
	// Meta's SDK opens its dialogs from facebook.com and loads from the
	// SDK's host; nothing else may run, connect or frame the page.
	sources := []string{sdk.Scheme + "://" + sdk.Host}
	if strings.HasSuffix(sdk.Host, ".facebook.net") {
		// Meta's SDK loads its parts and frames from its own subdomains,
		// which it does not list; the message origins stay exact below.
		sources = append(sources, "https://*.facebook.com", "https://*.facebook.net")
	}
	for _, o := range cfg.Origins {
		if !slices.Contains(sources, o) {
			sources = append(sources, o)
		}
	}
	src := strings.Join(sources, " ")
	h.csp = "default-src 'none'; script-src 'self' " + src + " 'nonce-%s'; style-src 'nonce-%s'; img-src 'self' data: " + src +
		"; connect-src 'self' " + src + "; frame-src " + src + "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	return h, nil
}

// Register adds the page's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /onboard/{token}", h.page)
	mux.HandleFunc("POST /onboard/{token}/complete", h.complete)
}

// headers are the same on every answer: no framing (clickjacking), no
// caching (a link is single use), no referrer (the token is in the URL).
func headers(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// pageData is what a page template reads.
type pageData struct {
	Status bot.SignupStatus
	Nonce  string
	SDK    string
	JS     pageJS
}

// pageJS is handed to the page's script as JSON.
type pageJS struct {
	AppID    string   `json:"appId"`
	ConfigID string   `json:"configId"`
	Version  string   `json:"version"`
	Complete string   `json:"complete"`
	Origins  []string `json:"origins"`
	Setup    any      `json:"setup"`
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	headers(w)
	token := r.PathValue("token")
	lang := langOf(r)
	var v bot.SignupView
	var err error
	if len(token) > maxToken {
		err = bot.ErrSignupToken
	} else {
		v, err = h.bot.SignupPage(r.Context(), token)
	}
	status := http.StatusOK
	switch {
	case errors.Is(err, bot.ErrSignupToken):
		status, v.Status = http.StatusNotFound, "invalid"
	case err != nil:
		h.log.Error("signup page", "error", err)
		http.Error(w, "temporarily unavailable, try again in a minute", http.StatusServiceUnavailable)
		return
	default:
		lang = v.Lang
	}
	t := h.pages[lang]
	if t == nil {
		t = h.pages[bot.English]
	}
	nonce := newNonce()
	d := pageData{Status: v.Status, Nonce: nonce, SDK: h.cfg.SDK, JS: pageJS{
		AppID: h.cfg.AppID, ConfigID: h.cfg.ConfigID, Version: h.cfg.GraphVersion,
		Complete: "/onboard/" + url.PathEscape(token) + "/complete", Origins: h.cfg.Origins,
		Setup: setup(v)}}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		h.log.Error("signup page", "error", err)
		http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", fmt.Sprintf(h.csp, nonce, nonce))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// setup is FB.login's extras.setup: what the case knows, prefilled in
// Meta's form (Meta: embedded-signup/pre-filled-data).
func setup(v bot.SignupView) any {
	if v.CC == "" || v.National == "" {
		return map[string]any{}
	}
	return map[string]any{"business": map[string]any{"phone": map[string]string{"code": v.CC, "number": v.National}}}
}

// langOf is the language a page without a case is shown in: the browser's
// first of ours.
func langOf(r *http.Request) bot.Lang {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "pt"):
			return bot.Portuguese
		case strings.HasPrefix(tag, "es"):
			return bot.Spanish
		case strings.HasPrefix(tag, "en"):
			return bot.English
		}
	}
	return bot.English
}

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// completion is the page's report of how the signup ended.
type completion struct {
	Event      string `json:"event"`
	Code       string `json:"code"`
	WABA       string `json:"waba_id"`
	BusinessID string `json:"business_id"`
	Step       string `json:"current_step"`
	Error      string `json:"error_message"`
}

// DecodeCompletion reads the page's report. It refuses what our page
// never sends: unknown fields, an unknown event, oversized values.
func DecodeCompletion(r io.Reader) (bot.SignupEvent, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxBody+1))
	dec.DisallowUnknownFields()
	var c completion
	if err := dec.Decode(&c); err != nil {
		return bot.SignupEvent{}, errors.New("body is not the page's JSON")
	}
	if dec.More() {
		return bot.SignupEvent{}, errors.New("body has more than one value")
	}
	switch c.Event {
	case "FINISH", "CANCEL", "ERROR":
	default:
		return bot.SignupEvent{}, errors.New("event must be FINISH, CANCEL or ERROR")
	}
	for _, f := range []string{c.WABA, c.BusinessID, c.Step} {
		if len(f) > 100 {
			return bot.SignupEvent{}, errors.New("a field is too long")
		}
	}
	if len(c.Code) > 2048 || len(c.Error) > 1000 {
		return bot.SignupEvent{}, errors.New("a field is too long")
	}
	return bot.SignupEvent{Event: c.Event, Code: c.Code, WABA: c.WABA, BusinessID: c.BusinessID, Step: c.Step,
		Error: c.Error}, nil
}

func (h *Handler) complete(w http.ResponseWriter, r *http.Request) {
	headers(w)
	token := r.PathValue("token")
	if len(token) > maxToken {
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "invalid"})
		return
	}
	// Only our page posts here: a browser says where a request comes from.
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		writeJSON(w, http.StatusForbidden, map[string]string{"status": "invalid"})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"status": "invalid"})
		return
	}
	if r.ContentLength > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"status": "invalid"})
		return
	}
	ev, err := DecodeCompletion(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"status": "invalid", "error": err.Error()})
		return
	}
	v, err := h.bot.CompleteSignup(r.Context(), token, ev)
	switch {
	case errors.Is(err, bot.ErrSignupToken):
		writeJSON(w, http.StatusNotFound, map[string]string{"status": "invalid"})
		return
	case err != nil:
		h.log.Error("signup completion", "event", ev.Event, "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	if h.cfg.Changed != nil {
		h.cfg.Changed()
	}
	out := map[string]string{"status": string(v.Status)}
	if v.Next != "" {
		out["next"] = v.Next
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
