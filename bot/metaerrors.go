package bot

import (
	"errors"
	"net/http"
	"strings"
)

// ErrorKind is what a Meta error means for whoever has to act on it. The
// values are stable: logs and metrics carry them.
type ErrorKind string

const (
	// KindRetryLater: Meta cannot do it now; the same call later may work.
	KindRetryLater ErrorKind = "retry_later"
	// KindRateLimited: we called too often; wait (RetryAfter when Meta
	// said how long) before calling again.
	KindRateLimited ErrorKind = "rate_limited"
	// KindClientMustAct: only the client can fix it (in Meta Business Suite
	// or with Meta).
	KindClientMustAct ErrorKind = "client_must_act"
	// KindOriginMustAct: the WABA the number lives on today, run by the
	// origin BSP (or the client), must change something first.
	KindOriginMustAct ErrorKind = "origin_bsp_must_act"
	// KindOurConfig: our token, permissions or destination WABA are not
	// set up as Meta wants; agents fix it.
	KindOurConfig ErrorKind = "our_configuration"
	// KindWrongCode: the client's code or PIN was refused.
	KindWrongCode ErrorKind = "wrong_code"
	// KindLocked: Meta locked the step for a while after too many tries.
	KindLocked ErrorKind = "locked"
	// KindPermanent: repeating the call as it is will not help.
	KindPermanent ErrorKind = "permanent"
	// KindWindowClosed: a free-form message outside the 24-hour customer
	// service window; only an approved template gets through.
	KindWindowClosed ErrorKind = "window_closed"
)

// Cause is the finer reason the engine and the agents need, within a kind.
type Cause string

const (
	CauseUnknown          Cause = ""
	CauseUnavailable      Cause = "unavailable"
	CauseThrottled        Cause = "throttled"
	CauseToken            Cause = "token"
	CausePermission       Cause = "permission"
	CauseBadRequest       Cause = "bad_request"
	CauseNumberDeleted    Cause = "number_deleted"
	CauseWABARestricted   Cause = "waba_restricted"
	CausePayment          Cause = "payment"
	CauseTwoFA            Cause = "two_step_on"
	CauseDisplayName      Cause = "display_name_not_approved"
	CauseAlreadyOnWABA    Cause = "already_on_waba"
	CauseMaybeVerified    Cause = "maybe_verified"
	CauseWrongCode        Cause = "wrong_code"
	CauseCodeLocked       Cause = "code_locked"
	CauseWrongPIN         Cause = "wrong_pin"
	CausePINLocked        Cause = "pin_locked"
	CausePINTooFast       Cause = "pin_too_fast"
	CauseRegisterLimit    Cause = "register_limit"
	CauseNotVerified      Cause = "not_verified"
	CauseNotRegistered    Cause = "not_registered"
	CauseNotMigrating     Cause = "not_migrating"
	CauseTemplateLimit    Cause = "template_limit"
	CauseNoWebhooks       Cause = "no_webhooks"
	CauseNoPayment        Cause = "no_payment_method"
	CauseOtherPortfolio   Cause = "different_portfolio"
	CauseWABANotApproved  Cause = "destination_not_approved"
	CauseMessagingFor     Cause = "messaging_for_pending"
	CauseAddDirectly      Cause = "add_directly"
	CauseSourceNotSetUp   Cause = "source_not_set_up"
	CauseMigrationFailed  Cause = "migration_error"
	CauseCannotMigrate    Cause = "cannot_migrate"
	CauseWindowClosed     Cause = "window_closed"
	CauseMaintenance      Cause = "maintenance"
	CauseDeletionUnderway Cause = "deletion_underway"
)

// Meaning is one row of metaErrors: what an error means and what agents
// are told about it. Agents' words never carry the client's code or PIN.
type Meaning struct {
	Kind   ErrorKind
	Cause  Cause
	Agents string
}

