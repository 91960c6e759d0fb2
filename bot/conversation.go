package bot

import (
	"time"

	"portabot/fsm"
)

// Conversation is what the bot remembers about one client between turns.
//
// The store keeps one as JSON for every client ever seen, so the fields most
// conversations leave empty are left out of it: the record, and the pages a
// BSP's many clients fill, are a third smaller.
type Conversation struct {
	// Key names the conversation for good: the first id Meta knew the
	// client by, their phone number in digits or their BSUID. The store also
	// finds the conversation by Phone and UserID, which may change.
	Key string
	// Phone is the client's WhatsApp number in digits, when Meta told it;
	// UserID their business-scoped user id; Username their WhatsApp
	// username. A Key that is a phone number is the phone when Phone is
	// empty (conversations stored before BSUIDs).
	Phone    string `json:",omitempty"`
	UserID   string `json:",omitempty"`
	Username string `json:",omitempty"`
	Lang     Lang
	// LangChosen is set once the client picked a language explicitly, so that
	// later messages in another language do not switch it back.
	LangChosen bool `json:",omitempty"`
	State      fsm.State
	// Back is where fsm.Back transitions lead: the check a blocked client
	// resumes at, the state an agent hands back, the step a retry re-runs.
	Back fsm.State `json:",omitempty"`
	// CaseID is the client's current case, empty before they start a port.
	CaseID string `json:",omitempty"`
	// Step refines State where one state asks more than one thing (the PIN
	// and its confirmation, the optional source WABA id, a language pick).
	Step string `json:",omitempty"`
	// PinHash is the salted hash of the first PIN entry, kept only until the
	// client confirms it; the PIN itself is never stored.
	PinHash string `json:",omitempty"`
	// Misses counts questions in a row the FAQ could not answer.
	Misses    int `json:",omitempty"`
	Created   time.Time
	Updated   time.Time
	LastSeen  time.Time
	Delivered int `json:",omitempty"` // messages processed, for the audit and stats
	// Held is when replies began waiting for the client to re-open their
	// 24-hour window; zero while nothing waits.
	Held time.Time `json:",omitzero"`
	// Reengaged is when the template that re-opens the window was last
	// sent: one per closed window, however much news waits.
	Reengaged time.Time `json:",omitzero"`
	// Dropped says Meta took a reply and dropped it for the closed window
	// (131047): when the client is back, the question they are at is asked
	// again, since what they missed is not in the outbox to resend.
	Dropped bool `json:",omitempty"`
}

// Address is where replies to the client go: their phone number when it is
// known, else their BSUID, which Meta takes in the recipient field.
func (c Conversation) Address() (phone, userID string) {
	switch {
	case c.Phone != "":
		return c.Phone, ""
	case IsPhoneID(c.Key):
		return c.Key, ""
	case c.UserID != "":
		return "", c.UserID
	}
	return "", c.Key
}

// IsPhoneID reports whether id is a WhatsApp id made of a phone number's
// digits, as opposed to a BSUID ("BR.1502576394655843").
func IsPhoneID(id string) bool {
	if len(id) < 6 || len(id) > 16 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Check names a prerequisite.
type Check string

// The four prerequisites, in the order they are asked.
const (
	CheckBM          Check = "bm_access"
	Check2FA         Check = "2fa"
	CheckReception   Check = "reception"
	CheckDisplayName Check = "display_name"
)

// Case is one number port.
type Case struct {
	ID     string
	Client string // the key of the conversation of the client who asked for the port
	// ClientPhone and Username are how agents recognise the client: the
	// WhatsApp number they write from and their username, when known.
	ClientPhone string `json:",omitempty"`
	Username    string `json:",omitempty"`
	Lang        Lang
	State       fsm.State
	// Phone is the number being ported, E.164 ("+5511987654321"); CC and
	// National are the parts Graph wants.
	Phone    string
	CC       string
	National string
	// WABA is the destination WhatsApp Business Account; SourceWABA the
	// origin's, when the client knows it (needed to trigger the template copy).
	WABA          string
	SourceWABA    string
	PhoneNumberID string
	// Confirmed lists the prerequisites the client has confirmed.
	Confirmed []Check
	// Blocked is the prerequisite that stops the port while State is blocked.
	Blocked Check
	Method  string // SMS or VOICE
	// CodeRequests counts request_code calls made; CodeRequestedAt is the
	// last one, for the resend cool-down.
	CodeRequests    int
	CodeRequestedAt time.Time
	WrongCodes      int
	// InFlight names a Graph step that must not run twice, recorded before
	// its call and cleared when its outcome is stored.
	InFlight      string
	RegisterCalls int
	Kept          *Kept
	Templates     *TemplateResult
	// Problem is the last error worth an agent's eye, in plain words; TraceID
	// is Meta's fbtrace_id for it, which Meta support asks for.
	Problem string
	TraceID string
	// Thread is the agents' thread about the case (Slack's message ts).
	Thread string
	// Agent is who holds the case in handoff, when an agent took it over.
	Agent string
	// Held is when the case's news began waiting for the client to re-open
	// their 24-hour window (Meta delivers only a template until then); zero
	// while nothing waits.
	Held time.Time `json:",omitzero"`
	// LetterPhone is the number a client blocked before giving it named
	// for the message to their current provider.
	LetterPhone string `json:",omitempty"`
	// Preflight is the report of the last reads made before adding the
	// number.
	Preflight *Preflight `json:",omitempty"`
	// Signup is the Embedded Signup link the client was last sent.
	Signup  *SignupLink `json:",omitempty"`
	Created time.Time
	Updated time.Time
	Closed  time.Time
	// Expired is when retention replaced the case's numbers by pseudonyms
	// (see Expired); Erased when an agent or an operator erased it, leaving
	// only a tombstone, and ErasedBy who.
	Expired  time.Time `json:",omitzero"`
	Erased   time.Time `json:",omitzero"`
	ErasedBy string    `json:",omitempty"`
}

// Who is how agents and logs name the case's client: their username, else
// their number masked, else their BSUID masked; never a bare id.
func (c Case) Who() string {
	switch {
	case c.Username != "":
		return c.Username
	case c.ClientPhone != "":
		return MaskPhone(c.ClientPhone)
	}
	return MaskPhone(c.Client)
}

// Kept is what survived the port, read from the number after registration.
type Kept struct {
	DisplayName      string
	QualityRating    string
	MessagingLimit   string
	OfficialBusiness bool
}

// Confirms reports whether the client confirmed prerequisite c.
func (c *Case) Confirms(ch Check) bool {
	for _, x := range c.Confirmed {
		if x == ch {
			return true
		}
	}
	return false
}

// AuditEvent is one line of a case's append-only history.
type AuditEvent struct {
	CaseID string
	At     time.Time
	// Actor is "client", "bot", "graph" or an agent's id.
	Actor  string
	Kind   string
	From   fsm.State
	To     fsm.State
	Detail string
}
