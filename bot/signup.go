package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"portabot/fsm"
)

// Embedded Signup gives each client's case a destination WABA the client
// owns: the bot sends a link, the page behind it opens Meta's signup with
// featureType only_waba_sharing, and the client's WABA comes back with a
// code the server exchanges for a business token (Meta: embedded-signup/
// implementation, embedded-signup/bypass-phone-addition). The port then
// goes on as after an agent's /porta waba.

// DefaultSignupTTL is how long a signup link can be used.
const DefaultSignupTTL = 24 * time.Hour

// SignupConfig turns Embedded Signup on for cases without a destination
// WABA.
type SignupConfig struct {
	// Link is the address of the page a token opens:
	// <public base>/onboard/<token>.
	Link func(token string) string
	// TTL is how long a link lasts; DefaultSignupTTL when zero.
	TTL time.Duration
	// Meta exchanges the signup's code and subscribes our app to the WABA.
	Meta SignupMeta
	// Vault keeps the business tokens.
	Vault TokenVault
}

// SignupMeta is what the end of a signup needs from Meta.
type SignupMeta interface {
	// ExchangeCode trades the code of a finished signup for the business
	// token (GET /oauth/access_token). The code lives 30 seconds.
	ExchangeCode(ctx context.Context, code string) (string, error)
	// SubscribeApp subscribes our app to the WABA's webhooks
	// (POST /{waba}/subscribed_apps) with the business token: without it,
	// adding the number fails with 2388103.
	SubscribeApp(ctx context.Context, waba, businessToken string) error
}

// TokenVault keeps business tokens sealed at rest.
type TokenVault interface {
	PutBusinessToken(ctx context.Context, caseID, waba, token string) error
	// BusinessToken returns the case's token and the WABA it is for, or an
	// error matching ErrNotFound.
	BusinessToken(ctx context.Context, caseID string) (waba, token string, err error)
}

type accessTokenKey struct{}

// WithAccessToken has the Graph calls made under ctx carry token instead of
// the system-user token: a case whose WABA the client shared through
// Embedded Signup is acted on with the client's business token, as Meta's
// onboarding pages do for the calls on the client's WABA and its number
// (Meta: embedded-signup/onboarding-customers-as-a-solution-partner).
func WithAccessToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, accessTokenKey{}, token)
}

// AccessToken is the token WithAccessToken put in ctx, or "".
func AccessToken(ctx context.Context) string {
	s, _ := ctx.Value(accessTokenKey{}).(string)
	return s
}

// businessContext gives the turn the business token of its case, when the
// client shared the case's WABA through Embedded Signup. Without one, calls
// go with the system-user token, as for a fixed or agent-given WABA.
func (t *turn) businessContext() {
	c := t.cas
	if AccessToken(t.ctx) != "" {
		// The case's WABA may have changed (an agent's /porta waba).
		t.ctx = WithAccessToken(t.ctx, "")
	}
	if !t.b.signupOn() || c == nil || c.Signup == nil || !c.Signup.Used || c.WABA == "" {
		return
	}
	waba, tok, err := t.b.cfg.Signup.Vault.BusinessToken(t.ctx, c.ID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		t.b.log.Warn("business token unreadable; using the system-user token", "case", c.ID, "error", safeErr(err))
	case waba == c.WABA:
		t.ctx = WithAccessToken(t.ctx, tok)
	}
}

// SignupLink is the record of the link a case was last sent: only the hash
// of its secret part, so a copy of the store opens no signup.
type SignupLink struct {
	Hash    string
	Expires time.Time
	Used    bool `json:",omitempty"`
	// Sent counts the links sent for the case.
	Sent int `json:",omitempty"`
}

// SignupStatus is what a signup page shows.
type SignupStatus string

const (
	// SignupOpen: the link is good; the page offers Meta's signup.
	SignupOpen SignupStatus = "open"
	// SignupDone: the WABA was shared; nothing more to do on the page.
	SignupDone SignupStatus = "done"
	// SignupExpired: the link is out of date; a new one went to WhatsApp.
	SignupExpired SignupStatus = "expired"
	// SignupRetry: the signup stopped; Next is a fresh link to try again.
	SignupRetry SignupStatus = "retry"
	// SignupFailed: Meta's side failed; the client was told on WhatsApp.
	SignupFailed SignupStatus = "failed"
	// SignupClosed: the case no longer waits for a WABA.
	SignupClosed SignupStatus = "closed"
)

// ErrSignupToken is returned for a token that names no open link: unknown,
// malformed, replaced by a newer one, or of another case.
var ErrSignupToken = errors.New("bot: unknown signup link")

// SignupView is what a signup page needs to know about its case.
type SignupView struct {
	Status SignupStatus
	CaseID string
	Lang   Lang
	// Phone is the number being ported (E.164), and CC and National its
	// parts, to prefill Meta's form.
	Phone    string
	CC       string
	National string
	// Next is the fresh link after a stopped signup.
	Next string
}

