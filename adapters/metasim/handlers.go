package metasim

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Handlers run with s.mu held.

func (s *Sim) addNumber(waba string, p params) answer {
	cc, national := p.get("cc"), p.get("phone_number")
	if !digits(cc, 1, 3) || !digits(national, 4, 14) || len(cc)+len(national) > 15 {
		return answer{err: errParam("cc and phone_number must be the country calling code and the national number, in digits")}
	}
	e164 := "+" + cc + national
	s.st.count(EndpointAddNumber, e164)
	a := answer{changed: true, who: e164}
	if p.get("migrate_phone_number") != "true" {
		a.err = errParam("This simulator handles migrations only: send migrate_phone_number=true.")
		return a
	}
	if e := s.wabaRefusal(waba); e != nil {
		a.err = e
		return a
	}
	switch e164 {
	case TwoStepOn:
		a.err = errTwoStep()
		return a
	case TwoStepOffLater:
		if s.once("two-step", e164) {
			a.err = errTwoStep()
			return a
		}
	case NamePending:
		a.err = errNamePending()
		return a
	case AlreadyOnWABA:
		a.err = errAlreadyAdded()
		return a
	case NoWebhooks:
		// Meta refuses a migration into a WABA no app is subscribed to;
		// once ours is, the number moves.
		if !s.signupState().subs[waba] {
			a.err = errNoWebhooks()
			return a
		}
	case MigrationTryAgain:
		if s.once("migration-error", e164) {
			a.err = errMigration(detailsTryAgain)
			return a
		}
	default:
		if details, ok := migrationRefusals[e164]; ok {
			a.err = errMigration(details)
			return a
		}
	}
	for _, n := range s.st.Numbers {
		if n.WABA == waba && n.e164() == e164 {
			a.err = errAlreadyAdded()
			return a
		}
	}
	n := &number{ID: s.newID(), WABA: waba, CC: cc, National: national, Name: displayName(national), Added: s.now()}
	s.st.Numbers[n.ID] = n
	a.body = map[string]string{"id": n.ID}
	return a
}

// once reports whether the one-shot failure named what has yet to be served
// for e164, and marks it served.
func (s *Sim) once(what, e164 string) bool {
	key := what + " " + e164
	if s.st.Fired[key] {
		return false
	}
	s.st.Fired[key] = true
	return true
}

// newID returns an unused 15-digit id, the shape of Meta's phone number ids.
func (s *Sim) newID() string {
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(9e14))
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		id := strconv.FormatInt(1e14+n.Int64(), 10)
		if s.st.Numbers[id] == nil {
			return id
		}
	}
}

var names = []string{"Padaria Central", "Loja da Ana", "Oficina Rápida", "Café Paulista", "Farmácia Boa Saúde",
	"Livraria Aurora", "Pet Feliz", "Clínica Sorriso", "Mercado Bom Preço", "Academia Movimento"}

// displayName gives each number a stable approved display name.
func displayName(national string) string {
	sum := 0
	for _, r := range national {
		sum += int(r - '0')
	}
	return names[sum%len(names)]
}

// number finds a migration by id and counts the call against its number.
func (s *Sim) number(endpoint, id string) (*number, *apiError) {
	n := s.st.Numbers[id]
	if n == nil {
		return nil, errNoObject("POST", id)
	}
	s.st.count(endpoint, n.e164())
	return n, nil
}

var localePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)

