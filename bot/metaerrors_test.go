package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestMetaErrorTable is the one list of every Meta error portabot knows,
// with what it means. A row added to metaErrors without a line here fails.
func TestMetaErrorTable(t *testing.T) {
	mig := func(details string) *GraphError {
		return &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Message: "Invalid parameter",
			UserTitle: "Cannot migrate phone number", Details: details}
	}
	tests := []struct {
		name  string
		err   *GraphError
		kind  ErrorKind
		cause Cause
	}{
		{"two-step on (worded only)", &GraphError{HTTPStatus: 400, Code: 100,
			Message: "(#100) Two-step authentication must be disabled for this phone number."}, KindOriginMustAct, CauseTwoFA},
		{"legacy certificate text", &GraphError{HTTPStatus: 400, Code: 100,
			Message: "Certificate can be downloaded only after confirming ownership of the number"}, KindPermanent, CauseNotVerified},

		{"2388103 Messaging For pending", mig(`The "Messaging For" request must be approved by the client.`), KindClientMustAct, CauseMessagingFor},
		{"2388103 display name", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Message: "Invalid parameter",
			UserTitle: "Display name not approved", UserMsg: "Registered name should be present and approved"}, KindOriginMustAct, CauseDisplayName},
		{"2388103 no webhooks", mig("No app is subscribed to the webhooks of the destination WhatsApp Business Account."), KindOurConfig, CauseNoWebhooks},
		{"2388103 no payment", mig("The destination WhatsApp Business Account does not have a payment account."), KindOurConfig, CauseNoPayment},
		{"2388103 other portfolio", mig("The phone number belongs to a different Business Manager account."), KindOurConfig, CauseOtherPortfolio},
		{"2388103 destination not approved", mig("Your WhatsApp account must be approved before migrating."), KindOurConfig, CauseWABANotApproved},
		{"2388103 add directly", mig("Please add this phone number in your WhatsApp account."), KindPermanent, CauseAddDirectly},
		{"2388103 source not set up", mig("The source account is not set up correctly."), KindOriginMustAct, CauseSourceNotSetUp},
		{"2388103 generic, retry", mig("There was an error migrating this phone number. Please try again."), KindRetryLater, CauseMigrationFailed},
		{"2388103 bare title", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103,
			UserTitle: "Cannot migrate phone number", UserMsg: "Cannot migrate phone number"}, KindOurConfig, CauseNoWebhooks},
		{"2388103 unknown details", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388103, Details: "Something new"}, KindPermanent, CauseCannotMigrate},
		{"2388103 as the code", &GraphError{HTTPStatus: 400, Code: 2388103, Details: "Destination WABA has no webhook subscription"}, KindOurConfig, CauseNoWebhooks},
		{"2388012 already on the WABA", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388012}, KindPermanent, CauseAlreadyOnWABA},
		{"2388019 template cap", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388019}, KindOurConfig, CauseTemplateLimit},
		{"2388091 request code, not migrating", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388091}, KindPermanent, CauseNotMigrating},
		{"2388093 verify code, not migrating", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 2388093}, KindPermanent, CauseNotMigrating},
		{"200000 cannot add", &GraphError{HTTPStatus: 400, Code: 200000}, KindPermanent, CauseCannotMigrate},

		{"136024 request code error", &GraphError{HTTPStatus: 400, Code: 136024}, KindPermanent, CauseMaybeVerified},
		{"136025 wrong code", &GraphError{HTTPStatus: 400, Code: 136025, UserTitle: "Wrong code"}, KindWrongCode, CauseWrongCode},
		{"136025 locked", &GraphError{HTTPStatus: 400, Code: 136025, UserTitle: "Too many attempts"}, KindLocked, CauseCodeLocked},

		{"133005 wrong PIN", &GraphError{HTTPStatus: 400, Code: 133005, UserTitle: "Two step verification PIN Mismatch"}, KindWrongCode, CauseWrongPIN},
		{"131031 PIN mismatch", &GraphError{HTTPStatus: 400, Code: 131031, Details: "Incorrect two-step verification PIN"}, KindWrongCode, CauseWrongPIN},
		{"131031 account locked", &GraphError{HTTPStatus: 400, Code: 131031}, KindWrongCode, CauseWrongPIN},
		{"133008 PIN guesses", &GraphError{HTTPStatus: 400, Code: 133008}, KindLocked, CausePINLocked},
		{"133009 PIN too fast", &GraphError{HTTPStatus: 400, Code: 133009}, KindRateLimited, CausePINTooFast},
		{"133016 register limit", &GraphError{HTTPStatus: 400, Code: 133016}, KindLocked, CauseRegisterLimit},
		{"133006 not verified", &GraphError{HTTPStatus: 400, Code: 133006}, KindPermanent, CauseNotVerified},
		{"133010 not registered", &GraphError{HTTPStatus: 400, Code: 133010}, KindPermanent, CauseNotRegistered},
		{"133000 deregistration failed", &GraphError{HTTPStatus: 400, Code: 133000}, KindRetryLater, CauseUnavailable},
		{"133004 server unavailable", &GraphError{HTTPStatus: 503, Code: 133004}, KindRetryLater, CauseUnavailable},
		{"133015 deletion under way", &GraphError{HTTPStatus: 400, Code: 133015}, KindRetryLater, CauseDeletionUnderway},
		{"2494100 maintenance", &GraphError{HTTPStatus: 400, Code: 2494100}, KindRetryLater, CauseMaintenance},

		{"4 app rate limit", &GraphError{HTTPStatus: 400, Code: 4}, KindRateLimited, CauseThrottled},
		{"17 user rate limit", &GraphError{HTTPStatus: 400, Code: 17}, KindRateLimited, CauseThrottled},
		{"341 application limit", &GraphError{HTTPStatus: 400, Code: 341}, KindRateLimited, CauseThrottled},
		{"80007 WABA rate limit", &GraphError{HTTPStatus: 429, Code: 80007}, KindRateLimited, CauseThrottled},
		{"130429 throughput", &GraphError{HTTPStatus: 400, Code: 130429}, KindRateLimited, CauseThrottled},
		{"131056 pair rate limit", &GraphError{HTTPStatus: 400, Code: 131056}, KindRateLimited, CauseThrottled},

		{"1 unknown", &GraphError{HTTPStatus: 500, Code: 1}, KindRetryLater, CauseUnavailable},
		{"2 temporary", &GraphError{HTTPStatus: 500, Code: 2, Transient: true}, KindRetryLater, CauseUnavailable},
		{"131000 send failure", &GraphError{HTTPStatus: 400, Code: 131000}, KindRetryLater, CauseUnavailable},

		{"0 not authenticated", &GraphError{HTTPStatus: 401, Code: 0, Message: "App user could not be authenticated"}, KindOurConfig, CauseToken},
		{"190 token expired", &GraphError{HTTPStatus: 401, Code: 190, Subcode: 463}, KindOurConfig, CauseToken},
		{"3 capability", &GraphError{HTTPStatus: 403, Code: 3}, KindOurConfig, CausePermission},
		{"10 permission", &GraphError{HTTPStatus: 403, Code: 10}, KindOurConfig, CausePermission},
		{"200 permission", &GraphError{HTTPStatus: 403, Code: 200}, KindOurConfig, CausePermission},
		{"299 permission", &GraphError{HTTPStatus: 403, Code: 299}, KindOurConfig, CausePermission},
		{"131005 permission", &GraphError{HTTPStatus: 403, Code: 131005}, KindOurConfig, CausePermission},
		{"131042 payment", &GraphError{HTTPStatus: 400, Code: 131042}, KindOurConfig, CausePayment},

		{"368 WABA restricted", &GraphError{HTTPStatus: 400, Code: 368}, KindClientMustAct, CauseWABARestricted},
		{"33 number deleted", &GraphError{HTTPStatus: 400, Code: 33}, KindPermanent, CauseNumberDeleted},
		{"100/33 no such object", &GraphError{HTTPStatus: 400, Code: 100, Subcode: 33}, KindPermanent, CauseNumberDeleted},
		{"100 invalid parameter", &GraphError{HTTPStatus: 400, Code: 100}, KindPermanent, CauseBadRequest},
		{"131008 missing parameter", &GraphError{HTTPStatus: 400, Code: 131008}, KindPermanent, CauseBadRequest},
		{"131009 invalid parameter", &GraphError{HTTPStatus: 400, Code: 131009}, KindPermanent, CauseBadRequest},
		{"131045 not registered", &GraphError{HTTPStatus: 400, Code: 131045}, KindPermanent, CauseNotRegistered},
		{"131047 window closed", &GraphError{HTTPStatus: 400, Code: 131047, Subcode: 2494010}, KindWindowClosed, CauseWindowClosed},

		// No row: the status and is_transient decide.
		{"unknown code, 429", &GraphError{HTTPStatus: 429, Code: 999999}, KindRateLimited, CauseThrottled},
		{"unknown code, 502", &GraphError{HTTPStatus: 502, Code: 999999}, KindRetryLater, CauseUnavailable},
		{"unknown code, transient", &GraphError{HTTPStatus: 400, Code: 999999, Transient: true}, KindRetryLater, CauseUnavailable},
		{"unknown code", &GraphError{HTTPStatus: 400, Code: 999999}, KindPermanent, CauseUnknown},
		{"proxy page, 503", &GraphError{HTTPStatus: 503, Message: "HTTP 503 Service Unavailable"}, KindRetryLater, CauseUnavailable},
		{"proxy page, 429", &GraphError{HTTPStatus: 429, Message: "HTTP 429 Too Many Requests"}, KindRateLimited, CauseThrottled},
		{"unknown Graph path", &GraphError{HTTPStatus: 400, Code: 2500}, KindPermanent, CauseUnknown},
	}
	seen := map[int]bool{}
	for _, tt := range tests {
		m := tt.err.Meaning()
		if m.Kind != tt.kind || m.Cause != tt.cause {
			t.Errorf("%s: %v means %s/%s, want %s/%s", tt.name, tt.err, m.Kind, m.Cause, tt.kind, tt.cause)
		}
		if m.Agents == "" {
			t.Errorf("%s: no words for agents", tt.name)
		}
		if got := tt.err.Kind(); got != tt.kind {
			t.Errorf("%s: Kind() = %s, want %s", tt.name, got, tt.kind)
		}
		if got := KindOf(fmt.Errorf("wrapped: %w", tt.err)); got != tt.kind {
			t.Errorf("%s: KindOf(wrapped) = %s, want %s", tt.name, got, tt.kind)
		}
		seen[tt.err.Code], seen[tt.err.Subcode] = true, true
		if tt.err.Subcode == 0 && tt.err.Code == 0 {
			seen[0] = true
		}
	}
	for _, r := range metaErrors {
		if r.Code != anyCode && !seen[r.Code] {
			t.Errorf("code %d is in metaErrors but not in this test", r.Code)
		}
	}
}

