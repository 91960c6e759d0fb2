package metasim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Meta's limits, as the simulator applies them.
const (
	// CodeTTL is how long a requested code can be verified.
	CodeTTL = 10 * time.Minute
	// MaxWrongCodes wrong codes in a row lock verification for LockDuration.
	MaxWrongCodes = 5
	LockDuration  = time.Hour
	// RegisterLimit register calls per number in RegisterWindow; the next
	// one blocks registration for RegisterWindow.
	RegisterLimit  = 10
	RegisterWindow = 72 * time.Hour
)

// Accounts the sandbox uses: any numeric id works as a WABA, these are
// the ones portabot chat and serve use when none is configured.
const (
	SandboxWABA       = "100200300400500"
	SandboxSourceWABA = "500400300200100"
)

// Endpoint names for Calls.
const (
	EndpointAddNumber   = "phone_numbers"
	EndpointRequestCode = "request_code"
	EndpointVerifyCode  = "verify_code"
	EndpointRegister    = "register"
	EndpointTemplates   = "migrate_message_templates"
	EndpointPhoneNumber = "phone_number" // GET /{id}
	EndpointMessages    = "messages"
)

// Options configures a Sim.
type Options struct {
	// Token is the bearer token every request must carry. Required.
	Token string
	// OTP, when set, is the code every request_code sends (scripted runs);
	// otherwise each code is 6 random digits.
	OTP string
	// Deliver is how a code reaches the number's owner: phoneE164 is
	// "+5511987654321", method "SMS" or "VOICE". Called before the
	// request_code answer is written, never with the simulator locked.
	Deliver func(phoneE164, method, code string)
	// StatePath, when set, is a JSON file the state is saved to after every
	// change and loaded from by New.
	StatePath string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives one debug line per request; numbers are masked and
	// codes, PINs and tokens never logged.
	Logger *slog.Logger
	// Webhook, when set, receives status webhooks for the messages sent,
	// as Meta posts them to the app; Close stops them.
	Webhook *Webhook
	// Faults are injected from the start (see Inject).
	Faults []Fault
	// KeepMessages is how many sent messages Sent returns (the most
	// recent); 1000 when zero.
	KeepMessages int
	// Templates are the approved templates, by name, with the language
	// codes of their approved translations and how many body parameters
	// they take; Templates() when nil.
	Templates map[string]Template
}

// Template is an approved message template as the simulator checks it.
type Template struct {
	Langs  []string
	Params int
}

// DefaultTemplates is what the sandbox has approved: the update template
// portabot sends when a client's window closed, in its three languages.
func DefaultTemplates() map[string]Template {
	return map[string]Template{"portabot_update": {Langs: []string{"en", "pt_BR", "es"}, Params: 1}}
}

// Sim simulates Meta's Graph API. It is safe for concurrent use.
type Sim struct {
	token   string
	otp     string
	deliver func(phoneE164, method, code string)
	path    string
	now     func() time.Time
	log     *slog.Logger
	keep    int
	hooks   *hooks // nil without Options.Webhook
	tmpl    map[string]Template

	mu     sync.Mutex // guards st, the file at path, and faults
	st     *state
	faults []*Fault
	sign   *signups // Embedded Signup, created on first use
	// journal lists the requests routed, in order (Journal).
	journal []string
}