func (s *Sim) requestCode(id string, p params) answer {
	n, e := s.number(EndpointRequestCode, id)
	if e != nil {
		return answer{err: e}
	}
	a := answer{changed: true, who: n.e164()}
	method := p.get("code_method")
	if method != "SMS" && method != "VOICE" {
		a.err = errParam("code_method must be SMS or VOICE")
		return a
	}
	if !localePattern.MatchString(p.get("language")) {
		a.err = errParam("language must be a locale such as en_US")
		return a
	}
	now := s.now()
	if now.Before(n.LockedUntil) {
		a.err = errLocked(n.LockedUntil.Sub(now))
		return a
	}
	if n.Verified {
		a.err = errAlreadyVerified()
		return a
	}
	if n.e164() == RateLimited && s.once("rate-limit", n.e164()) {
		a.err = errRateLimited(time.Second, 1)
		return a
	}
	if n.e164() == CodeRefused && s.once("request-code-error", n.e164()) {
		// Meta documents 136024 only as "Request code error": it is not
		// proof the number is verified, and here it is not.
		a.err = errRequestCode()
		return a
	}
	code := s.otp
	if code == "" {
		code = randomCode()
	}
	n.CodeHash = hashCode(n.ID, code)
	n.CodeExpires = now.Add(CodeTTL)
	phone := n.e164()
	a.then = func() { s.deliver(phone, method, code) }
	a.body = map[string]bool{"success": true}
	return a
}

func randomCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1e6))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func hashCode(id, code string) string {
	h := sha256.Sum256([]byte(id + ":" + code))
	return hex.EncodeToString(h[:])
}

func (s *Sim) verifyCode(id string, p params) answer {
	n, e := s.number(EndpointVerifyCode, id)
	if e != nil {
		return answer{err: e}
	}
	a := answer{changed: true, who: n.e164()}
	if n.e164() == Flaky && s.once("verify-5xx", n.e164()) {
		a.err = errServer()
		return a
	}
	code := strings.TrimSpace(p.get("code"))
	if code == "" {
		a.err = errParam("code is required")
		return a
	}
	if n.Verified {
		a.body = map[string]bool{"success": true}
		return a
	}
	now := s.now()
	if now.Before(n.LockedUntil) {
		a.err = errLocked(n.LockedUntil.Sub(now))
		return a
	}
	if n.CodeHash == "" || !now.Before(n.CodeExpires) {
		a.err = errCodeExpired()
		return a
	}
	if subtle.ConstantTimeCompare([]byte(hashCode(n.ID, code)), []byte(n.CodeHash)) != 1 {
		n.WrongCodes++
		if n.WrongCodes >= MaxWrongCodes {
			n.WrongCodes = 0
			n.CodeHash = ""
			n.LockedUntil = now.Add(LockDuration)
			a.err = errLocked(LockDuration)
			return a
		}
		a.err = errWrongCode()
		return a
	}
	n.Verified = true
	n.CodeHash = ""
	n.WrongCodes = 0
	a.body = map[string]bool{"success": true}
	return a
}

func (s *Sim) register(id string, p params) answer {
	n, e := s.number(EndpointRegister, id)
	if e != nil {
		return answer{err: e}
	}
	a := answer{changed: true, who: n.e164()}
	now := s.now()
	if now.Before(n.BlockedUntil) {
		a.err = errRegisterLimit(n.BlockedUntil.Sub(now))
		return a
	}
	if n.e164() == RegisterBlocked {
		n.BlockedUntil = now.Add(RegisterWindow)
		a.err = errRegisterLimit(RegisterWindow)
		return a
	}
	// Every call counts towards the limit, refused ones too, as Meta counts
	// requests.
	recent := n.Registers[:0]
	for _, t := range n.Registers {
		if now.Sub(t) < RegisterWindow {
			recent = append(recent, t)
		}
	}
	n.Registers = append(recent, now)
	if len(n.Registers) > RegisterLimit {
		n.BlockedUntil = now.Add(RegisterWindow)
		a.err = errRegisterLimit(RegisterWindow)
		return a
	}
	if p.get("messaging_product") != "whatsapp" {
		a.err = errParam("messaging_product must be whatsapp")
		return a
	}
	if !digits(p.get("pin"), 6, 6) {
		a.err = errParam("pin must be 6 digits")
		return a
	}
	if !n.Verified {
		a.err = errNotVerified()
		return a
	}
	n.Registered = true
	a.body = map[string]bool{"success": true}
	return a
}

// phoneFields are the fields GET /{id} knows; defaultFields those it
// returns when the request names none, as Graph does.
var (
	phoneFields = map[string]bool{"id": true, "display_phone_number": true, "verified_name": true,
		"name_status": true, "code_verification_status": true, "status": true, "quality_rating": true,
		"platform_type": true, "throughput": true, "account_mode": true, "is_official_business_account": true,
		"whatsapp_business_manager_messaging_limit": true}
	defaultFields = "id,display_phone_number,verified_name,quality_rating,code_verification_status"
)