// An error without Meta's answer is worth another try later; so is one that
// is not Meta's at all.
func TestKindOfNoAnswer(t *testing.T) {
	for _, err := range []error{
		ErrUnavailable,
		fmt.Errorf("graph: request_code: %w", ErrUnavailable),
		errors.New("connection reset"),
	} {
		if got := KindOf(err); got != KindRetryLater {
			t.Errorf("KindOf(%v) = %s, want %s", err, got, KindRetryLater)
		}
	}
	if got := KindOf(nil); got != "" {
		t.Errorf("KindOf(nil) = %q, want empty", got)
	}
}

// Kinds are logged and counted: their values are snake_case words.
func TestErrorKindValues(t *testing.T) {
	for _, k := range []ErrorKind{KindRetryLater, KindRateLimited, KindClientMustAct, KindOriginMustAct,
		KindOurConfig, KindWrongCode, KindLocked, KindPermanent, KindWindowClosed} {
		if k == "" || strings.ToLower(string(k)) != string(k) || strings.ContainsAny(string(k), " -") {
			t.Errorf("kind %q is not a snake_case word", k)
		}
	}
}

// The messaging limit is read from whatsapp_business_manager_messaging_limit
// whatever shape Meta gives it; absent or unreadable, it is empty (the
// summary says "unchanged") and the rest of the number still reads.
func TestPhoneNumberMessagingLimit(t *testing.T) {
	for body, want := range map[string]Limit{
		`{"id":"1","whatsapp_business_manager_messaging_limit":"TIER_2K","status":"CONNECTED"}`:                    "TIER_2K",
		`{"id":"1","whatsapp_business_manager_messaging_limit":{"current_limit":"TIER_10K"},"status":"CONNECTED"}`: "TIER_10K",
		`{"id":"1","whatsapp_business_manager_messaging_limit":2000,"status":"CONNECTED"}`:                         "2000",
		`{"id":"1","whatsapp_business_manager_messaging_limit":[1,2],"status":"CONNECTED"}`:                        "",
		`{"id":"1","status":"CONNECTED"}`: "",
	} {
		var pn PhoneNumber
		if err := json.Unmarshal([]byte(body), &pn); err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if pn.MessagingLimit != want || pn.Status != "CONNECTED" {
			t.Errorf("%s: limit %q status %q, want %q and CONNECTED", body, pn.MessagingLimit, pn.Status, want)
		}
	}
}
