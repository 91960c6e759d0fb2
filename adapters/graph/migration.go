package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"portabot/bot"
)

// phoneFields are the fields of bot.PhoneNumber; without them Graph returns
// only a handful.
const phoneFields = "id,display_phone_number,verified_name,name_status,code_verification_status," +
	"status,quality_rating,platform_type,whatsapp_business_manager_messaging_limit,is_official_business_account,account_mode"

// AddPhoneNumber starts the migration of +cc national into waba
// (migrate_phone_number=true) and returns the new phone number id. It is
// made once: a second add of the same number answers 2388012.
func (c *Client) AddPhoneNumber(ctx context.Context, waba, cc, national string) (string, error) {
	const op = "phone_numbers"
	if !bot.AllDigits(cc, 1, 3) || !bot.AllDigits(national, 4, 14) {
		return "", fmt.Errorf("graph: %s: want country code and national number in digits", op)
	}
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{waba}/phone_numbers",
		ids:    map[string]string{"waba": waba},
		// Form fields, as in Meta's migration guide.
		form: map[string]string{"cc": cc, "phone_number": national, "migrate_phone_number": "true"},
		out:  &out,
	})
	if err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("graph: %s: answer has no id", op)
	}
	return out.ID, nil
}

// RequestCode has Meta send the ownership code by "SMS" or "VOICE", worded
// in lang. Made once: every call sends the client another SMS or call.
func (c *Client) RequestCode(ctx context.Context, phoneID, method string, lang bot.Lang) error {
	const op = "request_code"
	method = strings.ToUpper(strings.TrimSpace(method))
	if method != "SMS" && method != "VOICE" {
		return fmt.Errorf("graph: %s: code method %q: want SMS or VOICE", op, method)
	}
	return c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{id}/request_code",
		ids:    map[string]string{"id": phoneID},
		form:   map[string]string{"code_method": method, "language": locale(lang)},
	})
}

// locale is the language Meta words the SMS or call in.
func locale(l bot.Lang) string {
	switch l {
	case bot.Portuguese:
		return "pt_BR"
	case bot.Spanish:
		return "es_ES"
	default:
		return "en_US"
	}
}

// VerifyCode checks the code the client read back. Retried on answers
// worth a later try (429, 5xx, Meta's transient codes): verifying a verified number succeeds again.
func (c *Client) VerifyCode(ctx context.Context, phoneID, code string) error {
	const op = "verify_code"
	code = strings.TrimSpace(code)
	if code == "" {
		return fmt.Errorf("graph: %s: empty code", op)
	}
	return c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{id}/verify_code",
		ids:    map[string]string{"id": phoneID},
		form:   map[string]string{"code": code},
		retry:  true,
	})
}

// Register registers the number on Cloud API with pin as its new two-step
// PIN. Made once: Meta allows 10 registrations per number in 72 hours, so
// a PIN Meta would refuse is refused here without spending one of them.
func (c *Client) Register(ctx context.Context, phoneID, pin string) error {
	const op = "register"
	if !bot.AllDigits(pin, 6, 6) {
		return fmt.Errorf("graph: %s: the PIN must be 6 digits", op)
	}
	return c.do(ctx, request{
		op:     op,
		method: http.MethodPost,
		path:   "/{id}/register",
		ids:    map[string]string{"id": phoneID},
		json: struct {
			MessagingProduct string `json:"messaging_product"`
			PIN              string `json:"pin"`
		}{"whatsapp", pin},
	})
}

// templatePage is the most templates Meta copies in one call (Meta:
// templates/template-migration).
const templatePage = 500

// maxTemplatePages stops a server that always answers a full page from
// keeping the client busy forever.
const maxTemplatePages = 100

// templateCounts are the page sizes a copy steps down through when pages
// are slow or time out. Each divides the one before, so the templates
// already covered are always a whole number of pages of the next size,
// which page_number needs.
var templateCounts = []int{500, 250, 125, 25, 5, 1}

// smaller is the next page size below n.
func smaller(n int) int {
	for _, c := range templateCounts {
		if c < n {
			return c
		}
	}
	return 1
}

// templateRequest is the body of one migrate_message_templates call: the
// documented source_waba_id, page_number and count, and Graph's cursor
// when Meta paged by one.
type templateRequest struct {
	Source string `json:"source_waba_id"`
	Page   int    `json:"page_number"`
	Count  int    `json:"count"`
	After  string `json:"after,omitempty"`
}