func (s *Sim) phoneNumber(id string, p params) answer {
	n := s.st.Numbers[id]
	if n == nil {
		return answer{err: errNoObject("GET", id)}
	}
	s.st.count(EndpointPhoneNumber, n.e164())
	a := answer{changed: true, who: n.e164()}
	if n.e164() == Flaky && s.once("get-5xx", n.e164()) {
		a.err = errServer()
		return a
	}
	a.body, a.err = s.fields(n, p.get("fields"))
	return a
}

func (s *Sim) listNumbers(waba string, p params) answer {
	if waba == WABANotShared {
		return answer{err: errNoObject(http.MethodGet, waba+"/phone_numbers")}
	}
	// The AlreadyOnWABA scenario's number is in every WABA, as if an
	// earlier port had added it.
	s.alreadyThere(waba)
	var ids []string
	for id, n := range s.st.Numbers {
		if n.WABA == waba {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	data := []map[string]any{}
	for _, id := range ids {
		f, err := s.fields(s.st.Numbers[id], p.get("fields"))
		if err != nil {
			return answer{err: err}
		}
		data = append(data, f)
	}
	return answer{body: map[string]any{"data": data}, changed: true}
}

// fields renders n with the requested fields.
func (s *Sim) fields(n *number, list string) (map[string]any, *apiError) {
	if list == "" {
		list = defaultFields
	}
	verification, status, platform := "NOT_VERIFIED", "PENDING", "NOT_APPLICABLE"
	if n.Verified {
		verification = "VERIFIED"
	}
	if n.Registered {
		status, platform = "CONNECTED", "CLOUD_API"
	}
	all := map[string]any{
		"id":                           n.ID,
		"display_phone_number":         "+" + n.CC + " " + n.National,
		"verified_name":                n.Name,
		"name_status":                  "APPROVED",
		"code_verification_status":     verification,
		"status":                       status,
		"quality_rating":               "GREEN",
		"platform_type":                platform,
		"throughput":                   map[string]string{"level": "STANDARD"},
		"account_mode":                 "LIVE",
		"is_official_business_account": false,
		"whatsapp_business_manager_messaging_limit": "TIER_1K",
	}
	out := map[string]any{}
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "messaging_limit_tier" {
			// Deprecated in favour of whatsapp_business_manager_messaging_limit;
			// once Meta removes it, naming it fails the read (Meta:
			// whatsapp/messaging-limits).
			return nil, &apiError{status: 400, code: 100,
				message: "(#100) The messaging_limit_tier field is deprecated: request whatsapp_business_manager_messaging_limit instead",
				details: "messaging_limit_tier is no longer available"}
		}
		if !phoneFields[f] {
			return nil, &apiError{status: 400, code: 100,
				message: fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (WhatsAppBusinessPhoneNumber)", f)}
		}
		out[f] = all[f]
	}
	out["id"] = n.ID // Graph always includes the id
	return out, nil
}

// sourceTemplates are the templates every source WABA holds: the ones with
// a reason fail to copy, as Meta's re-categorisation and checks make some do.
var sourceTemplates = []struct{ id, failure string }{
	{"1473688840035974", ""},
	{"6162904357082268", ""},
	{"1019496902803242", "Incorrect category"},
	{"2247311108790815", ""},
	{"259672276895259", "Formatting error - dangling parameter"},
	{"3390475216884702", ""},
	{"8841023375519046", ""},
}

func (s *Sim) migrateTemplates(dest string, p params) answer {
	s.st.count(EndpointTemplates, dest)
	a := answer{changed: true}
	source := p.get("source_waba_id")
	if !digits(source, 1, 32) || source == dest {
		a.err = errParam("source_waba_id must be the id of another WhatsApp Business Account")
		return a
	}
	page, count := 0, 500
	if v := p.get("page_number"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			a.err = errParam("page_number must be a number from 0")
			return a
		}
		page = n
	}
	if v := p.get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			a.err = errParam("count must be between 1 and 500")
			return a
		}
		count = n
	}
	start := page * count
	if v := p.get("after"); v != "" {
		// A cursor from an earlier page wins over page_number, as Graph's
		// cursors do.
		n, ok := cursorOffset(v)
		if !ok {
			a.err = errParam("after is not a cursor this edge returned")
			return a
		}
		start = n
	}
	var only map[string]bool
	if v := p.get("template_ids"); v != "" {
		var ids []string
		if err := json.Unmarshal([]byte(v), &ids); err != nil || len(ids) > 500 {
			a.err = errParam("template_ids must be a list of at most 500 ids")
			return a
		}
		only = map[string]bool{}
		for _, id := range ids {
			only[id] = true
		}
	}
	migrated, failed := []string{}, map[string]string{}
	end := min(start+count, len(sourceTemplates))
	for i := start; i < end; i++ {
		t := sourceTemplates[i]
		if only != nil && !only[t.id] {
			continue
		}
		if t.failure != "" {
			failed[t.id] = t.failure
		} else {
			migrated = append(migrated, t.id)
		}
	}
	body := map[string]any{"migrated_templates": migrated, "failed_templates": failed}
	if start < end {
		// Graph's paging: cursors for the page, and next only while more
		// remain.
		paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end)}}
		if end < len(sourceTemplates) {
			paging["next"] = fmt.Sprintf("https://graph.facebook.com/v25.0/%s/migrate_message_templates?after=%s&count=%d",
				dest, cursor(end), count)
		}
		body["paging"] = paging
	}
	a.body = body
	return a
}