// metaError is a row of the table. Code matches the error's code or its
// subcode (Meta still sends the 2388xxx migration errors as subcodes);
// Text, when set, must appear in the error's details or titles; anyCode
// rows match on Text alone, for failures Meta words but does not number.
type metaError struct {
	Code int
	Text []string
	Meaning
}

const anyCode = -1

// metaErrors is the one reading of Meta's errors: the engine, the outbox
// and the HTTP layer all decide by it. Rows are tried in order, so a
// row with Text comes before the row for its bare code.
// Meta: support/error-codes (including "phone migration errors"),
// graph-api/guides/error-handling, business-phone-numbers/registration.
var metaErrors = []metaError{
	// Worded, not numbered (Meta: business-management-api/error-codes).
	{anyCode, []string{"two-step authentication must be disabled", "two-step verification must be disabled", "two step verification must be disabled"},
		Meaning{KindOriginMustAct, CauseTwoFA, "two-step verification is still on for the number: whoever holds the source WABA must turn it off in WhatsApp Manager"}},
	{anyCode, []string{"certificate can be downloaded only after confirming ownership"},
		Meaning{KindPermanent, CauseNotVerified, "Meta wants the number's ownership confirmed (request_code, verify_code) first"}},

	// 2388103 covers several migration failures, told apart by
	// error_data.details (Meta: support/error-codes, phone migration errors).
	// "Messaging For" and the display name come first: their texts also
	// say "must be approved".
	{2388103, []string{"messaging for"},
		Meaning{KindClientMustAct, CauseMessagingFor, "the client has not accepted the \"Messaging For\" request for the destination WABA: they accept it in Meta Business Suite, then retry"}},
	{2388103, []string{"registered name", "display name"},
		Meaning{KindOriginMustAct, CauseDisplayName, "display name not approved or a name change is pending on the source side"}},
	{2388103, []string{"webhook", "subscribed"},
		Meaning{KindOurConfig, CauseNoWebhooks, "destination WABA has no app subscribed to its webhooks: POST /{WABA_ID}/subscribed_apps on the destination WABA, then retry"}},
	{2388103, []string{"payment", "line of credit", "credit line"},
		Meaning{KindOurConfig, CauseNoPayment, "destination WABA has no payment method or line of credit: attach or share one, then retry"}},
	{2388103, []string{"different business", "same business", "business portfolio"},
		Meaning{KindOurConfig, CauseOtherPortfolio, "source and destination WABAs are in different business portfolios: the destination WABA must belong to the client's portfolio that owns the source WABA"}},
	{2388103, []string{"account must be approved", "waba must be approved", "not approved"},
		Meaning{KindOurConfig, CauseWABANotApproved, "destination WABA is not approved: finish business verification and the WABA review, then retry"}},
	{2388103, []string{"add this phone number", "directly"},
		Meaning{KindPermanent, CauseAddDirectly, "Meta says the number can be added to the destination directly: no migration needed; onboard it normally (Embedded Signup or add and register)"}},
	{2388103, []string{"not set up correctly"},
		Meaning{KindOriginMustAct, CauseSourceNotSetUp, "the source WABA is not approved or its on-behalf-of setup is not: contact Meta support"}},
	{2388103, []string{"error migrating", "try again"},
		Meaning{KindRetryLater, CauseMigrationFailed, "Meta failed to migrate the number and asks to try again later"}},
	// Meta's older table gives the bare title to the missing webhook
	// subscription.
	{2388103, []string{"cannot migrate phone number"},
		Meaning{KindOurConfig, CauseNoWebhooks, "destination WABA has no app subscribed to its webhooks: POST /{WABA_ID}/subscribed_apps on the destination WABA, then retry"}},
	{2388103, nil,
		Meaning{KindPermanent, CauseCannotMigrate, "Meta refused the migration (2388103) for a reason portabot does not know: read the details"}},
	{2388012, nil,
		Meaning{KindPermanent, CauseAlreadyOnWABA, "number already on the destination WABA"}},
	{2388019, nil,
		Meaning{KindOurConfig, CauseTemplateLimit, "destination WABA holds 250 templates: delete unused ones"}},
	{2388091, nil,
		Meaning{KindPermanent, CauseNotMigrating, "request_code for a number that is not being migrated"}},
	{2388093, nil,
		Meaning{KindPermanent, CauseNotMigrating, "verify_code for a number that is not being migrated"}},
	{200000, nil,
		Meaning{KindPermanent, CauseCannotMigrate, "Meta cannot add the number to the WABA: read the details"}},

	// Ownership code (Meta: the request_code and verify_code references).
	// 136024 is only "Request code error": the engine confirms with
	// code_verification_status before taking it as "already verified".
	{136024, nil,
		Meaning{KindPermanent, CauseMaybeVerified, "request_code refused (136024)"}},
	{136025, []string{"too many"},
		Meaning{KindLocked, CauseCodeLocked, "too many wrong codes: Meta locked verification for a while"}},
	{136025, nil,
		Meaning{KindWrongCode, CauseWrongCode, "the client's code was refused"}},

	// Registration and PIN (Meta: business-phone-numbers/registration).
	{133005, nil, Meaning{KindWrongCode, CauseWrongPIN, "two-step PIN refused"}},
	{131031, []string{"pin"}, Meaning{KindWrongCode, CauseWrongPIN, "two-step PIN refused"}},
	{131031, nil, Meaning{KindWrongCode, CauseWrongPIN, "account locked or data mismatch (such as a wrong two-step PIN)"}},
	{133008, nil, Meaning{KindLocked, CausePINLocked, "too many PIN guesses: wait the time Meta gives"}},
	{133009, nil, Meaning{KindRateLimited, CausePINTooFast, "PIN entered too fast"}},
	{133016, nil, Meaning{KindLocked, CauseRegisterLimit, "registration blocked by Meta for 72 hours (10 attempts in 72 h)"}},
	{133006, nil, Meaning{KindPermanent, CauseNotVerified, "the number must be verified before it is registered"}},
	{133010, nil, Meaning{KindPermanent, CauseNotRegistered, "number not registered on the platform"}},
	{133000, nil, Meaning{KindRetryLater, CauseUnavailable, "a previous deregistration failed"}},
	{133004, nil, Meaning{KindRetryLater, CauseUnavailable, "Meta's server is temporarily unavailable"}},
	{133015, nil, Meaning{KindRetryLater, CauseDeletionUnderway, "the number's deletion is still under way: retry in about 5 minutes"}},
	{2494100, nil, Meaning{KindRetryLater, CauseMaintenance, "the number is in maintenance mode"}},

	// Rate limits (Meta: graph-api/overview/rate-limiting).
	{4, nil, Meaning{KindRateLimited, CauseThrottled, "app call rate limit"}},
	{17, nil, Meaning{KindRateLimited, CauseThrottled, "user call rate limit"}},
	{341, nil, Meaning{KindRateLimited, CauseThrottled, "application limit reached"}},
	{80007, nil, Meaning{KindRateLimited, CauseThrottled, "WABA rate limit"}},
	{130429, nil, Meaning{KindRateLimited, CauseThrottled, "Cloud API throughput reached"}},
	{131056, nil, Meaning{KindRateLimited, CauseThrottled, "too many messages to one user"}},

	// Meta's side failing.
	{1, nil, Meaning{KindRetryLater, CauseUnavailable, "unknown Meta error"}},
	{2, nil, Meaning{KindRetryLater, CauseUnavailable, "Meta service temporarily unavailable"}},
	{131000, nil, Meaning{KindRetryLater, CauseUnavailable, "unknown send failure"}},

	// Ours to set up.
	{0, nil, Meaning{KindOurConfig, CauseToken, "access token not accepted: re-issue the system-user token"}},
	{190, nil, Meaning{KindOurConfig, CauseToken, "access token expired or invalid: re-issue the system-user token"}},
	{3, nil, Meaning{KindOurConfig, CausePermission, "the app lacks a capability"}},
	{10, nil, Meaning{KindOurConfig, CausePermission, "permission missing: check the token's scopes and WABA assignment"}},
	{131005, nil, Meaning{KindOurConfig, CausePermission, "permission not granted or removed"}},
	{131042, nil, Meaning{KindOurConfig, CausePayment, "payment method problem on our WABA"}},

	// The client's or nobody's.
	{368, nil, Meaning{KindClientMustAct, CauseWABARestricted, "WABA restricted or disabled by Meta for policy"}},
	{33, nil, Meaning{KindPermanent, CauseNumberDeleted, "the object or phone number does not exist"}},
	{100, nil, Meaning{KindPermanent, CauseBadRequest, "Meta refused a parameter"}},
	{131008, nil, Meaning{KindPermanent, CauseBadRequest, "a required parameter is missing"}},
	{131009, nil, Meaning{KindPermanent, CauseBadRequest, "a parameter is invalid"}},
	{131045, nil, Meaning{KindPermanent, CauseNotRegistered, "the sending number is not registered"}},
	{131047, nil, Meaning{KindWindowClosed, CauseWindowClosed, "outside the 24-hour customer service window: only a template gets through"}},
}