// templatePageAnswer is one page's answer: Meta's documented result, and
// Graph's paging when Meta sends it.
type templatePageAnswer struct {
	bot.TemplateResult
	Paging *paging `json:"paging"`
}

// MigrateTemplates copies the templates of source into dest page by page
// and merges the pages' results; on an error it returns what earlier pages
// copied along with it. A page of at most Config.TemplateCount is asked
// for; Meta cuts a call off past 30 s and says to ask for fewer then
// (Meta: templates/template-migration), so a page slower than
// Config.TemplateSlowPage makes the next one smaller, and a page that
// timed out is asked again, smaller. When Meta pages by cursor the copy
// follows paging.cursors.after until paging.next is gone; otherwise it
// goes on while pages come back full. Repeating a page leaves the
// destination as one copy would, so 429s, 5xx and timeouts are retried.
func (c *Client) MigrateTemplates(ctx context.Context, dest, source string) (bot.TemplateResult, error) {
	const op = "migrate_message_templates"
	var res bot.TemplateResult
	if !bot.AllDigits(source, 1, 32) {
		return res, fmt.Errorf("graph: %s: source %q is not a Graph id", op, source)
	}
	count, offset, after := c.tplCount, 0, ""
	for range maxTemplatePages {
		var out templatePageAnswer
		asked := count
		for attempt := 0; ; attempt++ {
			out = templatePageAnswer{}
			began := time.Now()
			err := c.do(ctx, request{
				op:     op,
				method: http.MethodPost,
				path:   "/{dest}/migrate_message_templates",
				ids:    map[string]string{"dest": dest},
				json:   templateRequest{Source: source, Page: offset / count, Count: count, After: after},
				out:    &out,
			})
			if err == nil {
				asked = count
				if time.Since(began) > c.tplSlow {
					count = smaller(count)
				}
				break
			}
			if attempt >= retries || !bot.KindOf(err).Later() {
				return res, err
			}
			ge, answered := errors.AsType[*bot.GraphError](err)
			if !answered {
				// No answer in time: the same page, smaller.
				count = smaller(count)
			}
			wait := c.wait << attempt
			if answered && ge.RetryAfter > 0 {
				if ge.RetryAfter > c.maxWait {
					return res, err
				}
				wait = ge.RetryAfter
			}
			if !sleep(ctx, min(wait, c.maxWait)) {
				return res, err
			}
		}
		res.Migrated = append(res.Migrated, out.Migrated...)
		for id, reason := range out.Failed {
			if res.Failed == nil {
				res.Failed = make(map[string]string)
			}
			res.Failed[id] = reason
		}
		if out.Paging != nil {
			if after = out.Paging.after(); after == "" {
				break
			}
		} else if len(out.Migrated)+len(out.Failed) < asked {
			break
		}
		offset += asked
	}
	return res, nil
}

// sleep waits d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// PhoneNumber reads where the number stands. Retried on transport errors
// and answers worth a later try.
func (c *Client) PhoneNumber(ctx context.Context, phoneID string) (bot.PhoneNumber, error) {
	var pn bot.PhoneNumber
	err := c.do(ctx, request{
		op:     "phone_number",
		method: http.MethodGet,
		path:   "/{id}",
		ids:    map[string]string{"id": phoneID},
		query:  map[string]string{"fields": phoneFields},
		out:    &pn,
		retry:  true,
	})
	return pn, err
}

// maxPhonePages bounds the walk through a WABA's phone list.
const maxPhonePages = 50

// PhoneNumbers lists the numbers in waba, following Graph's paging. It is
// how to find a number's id again when adding it answers 2388012 (already
// in this WABA).
func (c *Client) PhoneNumbers(ctx context.Context, waba string) ([]bot.PhoneNumber, error) {
	var all []bot.PhoneNumber
	err := readPages(ctx, c, request{
		op:     "list_phone_numbers",
		method: http.MethodGet,
		path:   "/{waba}/phone_numbers",
		ids:    map[string]string{"waba": waba},
		query:  map[string]string{"fields": phoneFields, "limit": "100"},
		retry:  true,
	}, maxPhonePages, func(p []bot.PhoneNumber) { all = append(all, p...) })
	return all, err
}
