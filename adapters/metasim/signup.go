package metasim

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// The simulator plays Meta's half of Embedded Signup (Meta:
// embedded-signup/implementation): a stand-in for the JS SDK whose
// FB.login opens a signup window, the window itself (pick a business,
// create the WABA, finish or cancel), the code exchange and
// subscribed_apps. The window posts the WA_EMBEDDED_SIGNUP message events
// Meta's does, as JSON strings, and hands FB.login's callback a code.

// Endpoint names of the signup calls, for Inject and Calls.
const (
	EndpointExchange       = "oauth_access_token"
	EndpointSubscribedApps = "subscribed_apps"
)

// businessTokenPrefix starts every business token the simulator issues.
const businessTokenPrefix = "EAASIMBIZ"

// SignupCalls reports how many requests a signup endpoint
// (EndpointExchange, EndpointSubscribedApps) received, refused or not.
func (s *Sim) SignupCalls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signupState().calls[endpoint]
}

// BusinessCalls reports how many requests to endpoint (an Endpoint name)
// carried a business token rather than the system-user token.
func (s *Sim) BusinessCalls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signupState().bizCalls[endpoint]
}

// ownedBy reports whether the object a request names is the WABA or one of
// its numbers. s.mu is held.
func (s *Sim) ownedBy(parts []string, waba string) bool {
	if parts[0] == waba {
		return true
	}
	n := s.st.Numbers[parts[0]]
	return n != nil && n.WABA == waba
}

// SignupCodeTTL is how long a signup's code can be exchanged (Meta: "the
// code ... is only valid for 30 seconds").
const SignupCodeTTL = 30 * time.Second

//go:embed signupui
var signupUI embed.FS

var signupTmpl = template.Must(template.ParseFS(signupUI, "signupui/window.html"))

type signupCode struct {
	waba    string
	created time.Time
}

// signups is the simulator's signup state: kept in memory only, like a
// browser session; the WABAs it creates are ordinary ids to the rest.
type signups struct {
	codes  map[string]signupCode
	tokens map[string]string // business token -> WABA
	subs   map[string]bool   // WABA -> our app subscribed
	nextID int
	calls  map[string]int
	// bizCalls counts, by endpoint, the requests made with a business token.
	bizCalls map[string]int
	secrets  string // the app secret the exchange checks; any when empty
}

func (s *Sim) signupState() *signups {
	if s.sign == nil {
		s.sign = &signups{codes: map[string]signupCode{}, tokens: map[string]string{}, subs: map[string]bool{}, calls: map[string]int{},
			bizCalls: map[string]int{}}
	}
	return s.sign
}

// SetAppSecret makes the code exchange require client_secret.
func (s *Sim) SetAppSecret(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signupState().secrets = secret
}

// Subscribed reports whether our app was subscribed to waba.
func (s *Sim) Subscribed(waba string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signupState().subs[waba]
}

// Signup finishes a signup as the window would: a new WABA and a code to
// exchange for its business token. Tests use it to skip the browser.
func (s *Sim) Signup() (waba, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newSignup()
}

func (s *Sim) newSignup() (waba, code string) {
	g := s.signupState()
	g.nextID++
	waba = "7" + strings.Repeat("0", 10) + pad4(g.nextID)
	code = "simcode-" + randHex(16)
	g.codes[code] = signupCode{waba: waba, created: s.now()}
	return waba, code
}

func pad4(n int) string {
	s := "0000" + itoa(n)
	return s[len(s)-4:]
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// businessWABA returns the WABA a business token opens, if it is one.
// s.mu is held.
func (s *Sim) businessWABA(tok string) (string, bool) {
	if s.sign == nil || tok == "" {
		return "", false
	}
	waba, ok := s.sign.tokens[tok]
	return waba, ok
}

// exchange answers GET /oauth/access_token. s.mu is held.
func (s *Sim) exchange(p params) answer {
	g := s.signupState()
	if g.secrets != "" && subtle.ConstantTimeCompare([]byte(p.get("client_secret")), []byte(g.secrets)) != 1 {
		return answer{err: &apiError{status: http.StatusBadRequest, code: 1, message: "Error validating client secret."}}
	}
	c, ok := g.codes[p.get("code")]
	if !ok || s.now().Sub(c.created) > SignupCodeTTL {
		return answer{err: &apiError{status: http.StatusBadRequest, code: 100, subcode: 36007,
			message: "This authorization code has expired or has been used."}}
	}
	delete(g.codes, p.get("code"))
	tok := businessTokenPrefix + randHex(24)
	g.tokens[tok] = c.waba
	return answer{body: map[string]any{"access_token": tok, "token_type": "bearer"}}
}

// subscribe answers POST /{waba}/subscribed_apps, which only the WABA's
// business token (or ours) may call. s.mu is held.
func (s *Sim) subscribe(waba string) answer {
	if waba == WABANotShared || waba == WABASubscribeRefused {
		return answer{err: refuseSubscribe(waba)}
	}
	s.signupState().subs[waba] = true
	return answer{body: map[string]any{"success": true}}
}

// serveSignupUI answers the SDK stand-in and the signup window; false when
// the path is not theirs.
func (s *Sim) serveSignupUI(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/sdk.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		// Meta's snippet loads the SDK with crossorigin="anonymous", and
		// Meta's CDN answers it with CORS headers.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		js, _ := signupUI.ReadFile("signupui/sdk.js")
		_, _ = w.Write(js)
	case r.Method == http.MethodGet && r.URL.Path == "/signup":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		_ = signupTmpl.ExecuteTemplate(w, "window.html", map[string]string{
			"Config": clipQ(q.Get("config_id")), "Feature": clipQ(q.Get("feature")), "Phone": clipQ(q.Get("phone")),
			"Business": clipQ(q.Get("business")), "Opener": clipQ(q.Get("origin"))})
	case r.Method == http.MethodPost && r.URL.Path == "/signup/finish":
		s.mu.Lock()
		waba, code := s.newSignup()
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"waba_id": waba, "code": code, "business_id": "880000000000001"})
	default:
		return false
	}
	return true
}

func clipQ(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}