// SignupEvent is what the page reports from Meta's WA_EMBEDDED_SIGNUP
// message and FB.login's callback.
type SignupEvent struct {
	Event      string // FINISH, CANCEL or ERROR
	Code       string
	WABA       string
	BusinessID string
	Step       string // CANCEL's current_step
	Error      string // ERROR's error_message
}

const tokenBytes = 32

// newSignupToken returns a token and the hash the case keeps.
func newSignupToken(caseID string) (token, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	secret := base64.RawURLEncoding.EncodeToString(b)
	return caseID + "." + secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// SplitSignupToken returns the case a token claims; ok is false for a
// token that cannot be one of ours.
func SplitSignupToken(token string) (caseID, secret string, ok bool) {
	caseID, secret, found := strings.Cut(token, ".")
	if !found || !AllDigits(caseID, 1, 32) || len(caseID) > 20 ||
		len(secret) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return "", "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", "", false
	}
	return caseID, secret, true
}

func (b *Bot) signupOn() bool { return b.cfg.Signup != nil && b.cfg.Signup.Link != nil }

// sendSignupLink issues a new link for the case and tells the client; the
// hash is written with the turn that says it, so a link the client holds
// always matches a stored one.
func (t *turn) sendSignupLink() string {
	s := t.b.cfg.Signup
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultSignupTTL
	}
	token, hash := newSignupToken(t.cas.ID)
	sent := 0
	if t.cas.Signup != nil {
		sent = t.cas.Signup.Sent
	}
	t.cas.Signup = &SignupLink{Hash: hash, Expires: t.now.Add(ttl), Sent: sent + 1}
	t.record("signup_link_sent", fmt.Sprintf("link %d, expires %s", sent+1, t.cas.Signup.Expires.UTC().Format(time.RFC3339)))
	link := s.Link(token)
	t.say(msgSignupLink, link)
	return link
}

// signupExpired reports whether the case's link can no longer be used.
func (t *turn) signupExpired() bool {
	l := t.cas.Signup
	return l == nil || !t.now.Before(l.Expires)
}

// onAwaitSignup answers a client waiting at await_waba with a link: a new
// link when they ask for one or theirs expired, else where things stand.
func (t *turn) onAwaitSignup(text string) bool {
	if t.signupExpired() || asksForLink(text) {
		t.sendSignupLink()
		return true
	}
	return false
}

// linkWords are how clients ask for the link again, in each language.
var linkWords = []string{"link", "enlace", "url"}

func asksForLink(text string) bool {
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r)
	}) {
		for _, w := range linkWords {
			if f == w || f == w+"s" {
				return true
			}
		}
	}
	return false
}

// signupTurn locks and loads the case a token names and checks the token.
func (b *Bot) signupTurn(ctx context.Context, token string) (*turn, func(), error) {
	caseID, secret, ok := SplitSignupToken(token)
	if !ok || !b.signupOn() {
		return nil, nil, ErrSignupToken
	}
	c, err := b.store.Case(ctx, caseID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, ErrSignupToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bot: signup: %w", err)
	}
	unlock := b.lock(c.Client)
	t, err := b.load(ctx, c.Client)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	if t.cas == nil || t.cas.ID != caseID {
		t.cas = &c
	}
	l := t.cas.Signup
	// Compared in constant time: the hash of a guess must not tell how
	// close it came.
	if l == nil || subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(l.Hash)) != 1 {
		unlock()
		return nil, nil, ErrSignupToken
	}
	return t, unlock, nil
}

// view is the page's view of the turn's case, given its link checked out.
func (t *turn) view() SignupView {
	v := SignupView{CaseID: t.cas.ID, Lang: t.cas.Lang, Phone: t.cas.Phone, CC: t.cas.CC, National: t.cas.National,
		Status: SignupOpen}
	switch {
	case t.cas.Signup.Used && t.cas.WABA == "":
		// Shared, but our app's subscription failed: an agent has it.
		v.Status = SignupFailed
	case t.cas.Signup.Used:
		v.Status = SignupDone
	case t.cas.State != fsm.AwaitWABA || t.cas.WABA != "":
		// The case, not the conversation, says: a client who went to the
		// menu while waiting can still finish the signup.
		v.Status = SignupClosed
	case t.signupExpired():
		v.Status = SignupExpired
	}
	return v
}

// SignupPage checks a link and says what its page should show. An expired
// link of a case still waiting has a fresh one sent to the client on
// WhatsApp.
func (b *Bot) SignupPage(ctx context.Context, token string) (SignupView, error) {
	t, unlock, err := b.signupTurn(ctx, token)
	if err != nil {
		return SignupView{}, err
	}
	defer unlock()
	v := t.view()
	if v.Status == SignupExpired {
		t.say(msgSignupExpired)
		t.sendSignupLink()
		t.commit()
	}
	return v, t.err
}