// New returns a simulator, continuing from the state at opts.StatePath when
// that file exists.
func New(opts Options) (*Sim, error) {
	if opts.Token == "" {
		return nil, errors.New("metasim: a token is required")
	}
	if opts.OTP != "" && !digits(opts.OTP, 6, 6) {
		return nil, errors.New("metasim: the fixed code must be 6 digits")
	}
	s := &Sim{
		token:   opts.Token,
		otp:     opts.OTP,
		deliver: opts.Deliver,
		path:    opts.StatePath,
		now:     opts.Now,
		log:     opts.Logger,
	}
	if s.deliver == nil {
		s.deliver = func(string, string, string) {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.tmpl = opts.Templates
	if s.tmpl == nil {
		s.tmpl = DefaultTemplates()
	}
	s.keep = opts.KeepMessages
	if s.keep <= 0 {
		s.keep = maxMessages
	}
	st, err := load(s.path)
	if err != nil {
		return nil, err
	}
	s.st = st
	for _, f := range opts.Faults {
		s.Inject(f)
	}
	if w := opts.Webhook; w != nil {
		if w.URL == "" {
			return nil, errors.New("metasim: a webhook needs a URL")
		}
		s.hooks = startHooks(*w, s.now)
	}
	return s, nil
}

// Close stops posting status webhooks; statuses not yet taken by the app
// are dropped. The simulator still answers requests.
func (s *Sim) Close() {
	if s.hooks != nil {
		s.hooks.close()
	}
}

// PendingStatuses counts the status webhooks the app has not accepted yet
// (always 0 without Options.Webhook).
func (s *Sim) PendingStatuses() int {
	if s.hooks == nil {
		return 0
	}
	return s.hooks.pending()
}

// PrintTo returns a Deliver func that prints each code as the phone would
// show it: "SMS to +5511987654321: 123456", or "Voice call to ..." for VOICE.
func PrintTo(w io.Writer) func(phoneE164, method, code string) {
	var mu sync.Mutex
	return func(phone, method, code string) {
		mu.Lock()
		defer mu.Unlock()
		kind := "SMS"
		if method == "VOICE" {
			kind = "Voice call"
		}
		fmt.Fprintf(w, "%s to %s: %s\n", kind, phone, code)
	}
}

// Calls reports how many requests endpoint (one of the Endpoint names)
// received for phone: the number (E.164, "+5511987654321") for number endpoints,
// the recipient for messages, the destination WABA id for templates.
// Requests refused before the number was known (bad token, bad path) are
// not counted.
func (s *Sim) Calls(endpoint, phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := s.st.Calls[endpoint]
	phone = strings.TrimSpace(phone)
	if n, ok := calls[phone]; ok {
		return n
	}
	return calls["+"+phone] // a number given without its "+"
}

// Message is a message sent through the messages endpoint.
type Message struct {
	ID   string `json:"id"`   // wamid
	From string `json:"from"` // sender's phone number id
	To   string `json:"to"`   // recipient, E.164
	Type string `json:"type"` // text, interactive, ...
	Text string `json:"text"` // body text, when the type has one
	// Choices are the reply buttons or list rows of an interactive message.
	Choices []Choice `json:"choices,omitempty"`
	// CallbackData is the biz_opaque_callback_data the sender set, echoed
	// in the message's status webhooks.
	CallbackData string `json:"biz_opaque_callback_data,omitempty"`
	// Template is the name and language of a template message
	// ("portabot_update/pt_BR"), with its parameters in Text.
	Template string `json:"template,omitempty"`
	// Error is why Meta failed the message after accepting it, as its
	// failed status says ("131047: Re-engagement message"): a free-form
	// message outside the client's 24-hour window.
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// Choice is one reply button or list row.
type Choice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// ClientWrote tells the simulator that the WhatsApp user known by ids (a
// number, E.164 or digits, and/or a BSUID) sent the business a message at
// at: it opens their 24-hour customer service window. Messages to users the
// simulator never heard from are not checked against a window.
func (s *Sim) ClientWrote(at time.Time, ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.Wrote == nil {
		s.st.Wrote = map[string]time.Time{}
	}
	// Not saved here: this runs for every message a client sends, and the
	// state file is rewritten whole; the next change saves it along.
	for _, id := range ids {
		if id = userKey(id); id != "" && at.After(s.st.Wrote[id]) {
			s.st.Wrote[id] = at
		}
	}
}

// userKey is how the simulator keys a user: "+digits" for a number, the
// BSUID as it is.
func userKey(id string) string {
	id = strings.TrimSpace(id)
	if d := strings.TrimPrefix(id, "+"); digits(d, 6, 15) {
		return "+" + d
	}
	return id
}

// Sent returns the messages sent so far, oldest first (the most recent
// maxMessages are kept).
func (s *Sim) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.st.Messages...)
}

var versionPath = regexp.MustCompile(`^/v\d+\.\d+/(.+)$`)

// maxBody bounds a request body; the largest real one is a list of 500
// template ids.
const maxBody = 1 << 20

// ServeHTTP answers one Graph request.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveSignupUI(w, r) {
		return
	}
	status, body, who, done, f := s.serve(r)
	if done != nil {
		done()
	}
	if e, ok := body.(*apiError); ok {
		if e.retryAfter > 0 {
			w.Header().Set("Retry-After", fmt.Sprint(int(e.retryAfter/time.Second)))
		}
		if e.usage != nil {
			e.usage.headers(w.Header(), SandboxWABA)
		}
		body = e.envelope()
	}
	fault := ""
	if f != nil {
		fault = f.Kind.String()
	}
	s.log.Debug("metasim", "method", r.Method, "endpoint", endpointName(r.URL.Path), "phone", mask(who), "status", status,
		"fault", fault)
	if f != nil {
		switch f.Kind {
		case FaultReset, FaultDrop:
			hangUp(w)
			return
		case FaultTimeout:
			if !sleep(r, f.Delay) {
				return // the client gave up
			}
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic("metasim: encode answer: " + err.Error()) // answers are maps and structs of plain values
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	if f != nil && f.Kind == FaultSlow {
		_, _ = w.Write(b[:1])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		if !sleep(r, f.Delay) {
			return
		}
		b = b[1:]
	}
	_, _ = w.Write(b)
}

// sleep waits d, or until the client goes away; it reports whether the
// client is still there.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return false
	case <-t.C:
		return true
	}
}

