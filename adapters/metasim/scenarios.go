package metasim

// Scenario numbers: Brazilian mobiles in São Paulo (+55 11 99000-00xx), so
// that a chat session can reach each failure by typing the number. Meta
// keys a migration by country code and national number; so does the
// simulator.
const (
	TwoStepOn       = "+5511990000001"
	TwoStepOffLater = "+5511990000002"
	NamePending     = "+5511990000003"
	AlreadyOnWABA   = "+5511990000004"
	NoWebhooks      = "+5511990000005"
	RateLimited     = "+5511990000006"
	Flaky           = "+5511990000007"
	RegisterBlocked = "+5511990000008"
	CodeCutOff      = "+5511990000009"

	// The other causes of 2388103, told apart by error_data.details.
	NoPayment         = "+5511990000010"
	OtherPortfolio    = "+5511990000011"
	DestNotApproved   = "+5511990000012"
	MessagingFor      = "+5511990000013"
	AddDirectly       = "+5511990000014"
	MigrationTryAgain = "+5511990000015"
	SourceNotSetUp    = "+5511990000016"

	CodeRefused = "+5511990000017"
)

// migrationRefusals are the scenarios whose every add fails with 2388103
// and these details.
var migrationRefusals = map[string]string{
	NoPayment:       detailsNoPayment,
	OtherPortfolio:  detailsOtherPortfolio,
	DestNotApproved: detailsNotApproved,
	MessagingFor:    detailsMessagingFor,
	AddDirectly:     detailsAddDirectly,
	SourceNotSetUp:  detailsSourceNotSetUp,
}

// Scenario is a number that makes the simulator fail the way Meta does.
type Scenario struct {
	Number string // E.164
	Name   string
	What   string // what happens, in a sentence
}

// Scenarios lists the numbers that trigger failures, in the order a
// migration meets them.
func Scenarios() []Scenario {
	return []Scenario{
		{TwoStepOn, "two-step verification on",
			`Adding the number always fails: "Two-step authentication must be disabled for this phone number" (code 100).`},
		{TwoStepOffLater, "two-step verification turned off later",
			"The first add fails like the one above; from the second on, the number is added."},
		{NamePending, "display name not approved",
			`Adding the number fails with 2388103 "Registered name should be present and approved".`},
		{AlreadyOnWABA, "already on the WABA",
			"The number is in every WABA's phone list, as if an earlier port had added it: adding it fails with 2388012."},
		{NoWebhooks, "destination without webhooks",
			`Adding the number fails with 2388103 "Cannot migrate phone number" while no app is subscribed to the destination WABA; once one is, it is added.`},
		{RateLimited, "rate limited",
			"The first request_code answers HTTP 429, code 80007, Retry-After: 1 and usage headers estimating 1 minute to regain access, and sends nothing; the next one works."},
		{Flaky, "one server error",
			"The first GET of the number and the first verify_code each answer HTTP 500 (code 2, transient); repeating them works."},
		{RegisterBlocked, "registration blocked",
			"register answers 133016 at once: registration is blocked for 72 hours."},
		{CodeCutOff, "code request cut off",
			"The first request_code sends the code, then the connection is reset before the answer: whether the SMS went out is for the client to say."},
		{NoPayment, "destination without a payment method",
			"Adding the number fails with 2388103: the destination WABA has no payment account (line of credit)."},
		{OtherPortfolio, "different business portfolios",
			"Adding the number fails with 2388103: it belongs to a different Business Manager account than the destination WABA."},
		{DestNotApproved, "destination not approved",
			"Adding the number fails with 2388103: the destination WABA must be approved first."},
		{MessagingFor, "Messaging For request pending",
			`Adding the number fails with 2388103: the client has not accepted the "Messaging For" request.`},
		{AddDirectly, "add the number directly",
			"Adding the number fails with 2388103: the number can be added directly, no migration needed."},
		{MigrationTryAgain, "migration error, try again",
			"The first add fails with 2388103 \"There was an error migrating this phone number. Please try again later.\"; the next one works."},
		{SourceNotSetUp, "source not set up correctly",
			"Adding the number fails with 2388103: the source WABA is not set up correctly."},
		{CodeRefused, "code request refused, not verified",
			"The first request_code answers 136024 \"Request code error\" although the number is not verified; the next one works."},
	}
}
