package metasim

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"
)

// apiError is an error answer in Meta's envelope.
type apiError struct {
	status     int
	code       int
	subcode    int
	message    string
	title      string
	userMsg    string
	details    string
	transient  bool
	retryAfter time.Duration // sent as the Retry-After header
	usage      *usage        // sent as the usage headers
}

func (e *apiError) envelope() any {
	type errorData struct {
		MessagingProduct string `json:"messaging_product"`
		Details          string `json:"details"`
	}
	type body struct {
		Message   string     `json:"message"`
		Type      string     `json:"type"`
		Code      int        `json:"code"`
		Subcode   int        `json:"error_subcode,omitempty"`
		UserTitle string     `json:"error_user_title,omitempty"`
		UserMsg   string     `json:"error_user_msg,omitempty"`
		Data      *errorData `json:"error_data,omitempty"`
		Transient bool       `json:"is_transient"`
		TraceID   string     `json:"fbtrace_id"`
	}
	b := body{
		Message:   e.message,
		Type:      "OAuthException",
		Code:      e.code,
		Subcode:   e.subcode,
		UserTitle: e.title,
		UserMsg:   e.userMsg,
		Transient: e.transient,
		TraceID:   traceID(),
	}
	if e.details != "" {
		b.Data = &errorData{MessagingProduct: "whatsapp", Details: e.details}
	}
	return map[string]any{"error": b}
}

// traceID makes an fbtrace_id-like string.
func traceID() string { return "A" + rand.Text()[:22] }

func errUnknownVersion() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 2500,
		message: "Unknown path components: the path must start with a Graph API version such as /v25.0/"}
}

func errToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: 190,
		message: "Invalid OAuth access token - Cannot parse access token"}
}

func errParam(details string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: 100, message: "(#100) Invalid parameter", details: details}
}

func errNoObject(method, id string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: 100, subcode: 33,
		message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to "+
			"missing permissions, or does not support this operation.", method, id)}
}

func errTwoStep() *apiError {
	const text = "Two-step authentication must be disabled for this phone number."
	return &apiError{status: http.StatusBadRequest, code: 100, message: "(#100) " + text,
		title: "Two-step verification is on", userMsg: text}
}

func errNamePending() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 100, subcode: 2388103, message: "Invalid parameter",
		title: "Display name not approved", userMsg: "Registered name should be present and approved",
		details: "The display name must be approved, with no name change pending, before the number can move."}
}

func errNoWebhooks() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 100, subcode: 2388103, message: "Invalid parameter",
		title: "Cannot migrate phone number", userMsg: "Cannot migrate phone number",
		details: "No app is subscribed to the webhooks of the destination WhatsApp Business Account."}
}

// errMigration is one of the failures Meta reports as 2388103 "Cannot
// migrate phone number", told apart only by error_data.details (Meta:
// support/error-codes, phone migration errors).
func errMigration(details string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: 100, subcode: 2388103, message: "Invalid parameter",
		title: "Cannot migrate phone number", userMsg: "Cannot migrate phone number", details: details}
}

// The details of each 2388103 cause, in the words of Meta's table.
const (
	detailsNoPayment      = "The destination WhatsApp Business Account does not have a payment account: set up a line of credit."
	detailsOtherPortfolio = "This phone number belongs to a different Business Manager account than the destination WhatsApp Business Account."
	detailsNotApproved    = "Your WhatsApp account must be approved before a phone number can be migrated to it."
	detailsMessagingFor   = `The "Messaging For" request must be approved by the client before the phone number can be migrated.`
	detailsAddDirectly    = "Please add this phone number in your WhatsApp account: it can be added directly, without migrating."
	detailsTryAgain       = "There was an error migrating this phone number. Please try again later."
	detailsSourceNotSetUp = "The source WhatsApp Business Account is not set up correctly for migration."
)

func errAlreadyAdded() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 100, subcode: 2388012, message: "Invalid parameter",
		title:   "Phone number already added",
		userMsg: "This phone number is already in this WhatsApp Business Account's phone list."}
}

// errRateLimited is a WABA rate limit. Retry-After says wait; the usage
// header says regain, in minutes, as Meta's does (Meta:
// graph-api/overview/rate-limiting).
func errRateLimited(wait time.Duration, regain int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, code: 80007, message: "(#80007) Rate limit issues",
		details: "The WhatsApp Business Account reached its rate limit.", transient: true, retryAfter: wait,
		usage: &usage{regainMinutes: regain}}
}

// usage is what the usage headers of an answer report: the whole budget
// spent, and how long until calls are accepted again.
type usage struct {
	regainMinutes int
}

// headers writes X-App-Usage and X-Business-Use-Case-Usage for account.
func (u *usage) headers(h http.Header, account string) {
	h.Set("X-App-Usage", `{"call_count":100,"total_cputime":12,"total_time":40}`)
	h.Set("X-Business-Use-Case-Usage", fmt.Sprintf(`{%q:[{"type":"whatsapp_business_management","call_count":100,`+
		`"total_cputime":12,"total_time":40,"estimated_time_to_regain_access":%d}]}`, account, u.regainMinutes))
}

func errServer() *apiError {
	return &apiError{status: http.StatusInternalServerError, code: 2,
		message: "(#2) Service temporarily unavailable", transient: true}
}

func errAlreadyVerified() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 136024, message: "(#136024) Phone number already verified",
		details: "This phone number's ownership is already verified; register it instead."}
}

func errRequestCode() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 136024, message: "(#136024) Request code error",
		details: "The code could not be requested for this phone number. Try again later."}
}

func errWrongCode() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 136025, message: "(#136025) Code couldn't be verified",
		title: "Wrong code", userMsg: "The code you entered is incorrect.", details: "The code entered is incorrect."}
}

func errCodeExpired() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 136025, message: "(#136025) Code couldn't be verified",
		title: "Code expired", userMsg: "This code has expired or was never sent. Request a new code.",
		details: "No valid code: request a new one."}
}

func errLocked(left time.Duration) *apiError {
	mins := int((left + time.Minute - 1) / time.Minute)
	return &apiError{status: http.StatusBadRequest, code: 136025, message: "(#136025) Code couldn't be verified",
		title:   "Too many attempts",
		userMsg: fmt.Sprintf("Too many incorrect codes. Wait %d minutes, then request a new code.", mins),
		details: fmt.Sprintf("Verification is locked for %d more minutes after too many incorrect codes.", mins)}
}

func errNotVerified() *apiError {
	return &apiError{status: http.StatusBadRequest, code: 133006,
		message: "(#133006) Phone number re-verification needed",
		details: "Verify the phone number's ownership (request_code, verify_code) before registering it."}
}

func errRegisterLimit(left time.Duration) *apiError {
	hours := int((left + time.Hour - 1) / time.Hour)
	return &apiError{status: http.StatusBadRequest, code: 133016,
		message: "(#133016) Account register deregister rate limit exceeded",
		details: fmt.Sprintf("Too many register or deregister calls for this number: blocked for %d more hours.", hours)}
}