// cursor is an opaque paging cursor for a position in the template list.
func cursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("tpl:" + strconv.Itoa(offset)))
}

// cursorOffset reads a cursor back.
func cursorOffset(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "tpl:"))
	if err != nil || !strings.HasPrefix(string(b), "tpl:") || n < 0 || n > len(sourceTemplates) {
		return 0, false
	}
	return n, true
}

func (s *Sim) sendMessage(from string, p params) answer {
	if p.get("status") == "read" {
		// Mark-as-read shares the endpoint and has no recipient.
		if p.get("messaging_product") != "whatsapp" || p.get("message_id") == "" {
			return answer{err: errParam("a read receipt needs messaging_product whatsapp and message_id")}
		}
		return answer{body: map[string]any{"success": true}}
	}
	// A user is addressed by number (to) or, when the business does not
	// know it, by BSUID (recipient; Meta: business-scoped-user-ids).
	to := strings.TrimPrefix(strings.TrimSpace(p.get("to")), "+")
	recipient := "+" + to
	switch bsuid := strings.TrimSpace(p.get("recipient")); {
	case to != "" && !digits(to, 6, 15):
		return answer{err: errParam("to must be a phone number")}
	case to == "" && bsuid == "":
		return answer{err: errParam("to (a phone number) or recipient (a business-scoped user id) is required")}
	case to == "" && !bsuidPattern.MatchString(bsuid):
		return answer{err: errParam("recipient must be a business-scoped user id such as BR.1502576394655843")}
	case to == "":
		recipient = bsuid
	}
	s.st.count(EndpointMessages, recipient)
	a := answer{changed: true, who: recipient}
	if p.get("messaging_product") != "whatsapp" {
		a.err = errParam("messaging_product must be whatsapp")
		return a
	}
	typ := p.get("type")
	if typ == "" {
		typ = "text"
	}
	var text, tmpl string
	var choices []Choice
	switch typ {
	case "template":
		var err *apiError
		if tmpl, text, err = s.checkTemplate(p.get("template")); err != nil {
			a.err = err
			return a
		}
	case "text":
		var t struct {
			Body string `json:"body"`
		}
		if json.Unmarshal([]byte(p.get("text")), &t) != nil || t.Body == "" || utf8.RuneCountInString(t.Body) > 4096 {
			a.err = &apiError{status: 400, code: 131009, message: "(#131009) Parameter value is not valid",
				details: "text.body must have 1 to 4096 characters"}
			return a
		}
		text = t.Body
	case "interactive":
		var in struct {
			Body struct {
				Text string `json:"text"`
			} `json:"body"`
			Action struct {
				Buttons []struct {
					Reply Choice `json:"reply"`
				} `json:"buttons"`
				Sections []struct {
					Rows []Choice `json:"rows"`
				} `json:"sections"`
			} `json:"action"`
		}
		if json.Unmarshal([]byte(p.get("interactive")), &in) != nil || in.Body.Text == "" {
			a.err = &apiError{status: 400, code: 131009, message: "(#131009) Parameter value is not valid",
				details: "interactive.body.text is required"}
			return a
		}
		text = in.Body.Text
		for _, b := range in.Action.Buttons {
			choices = append(choices, b.Reply)
		}
		for _, sec := range in.Action.Sections {
			choices = append(choices, sec.Rows...)
		}
	}
	ref := p.get("biz_opaque_callback_data")
	if len(ref) > 512 {
		a.err = errParam("biz_opaque_callback_data must be at most 512 characters")
		return a
	}
	m := Message{ID: "wamid." + rand.Text(), From: from, To: recipient, Type: typ, Text: text, Choices: choices,
		CallbackData: ref, Template: tmpl, At: s.now()}
	status := "sent"
	if wrote, ok := s.st.Wrote[recipient]; ok && typ != "template" && m.At.Sub(wrote) > CustomerWindow {
		// Meta takes the message and fails it afterwards, in its status
		// webhook (Meta: support/error-codes, 131047).
		m.Error = "131047: Re-engagement message"
		status = "failed"
	}
	s.st.Messages = append(s.st.Messages, m)
	if n := len(s.st.Messages); n > s.keep {
		s.st.Messages = append([]Message(nil), s.st.Messages[n-s.keep:]...)
	}
	if s.hooks != nil {
		a.then = func() { s.hooks.push(statusEvent{phoneID: from, msg: m, status: status}) }
	}
	contact := map[string]string{"input": p.get("to"), "wa_id": to}
	if to == "" {
		contact = map[string]string{"input": recipient, "user_id": recipient}
	}
	a.body = map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []map[string]string{contact},
		"messages":          []map[string]string{{"id": m.ID}},
	}
	return a
}