// serve routes r and returns the answer, the number it concerned (for the
// log), what to do once the state is unlocked (deliver a code, post
// statuses), and the fault that strikes the request, if any.
func (s *Sim) serve(r *http.Request) (status int, body any, who string, then func(), f *Fault) {
	m := versionPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return fail(errUnknownVersion())
	}
	p, err := readParams(r)
	if err != nil {
		return fail(errParam(err.Error()))
	}
	if m[1] == "oauth/access_token" && r.Method == http.MethodGet {
		// Authenticated by the app's id and secret, not a bearer token.
		s.mu.Lock()
		defer s.mu.Unlock()
		s.signupState().calls[EndpointExchange]++
		if f = s.takeFault(EndpointExchange, ""); f != nil && !f.Kind.acts() {
			if f.Kind == FaultDrop {
				return 0, nil, "", nil, f
			}
			e := failBefore(f, EndpointExchange)
			return e.status, e, "", nil, f
		}
		a := s.exchange(p)
		if a.err != nil {
			return a.err.status, a.err, "", nil, f
		}
		return http.StatusOK, a.body, "", nil, f
	}
	if !s.authorized(r, p) {
		return fail(errToken())
	}
	parts := strings.Split(strings.TrimSuffix(m[1], "/"), "/")
	if !digits(parts[0], 1, 32) {
		return fail(errNoObject(r.Method, parts[0]))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if waba, ok := s.businessWABA(bearer(r, p)); ok {
		// A business token opens the client's WABA and its numbers only.
		if !s.ownedBy(parts, waba) {
			return fail(errNoObject(r.Method, m[1]))
		}
		if len(parts) <= 2 {
			endpoint, _ := s.subject(r.Method, parts, p)
			s.sign.bizCalls[endpoint]++
		}
	}
	if len(parts) == 2 && parts[1] == EndpointSubscribedApps && r.Method == http.MethodPost {
		// Counted before faults strike: Meta counts what it received.
		s.signupState().calls[EndpointSubscribedApps]++
	}
	if len(parts) <= 2 {
		endpoint, phone := s.subject(r.Method, parts, p)
		s.note(r.Method, endpoint)
		if f = s.takeFault(endpoint, phone); f == nil {
			f = s.scenarioFault(endpoint, phone)
		}
		if f != nil && !f.Kind.acts() {
			if f.Kind == FaultDrop {
				return 0, nil, phone, nil, f
			}
			// Meta counts what it received, refused or not.
			if phone != "" {
				s.st.count(endpoint, phone)
				if err := s.st.save(s.path); err != nil {
					s.log.Error("metasim: saving state", "error", err)
				}
			}
			e := failBefore(f, endpoint)
			return e.status, e, phone, nil, f
		}
	}
	var a answer
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet && s.st.Numbers[parts[0]] == nil:
		a = s.waba(parts[0], p)
	case len(parts) == 1 && r.Method == http.MethodGet:
		a = s.phoneNumber(parts[0], p)
	case len(parts) != 2:
		return fail(errNoObject(r.Method, m[1]))
	case r.Method == http.MethodGet && parts[1] == "phone_numbers":
		a = s.listNumbers(parts[0], p)
	case r.Method == http.MethodGet && parts[1] == "subscribed_apps":
		a = s.subscribedApps(parts[0])
	case r.Method == http.MethodGet && parts[1] == "message_templates":
		a = s.templateList(parts[0])
	case r.Method != http.MethodPost:
		return fail(errNoObject(r.Method, m[1]))
	case parts[1] == "phone_numbers":
		a = s.addNumber(parts[0], p)
	case parts[1] == "request_code":
		a = s.requestCode(parts[0], p)
	case parts[1] == "verify_code":
		a = s.verifyCode(parts[0], p)
	case parts[1] == "register":
		a = s.register(parts[0], p)
	case parts[1] == "migrate_message_templates":
		a = s.migrateTemplates(parts[0], p)
	case parts[1] == "messages":
		a = s.sendMessage(parts[0], p)
	case parts[1] == "subscribed_apps":
		a = s.subscribe(parts[0])
	default:
		return fail(errNoObject(r.Method, m[1]))
	}
	if a.changed {
		if err := s.st.save(s.path); err != nil {
			// The answer stands: like Meta, the simulator has already acted.
			s.log.Error("metasim: saving state", "error", err)
		}
	}
	if a.err != nil {
		return a.err.status, a.err, a.who, a.then, f
	}
	return http.StatusOK, a.body, a.who, a.then, f
}