// Meaning reads e by the table; an error no row knows is judged by its
// HTTP status and Meta's is_transient.
func (e *GraphError) Meaning() Meaning {
	text := strings.ToLower(e.Details + " " + e.UserMsg + " " + e.UserTitle + " " + e.Message)
	for _, r := range metaErrors {
		if r.Code == anyCode && containsAny(text, r.Text) {
			return r.Meaning
		}
	}
	// A status that says "later" outweighs a code an intermediary made up
	// (code 0 is also what a proxy's HTML page decodes to).
	if e.Code == 0 && e.Subcode == 0 {
		if m, ok := byStatus(e); ok {
			return m
		}
	}
	// The subcode is the finer of the two, when Meta sends one.
	for i, code := range []int{e.Subcode, e.Code} {
		if i == 0 && code == 0 {
			continue
		}
		for _, r := range metaErrors {
			if r.Code == code && (r.Text == nil || containsAny(text, r.Text)) {
				return r.Meaning
			}
		}
	}
	if m, ok := byStatus(e); ok {
		return m
	}
	if e.Transient {
		return Meaning{KindRetryLater, CauseUnavailable, "Meta says the error is transient"}
	}
	if e.Code >= 200 && e.Code <= 299 {
		return Meaning{KindOurConfig, CausePermission, "permission missing: check the token's scopes and WABA assignment"}
	}
	return Meaning{KindPermanent, CauseUnknown, "unexpected Graph error"}
}

func byStatus(e *GraphError) (Meaning, bool) {
	switch {
	case e.HTTPStatus == http.StatusTooManyRequests:
		return Meaning{KindRateLimited, CauseThrottled, "Meta answered 429"}, true
	case e.HTTPStatus >= 500:
		return Meaning{KindRetryLater, CauseUnavailable, "Meta's server failed"}, true
	}
	return Meaning{}, false
}

// Kind is the coarse meaning of e.
func (e *GraphError) Kind() ErrorKind { return e.Meaning().Kind }

// KindOf is the kind of any error a Graph or Cloud API call returns. An
// error without Meta's answer (no connection, a timeout, ErrUnavailable)
// is worth another try later.
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	if ge, ok := errors.AsType[*GraphError](err); ok {
		return ge.Kind()
	}
	return KindRetryLater
}

// MeaningOf is KindOf with the cause and the agents' words.
func MeaningOf(err error) Meaning {
	if ge, ok := errors.AsType[*GraphError](err); ok {
		return ge.Meaning()
	}
	return Meaning{KindRetryLater, CauseUnavailable, "Meta did not answer"}
}

// Later reports whether the kind is worth the same call again after a wait.
func (k ErrorKind) Later() bool { return k == KindRetryLater || k == KindRateLimited }

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