// CustomerWindow is how long after a user's last message the business may
// send them free-form messages; after it only a template goes through.
const CustomerWindow = 24 * time.Hour

// bsuidPattern is a business-scoped user id: a two-letter country, a dot,
// an optional "ENT." for a parent id, and up to 128 letters and digits.
var bsuidPattern = regexp.MustCompile(`^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$`)

// checkTemplate reads a template message's template object against the
// approved templates, as Meta does: an unknown name or translation is
// 132001, a wrong number of body parameters 132000. It returns the
// template's name and language, and its parameters as the message's text.
func (s *Sim) checkTemplate(raw string) (string, string, *apiError) {
	var t struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			Parameters []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if json.Unmarshal([]byte(raw), &t) != nil || t.Name == "" || t.Language.Code == "" {
		return "", "", errParam("template needs a name and language.code")
	}
	approved, ok := s.tmpl[t.Name]
	if !ok || !slices.Contains(approved.Langs, t.Language.Code) {
		return "", "", &apiError{status: http.StatusNotFound, code: 132001,
			message: "(#132001) Template name does not exist in the translation",
			details: fmt.Sprintf("template name (%s) does not exist in %s", t.Name, t.Language.Code)}
	}
	var params []string
	for _, c := range t.Components {
		if c.Type == "body" {
			for _, p := range c.Parameters {
				params = append(params, p.Text)
			}
		}
	}
	if len(params) != approved.Params {
		return "", "", &apiError{status: http.StatusBadRequest, code: 132000,
			message: "(#132000) Number of parameters does not match the expected number of params",
			details: fmt.Sprintf("body: number of localizable_params (%d) does not match the expected number of params (%d)",
				len(params), approved.Params)}
	}
	return t.Name + "/" + t.Language.Code, strings.Join(params, " "), nil
}