// CompleteSignup acts on what the signup page reports. A FINISH exchanges
// the code, keeps the business token sealed, subscribes our app to the
// WABA and goes on with the port; CANCEL and ERROR tell the client where it
// stopped with a fresh link. A completion replayed, or for a link used or
// replaced, changes nothing.
func (b *Bot) CompleteSignup(ctx context.Context, token string, ev SignupEvent) (SignupView, error) {
	t, unlock, err := b.signupTurn(ctx, token)
	if err != nil {
		return SignupView{}, err
	}
	defer unlock()
	v := t.view()
	if v.Status != SignupOpen {
		return v, nil
	}
	switch ev.Event {
	case "FINISH":
		v = t.finishSignup(ev)
	case "CANCEL":
		step := clip(ev.Step, 60)
		t.record("signup_cancelled", step)
		t.notice(NoticeSignup, fmt.Sprintf("Case #%s: the client stopped Embedded Signup at %q; a new link was sent.", t.cas.ID, step))
		t.say(msgSignupCancelled, stepName(t.lang(), step))
		v = t.retryLink(v)
	case "ERROR":
		detail := clip(ev.Error, 200)
		t.record("signup_error", detail)
		t.notice(NoticeSignup, fmt.Sprintf("Case #%s: Embedded Signup reported an error: %q; a new link was sent.", t.cas.ID, detail))
		t.say(msgSignupError)
		v = t.retryLink(v)
	default:
		return v, fmt.Errorf("bot: signup event %q: want FINISH, CANCEL or ERROR", clip(ev.Event, 20))
	}
	t.commit()
	if t.err != nil {
		return SignupView{}, t.err
	}
	return v, nil
}

// retryLink sends a fresh link and hands it to the page too, so the client
// can try again where they are.
func (t *turn) retryLink(v SignupView) SignupView {
	v.Next = t.sendSignupLink()
	v.Status = SignupRetry
	return v
}

func (t *turn) finishSignup(ev SignupEvent) SignupView {
	v := t.view()
	if !AllDigits(ev.WABA, 1, 32) || ev.Code == "" || len(ev.Code) > 2048 {
		t.record("signup_error", "finish without a WABA id or a code")
		t.say(msgSignupError)
		return t.retryLink(v)
	}
	s := t.b.cfg.Signup
	// Meta's code lives 30 seconds: exchanged at once, with the Graph
	// client's retries on network errors and 5xx.
	tok, err := s.Meta.ExchangeCode(t.ctx, ev.Code)
	if err != nil {
		t.record("signup_exchange_failed", safeErr(err))
		t.b.log.Warn("signup code exchange failed", "case", t.cas.ID, "error", safeErr(err))
		t.notice(NoticeSignup, fmt.Sprintf("Case #%s: the client finished Embedded Signup (WABA %s) but exchanging its code failed: %s. A new link was sent.",
			t.cas.ID, ev.WABA, safeErr(err)))
		t.say(msgSignupExchangeFailed)
		v = t.retryLink(v)
		v.Status = SignupFailed
		return v
	}
	if err := s.Vault.PutBusinessToken(t.ctx, t.cas.ID, ev.WABA, tok); err != nil {
		t.err = fmt.Errorf("bot: keep business token: %w", err)
		return v
	}
	if err := s.Meta.SubscribeApp(t.ctx, ev.WABA, tok); err != nil {
		// The WABA is known but unusable until subscribed: an agent fixes
		// the subscription and sets it with /porta waba.
		t.cas.Signup.Used = true
		t.record("signup_subscribe_failed", safeErr(err))
		t.b.log.Warn("subscribed_apps failed", "case", t.cas.ID, "waba", ev.WABA, "error", safeErr(err))
		t.cas.Problem = "subscribing our app to WABA " + ev.WABA + " failed: " + safeErr(err)
		t.notice(NoticeSignup, fmt.Sprintf("Case #%s: the client shared WABA %s, but POST /%s/subscribed_apps failed: %s. "+
			"Subscribe the app, then /porta waba %s %s", t.cas.ID, ev.WABA, ev.WABA, safeErr(err), t.cas.ID, ev.WABA))
		t.say(msgSignupSubscribeFailed)
		v.Status = SignupFailed
		return v
	}
	t.cas.Signup.Used = true
	t.cas.WABA = ev.WABA
	t.cas.Problem = ""
	t.ctx = WithAccessToken(t.ctx, tok)
	t.audit = append(t.audit, AuditEvent{CaseID: t.cas.ID, At: t.now, Actor: "client", Kind: "waba_set",
		Detail: ev.WABA + " (embedded signup)"})
	t.notice(NoticeSignup, fmt.Sprintf("Case #%s: the client shared WABA %s through Embedded Signup; the port goes on to adding the number.",
		t.cas.ID, ev.WABA))
	t.say(msgSignupReady)
	if t.conv.CaseID == t.cas.ID && t.conv.State == fsm.AwaitWABA {
		t.goTo(fsm.AddNumber)
	}
	v.Status = SignupDone
	return v
}

// safeErr is an error's text for logs, agents and the audit; Graph errors
// carry no request URL, so no code or token is in them.
func safeErr(err error) string { return clip(err.Error(), 300) }

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// stepName words Meta's current_step for the client.
func stepName(l Lang, step string) string {
	if step == "" {
		return render(l, msgStepUnknown)
	}
	return step
}
