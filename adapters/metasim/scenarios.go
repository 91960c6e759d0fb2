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
)

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
			"Adding the number fails with 2388012: it is already in the destination WABA's phone list."},
		{NoWebhooks, "destination without webhooks",
			`Adding the number fails with 2388103 "Cannot migrate phone number": no app is subscribed to the destination WABA.`},
		{RateLimited, "rate limited",
			"The first request_code answers HTTP 429, code 80007, Retry-After: 1 and sends nothing; the next one works."},
		{Flaky, "one server error",
			"The first GET of the number and the first verify_code each answer HTTP 500 (code 2, transient); repeating them works."},
		{RegisterBlocked, "registration blocked",
			"register answers 133016 at once: registration is blocked for 72 hours."},
		{CodeCutOff, "code request cut off",
			"The first request_code sends the code, then the connection is reset before the answer: whether the SMS went out is for the client to say."},
	}
}