// answer is what a handler decided.
type answer struct {
	body    any
	err     *apiError
	changed bool   // the state must be saved
	then    func() // runs after the state is unlocked
	who     string // the number concerned, E.164, for the log
}

func fail(e *apiError) (int, any, string, func(), *Fault) { return e.status, e, "", nil, nil }

// bearer is the token a request carries.
func bearer(r *http.Request, p params) string {
	got := p.get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return ""
		}
		got = strings.TrimSpace(tok)
	}
	return got
}

func (s *Sim) authorized(r *http.Request, p params) bool {
	got := bearer(r, p)
	if got == "" {
		return false
	}
	if strings.HasPrefix(got, businessTokenPrefix) {
		s.mu.Lock()
		_, ok := s.businessWABA(got)
		s.mu.Unlock()
		return ok
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// params are a request's parameters from the query string and a form or
// JSON body, the way Graph accepts them. JSON values that are not strings
// keep their JSON text ("true", "500", `{"body":"hi"}`).
type params map[string]string

func (p params) get(name string) string { return p[name] }

func readParams(r *http.Request) (params, error) {
	p := params{}
	for k, v := range r.URL.Query() {
		p[k] = v[0]
	}
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errors.New("unreadable request body")
	}
	if len(body) > maxBody {
		return nil, errors.New("request body too large")
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			return nil, errors.New("request body is not a JSON object")
		}
		for k, raw := range fields {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				p[k] = s
			} else {
				p[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded", "":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("malformed form body")
		}
		for k, v := range form {
			p[k] = v[0]
		}
	default:
		return nil, fmt.Errorf("unsupported content type %s", ct)
	}
	return p, nil
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// mask hides a number's middle digits: +55******4321.
func mask(e164 string) string {
	if e164 == "" {
		return ""
	}
	if len(e164) < 8 {
		return "****"
	}
	return e164[:3] + strings.Repeat("*", len(e164)-7) + e164[len(e164)-4:]
}

// endpointName is the last path element, or "node" for GET /{id}.
func endpointName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 && !digits(p[i+1:], 1, 32) {
		return p[i+1:]
	}
	return "node"
}
