package bot

import "time"

// Lang is a language the bot speaks: "en", "pt" (Brazil) or "es".
type Lang string

// The languages portabot speaks.
const (
	English    Lang = "en"
	Portuguese Lang = "pt"
	Spanish    Lang = "es"
)

// Langs returns the supported languages in menu order, in a new slice
// each time, so that no caller can change another's.
func Langs() []Lang { return []Lang{English, Portuguese, Spanish} }

// ParseLang returns the language for a code such as "pt" or "pt_BR", or
// false when portabot does not speak it.
func ParseLang(s string) (Lang, bool) {
	if len(s) >= 2 {
		switch Lang(s[:2]) {
		case English, Portuguese, Spanish:
			return Lang(s[:2]), true
		}
	}
	return "", false
}

// Inbound is one message from a client.
type Inbound struct {
	// ID identifies the message (Meta's wamid); a second message with the same
	// ID is a re-delivery and changes nothing.
	ID string
	// From is the client's WhatsApp id: the phone number in digits, no "+".
	// Meta leaves it out for a client who adopted a username and has not
	// written recently; UserID then names them.
	From string `json:",omitempty"`
	// UserID is the client's business-scoped user id (BSUID, such as
	// "BR.1502576394655843"), which Meta puts on every message since April
	// 2026 (Meta: business-scoped-user-ids).
	UserID string `json:",omitempty"`
	// Username is the client's WhatsApp username ("@ana"), when they have
	// one: what agents can recognise them by when Meta hides the number.
	Username string `json:",omitempty"`
	// Context is the id of the bot's message the client replied to or
	// whose button they tapped (Meta's context.id).
	Context string `json:",omitempty"`
	// Text is what the client typed, or the title of the button they tapped.
	Text string
	// Choice is the id of the button or list row tapped, empty for typed text.
	Choice string `json:",omitempty"`
	// Unsupported is set for content the bot cannot read (image, audio,
	// sticker, location, ...); it names the kind.
	Unsupported string `json:",omitempty"`
	// Moved is set for Meta's system message that the client changed their
	// number or their user id: it carries the new ones.
	Moved *Move `json:",omitempty"`
	// Security is Meta's security webhook event (PIN_CHANGED, ...) about
	// the number in From: not a client's message, but queued and handled
	// in order like one, so the webhook never waits for Meta.
	Security string `json:",omitempty"`
	At       time.Time
}

// Move is a client's new identity, from a "system" message
// (Meta: webhooks/reference/messages/system): user_changed_number gives
// a new phone number, and a new BSUID with it; user_changed_user_id a new
// BSUID alone.
type Move struct {
	Phone  string `json:",omitempty"`
	UserID string `json:",omitempty"`
}

// Sender is the id the message's client is known by in the inbox: the BSUID
// when Meta gave one, since Meta sends it on every message and it stays the
// same when the number is hidden; the phone number otherwise. A message that
// moves the client is queued under their new id, with the messages they
// send from it, so that the move is applied before those are read.
func (in Inbound) Sender() string {
	if in.Security != "" {
		return "security:" + in.From
	}
	if m := in.Moved; m != nil && (m.UserID != "" || m.Phone != "") {
		if m.UserID != "" {
			return m.UserID
		}
		return m.Phone
	}
	if in.UserID != "" {
		return in.UserID
	}
	return in.From
}

// Button is a choice offered with a reply: sent as a reply button (up to
// three) or as a list row.
type Button struct {
	ID    string
	Title string
}

// Reply is one message to the client.
type Reply struct {
	Text    string   `json:",omitempty"`
	Buttons []Button `json:",omitempty"`
	// Template, when set, makes the reply an approved template message:
	// the only kind Meta delivers once the client's 24-hour window closed.
	Template *Template `json:",omitempty"`
}

// Template is a message template Meta approved, with its body parameters.
type Template struct {
	Name string
	// Lang is Meta's language code of the approved translation ("pt_BR").
	Lang   string
	Params []string `json:",omitempty"`
	// Button is the payload of the template's quick-reply button, echoed
	// when the client taps it.
	Button string `json:",omitempty"`
}
