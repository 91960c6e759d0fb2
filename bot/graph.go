package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Graph is what the engine needs from Meta's Graph API to move a number.
// Errors are *GraphError when Meta answered with an error, and wrap
// ErrUnavailable when Meta could not be reached or did not answer in time.
type Graph interface {
	// AddPhoneNumber starts the migration of +cc national into waba and
	// returns the phone number id all later calls use.
	AddPhoneNumber(ctx context.Context, waba, cc, national string) (string, error)
	// RequestCode has Meta send the 6-digit code by "SMS" or "VOICE".
	RequestCode(ctx context.Context, phoneID, method string, lang Lang) error
	// VerifyCode checks the code the client read back.
	VerifyCode(ctx context.Context, phoneID, code string) error
	// Register registers the number on the destination; pin becomes its new
	// two-step verification PIN.
	Register(ctx context.Context, phoneID, pin string) error
	// MigrateTemplates copies the source WABA's templates into dest.
	MigrateTemplates(ctx context.Context, dest, source string) (TemplateResult, error)
	// PhoneNumber reads where the number stands.
	PhoneNumber(ctx context.Context, phoneID string) (PhoneNumber, error)
	// PhoneNumbers lists the numbers of a WABA: how the id of a number
	// added by a process that stopped before storing it is found again.
	PhoneNumbers(ctx context.Context, waba string) ([]PhoneNumber, error)
}

// PhoneNumber is Meta's view of a number (GET /{phone-number-id}).
type PhoneNumber struct {
	ID                     string `json:"id"`
	DisplayPhoneNumber     string `json:"display_phone_number"`
	VerifiedName           string `json:"verified_name"`
	NameStatus             string `json:"name_status"`
	CodeVerificationStatus string `json:"code_verification_status"`
	Status                 string `json:"status"`
	QualityRating          string `json:"quality_rating"`
	PlatformType           string `json:"platform_type"`
	// MessagingLimit replaces the deprecated per-number tier field (Meta:
	// whatsapp/messaging-limits); empty when Meta leaves it out.
	MessagingLimit   Limit  `json:"whatsapp_business_manager_messaging_limit"`
	OfficialBusiness bool   `json:"is_official_business_account"`
	AccountMode      string `json:"account_mode"`
}

// Limit is the business portfolio's messaging limit. Meta's page names the
// field without showing its shape, so both a bare value ("TIER_2K") and an
// object holding one are read; anything else reads as empty rather than
// failing the whole number.
type Limit string

func (l *Limit) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*l = Limit(s)
		return nil
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		*l = Limit(n.String())
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) == nil {
		for _, k := range []string{"current_limit", "messaging_limit", "limit", "tier", "value"} {
			if raw, ok := obj[k]; ok {
				return l.UnmarshalJSON(raw)
			}
		}
	}
	*l = ""
	return nil
}

// TemplateResult is the outcome of a template copy: the ids copied, and the
// ids that failed with Meta's reason.
type TemplateResult struct {
	Migrated []string          `json:"migrated_templates"`
	Failed   map[string]string `json:"failed_templates"`
}

// ErrUnavailable marks a Graph call that got no answer: network failure,
// timeout, or Meta still failing after the client's retries.
var ErrUnavailable = errors.New("meta unavailable")

// GraphError is an error answer from Meta.
type GraphError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
	UserTitle  string
	UserMsg    string
	Details    string
	Transient  bool
	// TraceID is Meta's fbtrace_id: what Meta support asks for.
	TraceID string
	// RetryAfter is how long Meta asked us to wait, when it said.
	RetryAfter time.Duration
}

func (e *GraphError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.UserTitle
	}
	s := fmt.Sprintf("graph: code %d", e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf("/%d", e.Subcode)
	}
	if msg != "" {
		s += ": " + msg
	}
	if e.TraceID != "" {
		s += " (fbtrace_id " + e.TraceID + ")"
	}
	return s
}
